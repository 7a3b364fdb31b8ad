"""In-memory channels: they keep what they are asked to send and answer as told.

The twin of every channel, for tests (like django-anymail's test backend): each
message handed to ``send`` is appended to the channel's ``outbox``, whatever the
answer, and nothing leaves the process. A channel accepts every message unless
told otherwise: ``answer(...)`` queues answers that the next sends take in order,
one each, before it goes back to accepting:

- a ``SendResult``: accept the message with it;
- an error (``TransientChannelError`` with its ``retry_after``,
  ``PermanentChannelError`` with its ``opt_out`` or ``gone``,
  ``ChannelConfigurationError``): raise it;
- a function of the message: call it while the provider "has" the message and
  answer what it returns or raises, for a test that must act during a send
  (a delivery callback that arrives before the provider's answer, a look at
  the database mid-send).

Sends may come from several threads at once, as delivery's do: each takes its
own answer, exactly once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeAlias, TypeVar

from channels.base import EmailMessage, SendResult, SmsMessage, WebhookMessage
from channels.errors import ChannelConfigurationError, ChannelError

__all__ = [
    "Answer",
    "MemoryChannel",
    "MemoryEmailChannel",
    "MemorySmsChannel",
    "MemoryWebhookChannel",
]

M = TypeVar("M")

#: What a memory channel can be told to answer to one send.
Answer: TypeAlias = (
    SendResult | ChannelError | ChannelConfigurationError | Callable[[M], SendResult]
)


class MemoryChannel(Generic[M]):
    """A channel that keeps every message in ``outbox`` and answers as told.

    Args:
        name: The medium: ``email``, ``sms`` or ``webhook``.
    """

    provider = "memory"

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._outbox: list[M] = []
        self._answers: deque[Answer[M]] = deque()

    @property
    def outbox(self) -> list[M]:
        """Every message asked to send so far, in order, refused ones included (a copy)."""
        with self._lock:
            return list(self._outbox)

    @property
    def pending(self) -> int:
        """How many queued answers no send has taken yet."""
        with self._lock:
            return len(self._answers)

    def answer(self, *answers: Answer[M]) -> None:
        """Queue answers for the next sends, one each, in order.

        Args:
            answers: A ``SendResult`` to accept with, an error to raise, or a function
                of the message that returns the result or raises.
        """
        with self._lock:
            self._answers.extend(answers)

    def send(self, message: M) -> SendResult:
        """Keep the message and give the next queued answer, or accept it.

        Returns:
            The queued ``SendResult``, the function's result, or, with nothing queued,
            ``SendResult("memory", "memory-<medium>-<n>")`` for the n-th message.

        Raises:
            TransientChannelError, PermanentChannelError, ChannelConfigurationError: As
                queued, or as the queued function raises.
        """
        with self._lock:
            self._outbox.append(message)
            number = len(self._outbox)
            answer = self._answers.popleft() if self._answers else None
        if answer is None:
            return SendResult(self.provider, f"{self.provider}-{self.name}-{number}")
        if isinstance(answer, SendResult):
            return answer
        if isinstance(answer, ChannelError | ChannelConfigurationError):
            raise answer
        return answer(message)


class MemoryEmailChannel(MemoryChannel[EmailMessage]):
    """The in-memory twin of an email channel."""

    def __init__(self) -> None:
        super().__init__("email")


class MemorySmsChannel(MemoryChannel[SmsMessage]):
    """The in-memory twin of an SMS channel."""

    def __init__(self) -> None:
        super().__init__("sms")


class MemoryWebhookChannel(MemoryChannel[WebhookMessage]):
    """The in-memory twin of the webhook channel."""

    def __init__(self) -> None:
        super().__init__("webhook")
