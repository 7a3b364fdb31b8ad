"""The retry schedule: how long a delivery waits after a transient failure, and when it stops.

A provider's 429, its 5xx answers, timeouts and connection errors are transient. After the
``n``-th failed attempt the next one waits ``base * 2**(n-1)``, capped at ``max_delay``, with
+-20% jitter so that messages failed together do not come back together. When the provider
says how long to wait (``Retry-After``, SendGrid's ``X-RateLimit-Reset``) and that is longer,
its wait is used instead (the channels bound it to one day). The ``attempts``-th failed
attempt ends the retries: the notification becomes a dead letter.

With the defaults (``NOTIFIER_RETRY_BASE=15``, ``NOTIFIER_RETRY_MAX_DELAY=3600``,
``NOTIFIER_RETRY_ATTEMPTS=12``) the waits are 15 s, 30 s, 1 min, 2 min, 4 min, 8 min,
16 min, 32 min, 1 h, 1 h, 1 h: about four hours from the first attempt to the dead letter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from notifier.settings import Settings

#: Each wait is multiplied by a random factor in this range.
JITTER = (0.8, 1.2)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a transiently failed delivery is tried again.

    Attributes:
        base: The wait after the first failed attempt.
        max_delay: The longest computed wait (a provider may ask for longer).
        attempts: Attempts in all; the last failed one makes a dead letter.
    """

    base: timedelta
    max_delay: timedelta
    attempts: int

    @classmethod
    def configured(cls, settings: Settings) -> RetryPolicy:
        """The schedule ``NOTIFIER_RETRY_BASE``, ``_MAX_DELAY`` and ``_ATTEMPTS`` set."""
        return cls(
            base=timedelta(seconds=settings.retry_base),
            max_delay=timedelta(seconds=settings.retry_max_delay),
            attempts=settings.retry_attempts,
        )

    def nominal(self, failed: int) -> timedelta:
        """The wait after ``failed`` failed attempts, before jitter."""
        grown: timedelta = self.base * 2 ** max(failed - 1, 0)
        return min(grown, self.max_delay)

    def wait(self, failed: int, retry_after: float | None = None) -> timedelta:
        """The jittered wait after ``failed`` failed attempts, honouring the provider's ask."""
        jittered = self.nominal(failed) * random.uniform(*JITTER)
        if retry_after is not None:
            jittered = max(jittered, timedelta(seconds=retry_after))
        return jittered

    def exhausted(self, failed: int) -> bool:
        """Whether ``failed`` failed attempts are the last allowed."""
        return failed >= self.attempts

    def schedule(self) -> list[timedelta]:
        """Every nominal wait, in order: the documented schedule."""
        return [self.nominal(failed) for failed in range(1, self.attempts)]
