"""The subscriber gate: one slow webhook subscriber may not take every worker thread.

Each webhook subscription gets at most ``limit`` concurrent sends per worker process. A
thread that finds its subscriber at the limit waits briefly for a slot (a fast subscriber
frees one within milliseconds); if none frees, the delivery is put back in the queue for a
little later and the thread moves on to other subscribers' messages.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class SubscriberGate:
    """Bounds concurrent sends per key (a webhook subscription id) in this process.

    Args:
        limit: Sends at once per key.
        wait: Seconds to wait for a slot before giving up.
    """

    def __init__(self, limit: int, wait: float) -> None:
        self.limit = limit
        self._wait = wait
        self._busy: Counter[str] = Counter()
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, key: str) -> Iterator[bool]:
        """Hold a slot for ``key`` while the block runs; yields False if none was free."""
        with self._changed:
            admitted = self._changed.wait_for(lambda: self._busy[key] < self.limit, self._wait)
            if admitted:
                self._busy[key] += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._changed:
                    self._busy[key] -= 1
                    if self._busy[key] <= 0:
                        del self._busy[key]
                    self._changed.notify_all()
