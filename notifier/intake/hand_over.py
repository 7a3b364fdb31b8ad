"""The hand-over of committed events to the queue: in a thread of its own, never a wait of
more than a few tens of milliseconds for the request that stored them.

An accepted event is safe once committed with its outbox row; Redis is only how it reaches
a worker sooner than the relay would take it. So the writers (the group commits, a batch)
give the new events' keys to :class:`HandOver` and answer once it has handed them over or
once their deadline (``NOTIFIER_HAND_OVER_DEADLINE``) has passed, whichever comes first.
One thread hands over everything given to it since its last hand-over, in order, as one
go. When Redis fails (or answers more slowly than the deadline), the requests stop waiting
for it at all, and for ``NOTIFIER_HAND_OVER_PAUSE`` seconds after a failure nothing is tried:
the keys go straight to the relay (their outbox rows are marked, so its next round takes
them). After the pause the next go tries Redis again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

log = logging.getLogger(__name__)

#: Seconds without work after which the thread stops (the next hand-over starts it again).
IDLE_STOP = 2.0
#: Most event keys that may wait for the thread; beyond, they wait for the relay's grace
#: (``NOTIFIER_REDELIVER_AFTER``), which finds them in the outbox anyway.
MAX_BACKLOG = 100_000


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


#: A hand-over nobody needs to wait for.
DONE = _done()


class HandOver:
    """Hands event keys to the queue in a thread of its own, with a circuit for outages.

    Args:
        send: hands keys to the queue; False when that failed (it logs the failure itself).
        give_to_relay: marks keys that did not reach the queue for the relay's next round.
        deadline: seconds a writer waits for a hand-over before it answers anyway.
        pause: seconds after a failure during which nothing is sent, all goes to the relay.
    """

    def __init__(
        self,
        send: Callable[[Sequence[int]], bool],
        give_to_relay: Callable[[Sequence[int]], None],
        *,
        deadline: float,
        pause: float,
    ) -> None:
        self.deadline = deadline
        self._send = send
        self._give_to_relay = give_to_relay
        self._pause = pause
        self._ready = threading.Condition()
        self._pending: list[int] = []
        self._next: Future[None] = Future()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._paused_until = 0.0
        self._sending_since: float | None = None

    def submit(self, event_pks: Sequence[int]) -> Future[None]:
        """Hand ``event_pks`` over soon; the future is done once they are handed over or
        left to the relay. It is done at once while the queue is known to be failing or
        slow: nobody should wait for it then."""
        if not event_pks:
            return DONE
        with self._ready:
            if len(self._pending) >= MAX_BACKLOG:
                return DONE  # the outbox keeps them; the relay takes them after its grace
            self._pending.extend(event_pks)
            future = self._next
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="notifier-hand-over", daemon=True
                )
                self._thread.start()
            else:
                self._ready.notify()
            return DONE if self._failing(time.monotonic()) else future

    def wait(self, future: Future[None]) -> None:
        """Wait for ``future`` at most the deadline, in a thread (the group commits wait on
        the event loop, :func:`~notifier.intake.groups.when_handed`)."""
        if not future.done():
            with contextlib.suppress(TimeoutError):
                future.result(timeout=self.deadline)

    def close(self) -> None:
        """Finish what was given, then stop the thread (the next hand-over starts it again)."""
        with self._ready:
            thread, self._closing = self._thread, True
            self._ready.notify()
        if thread is not None:
            thread.join(timeout=30)
        with self._ready:
            self._closing = False

    def _failing(self, now: float) -> bool:
        started = self._sending_since
        slow = started is not None and now - started > self.deadline
        return slow or now < self._paused_until

    def _run(self) -> None:
        while True:
            with self._ready:
                if not self._pending and not self._closing:
                    self._ready.wait(IDLE_STOP)
                if not self._pending:
                    self._thread = None
                    return
                event_pks, self._pending = self._pending, []
                future, self._next = self._next, Future()
                paused = time.monotonic() < self._paused_until
                if not paused:
                    self._sending_since = time.monotonic()
            handed = False
            try:
                handed = not paused and self._send(event_pks)
            except Exception:  # noqa: BLE001 - a fault of ours must not stop the hand-overs
                log.exception("handing %d events to the queue failed", len(event_pks))
            with self._ready:
                self._sending_since = None
                if not handed and not paused:
                    self._paused_until = time.monotonic() + self._pause
            future.set_result(None)
            if not handed:
                self._give_to_relay(event_pks)
