"""Files of the development outbox: one atomic file per email, JSON lines for the rest.

The outbox channels stand in for a provider when none is configured: they
write what would have been sent under a directory a developer can open. Writes
are safe for several threads (and, for JSON lines, several processes: each line
goes out in a single ``O_APPEND`` write).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channels.errors import ChannelConfigurationError, PermanentChannelError, TransientChannelError

__all__ = ["JsonLinesFile", "ensure_directory", "file_name_for", "utc_now_text", "write_atomically"]

#: What a notification id may look like to become a file name.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def ensure_directory(directory: Path) -> Path:
    """Create the outbox directory if needed.

    Raises:
        ChannelConfigurationError: It cannot be created.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ChannelConfigurationError(
            f"the outbox directory {directory} cannot be created: {error.strerror}"
        ) from None
    return directory


def file_name_for(message_id: str, suffix: str) -> str:
    """``<id><suffix>``, refusing ids that could escape the directory.

    Raises:
        PermanentChannelError: The id is not letters, digits, ``.``, ``_`` and ``-``.
    """
    if not _SAFE_ID.fullmatch(message_id):
        raise PermanentChannelError(f"message id {message_id!r} cannot be used as a file name")
    return message_id + suffix


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one.

    Raises:
        TransientChannelError: The disk refused the write (full, read-only...).
    """
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise TransientChannelError(f"the outbox could not write {path}: {error}") from error


def utc_now_text() -> str:
    """The current time as ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class JsonLinesFile:
    """A file that gets one JSON object per line, appended under a lock.

    Args:
        path: The file; created on the first append.
    """

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one line.

        Raises:
            TransientChannelError: The disk refused the write.
        """
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(descriptor, line)
                finally:
                    os.close(descriptor)
            except OSError as error:
                raise TransientChannelError(
                    f"the outbox could not append to {self.path}: {error}"
                ) from error
