"""One log line per incident, not one per failure.

When a dependency is down, every request that touches it fails the same way; a warning with
a stack trace for each of them buries the log (3 MB for 760 events while Redis was away).
:class:`Incident` logs the first failure of a run of them, counts the rest, and logs one line
when things work again.
"""

from __future__ import annotations

import logging
import threading


class Incident:
    """A recurring failure of one thing, logged once when it starts and once when it ends.

    Args:
        log: the logger to write to.
        what: what fails, for the messages (``"handing events to the queue"``).
    """

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self._lock = threading.Lock()
        self._failures = 0

    def failed(self, error: BaseException, consequence: str) -> None:
        """Note one failure; the first of a run is logged with the error, the rest counted.

        Args:
            error: what went wrong.
            consequence: what happens because of it (``"the relay will queue them"``).
        """
        with self._lock:
            self._failures += 1
            first = self._failures == 1
        if first:
            self._log.warning(
                "%s failed: %s: %s; %s (further failures are counted, not logged)",
                self._what,
                type(error).__name__,
                error,
                consequence,
            )

    def succeeded(self) -> None:
        """Note a success; ends a run of failures with one line saying how many there were."""
        if not self._failures:  # the usual case, without taking the lock
            return
        with self._lock:
            failures, self._failures = self._failures, 0
        if failures:
            self._log.warning("%s works again after %d failures", self._what, failures)
