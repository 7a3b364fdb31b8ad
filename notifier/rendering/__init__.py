"""Rendering: messages from Jinja2 templates, in the customer's language, with money,
dates and plurals formatted for their locale and time zone.

Offers :class:`Renderer` and :class:`RenderedMessage` (with its :class:`Attachment`, the
calendar event of :mod:`notifier.rendering.calendar`), the message kinds, the shop's
profile (:class:`Shop`: its :class:`Brand`, :class:`Policy`, :class:`Support` and
:class:`Company`), the sample data every template is checked with, the template lint
(:func:`check_templates`), locale formatting and GSM-7 text.
"""

from notifier.rendering.formatting import (
    DEFAULT_TIMEZONE,
    SUPPORTED_LOCALES,
    Formatter,
    Money,
    resolve_locale,
    resolve_timezone,
    split_locale,
)
from notifier.rendering.gsm7 import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsSize,
    count_segments,
    is_gsm7,
    measure,
    to_gsm7,
)
from notifier.rendering.kinds import (
    ALL_KINDS,
    CALENDAR_KINDS,
    CUSTOMER_KINDS,
    STAFF_KINDS,
    default_template_dir,
    kind_channels,
    template_file,
)
from notifier.rendering.lint import check_templates, render_command
from notifier.rendering.message import Attachment, RenderedMessage, RenderError
from notifier.rendering.models import Brand
from notifier.rendering.policy import DEFAULT_POLICY, Policy, load_policy, resolve_policy
from notifier.rendering.renderer import Renderer
from notifier.rendering.samples import (
    CONTRACT_EVENT,
    SAMPLE_BRAND,
    SAMPLE_SHOP,
    sample_now,
    samples_for,
)
from notifier.rendering.shop import DEFAULT_SHOP, Company, Shop, Support, load_shop

__all__ = [
    "ALL_KINDS",
    "Attachment",
    "Brand",
    "CALENDAR_KINDS",
    "CONTRACT_EVENT",
    "CUSTOMER_KINDS",
    "Company",
    "DEFAULT_POLICY",
    "DEFAULT_SHOP",
    "DEFAULT_TIMEZONE",
    "Formatter",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "Money",
    "Policy",
    "RenderError",
    "RenderedMessage",
    "Renderer",
    "SAMPLE_BRAND",
    "SAMPLE_SHOP",
    "STAFF_KINDS",
    "SUPPORTED_LOCALES",
    "Shop",
    "SmsSize",
    "Support",
    "check_templates",
    "count_segments",
    "default_template_dir",
    "is_gsm7",
    "kind_channels",
    "load_policy",
    "load_shop",
    "measure",
    "render_command",
    "resolve_locale",
    "resolve_policy",
    "resolve_timezone",
    "sample_now",
    "samples_for",
    "split_locale",
    "template_file",
    "to_gsm7",
]
