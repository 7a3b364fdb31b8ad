"""Settings: read once from NOTIFIER_* variables; a malformed one names itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest

from notifier.cli import main
from notifier.errors import ConfigurationError
from notifier.service import shop
from notifier.settings import DEFAULTS, QuietHours, load_settings


def test_defaults_are_the_embedded_ones() -> None:
    settings = load_settings({})

    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.database_url == f"sqlite:///{Path('var') / 'notifier.db'}"
    assert settings.redis_url is None
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.default_locale == "nl"
    assert settings.quiet_hours == QuietHours(time(21, 0), time(8, 0))
    assert settings.scan_interval == 300.0
    assert settings.catchup_max_age == 7 * 24 * 3600
    assert settings.nudge_min_gap == 24 * 3600
    assert settings.template_reload is False


def test_an_unset_variable_takes_the_default_the_settings_class_declares() -> None:
    settings = load_settings({})

    assert settings == replace(
        DEFAULTS,
        database_url=f"sqlite:///{DEFAULTS.data_dir / 'notifier.db'}",
        public_url=f"http://{DEFAULTS.host}:{DEFAULTS.port}",
    )


def test_values_are_parsed_into_types() -> None:
    settings = load_settings(
        {
            "NOTIFIER_PORT": "9000",
            "NOTIFIER_API_KEYS": "shop:abcdefgh1234,warehouse:zyxwvuts9876",
            "NOTIFIER_QUIET_HOURS": "22:30-07:15",
            "NOTIFIER_WEBHOOK_ALLOW_PRIVATE": "true",
            "NOTIFIER_PUBLIC_URL": "https://notify.example.nl/",
            "NOTIFIER_NUDGE_MIN_GAP": "0",
            "NOTIFIER_TEMPLATE_RELOAD": "yes",
            "NOTIFIER_HTTP_MAX_CONNECTIONS": "200",
            "NOTIFIER_HTTP_HEADER_TIMEOUT": "2.5",
            "NOTIFIER_LOG_FORMAT": "json",
            "NOTIFIER_METRICS_PORT": "0",
            "NOTIFIER_RETENTION_DAYS": "30",
        }
    )

    assert settings.port == 9000
    assert settings.api_keys == {"shop": "abcdefgh1234", "warehouse": "zyxwvuts9876"}
    assert settings.quiet_hours == QuietHours(time(22, 30), time(7, 15))
    assert settings.webhook_allow_private is True
    assert settings.public_url == "https://notify.example.nl"
    assert settings.nudge_min_gap == 0
    assert settings.template_reload is True
    assert (settings.http_max_connections, settings.http_header_timeout) == (200, 2.5)
    assert settings.log_format == "json"
    assert settings.metrics_port == 0
    assert settings.retention_days == 30


def test_the_deadlines_are_read_as_seconds() -> None:
    names = {
        "DB_CONNECT_TIMEOUT": "db_connect_timeout",
        "DB_STATEMENT_TIMEOUT": "db_statement_timeout",
        "DB_LOCK_TIMEOUT": "db_lock_timeout",
        "DB_POOL_TIMEOUT": "db_pool_timeout",
        "SQLITE_BUSY_TIMEOUT": "sqlite_busy_timeout",
        "REDIS_CONNECT_TIMEOUT": "redis_connect_timeout",
        "REDIS_TIMEOUT": "redis_timeout",
        "INTAKE_DEADLINE": "intake_deadline",
        "HAND_OVER_DEADLINE": "hand_over_deadline",
        "HAND_OVER_PAUSE": "hand_over_pause",
    }
    values = {name: 2.0 + n / 4 for n, name in enumerate(names)}

    settings = load_settings({f"NOTIFIER_{name}": str(value) for name, value in values.items()})

    assert {field: getattr(settings, field) for field in names.values()} == {
        field: values[name] for name, field in names.items()
    }


def test_quiet_hours_can_be_switched_off() -> None:
    assert load_settings({"NOTIFIER_QUIET_HOURS": "off"}).quiet_hours is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NOTIFIER_PORT", "abc", "NOTIFIER_PORT must be an integer, got 'abc'"),
        ("NOTIFIER_PORT", "70000", "NOTIFIER_PORT must be between 1 and 65535, got '70000'"),
        ("NOTIFIER_QUIET_HOURS", "9-5", "NOTIFIER_QUIET_HOURS must be HH:MM-HH:MM or off"),
        ("NOTIFIER_SCAN_INTERVAL", "soon", "NOTIFIER_SCAN_INTERVAL must be a number"),
        ("NOTIFIER_CATCHUP_MAX_AGE", "30", "NOTIFIER_CATCHUP_MAX_AGE must be at least 60"),
        ("NOTIFIER_NUDGE_MIN_GAP", "-1", "NOTIFIER_NUDGE_MIN_GAP must be at least 0"),
        ("NOTIFIER_RETENTION_DAYS", "0", "NOTIFIER_RETENTION_DAYS must be between 1 and"),
        ("NOTIFIER_RETENTION_DAYS", "1.5", "NOTIFIER_RETENTION_DAYS must be an integer"),
        ("NOTIFIER_DEFAULT_LOCALE", "fr", "NOTIFIER_DEFAULT_LOCALE must be one of nl, en"),
        ("NOTIFIER_LOG_FORMAT", "xml", "NOTIFIER_LOG_FORMAT must be one of text, json"),
        ("NOTIFIER_DATABASE_URL", "mysql://x", "NOTIFIER_DATABASE_URL must be a sqlite"),
        ("NOTIFIER_REDIS_URL", "localhost:6379", "NOTIFIER_REDIS_URL must be a redis"),
        ("NOTIFIER_WEBHOOK_ALLOW_PRIVATE", "maybe", "must be true or false"),
        ("NOTIFIER_API_KEYS", "justasecret", "NOTIFIER_API_KEYS must be name:secret"),
        ("NOTIFIER_HTTP_MAX_CONNECTIONS", "0", "NOTIFIER_HTTP_MAX_CONNECTIONS must be between"),
        ("NOTIFIER_HTTP_HEADER_TIMEOUT", "0", "NOTIFIER_HTTP_HEADER_TIMEOUT must be at least"),
        ("NOTIFIER_DB_CONNECT_TIMEOUT", "1", "NOTIFIER_DB_CONNECT_TIMEOUT must be at least 2"),
        ("NOTIFIER_DB_STATEMENT_TIMEOUT", "0", "NOTIFIER_DB_STATEMENT_TIMEOUT must be at least"),
        ("NOTIFIER_REDIS_TIMEOUT", "never", "NOTIFIER_REDIS_TIMEOUT must be a number"),
        ("NOTIFIER_HAND_OVER_DEADLINE", "-1", "NOTIFIER_HAND_OVER_DEADLINE must be at least 0"),
        ("NOTIFIER_METRICS_PORT", "-1", "NOTIFIER_METRICS_PORT must be between 0 and 65535"),
        ("NOTIFIER_SCAN_INTERVAL", "inf", "NOTIFIER_SCAN_INTERVAL must be at most 1000000000"),
        ("NOTIFIER_CATCHUP_MAX_AGE", "1e20", "NOTIFIER_CATCHUP_MAX_AGE must be at most"),
        ("NOTIFIER_REDIS_TIMEOUT", "nan", "NOTIFIER_REDIS_TIMEOUT must be at least"),
    ],
)
def test_a_malformed_value_names_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({name: value})

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_secrets_are_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({"NOTIFIER_DATABASE_URL": "mysql://user:hunter2@db/x"})

    assert "hunter2" not in str(raised.value)


def test_the_command_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTIFIER_PORT", "eighty")

    status = main(["db", "upgrade"])

    assert status == 2
    err = capsys.readouterr().err.strip()
    assert err == "notifier: NOTIFIER_PORT must be an integer, got 'eighty'"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "NOTIFIER_RULES_FILE",
            '{"rules": [{"name": "ship_by", "days": []}]}',
            "rules[0].days must be a non-empty list of whole days from 0 to 365",
        ),
        (
            "NOTIFIER_POLICY_FILE",
            '{"window_days": -1}',
            "field 'window_days' must be a non-negative integer, got -1",
        ),
        ("NOTIFIER_POLICY_FILE", "[1, 2]", "the policy must be a JSON object"),
    ],
)
def test_a_bad_rules_or_policy_file_stops_start_up_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
    problem: str,
) -> None:
    # Given a file with one bad field, named by its setting
    path = tmp_path / "settings-file.json"
    path.write_text(content)
    monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("NOTIFIER_DATA_DIR", str(tmp_path / "var"))

    # When a process starts
    status = main(["scheduler", "--once"])

    # Then it stops with one line naming the setting, the file and the field, before the
    # database is opened
    assert status == 2
    assert capsys.readouterr().err == f"notifier: {name}: {path}: {problem}\n"
    assert not (tmp_path / "var").exists()


def test_a_staff_token_may_not_also_be_an_api_key() -> None:
    # Given one secret configured as an API key and as a staff token
    environ = {
        "NOTIFIER_API_KEYS": "shop:shared-secret-123",
        "NOTIFIER_STAFF_TOKENS": "sanne:shared-secret-123",
    }

    # Then start-up stops with one line naming the setting
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ)
    assert str(raised.value).startswith("NOTIFIER_STAFF_TOKENS: a staff token must not")


def test_the_shop_file_is_read_as_a_path() -> None:
    settings = load_settings({"NOTIFIER_SHOP_FILE": "/etc/notifier/shop.toml"})

    assert settings.shop_file == Path("/etc/notifier/shop.toml")


@pytest.mark.parametrize(
    ("name", "value", "instead"),
    [
        ("NOTIFIER_BRAND_NAME", "Winkel", "set name in the shop file's [brand] table"),
        ("NOTIFIER_BRAND_COLOR", "#123456", "set color in the shop file's [brand] table"),
        (
            "NOTIFIER_BRAND_LOGO_URL",
            "https://cdn.example/logo.png",
            "set logo_url in the shop file's [brand] table",
        ),
        (
            "NOTIFIER_POLICY_FILE",
            "policy.json",
            "move its fields to the shop file's [policy] table",
        ),
    ],
)
def test_a_setting_the_shop_file_replaces_is_refused_beside_it(
    name: str, value: str, instead: str
) -> None:
    # Given the shop file and a setting it replaces, both set
    environ = {"NOTIFIER_SHOP_FILE": "shop.toml", name: value}

    # Then start-up stops with one line naming what to do instead
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ)
    assert str(raised.value) == (
        f"{name} cannot be combined with NOTIFIER_SHOP_FILE: unset it and {instead}"
    )


def test_without_a_shop_file_the_older_settings_fill_the_built_in_profile(
    tmp_path: Path,
) -> None:
    # Given the brand and policy settings from before shop files, and no shop file
    policy = tmp_path / "policy.json"
    policy.write_text('{"window_days": 14}')
    settings = load_settings(
        {
            "NOTIFIER_BRAND_NAME": "Sokkenwinkel",
            "NOTIFIER_BRAND_COLOR": "#aa3300",
            "NOTIFIER_BRAND_LOGO_URL": "https://cdn.example/sok.png",
            "NOTIFIER_POLICY_FILE": str(policy),
        }
    )

    # When the service makes its profile
    profile = shop(settings)

    # Then they fill its brand and policy; replies go to the sender, as before
    assert (profile.brand.name, profile.brand.color) == ("Sokkenwinkel", "#aa3300")
    assert profile.brand.logo_url == "https://cdn.example/sok.png"
    assert profile.policy.window_days == 14
    assert profile.reply_to is None and profile.support.replies_answered
    assert profile.company is None


def test_a_bad_shop_file_stops_start_up_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a shop file with one bad field
    path = tmp_path / "shop.toml"
    path.write_text('[support]\nemail = "klantenservice"\n')
    monkeypatch.setenv("NOTIFIER_SHOP_FILE", str(path))
    monkeypatch.setenv("NOTIFIER_DATA_DIR", str(tmp_path / "var"))

    # When a process starts
    status = main(["scheduler", "--once"])

    # Then it stops with one line naming the setting, the file and the field, before the
    # database is opened
    assert status == 2
    assert capsys.readouterr().err == (
        f"notifier: NOTIFIER_SHOP_FILE: {path}: [support] field 'email' must be an email "
        "address, got 'klantenservice'\n"
    )
    assert not (tmp_path / "var").exists()
