"""The shop's return policy: loading, validation and per-event overrides."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from notifier import db
from notifier.errors import ConfigurationError, PolicyFileError
from notifier.rendering import (
    DEFAULT_POLICY,
    SAMPLE_BRAND,
    Policy,
    Renderer,
    RenderError,
    default_template_dir,
    load_policy,
    resolve_policy,
    samples_for,
)
from notifier.service import build
from notifier.settings import Settings

ELIGIBILITY = {"nl": "Ongedragen, met labels.", "en": "Unworn, with tags."}


def write_policy(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_no_file_gives_the_built_in_default() -> None:
    # Given no policy file
    # When the policy is loaded
    policy = load_policy(None)
    # Then it is 30 days with free return shipping, with texts in both languages
    assert (policy.window_days, policy.return_shipping, policy.shipping_cost) == (30, "free", None)
    assert set(policy.eligibility) == {"nl", "en"}


@pytest.mark.parametrize(
    ("policy", "locale", "said"),
    [
        (
            DEFAULT_POLICY,
            "nl",
            "Je kunt artikelen retourneren die ongedragen en ongewassen zijn en waar de labels "
            "nog aan zitten.",
        ),
        (
            DEFAULT_POLICY,
            "en",
            "You can return items that are unworn and unwashed, with the tags still attached.",
        ),
        (replace(DEFAULT_POLICY, eligibility=ELIGIBILITY), "nl", "Ongedragen, met labels."),
        (replace(DEFAULT_POLICY, eligibility=ELIGIBILITY), "en", "Unworn, with tags."),
    ],
)
def test_the_eligibility_is_a_condition_or_the_shops_own_words(
    policy: Policy, locale: str, said: str
) -> None:
    # Given the built-in policy, or a shop's with its own eligibility text
    renderer = Renderer(default_template_dir(), SAMPLE_BRAND)
    data = samples_for("return.requested")["card"]
    # When a return request is confirmed
    message = renderer.render(
        "return.requested", "email", data, locale=locale, timezone="Europe/Amsterdam", policy=policy
    )
    # Then it states which items can be returned, not what the customer's items are like
    assert f"- {said}" in message.text
    assert "Je artikelen zijn" not in message.text and "Items are" not in message.text


def test_a_full_policy_file_is_loaded(tmp_path: Path) -> None:
    # Given a policy file with every field
    path = write_policy(
        tmp_path,
        '{"window_days": 14, "return_shipping": "paid", "shipping_cost": 4.95, '
        '"eligibility": {"nl": "Ongedragen, met labels.", "en": "Unworn, with tags."}, '
        '"inspection_days": 3, "refund_days": 10}',
    )
    # When it is loaded
    policy = load_policy(path)
    # Then every field is taken, the cost as an exact decimal
    assert policy == Policy(14, "paid", Decimal("4.95"), ELIGIBILITY, 3, 10)


def test_a_partial_file_keeps_the_other_defaults(tmp_path: Path) -> None:
    # Given a file with only the window
    path = write_policy(tmp_path, {"window_days": 60})
    # When it is loaded
    policy = load_policy(path)
    # Then the other fields are the default's
    assert policy.window_days == 60
    assert policy.return_shipping == "free"
    assert policy.eligibility == DEFAULT_POLICY.eligibility


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"window_days": "30"}, "window_days"),
        ({"window_days": -1}, "window_days"),
        ({"window_days": True}, "window_days"),
        ({"return_shipping": "sometimes"}, "return_shipping"),
        ({"return_shipping": "paid"}, "shipping_cost"),
        ({"return_shipping": "deducted", "shipping_cost": "abc"}, "shipping_cost"),
        ({"return_shipping": "paid", "shipping_cost": "-1"}, "shipping_cost"),
        ({"eligibility": "Ongedragen"}, "eligibility"),
        ({"eligibility": {"nl": "Ongedragen"}}, "eligibility"),
        ({"eligibility": {"nl": "", "en": "x"}}, "eligibility"),
        ({"refund_days": 2.5}, "refund_days"),
        ({"window_day": 30}, "window_day"),
        ({"payment_refund_days": 3}, "payment_refund_days"),
        ({"payment_refund_days": {"cash": 1}}, "payment_refund_days"),
        ({"payment_refund_days": {"other": 1}}, "payment_refund_days"),
        ({"payment_refund_days": {"card": -1}}, "payment_refund_days.card"),
        ({"payment_refund_days": {"paypal": "1"}}, "payment_refund_days.paypal"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_field(
    tmp_path: Path, content: dict[str, Any], field: str
) -> None:
    # Given a policy file with one bad field
    path = write_policy(tmp_path, content)
    # When it is loaded
    # Then the error names the file and the field
    with pytest.raises(PolicyFileError, match=f"^NOTIFIER_POLICY_FILE: .*policy.json: .*'{field}'"):
        load_policy(path)


def test_the_days_a_refund_takes_are_a_table_per_payment_method(tmp_path: Path) -> None:
    # Given the built-in policy, and a file that changes the days of cards and Klarna
    default = load_policy(None)
    path = write_policy(tmp_path, {"payment_refund_days": {"card": 7, "klarna": 2}})
    # When they are loaded
    changed = load_policy(path)
    # Then the default says a few working days for a bank, up to ten for a card, one for
    # PayPal, none for Klarna (its invoice is adjusted) and the policy's own for the rest
    assert dict(DEFAULT_POLICY.payment_refund_days) == {
        "ideal": 3,
        "bancontact": 3,
        "card": 10,
        "paypal": 1,
    }
    days = {method: default.arrival_days(method) for method in ("ideal", "card", "klarna")}
    assert days == {"ideal": 3, "card": 10, "klarna": None}
    assert default.arrival_days("other") == default.arrival_days(None) == default.refund_days
    # And the file's days replace only the methods it names
    assert dict(changed.payment_refund_days) == {
        **DEFAULT_POLICY.payment_refund_days,
        "card": 7,
        "klarna": 2,
    }
    assert (changed.arrival_days("card"), changed.arrival_days("klarna")) == (7, 2)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_file_that_is_not_a_json_object_is_refused(tmp_path: Path, content: str) -> None:
    # Given a policy file that is not a JSON object
    path = write_policy(tmp_path, content)
    # When it is loaded
    # Then the error names the file
    with pytest.raises(PolicyFileError, match="^NOTIFIER_POLICY_FILE: .*policy.json: "):
        load_policy(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    # Given a path with no file
    path = tmp_path / "nowhere.json"
    # When it is loaded
    # Then the error names the file
    with pytest.raises(PolicyFileError, match="^NOTIFIER_POLICY_FILE: .*nowhere.json: "):
        load_policy(path)


def test_the_events_policy_overrides_field_by_field() -> None:
    # Given the shop's default and an event that charges return shipping
    event = {"return_shipping": "deducted", "shipping_cost": "3.50", "window_days": None}
    # When the policy is resolved
    policy = resolve_policy(DEFAULT_POLICY, event)
    # Then given fields replace the shop's and null ones keep them
    assert policy.return_shipping == "deducted"
    assert policy.shipping_cost == Decimal("3.50")
    assert policy.window_days == DEFAULT_POLICY.window_days


def test_the_contract_events_policy_resolves_to_free_shipping() -> None:
    # Given a shop that charges return shipping and the contract's event policy
    shop = Policy(30, "paid", Decimal("4.95"))
    event = {"window_days": 30, "return_shipping": "free", "shipping_cost": None, "x": 1}
    # When the policy is resolved
    policy = resolve_policy(shop, event)
    # Then shipping is free and no cost is left over
    assert (policy.return_shipping, policy.shipping_cost) == ("free", None)


def test_no_event_policy_keeps_the_shops() -> None:
    # Given the shop's policy
    shop = Policy(14, "paid", Decimal("4.95"))
    # When an event has no policy
    # Then the shop's applies unchanged
    assert resolve_policy(shop, None) is shop
    assert resolve_policy(shop, {}) is shop


def test_a_malformed_event_policy_is_refused() -> None:
    # Given an event that asks for paid shipping without a cost
    # When the policy is resolved
    # Then the error names the field
    with pytest.raises(RenderError, match="^policy: field 'shipping_cost' is required"):
        resolve_policy(DEFAULT_POLICY, {"return_shipping": "paid"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_malformed_file_stops_start_up_before_the_database_is_opened(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a policy file that is not a JSON object, and a record of engines created
    path = write_policy(tmp_path, "[1, 2]")
    engines: list[str] = []
    make_engine = db.make_engine

    def recorded(url: str, **kwargs: Any) -> Engine:
        engines.append(url)
        return make_engine(url, **kwargs)

    monkeypatch.setattr(db, "make_engine", recorded)

    # When the service is built with it
    with pytest.raises(ConfigurationError, match="^NOTIFIER_POLICY_FILE: .*policy.json"):
        build(replace(settings, policy_file=path))

    # Then it stopped before opening the database, so no connection is left behind
    assert engines == []
