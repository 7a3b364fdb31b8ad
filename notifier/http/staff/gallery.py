"""The message gallery's material: every kind's samples rendered per locale and channel,
and the template check's findings sorted by the kind, locale and channel they concern.

The template check (:func:`~notifier.rendering.check_templates`) renders every sample of
every kind, which takes most of a second, so it runs once per template directory and shop
profile (its file, or brand and policy file) in a process (:func:`template_check`), first
in the background when the console is installed (:func:`warm_up`). Its lines
``"<locale>/<file>: <problem>"`` become :class:`Finding` values: the kind whose template
the file is (or whose variables the problem names), the locale, and the channels the file
is used on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifier.delivery import webhook_envelope
from notifier.lifecycle import ROUTES
from notifier.rendering import (
    ALL_KINDS,
    DEFAULT_POLICY,
    DEFAULT_TIMEZONE,
    SUPPORTED_LOCALES,
    Policy,
    RenderedMessage,
    Renderer,
    RenderError,
    SmsSize,
    check_templates,
    default_template_dir,
    kind_channels,
    measure,
    sample_now,
    samples_for,
    template_file,
)
from notifier.service import shop
from notifier.settings import Settings

#: Every channel the gallery shows, in the order of its tabs.
CHANNELS = ("email", "sms", "webhook")
#: The channels an email template's file is used on: a webhook carries the email's subject
#: and text.
EMAIL_CHANNELS = ("email", "webhook")
#: The notification id shown in a sample's webhook body (a sample has no stored notification).
SAMPLE_ID = "ntf_sample"
#: The template parts a kind may have (see ``notifier.rendering.template_file``).
_PARTS = ("subject", "html", "text", "sms")
#: Each kind's name as the console shows it (English; ``i18n.DUTCH`` has the Dutch).
KIND_NAMES: Mapping[str, str] = {
    "return.requested": "Return requested",
    "return.approved": "Return approved",
    "return.rejected": "Return rejected",
    "return.label_created": "Return label ready",
    "return.in_transit": "Return on its way",
    "return.received": "Return received",
    "return.inspected": "Return inspected",
    "return.refund_issued": "Refund issued",
    "return.exchange_shipped": "Exchange shipped",
    "return.cancelled": "Return cancelled",
    "reminder.ship_by": "Reminder: send the return",
    "reminder.label_expiring": "Reminder: label expiring",
    "return.expired": "Return date passed",
    "nudge.stale": "Update on a waiting return",
    "staff.stale_return": "Staff alert: return waiting",
}
#: Each sample scenario's name as the console shows it; an unnamed one shows its own name.
SAMPLE_NAMES: Mapping[str, str] = {
    "card": "Drop-off (standard)",
    "pickup": "Pickup, paid shipping",
    "in_store": "In store",
    "in_store_label": "In store, with a label",
    "in_store_drop_off": "In store, the shop given as drop-off point",
    "pickup_no_date": "Pickup, no date yet",
    "minimal": "Required fields only",
    "rejected": "Rejected, with a reason",
    "label_only": "Label without details",
    "partial": "Partly accepted",
    "partial_items": "Partly accepted, with items not accepted",
    "status_page": "With the shop's status page",
    "code_outside_window": "Rejected: outside the return period",
    "code_not_eligible": "Rejected: not eligible",
    "code_used_or_worn": "Rejected: used or worn",
    "code_tags_removed": "Rejected: tags removed",
    "code_damaged": "Rejected: damaged",
    "code_incomplete": "Rejected: incomplete",
    "code_other": "Rejected: other reason",
    "store_credit": "Store credit",
    "deducted": "Shipping deducted",
    "klarna": "Paid with Klarna",
    "exchange": "Exchange",
    "paid_ideal": "Refund by iDEAL",
    "paid_card": "Refund to a card",
    "paid_paypal": "Refund by PayPal",
    "paid_klarna": "Klarna invoice adjusted",
    "paid_bancontact": "Refund by Bancontact",
    "gift_card": "Gift card",
    "no_method": "Refund method not given",
    "deduction_shipping": "Return shipping kept back",
    "deduction_damage": "Damage kept back",
    "deductions_both": "Shipping and damage kept back",
    "partial_held": "Partly accepted, items held",
    "note_in_english": "Shop's note in English",
    "inspection_code_only": "Rejected at inspection, reason code only",
    "variants": "Items with size and colour",
    "exchange_variants": "Exchange of items with size and colour",
    "exchange_number_only": "Exchange, tracking number only",
    "last_day": "Last day",
    "non_gsm_name": "Name outside GSM-7",
    "first_name": "Greeted by first name",
    "received": "Waiting after receipt",
    "in_transit": "Waiting in transit",
    "approved": "Waiting after approval",
    "requested": "Waiting after the request",
}
#: Each channel's name as the console shows it.
CHANNEL_NAMES: Mapping[str, str] = {"email": "Email", "sms": "SMS", "webhook": "Webhook"}
#: Each locale's name as the console shows it.
LOCALE_NAMES: Mapping[str, str] = {"nl": "Dutch", "en": "English"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the template check, placed.

    Attributes:
        file: the file it is about, relative to the template directory (``nl/x.sms.txt``).
        problem: what is wrong.
        locale: the locale directory of the file, if any.
        kind: the message kind whose template the file is, or whose variables the problem
            names; None for a shared template (``_layout.html``, ``_partials/``) or a
            stray file.
        channels: the channels the file is used on: a kind's own template on its channel,
            a shared template (``_layout``, ``_partials/``) on every channel that can include
            it (HTML on email and webhook), a stray file on none.
    """

    file: str
    problem: str
    locale: str | None
    kind: str | None
    channels: tuple[str, ...]

    def concerns(self, kind: str, channel: str, locale: str) -> bool:
        """Whether this finding is about what ``kind`` sends on ``channel`` in ``locale``:
        one of that kind's templates, or a shared template of that locale."""
        return self.kind in (kind, None) and channel in self.channels and self.locale == locale


@dataclass(frozen=True, slots=True)
class TemplateCheck:
    """The shop's policy, and what the template check found with it and the shop's profile.

    Attributes:
        policy: the return policy messages are rendered with (the default one if the
            policy file cannot be read any more).
        findings: every finding, in the check's order.
        failed: why the check could not run, if it could not.
    """

    policy: Policy
    findings: tuple[Finding, ...]
    failed: str | None = None

    def of_kind(self, kind: str) -> list[Finding]:
        """The findings about one kind's own templates."""
        return [finding for finding in self.findings if finding.kind == kind]

    def about(self, kind: str, channel: str, locale: str) -> tuple[Finding, ...]:
        """The findings about what ``kind`` sends on ``channel`` in ``locale``."""
        return tuple(f for f in self.findings if f.concerns(kind, channel, locale))

    def shared(self) -> list[Finding]:
        """The findings about no one kind: shared templates, stray files, locales."""
        return [finding for finding in self.findings if finding.kind is None]


@dataclass(frozen=True, slots=True)
class Preview:
    """One sample of a kind on one channel in one locale, as the gallery shows it.

    Attributes:
        locale: ``nl`` or ``en``.
        message: the rendered message (for a webhook, its email); None if it failed.
        size: the SMS's encoding and segments, for an SMS.
        webhook: the webhook body, pretty-printed JSON, for a webhook.
        error: why it does not render, if it does not.
        findings: the template check's findings about it.
    """

    locale: str
    message: RenderedMessage | None
    size: SmsSize | None = None
    webhook: str | None = None
    error: RenderError | None = None
    findings: tuple[Finding, ...] = ()


_CHECKS: dict[str, TemplateCheck] = {}
_CHECK_LOCK = threading.Lock()


def gallery_channels(kind: str) -> tuple[str, ...]:
    """The channels the gallery shows for a kind: those it is rendered for, and webhook."""
    return (*kind_channels(kind), "webhook")


def template_check(settings: Settings) -> TemplateCheck:
    """The shop profile, policy and template check of ``settings``, run once per process."""
    template_dir = settings.template_dir or default_template_dir()
    key = repr(
        (
            str(template_dir),
            str(settings.shop_file),
            settings.brand_name,
            settings.brand_color,
            settings.brand_logo_url,
            str(settings.policy_file),
        )
    )
    with _CHECK_LOCK:
        found = _CHECKS.get(key)
        if found is None:
            found = _CHECKS[key] = _run_check(settings, template_dir)
    return found


def warm_up(settings: Settings) -> None:
    """Run the template check in the background, so the first gallery page is quick."""
    threading.Thread(
        target=template_check, args=(settings,), name="template-check", daemon=True
    ).start()


def _run_check(settings: Settings, template_dir: Path) -> TemplateCheck:
    try:
        profile = shop(settings)
        lines = check_templates(template_dir, profile, profile.policy)
    except Exception as exc:  # a check that cannot run is shown, never a page that fails
        return TemplateCheck(DEFAULT_POLICY, (), f"{type(exc).__name__}: {exc}")
    return TemplateCheck(profile.policy, tuple(placed(line) for line in lines))


def placed(line: str) -> Finding:
    """Place one line of the template check (``"<file>: <problem>"``)."""
    file, _, problem = line.partition(": ")
    head, _, name = file.partition("/")
    locale = head if head in SUPPORTED_LOCALES else None
    for kind in ALL_KINDS:
        for part in _PARTS:
            if name == template_file(kind, part):
                channels = ("sms",) if part == "sms" else EMAIL_CHANNELS
                return Finding(file, problem, locale, kind, channels)
    named = next((kind for kind in ALL_KINDS if f"which {kind} does not" in problem), None)
    if not name.startswith("_"):  # a stray file, or a locale: no message uses it as such
        return Finding(file, problem, locale, named, ())
    return Finding(
        file, problem, locale, named, EMAIL_CHANNELS if name.endswith(".html") else CHANNELS
    )


def preview(
    renderer: Renderer, check: TemplateCheck, kind: str, channel: str, sample: str, locale: str
) -> Preview:
    """Render one sample of ``kind`` for ``channel`` in ``locale`` with the shop's policy;
    a failure is kept, not raised."""
    data = samples_for(kind)[sample]
    findings = check.about(kind, channel, locale)
    try:
        message = renderer.render(
            kind,
            "sms" if channel == "sms" else "email",
            data,
            locale=locale,
            timezone=(data.get("customer") or {}).get("timezone") or DEFAULT_TIMEZONE,
            policy=check.policy,
            now=sample_now(data),
        )
    except RenderError as error:
        return Preview(locale, None, error=error, findings=findings)
    if channel == "sms":
        return Preview(locale, message, size=measure(message.text), findings=findings)
    if channel == "webhook":
        body = _webhook(kind, data, locale, message)
        return Preview(locale, message, webhook=body, findings=findings)
    return Preview(locale, message, findings=findings)


def _webhook(kind: str, data: dict[str, Any], locale: str, message: RenderedMessage) -> str:
    body = webhook_envelope(
        SAMPLE_ID,
        kind,
        data,
        sample_now(data).isoformat(),
        {"subject": message.subject or "", "text": message.text},
        return_id=data["return"]["id"],
        customer_id=data["customer"]["id"],
        locale=locale,
    )
    return json.dumps(body, ensure_ascii=False, indent=2)


def sms_fallback_only(kind: str) -> bool:
    """Whether a kind's SMS is sent only when its email cannot reach the customer."""
    return any(event == kind and not route.sms for event, route in ROUTES.items())
