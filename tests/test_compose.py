"""The production compose file: valid, every setting documented in .env.example, and shaped
as the README says (migrate step first, health-gated start, non-root, read-only)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.compose import ROOT, compose, resolved

SAMPLE_ENV = "NOTIFIER_API_KEYS=shop:abcdefgh12345\nNOTIFIER_STAFF_TOKENS=staff:zyxwvuts12345\n"


def test_the_compose_file_is_valid_with_a_sample_env(tmp_path: Path) -> None:
    # Given a .env with the two required settings
    # When Docker Compose checks the file
    result = compose(tmp_path, SAMPLE_ENV, "config", "-q")
    # Then it finds nothing wrong
    assert result.returncode == 0, result.stderr


def test_the_compose_file_refuses_to_start_without_api_keys(tmp_path: Path) -> None:
    # Given a .env without API keys
    # When Docker Compose reads the file
    result = compose(tmp_path, "NOTIFIER_STAFF_TOKENS=staff:zyxwvuts12345\n", "config", "-q")
    # Then it stops and says which setting to set
    assert result.returncode != 0
    assert "set NOTIFIER_API_KEYS in .env" in result.stderr


def test_every_setting_is_in_the_env_example() -> None:
    # Given every variable settings.py reads
    source = (ROOT / "notifier" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert len(read) > 30, "settings.py reads its variables differently now: update this test"
    # When .env.example is read, commented-out lines included
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?NOTIFIER_([A-Z0-9_]+)=", example, re.MULTILINE))
    # Then each is there
    assert sorted(read - listed) == []


def test_every_setting_in_the_env_example_reaches_the_containers(tmp_path: Path) -> None:
    # Given a .env setting every variable .env.example lists, to a value of its own
    example = (ROOT / ".env.example").read_text()
    names = re.findall(r"^#?(NOTIFIER_[A-Z0-9_]+)=", example, re.MULTILINE)
    env = "".join(f"{name}=value-of-{name}\n" for name in names)
    # When Docker Compose resolves the file
    services = resolved(tmp_path, env)["services"]
    # Then each part gets every one: from .env, or the container's own value compose sets
    own = {"NOTIFIER_HOST", "NOTIFIER_PORT", "NOTIFIER_DATA_DIR", "NOTIFIER_LOG_FORMAT"}
    for name in ("migrate", "api", "worker", "scheduler"):
        environment = services[name]["environment"]
        assert {n: environment.get(n) for n in names if n not in own} == {
            n: f"value-of-{n}" for n in names if n not in own
        }, name
        assert environment["NOTIFIER_DATA_DIR"] == "/data"
        assert environment["NOTIFIER_HOST"] == "0.0.0.0"
    for name in ("api", "worker", "scheduler"):
        assert services[name]["environment"]["NOTIFIER_LOG_FORMAT"] == "json"


def test_the_parts_start_in_order_read_only_and_migrate_once(tmp_path: Path) -> None:
    # Given the compose file resolved with a sample .env
    services = resolved(tmp_path, SAMPLE_ENV)["services"]
    # Then migrations run once, as their own step, after PostgreSQL is healthy
    assert services["migrate"]["command"] == ["notifier", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    # And the API waits for it, the workers and schedulers for a healthy API
    completed = "service_completed_successfully"
    assert services["api"]["depends_on"]["migrate"]["condition"] == completed
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "healthcheck" in services["api"]
    for name in ("worker", "scheduler"):
        assert services[name]["depends_on"]["api"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["migrate"]["condition"] == completed
        assert services[name]["deploy"]["replicas"] >= 2
    # And every part runs on a read-only root filesystem, writing only to /data and /tmp,
    # with the shop's files mounted read-only
    for name in ("migrate", "api", "worker", "scheduler"):
        service = services[name]
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]
        mounts = {v["target"]: v for v in service["volumes"]}
        assert mounts["/data"]["type"] == "volume"
        assert mounts["/config"]["read_only"] is True


def test_the_image_runs_as_a_user_of_its_own() -> None:
    # Given the Dockerfile
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    # Then its last USER is not root, and comes after the last RUN
    users = [i for i, line in enumerate(lines) if line.startswith("USER ")]
    runs = [i for i, line in enumerate(lines) if line.startswith("RUN ")]
    assert users and lines[users[-1]].split()[1] not in ("root", "0")
    assert users[-1] > runs[-1]
