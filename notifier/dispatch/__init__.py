"""Dispatch: which messages a stored event calls for, on which channel, to whom.

Offers :class:`Dispatcher` (plan one stored event and hand its notifications to delivery),
:class:`Planner` (the plan as notification rows with stable ids), the customer
:class:`Preferences` and webhook :class:`Subscriptions` that planning reads, and the staff's
:class:`Resends` of failed and bounced notifications.
"""

from notifier.dispatch.dispatcher import Dispatcher
from notifier.dispatch.planner import (
    Audience,
    Known,
    Planned,
    Planner,
    event_source,
    queued,
    rows,
    subscribed,
    webhooks,
)
from notifier.dispatch.preferences import Preferences
from notifier.dispatch.resends import RESENDABLE, Resends, Resent
from notifier.dispatch.subscriptions import Subscriptions

__all__ = [
    "Audience",
    "Dispatcher",
    "Known",
    "Planned",
    "Planner",
    "Preferences",
    "RESENDABLE",
    "Resends",
    "Resent",
    "Subscriptions",
    "event_source",
    "queued",
    "rows",
    "subscribed",
    "webhooks",
]
