"""Delivery: claim one notification, check it again, send it through its channel,
record the outcome.

Offers :class:`Deliverer`, the :class:`Sender` that renders a notification for its channel,
the retry schedule (:class:`RetryPolicy`), quiet hours, suppressions (listed and lifted by
staff), supersession, the subscriber gate, the staff's :class:`DeadLetters`, a
notification's template data and webhook body (:func:`webhook_envelope` gives its shape), and
the status hooks that tell subscribers what became of a message (:func:`tell`).
"""

from notifier.delivery.dead_letters import DeadLetterFilter, DeadLetterPage, DeadLetters
from notifier.delivery.deliverer import Deliverer, Outcome
from notifier.delivery.payload import template_data, webhook_body, webhook_envelope
from notifier.delivery.quiet_hours import quiet_until
from notifier.delivery.retry import RetryPolicy
from notifier.delivery.sender import GATE_WAIT, Sender, Senders
from notifier.delivery.status_hooks import EVERY_STATUS, StatusChange, tell
from notifier.delivery.subscriber_gate import SubscriberGate
from notifier.delivery.supersession import checked, superseded
from notifier.delivery.suppressions import (
    PSEUDONYM_PREFIX,
    SuppressionPage,
    forms_of,
    lift,
    pseudonym,
    suppress,
    suppression,
    suppression_of,
    suppressions_count,
    suppressions_of,
    suppressions_page,
)

__all__ = [
    "DeadLetterFilter",
    "DeadLetterPage",
    "DeadLetters",
    "EVERY_STATUS",
    "Deliverer",
    "GATE_WAIT",
    "Outcome",
    "PSEUDONYM_PREFIX",
    "RetryPolicy",
    "Sender",
    "Senders",
    "StatusChange",
    "SubscriberGate",
    "SuppressionPage",
    "checked",
    "lift",
    "forms_of",
    "pseudonym",
    "quiet_until",
    "superseded",
    "suppress",
    "suppression",
    "suppression_of",
    "suppressions_count",
    "suppressions_of",
    "suppressions_page",
    "tell",
    "template_data",
    "webhook_body",
    "webhook_envelope",
]
