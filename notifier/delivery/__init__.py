"""Delivery: claim one notification, check it again, send it through its channel,
record the outcome.

Offers :class:`Deliverer`, the :class:`Sender` that renders a notification for its channel,
the retry schedule (:class:`RetryPolicy`), quiet hours, suppressions (listed and lifted by
staff), the subscriber gate and the staff's :class:`DeadLetters`.
"""

from notifier.delivery.dead_letters import DeadLetterFilter, DeadLetterPage, DeadLetters
from notifier.delivery.deliverer import Deliverer, Outcome
from notifier.delivery.quiet_hours import quiet_until
from notifier.delivery.retry import RetryPolicy
from notifier.delivery.sender import GATE_WAIT, Sender, Senders
from notifier.delivery.subscriber_gate import SubscriberGate
from notifier.delivery.suppressions import (
    SuppressionPage,
    lift,
    suppress,
    suppression,
    suppression_of,
    suppressions_count,
    suppressions_page,
)

__all__ = [
    "DeadLetterFilter",
    "DeadLetterPage",
    "DeadLetters",
    "Deliverer",
    "GATE_WAIT",
    "Outcome",
    "RetryPolicy",
    "Sender",
    "Senders",
    "SubscriberGate",
    "SuppressionPage",
    "lift",
    "quiet_until",
    "suppress",
    "suppression",
    "suppression_of",
    "suppressions_count",
    "suppressions_page",
]
