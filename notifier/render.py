"""Rendering customer and staff messages from templates.

Templates live in ``templates/<locale>/`` (``nl`` and ``en``, the same file
names in each). Per message kind ``K`` there are four files: ``K.subject.txt``
(email subject), ``K.html`` (HTML body, extends ``_layout.html``), ``K.txt``
(plain-text body, extends ``_layout.txt``) and ``K.sms.txt`` (SMS text). Shared
blocks live in ``_partials/``: ``items``, ``policy`` and ``next_step`` in
``.html`` and ``.txt`` form, and text macros (status names, reasons, methods) in
``labels.txt``.

Input: ``data`` is the validated event JSON in the shape of CONTRACT section 3
(``event_id``, ``type``, ``occurred_at``, ``return``, ``customer``, ``policy``).
Scheduled kinds receive the return's latest snapshot in the same shape, plus:

- ``reminder.ship_by`` and ``reminder.label_expiring``:
  ``"reminder": {"due_at": "<ISO datetime>", "rule": "<str>"}``;
- ``nudge.stale`` and ``staff.stale_return``: ``"stale": {"status":
  "return.received", "since": "<ISO datetime>", "days": <int>, "expected_by":
  "YYYY-MM-DD" | null}``.

``return.inspection`` may carry ``accepted_items: [{"sku", "quantity"}]`` for a
partial acceptance. The event's ``policy`` overrides the shop's field by field.

Template variables: :func:`build_context` turns ``data`` into typed views
(money as :class:`~notifier.formatting.Money`, aware datetimes, dates). Every
kind gets ``brand``, ``kind``, ``event_id``, ``occurred_at``, ``customer``
(:class:`Customer`), ``ret`` (:class:`Return`) and ``policy`` (:class:`Terms`);
:data:`KIND_VARIABLES` lists the others per kind (``label``, ``drop_off``,
``refund``, ``inspection``, ``exchange``, ``rejection_reason``, ``reminder``,
``stale``), each None when the event lacks it unless the kind requires it
(:data:`REQUIRED_FIELDS`). Templates only format values, with the filters
``money``, ``date`` (``long``, ``full``, ``day``, ``weekday``), ``time``,
``number``, ``plural`` and ``join_list``.

Safety: templates run in an immutable sandbox with ``StrictUndefined``; HTML is
autoescaped, text parts are not. Customer-provided text (names, notes, reasons)
is data: escaped in HTML and never compiled. Each part is streamed and stopped
at ``max_bytes`` and at a wall-clock deadline, checked on every call, attribute
lookup, loop iteration and output chunk. Subjects must be one line without
control characters.

Errors: :class:`RenderError` is the only error a render raises.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier import sms
from notifier.formatting import Formatter, Money, resolve_timezone, split_locale
from notifier.policy import Policy, resolve_policy

#: Every customer message kind.
CUSTOMER_KINDS: tuple[str, ...] = (
    "return.requested",
    "return.approved",
    "return.rejected",
    "return.label_created",
    "return.in_transit",
    "return.received",
    "return.inspected",
    "return.refund_issued",
    "return.exchange_shipped",
    "return.cancelled",
    "reminder.ship_by",
    "reminder.label_expiring",
    "nudge.stale",
)
#: Message kinds addressed to the shop's staff (in NOTIFIER_DEFAULT_LOCALE).
STAFF_KINDS: tuple[str, ...] = ("staff.stale_return",)
#: Every message kind that has templates.
ALL_KINDS: tuple[str, ...] = CUSTOMER_KINDS + STAFF_KINDS
#: Channels a message is rendered for.
CHANNELS = ("email", "sms")
#: Template file of each part of a message, by part name.
PART_FILES = {"subject": "{}.subject.txt", "html": "{}.html", "text": "{}.txt", "sms": "{}.sms.txt"}
#: Variables every kind's templates get.
COMMON_VARIABLES = frozenset(
    {"brand", "kind", "event_id", "occurred_at", "customer", "ret", "policy"}
)
#: Top-level template variables each kind provides (besides the common ones).
KIND_VARIABLES: Mapping[str, frozenset[str]] = {
    "return.requested": frozenset(),
    "return.approved": frozenset({"label", "drop_off"}),
    "return.rejected": frozenset({"rejection_reason"}),
    "return.label_created": frozenset({"label", "drop_off"}),
    "return.in_transit": frozenset({"label"}),
    "return.received": frozenset(),
    "return.inspected": frozenset({"inspection", "refund"}),
    "return.refund_issued": frozenset({"refund", "inspection"}),
    "return.exchange_shipped": frozenset({"exchange"}),
    "return.cancelled": frozenset(),
    "reminder.ship_by": frozenset({"reminder", "label", "drop_off"}),
    "reminder.label_expiring": frozenset({"reminder", "label", "drop_off"}),
    "nudge.stale": frozenset({"stale", "label"}),
    "staff.stale_return": frozenset({"stale"}),
}
#: Fields every kind needs, as paths into ``data``.
COMMON_REQUIRED_FIELDS = ("return.id", "return.order_id")
#: Fields a kind cannot do without (besides the common ones), as paths into ``data``.
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "return.label_created": ("return.label.url",),
    "return.inspected": ("return.inspection.outcome",),
    "return.refund_issued": ("return.refund.amount",),
    "return.exchange_shipped": ("return.exchange",),
    "reminder.ship_by": ("reminder.due_at", "return.ship_by"),
    "reminder.label_expiring": ("reminder.due_at", "return.label.expires_at"),
    "nudge.stale": ("stale.status", "stale.since", "stale.days"),
    "staff.stale_return": ("stale.status", "stale.since", "stale.days"),
}
#: Currency assumed when an event gives none.
DEFAULT_CURRENCY = "EUR"
#: Most SMS segments a rendered SMS may take at send time.
MAX_SMS_SEGMENTS = 10
#: Longest string a template may build with ``*`` (repetition).
MAX_REPEAT = 10_000

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_BLANK_LINES = re.compile(r"\n{3,}")


class RenderError(Exception):
    """One render failed: a template or data problem, never a worker crash.

    Raised for an unknown kind, channel or locale, a missing required field, a
    malformed value, an undefined variable, a template error, an exceeded size
    or time cap, or a subject with a control character.

    Attributes:
        reason: what was wrong, without the file.
        template: the template file the problem was found in, relative to the
            template directory (e.g. ``nl/return.received.txt``), if known.
    """

    def __init__(self, reason: str, template: str | None = None) -> None:
        super().__init__(f"{template}: {reason}" if template else reason)
        self.reason = reason
        self.template = template


@dataclass(frozen=True, slots=True)
class Brand:
    """The shop's look in emails.

    Attributes:
        name: the shop's name, shown in the header, sign-off and SMS.
        color: the accent colour as ``#rgb`` or ``#rrggbb``.
        logo_url: an https URL of the logo, or None to show the name instead.
    """

    name: str
    color: str
    logo_url: str | None

    def __post_init__(self) -> None:
        if not _HEX_COLOR.fullmatch(self.color):
            raise ValueError(f"brand colour must be #rgb or #rrggbb, got {self.color!r}")
        if self.logo_url is not None and not self.logo_url.startswith(("https://", "http://")):
            raise ValueError(f"brand logo URL must be an http(s) URL, got {self.logo_url!r}")

    @property
    def on_color(self) -> str:
        """Black or white, whichever reads better on :attr:`color` (WCAG luminance)."""
        digits = self.color[1:] if len(self.color) == 7 else "".join(c * 2 for c in self.color[1:])
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready for a channel.

    Attributes:
        kind: the message kind, e.g. ``return.refund_issued``.
        channel: ``email`` or ``sms``.
        locale: the locale it was rendered in, as given to :meth:`Renderer.render`.
        subject: the one-line email subject; None for SMS.
        text: the plain-text email body, or the SMS text (GSM-7 where possible).
        html: the HTML email body with inlined CSS; None for SMS.
    """

    kind: str
    channel: str
    locale: str
    subject: str | None
    text: str
    html: str | None


def default_template_dir() -> Path:
    """Return the templates shipped with the service (the repository's ``templates/``)."""
    return Path(__file__).resolve().parent.parent / "templates"


def template_file(kind: str, part: str) -> str:
    """Return the file name of one part (``subject``, ``html``, ``text``, ``sms``) of a kind."""
    return PART_FILES[part].format(kind)


def provided_variables(kind: str) -> frozenset[str]:
    """Return the top-level template variables a kind's templates may use."""
    return COMMON_VARIABLES | KIND_VARIABLES[kind]


# The template context ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Customer:
    """The addressee: ``first_name`` is empty when the name is unknown."""

    id: str
    name: str
    first_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Item:
    """One returned line; ``reason`` is the return system's reason code."""

    sku: str
    name: str
    quantity: int
    unit_price: Money | None
    total: Money | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Return:
    """The return (``ret`` in templates); ``item_names`` are ready for ``join_list``."""

    id: str
    order_id: str
    method: str | None
    ship_by: date | None
    currency: str
    items: tuple[Item, ...]
    item_count: int
    item_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Label:
    """A return shipping label."""

    url: str | None
    carrier: str | None
    tracking_number: str | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class DropOff:
    """Where the parcel can be handed in."""

    name: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Inspection:
    """The inspection outcome; the name tuples are filled for a partial acceptance."""

    outcome: str
    note: str | None
    accepted_names: tuple[str, ...]
    declined_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund; ``method`` is e.g. ``original_payment`` or ``store_credit``."""

    amount: Money
    method: str | None


@dataclass(frozen=True, slots=True)
class Exchange:
    """A replacement shipment."""

    item_names: tuple[str, ...]
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A scheduled reminder; ``days_left`` counts calendar days to its deadline."""

    due_at: datetime
    rule: str | None
    days_left: int


@dataclass(frozen=True, slots=True)
class Stale:
    """A return stuck in ``status`` since ``since`` for ``days`` days."""

    status: str
    since: datetime
    days: int
    expected_by: date | None


@dataclass(frozen=True, slots=True)
class Terms:
    """The policy as templates see it: amounts with currency, texts in one locale."""

    window_days: int
    return_shipping: str
    shipping_cost: Money | None
    eligibility: str | None
    inspection_days: int
    refund_days: int


def build_context(
    kind: str,
    data: Mapping[str, Any],
    *,
    brand: Brand,
    policy: Policy,
    template_locale: str,
    now: datetime,
    timezone: ZoneInfo,
) -> dict[str, Any]:
    """Build the template variables of one message from the event data.

    Args:
        kind: the message kind.
        data: the event JSON (see the module docstring for its shape).
        brand: the shop's brand.
        policy: the shop's policy; the event's ``policy`` overrides it.
        template_locale: ``nl`` or ``en``, for the policy's eligibility text.
        now: the current time, for a reminder's days left.
        timezone: the customer's time zone, for a reminder's days left.

    Returns:
        Exactly the variables :func:`provided_variables` names for the kind.

    Raises:
        RenderError: a required field is missing or a value is malformed.
    """
    fields = _Fields(data)
    for path in COMMON_REQUIRED_FIELDS + REQUIRED_FIELDS.get(kind, ()):
        if fields.node(path) in (None, "", {}, []):
            raise RenderError(f"{path} is required for {kind}")
    try:
        terms = resolve_policy(policy, fields.mapping("policy"))
    except ValueError as exc:
        raise RenderError(f"policy: {exc}") from exc
    ret = _return(fields)
    # Only the views a kind provides are built, so a malformed field another
    # kind needs cannot block this message.
    views: dict[str, Callable[[], Any]] = {
        "brand": lambda: brand,
        "kind": lambda: kind,
        "event_id": lambda: fields.text("event_id") or "",
        "occurred_at": lambda: fields.moment("occurred_at"),
        "customer": lambda: _customer(fields),
        "ret": lambda: ret,
        "policy": lambda: _terms(terms, ret.currency, template_locale),
        "label": lambda: _label(fields),
        "drop_off": lambda: _drop_off(fields),
        "rejection_reason": lambda: fields.text("return.rejection_reason", line=False),
        "inspection": lambda: _inspection(fields, ret.items),
        "refund": lambda: _refund(fields, ret.currency),
        "exchange": lambda: _exchange(fields),
        "stale": lambda: _stale(fields),
        "reminder": lambda: _reminder(fields, kind, ret, now.astimezone(timezone)),
    }
    return {name: views[name]() for name in provided_variables(kind)}


class _Fields:
    """Typed access to the event JSON; every error names the field's path."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix

    def _name(self, path: str) -> str:
        return f"{self._prefix}{path}"

    def node(self, path: str) -> Any:
        value: Any = self._data
        for depth, key in enumerate(path.split(".")):
            if value is None:
                return None
            if not isinstance(value, Mapping):
                parent = ".".join(path.split(".")[:depth])
                raise RenderError(f"{self._name(parent)} must be an object")
            value = value.get(key)
        return value

    def mapping(self, path: str) -> Mapping[str, Any] | None:
        value = self.node(path)
        if value is not None and not isinstance(value, Mapping):
            raise RenderError(f"{self._name(path)} must be an object")
        return value

    def text(self, path: str, *, line: bool = True) -> str | None:
        value = self.node(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RenderError(f"{self._name(path)} must be a string, got {value!r}")
        cleaned = _clean_line(str(value)) if line else _clean_paragraph(str(value))
        return cleaned or None

    def url(self, path: str) -> str | None:
        value = self.text(path)
        if value is not None and not value.startswith(("https://", "http://")):
            raise RenderError(f"{self._name(path)} must be an http(s) URL, got {value!r}")
        return value

    def money(self, path: str, currency: str) -> Money | None:
        value = self.node(path)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
                raise InvalidOperation
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise RenderError(f"{self._name(path)} must be a decimal amount, got {value!r}")
        return Money(amount, currency)

    def moment(self, path: str) -> datetime | None:
        value = self.node(path)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise RenderError(
                f"{self._name(path)} must be an ISO 8601 datetime, got {value!r}"
            ) from None
        if moment.tzinfo is None:
            raise RenderError(f"{self._name(path)} must have a UTC offset, got {value!r}")
        return moment

    def day(self, path: str) -> date | None:
        value = self.node(path)
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise RenderError(
                f"{self._name(path)} must be a date (YYYY-MM-DD), got {value!r}"
            ) from None

    def count(self, path: str, *, default: int) -> int:
        value = self.node(path)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RenderError(f"{self._name(path)} must be a non-negative integer, got {value!r}")
        return value

    def entries(self, path: str) -> list[_Fields]:
        value = self.node(path)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise RenderError(f"{self._name(path)} must be a list of objects")
        return [_Fields(entry, f"{self._name(path)}[{i}].") for i, entry in enumerate(value)]


def _clean_line(value: str) -> str:
    """Customer text on one line: control and format characters become spaces."""
    return " ".join("".join(" " if _is_control(c) else c for c in value).split())


def _clean_paragraph(value: str) -> str:
    lines = [_clean_line(line) for line in value.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _customer(fields: _Fields) -> Customer:
    name = fields.text("customer.name") or ""
    return Customer(
        id=fields.text("customer.id") or "",
        name=name,
        first_name=name.split(" ", 1)[0],
        email=fields.text("customer.email"),
        phone=fields.text("customer.phone"),
    )


def _items(entries: list[_Fields], currency: str) -> tuple[Item, ...]:
    return tuple(item for item in map(lambda entry: _item(entry, currency), entries) if item.name)


def _item(entry: _Fields, currency: str) -> Item:
    quantity = max(entry.count("quantity", default=1), 1)
    price = entry.money("unit_price", currency)
    return Item(
        sku=entry.text("sku") or "",
        name=entry.text("name") or entry.text("sku") or "",
        quantity=quantity,
        unit_price=price,
        total=None if price is None else Money(price.amount * quantity, currency),
        reason=entry.text("reason"),
    )


def _item_name(name: str, quantity: int) -> str:
    return name if quantity == 1 else f"{name} ({quantity}×)"


def _return(fields: _Fields) -> Return:
    currency = (fields.text("return.currency") or DEFAULT_CURRENCY).upper()
    items = _items(fields.entries("return.items"), currency)
    return Return(
        id=fields.text("return.id") or "",
        order_id=fields.text("return.order_id") or "",
        method=fields.text("return.method"),
        ship_by=fields.day("return.ship_by"),
        currency=currency,
        items=items,
        item_count=sum(item.quantity for item in items),
        item_names=tuple(_item_name(item.name, item.quantity) for item in items),
    )


def _terms(policy: Policy, currency: str, template_locale: str) -> Terms:
    cost = policy.shipping_cost
    return Terms(
        window_days=policy.window_days,
        return_shipping=policy.return_shipping,
        shipping_cost=None if cost is None else Money(cost, currency),
        eligibility=policy.eligibility.get(template_locale),
        inspection_days=policy.inspection_days,
        refund_days=policy.refund_days,
    )


def _label(fields: _Fields) -> Label | None:
    if not fields.mapping("return.label"):
        return None
    return Label(
        url=fields.url("return.label.url"),
        carrier=fields.text("return.label.carrier"),
        tracking_number=fields.text("return.label.tracking_number"),
        expires_at=fields.moment("return.label.expires_at"),
    )


def _drop_off(fields: _Fields) -> DropOff | None:
    name, address = fields.text("return.drop_off.name"), fields.text("return.drop_off.address")
    return DropOff(name, address) if name or address else None


def _inspection(fields: _Fields, items: tuple[Item, ...]) -> Inspection | None:
    outcome = fields.text("return.inspection.outcome")
    if outcome is None:
        return None
    accepted: dict[str, int] = {}
    for entry in fields.entries("return.inspection.accepted_items"):
        sku = entry.text("sku") or ""
        accepted[sku] = accepted.get(sku, 0) + max(entry.count("quantity", default=1), 1)
    names = {item.sku: item.name for item in items}
    declined = [(i.name, i.quantity - accepted.get(i.sku, 0)) for i in items] if accepted else []
    return Inspection(
        outcome=outcome,
        note=fields.text("return.inspection.note", line=False),
        accepted_names=tuple(_item_name(names.get(s, s), q) for s, q in accepted.items() if s),
        declined_names=tuple(_item_name(name, qty) for name, qty in declined if qty > 0),
    )


def _refund(fields: _Fields, currency: str) -> Refund | None:
    amount = fields.money("return.refund.amount", currency)
    if amount is None:
        return None
    return Refund(amount=amount, method=fields.text("return.refund.method"))


def _exchange(fields: _Fields) -> Exchange | None:
    if not fields.mapping("return.exchange"):
        return None
    items = _items(fields.entries("return.exchange.items"), DEFAULT_CURRENCY)
    return Exchange(
        item_names=tuple(_item_name(item.name, item.quantity) for item in items),
        carrier=fields.text("return.exchange.carrier"),
        tracking_number=fields.text("return.exchange.tracking_number"),
        tracking_url=fields.url("return.exchange.tracking_url"),
    )


def _reminder(fields: _Fields, kind: str, ret: Return, local_now: datetime) -> Reminder | None:
    due_at = fields.moment("reminder.due_at")
    if due_at is None:
        return None
    deadline = ret.ship_by
    expires_at = fields.moment("return.label.expires_at")
    if kind == "reminder.label_expiring" and expires_at is not None:
        deadline = expires_at.astimezone(local_now.tzinfo).date()
    days_left = (deadline - local_now.date()).days if deadline else 0
    return Reminder(due_at=due_at, rule=fields.text("reminder.rule"), days_left=days_left)


def _stale(fields: _Fields) -> Stale | None:
    status, since = fields.text("stale.status"), fields.moment("stale.since")
    if status is None or since is None:
        return None
    return Stale(
        status=status,
        since=since,
        days=fields.count("stale.days", default=0),
        expected_by=fields.day("stale.expected_by"),
    )


# The sandbox ----------------------------------------------------------------


class _Overrun(Exception):
    """A render passed its deadline (turned into a RenderError by the Renderer)."""


@dataclass(frozen=True, slots=True)
class _Budget:
    deadline: float
    formatter: Formatter


_BUDGET: ContextVar[_Budget | None] = ContextVar("notifier_render_budget", default=None)


def _check_deadline() -> None:
    budget = _BUDGET.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise _Overrun


def _formatter() -> Formatter:
    budget = _BUDGET.get()
    if budget is None:
        raise RuntimeError("formatting filters only work inside Renderer.render")
    return budget.formatter


class _DeadlineCodeGenerator(CodeGenerator):
    """Compiles a deadline check into every block body, loop iterations included."""

    def blockvisit(self, nodes: Any, frame: Frame) -> None:
        self.writeline("environment.check_deadline()")
        super().blockvisit(nodes, frame)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a deadline on calls and attribute lookups."""

    code_generator_class = _DeadlineCodeGenerator
    intercepted_binops = frozenset({"*", "**"})

    @staticmethod
    def check_deadline() -> None:
        _check_deadline()

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_deadline()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_deadline()
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator == "*":
            size = max(_length(left) * _int(right), _length(right) * _int(left))
            if size > MAX_REPEAT:
                raise SecurityError(f"repetition would build {size} items (max {MAX_REPEAT})")
        return super().call_binop(context, operator, left, right)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def make_environment(locale_dir: Path, *, html: bool) -> ImmutableSandboxedEnvironment:
    """Build the sandboxed Jinja2 environment for one locale's templates.

    Args:
        locale_dir: ``templates/<locale>``.
        html: autoescape everything (for HTML bodies); False for text parts.

    Returns:
        The environment, with the formatting filters registered.
    """
    env = _Sandbox(
        loader=FileSystemLoader(locale_dir),
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=lambda value: _formatter().money(value),
        date=lambda value, style="long": _formatter().date(value, style),
        time=lambda value: _formatter().time(value),
        number=lambda value: _formatter().number(value),
        plural=lambda count, one, other: _formatter().plural(count, one, other),
        join_list=lambda values, style="standard": _formatter().join(values, style),
    )
    return env


# The renderer ---------------------------------------------------------------


class Renderer:
    """Renders a message kind for a channel from one template directory.

    Args:
        template_dir: the directory holding one sub-directory per locale.
        brand: the shop's brand, shown in every email.
        max_bytes: the largest a rendered part (UTF-8) may be.
        max_seconds: the longest one render may take.
    """

    def __init__(
        self,
        template_dir: Path,
        brand: Brand,
        *,
        max_bytes: int = 256_000,
        max_seconds: float = 2.0,
    ) -> None:
        self._dir = template_dir
        self._brand = brand
        self._max_bytes = max_bytes
        self._max_seconds = max_seconds
        self._envs: dict[tuple[str, bool], ImmutableSandboxedEnvironment] = {}
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    def render(
        self,
        kind: str,
        channel: str,
        data: Mapping[str, Any],
        *,
        locale: str,
        timezone: str,
        policy: Policy,
        now: datetime | None = None,
    ) -> RenderedMessage:
        """Render one message.

        Args:
            kind: a kind from :data:`ALL_KINDS`.
            channel: ``email`` or ``sms``.
            data: the event JSON (see the module docstring).
            locale: the resolved locale, e.g. ``nl``, ``nl_BE``, ``en``, ``en_GB``.
            timezone: the customer's IANA time zone (the shop's when unknown).
            policy: the shop's policy; the event's ``policy`` overrides it.
            now: the current time (defaults to the clock), for days left.

        Returns:
            The message: subject, text and HTML for email; text for SMS.

        Raises:
            RenderError: the message cannot be rendered; nothing is half-done.
        """
        if kind not in ALL_KINDS:
            raise RenderError(f"unknown message kind {kind!r}")
        if channel not in CHANNELS:
            raise RenderError(f"unknown channel {channel!r}; use email or sms")
        split = split_locale(locale)
        if split is None:
            raise RenderError(f"unsupported locale {locale!r}")
        template_locale, formatting_locale = split
        formatter = Formatter(formatting_locale, resolve_timezone(timezone))
        context = build_context(
            kind,
            data,
            brand=self._brand,
            policy=policy,
            template_locale=template_locale,
            now=now or datetime.now(UTC),
            timezone=formatter.timezone,
        )
        token = _BUDGET.set(_Budget(time.monotonic() + self._max_seconds, formatter))
        try:
            if channel == "sms":
                text = _sms_text(
                    self._part(template_locale, kind, "sms", context),
                    f"{template_locale}/{template_file(kind, 'sms')}",
                )
                return RenderedMessage(kind, channel, locale, None, text, None)
            subject = _subject(
                self._part(template_locale, kind, "subject", context),
                f"{template_locale}/{template_file(kind, 'subject')}",
            )
            text = _tidy(self._part(template_locale, kind, "text", context))
            html = self._inline(
                self._part(template_locale, kind, "html", context),
                f"{template_locale}/{template_file(kind, 'html')}",
            )
        finally:
            _BUDGET.reset(token)
        return RenderedMessage(kind, channel, locale, subject, text, html)

    def environment(self, template_locale: str, *, html: bool) -> ImmutableSandboxedEnvironment:
        """Return (and cache) the environment of one locale's HTML or text templates."""
        key = (template_locale, html)
        if key not in self._envs:
            self._envs[key] = make_environment(self._dir / template_locale, html=html)
        return self._envs[key]

    def _part(self, template_locale: str, kind: str, part: str, context: dict[str, Any]) -> str:
        name = template_file(kind, part)
        where = f"{template_locale}/{name}"
        try:
            env = self.environment(template_locale, html=part == "html")
            return "".join(self._stream(env.get_template(name).generate(context), where))
        except RenderError:
            raise
        except _Overrun:
            raise RenderError(f"took longer than {self._max_seconds} s", where) from None
        except TemplateNotFound as exc:
            raise RenderError("template missing", f"{template_locale}/{exc.name}") from None
        except TemplateSyntaxError as exc:
            file = f"{template_locale}/{exc.name}" if exc.name else where
            raise RenderError(f"line {exc.lineno}: {exc.message}", file) from None
        except Exception as exc:  # any failure inside a template fails this render only
            file = self._failing_file(exc.__traceback__, template_locale) or where
            raise RenderError(f"{type(exc).__name__}: {exc}", file) from exc

    def _stream(self, chunks: Iterator[str], where: str) -> Iterator[str]:
        size = 0
        for chunk in chunks:
            size += len(chunk.encode())
            if size > self._max_bytes:
                raise RenderError(f"output exceeds {self._max_bytes} bytes", where)
            _check_deadline()
            yield chunk

    def _inline(self, html: str, where: str) -> str:
        try:
            inlined = self._inliner.inline(html)
        except css_inline.InlineError as exc:
            raise RenderError(f"CSS could not be inlined: {exc}", where) from exc
        if len(inlined.encode()) > self._max_bytes:
            raise RenderError(f"HTML with inlined CSS exceeds {self._max_bytes} bytes", where)
        return str(inlined)

    def _failing_file(self, tb: TracebackType | None, template_locale: str) -> str | None:
        root, found = (self._dir / template_locale).resolve(), None
        while tb is not None:
            path = Path(tb.tb_frame.f_code.co_filename)
            if path.is_relative_to(root):
                found = f"{template_locale}/{path.relative_to(root).as_posix()}"
            tb = tb.tb_next
        return found


def _tidy(text: str) -> str:
    """Tidy a plain-text part: plain spaces, no trailing blanks, at most one empty line."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _subject(text: str, where: str) -> str:
    """The subject line: refused when empty or holding a control character (CR, LF...)."""
    subject = _tidy(text)
    bad = next((c for c in subject if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
    if bad is not None:
        raise RenderError(f"subject contains control character U+{ord(bad):04X}", where)
    if not subject:
        raise RenderError("subject is empty", where)
    return subject


def _sms_text(text: str, where: str) -> str:
    """One paragraph, transliterated to GSM-7 (see :mod:`notifier.sms`)."""
    message = sms.to_gsm7(" ".join(text.split()))
    if not message:
        raise RenderError("SMS text is empty", where)
    segments = sms.count_segments(message)
    if segments > MAX_SMS_SEGMENTS:
        raise RenderError(f"SMS takes {segments} segments (max {MAX_SMS_SEGMENTS})", where)
    return message
