"""The embedded Redis looks after itself: it comes back when it dies, dies with its parent,
and never runs twice on the same data."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine

from notifier.http import EXAMPLE_EVENT
from notifier.intake import Accepted, Intake
from notifier.queue import EmbeddedRedis, free_port
from notifier.queue.embedded_redis import PID_FILE
from tests.running import AUTH, notifier_run, wait_for
from tests.standins import SendGridStandin


def _redis_servers_on(directory: Path) -> list[int]:
    """The pids of the running redis-servers whose data directory is ``directory`` (a
    redis-server works in its data directory), without the children a server forks to
    rewrite its append-only file."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cwd = os.readlink(entry / "cwd")
        except (OSError, IndexError):
            continue
        if stat[0] != "Z" and b"redis" in cmdline and cwd == str(directory.resolve()):
            found[int(entry.name)] = int(stat[1])
    return sorted(pid for pid, parent in found.items() if parent not in found)


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis").start()
    server.supervise()
    try:
        yield server
    finally:
        server.stop()


def test_a_supervised_server_that_dies_comes_back_on_the_same_port_and_data(
    supervised: EmbeddedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a supervised embedded Redis holding a key on its append-only file
    client = redis.Redis.from_url(supervised.url, socket_timeout=2)
    client.set("kept", "yes")
    client.execute_command("BGREWRITEAOF")
    wait_for(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0, 10, "the AOF")
    first = supervised.pid
    # When it is killed
    with caplog.at_level(logging.WARNING, logger="notifier.queue.embedded_redis"):
        supervised.kill()
        wait_for(lambda: supervised.restarts == 1, 15, "the server to come back")
    # Then it answers again at the same URL, with its data, as another process
    assert client.get("kept") == b"yes"
    assert supervised.pid not in (None, first)
    assert (supervised.directory / PID_FILE).read_text().strip() == str(supervised.pid)
    # And the incident took two log lines, not a stack trace
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(r.exc_info is None for r in caplog.records)
    assert "exited" in lines[0] and "is back" in lines[1]


def test_a_start_stops_the_server_an_earlier_process_left_on_the_same_data(
    tmp_path: Path,
) -> None:
    # Given a redis-server left running on a data directory by a process that is gone
    left = EmbeddedRedis(tmp_path / "redis").start()
    try:
        leftover = left.pid
        # When another start uses the same directory
        with EmbeddedRedis(tmp_path / "redis") as again:
            # Then the leftover is stopped first: one redis-server on those files
            assert _redis_servers_on(tmp_path / "redis") == [again.pid]
            assert again.pid != leftover
            assert redis.Redis.from_url(again.url).ping()
    finally:
        left.stop()


def test_the_server_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    # Given a process that started an embedded Redis
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from notifier.queue import EmbeddedRedis, free_port
        server = EmbeddedRedis(Path({str(tmp_path / "redis")!r})).start()
        print(server.pid, flush=True)
        time.sleep(60)
        """
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _redis_servers_on(tmp_path / "redis") == [child]
        # When that process is killed outright
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
    # Then its redis-server goes too
    wait_for(lambda: not _redis_servers_on(tmp_path / "redis"), 10, "the orphan to stop")


def test_a_queue_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    # Given an intake whose queue refuses every hand-over for a while
    down = True

    def enqueue(_: object) -> None:
        if down:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    intake = Intake(engine=create_engine("sqlite://"), enqueue=enqueue)
    accepted = [Accepted(f"evt-{n}", "RMA-1", False, n) for n in range(3)]
    # When 50 groups of events fail to be handed over, then one succeeds
    with caplog.at_level(logging.WARNING, logger="notifier.intake.intake"):
        for _ in range(50):
            intake.hand_over(accepted)
        down = False
        intake.hand_over(accepted)
    # Then the outage took one line with the error and one with its end
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "ConnectionError" in lines[0] and "relay" in lines[0]
    assert "works again after 50 failures" in lines[1]
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.slow
def test_notifier_run_delivers_again_after_its_embedded_redis_is_killed(
    tmp_path: Path,
) -> None:
    with SendGridStandin() as sendgrid, notifier_run(tmp_path, sendgrid.base_url) as base:
        # Given notifier run, whose embedded Redis is killed outright
        pid = int((tmp_path / "var" / "redis" / PID_FILE).read_text())
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        # When an event is posted
        answer = httpx.post(f"{base}/v1/events", json=EXAMPLE_EVENT, headers=AUTH, timeout=10)
        # Then it is accepted and its email delivered, without a restart of the service
        assert answer.status_code == 202
        wait_for(lambda: bool(sendgrid.mails), 30, "the email at SendGrid")
        assert len(_redis_servers_on(tmp_path / "var" / "redis")) == 1


@pytest.mark.slow
def test_notifier_run_killed_outright_and_started_again_runs_one_redis_server(
    tmp_path: Path,
) -> None:
    # Given notifier run killed with SIGKILL
    script = [sys.executable, "-m", "notifier.cli", "run"]
    env = {
        **{k: v for k, v in os.environ.items() if k != "NOTIFIER_REDIS_URL"},
        "NOTIFIER_DATA_DIR": str(tmp_path / "var"),
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'notifier.db'}",
        "NOTIFIER_API_KEYS": "shop:e2e-key-0123456789",
        "NOTIFIER_PORT": str(free_port()),
    }
    first = subprocess.Popen(script, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(_redis_servers_on(tmp_path / "var" / "redis")) == 1, 30, "Redis")
    finally:
        first.kill()
        first.wait(timeout=10)
    # When it is started again
    with SendGridStandin() as sendgrid, notifier_run(tmp_path, sendgrid.base_url):
        # Then one redis-server runs on its data directory
        assert len(_redis_servers_on(tmp_path / "var" / "redis")) == 1
