"""Message kinds: what each kind's templates are called and what they may use.

Templates live in ``templates/<locale>/`` (``nl`` and ``en``, the same file
names in each). Per message kind ``K`` there are the files of each channel it is
sent on (:func:`kind_parts`): ``K.subject.txt`` (email subject), ``K.html`` (HTML
body, extends ``_layout.html``), ``K.txt`` (plain-text body, extends
``_layout.txt``) and, for a customer kind, ``K.sms.txt`` (SMS text). Staff alerts
go by email and webhook only, so they have no SMS text. Shared
blocks live in ``_partials/``: ``items``, ``policy``, ``conditions`` (the policy as a return
request states it) and ``next_step`` (what to do next, by return method) in ``.html`` and
``.txt`` form, and text macros: status names, reasons, rejection codes, what happens to a
rejected item and methods in ``labels.txt``; how the items get back to the shop, by
return method, in ``returning.txt``; the days left before a deadline in ``days_left.txt``.
``calendar`` (``.html`` and ``.txt``) says which calendar event an email of
:data:`CALENDAR_KINDS` carries.

Every kind's templates get :data:`COMMON_VARIABLES`; :data:`KIND_VARIABLES`
lists the others per kind, each None when the event lacks it unless the kind
requires it (:data:`REQUIRED_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from notifier.lifecycle import ROUTES

#: Every customer message kind: the event types that message the customer, then the ones
#: the scheduler derives.
CUSTOMER_KINDS: tuple[str, ...] = (
    *(kind for kind, route in ROUTES.items() if route.email or route.sms),
    "reminder.ship_by",
    "reminder.label_expiring",
    "return.expired",
    "nudge.stale",
)
#: Message kinds addressed to the shop's staff (in NOTIFIER_DEFAULT_LOCALE).
STAFF_KINDS: tuple[str, ...] = ("staff.stale_return",)
#: Every message kind that has templates.
ALL_KINDS: tuple[str, ...] = CUSTOMER_KINDS + STAFF_KINDS
#: Channels a message is rendered for.
CHANNELS = ("email", "sms")
#: Channels a staff alert is rendered for: it goes to NOTIFIER_STAFF_EMAIL and to webhooks
#: (which carry the email's subject and text), never by SMS.
STAFF_CHANNELS = ("email",)
#: Template file of each part of a message, by part name.
PART_FILES = {"subject": "{}.subject.txt", "html": "{}.html", "text": "{}.txt", "sms": "{}.sms.txt"}
#: Variables every kind's templates get.
COMMON_VARIABLES = frozenset(
    {"brand", "kind", "event_id", "occurred_at", "customer", "ret", "policy", "shop", "progress"}
)
#: Top-level template variables each kind provides (besides the common ones).
KIND_VARIABLES: Mapping[str, frozenset[str]] = {
    "return.requested": frozenset({"drop_off", "pickup", "store"}),
    "return.approved": frozenset({"label", "drop_off", "pickup", "store"}),
    "return.rejected": frozenset({"rejection_code", "rejection_reason"}),
    "return.label_created": frozenset({"label", "drop_off", "pickup", "store"}),
    "return.in_transit": frozenset({"label", "pickup"}),
    "return.received": frozenset(),
    "return.inspected": frozenset({"inspection", "refund", "rejection_code"}),
    "return.refund_issued": frozenset({"refund", "inspection"}),
    "return.exchange_shipped": frozenset({"exchange"}),
    "return.cancelled": frozenset(),
    "reminder.ship_by": frozenset({"reminder", "label", "drop_off", "pickup", "store"}),
    "reminder.label_expiring": frozenset({"reminder", "label", "drop_off", "pickup", "store"}),
    "return.expired": frozenset({"reminder", "label", "drop_off", "pickup", "store"}),
    "nudge.stale": frozenset({"stale", "label", "drop_off", "pickup", "store"}),
    "staff.stale_return": frozenset({"stale"}),
}
#: Kinds whose email carries a calendar event when the return has a date ahead (the ones
#: that set a deadline or an appointment); their templates get ``calendar``, the event or
#: None (:mod:`notifier.rendering.calendar`).
CALENDAR_KINDS = frozenset({"return.approved", "return.label_created", "reminder.ship_by"})
#: Fields every kind needs, as paths into the event data.
COMMON_REQUIRED_FIELDS = ("return.id", "return.order_id")
#: Fields a kind cannot do without (besides the common ones), as paths into the event data.
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "return.label_created": ("return.label.url",),
    "return.inspected": ("return.inspection.outcome",),
    "return.refund_issued": ("return.refund.amount",),
    "return.exchange_shipped": ("return.exchange",),
    "reminder.ship_by": ("reminder.due_at", "return.ship_by"),
    "reminder.label_expiring": ("reminder.due_at", "return.label.expires_at"),
    "return.expired": ("reminder.due_at", "return.ship_by"),
    "nudge.stale": ("stale.status", "stale.since", "stale.days"),
    "staff.stale_return": ("stale.status", "stale.since", "stale.days"),
}


def default_template_dir() -> Path:
    """Return the templates shipped with the service (the repository's ``templates/``)."""
    return Path(__file__).resolve().parents[2] / "templates"


def template_file(kind: str, part: str) -> str:
    """Return the file name of one part (``subject``, ``html``, ``text``, ``sms``) of a kind."""
    return PART_FILES[part].format(kind)


def kind_channels(kind: str) -> tuple[str, ...]:
    """Return the channels a kind's messages are rendered for (:data:`CHANNELS` for a customer
    kind: an email-only kind goes by SMS when the email cannot reach the customer)."""
    return STAFF_CHANNELS if kind in STAFF_KINDS else CHANNELS


def kind_parts(kind: str) -> tuple[str, ...]:
    """Return the template parts a kind has: the email's, and ``sms`` if it goes by SMS."""
    sms = ("sms",) if "sms" in kind_channels(kind) else ()
    return ("subject", "html", "text", *sms)


def provided_variables(kind: str) -> frozenset[str]:
    """Return the top-level template variables a kind's templates may use."""
    calendar = frozenset({"calendar"}) if kind in CALENDAR_KINDS else frozenset()
    return COMMON_VARIABLES | KIND_VARIABLES[kind] | calendar


def required_fields(kind: str) -> tuple[str, ...]:
    """Return the paths into the event data that must hold a value for a kind."""
    return COMMON_REQUIRED_FIELDS + REQUIRED_FIELDS.get(kind, ())
