"""The shop's profile: its brand, return policy, support contacts and company address.

Every customer email is framed with the profile: the brand in the header, the support
contacts and the company's address in the footer, replies to its reply-to address. It comes
from the TOML file ``NOTIFIER_SHOP_FILE`` names (:func:`load_shop`; ``shop.example.toml``
in the repository shows every field), or, without one, from the built-in profile
(:data:`DEFAULT_SHOP`), whose brand and policy the older settings can fill in. Every table
and field is optional except where noted::

    [brand]
    name = "De Wolwinkel"                     # required when [brand] is given
    color = "#1f6f5c"
    logo_url = "https://cdn.example/logo.png"
    logo_width = 160                          # CSS pixels; the height follows
    logo_alt = "De Wolwinkel"                 # default: the name

    [policy]                                  # as NOTIFIER_POLICY_FILE's JSON (policy.py)
    window_days = 30
    return_shipping = "paid"
    shipping_cost = "4.95"
    eligibility = { nl = "...", en = "..." }

    [support]
    url = "https://shop.example/klantenservice"
    email = "klantenservice@shop.example"
    phone = "020 123 4567"
    hours = { nl = "ma t/m vr 9.00-17.00 uur", en = "Mon-Fri 9am-5pm" }
    reply_to = "De Wolwinkel <klantenservice@shop.example>"

    [company]                                 # name, street, postcode, city and country
    name = "De Wolwinkel B.V."                # are required when [company] is given
    street = "Oudegracht 12"
    postcode = "3511 AB"
    city = "Utrecht"
    country = "NL"                            # ISO 3166 code, named in the reader's language
    chamber_of_commerce = "12345678"

Replies: an email says "reply to this email" only when a reply reaches someone. With a shop
file that is when it gives ``support.reply_to`` (every customer email then carries it as its
``Reply-To``); the built-in profile keeps the behaviour from before shop files: replies go
to the sender (``NOTIFIER_EMAIL_FROM``), who is taken to read them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from types import MappingProxyType
from typing import Any

from babel import Locale

from notifier.errors import ShopFileError
from notifier.rendering.formatting import SUPPORTED_LOCALES
from notifier.rendering.models import DEFAULT_LOGO_WIDTH, LOGO_WIDTHS, Address, Brand, ShopView
from notifier.rendering.policy import DEFAULT_POLICY, Policy, policy_from

#: The brand of the built-in profile.
DEFAULT_BRAND = Brand(name="Winkel", color="#1f6f5c", logo_url=None)
#: Each table of the shop file and the fields it may hold.
TABLES: Mapping[str, tuple[str, ...]] = {
    "brand": ("name", "color", "logo_url", "logo_width", "logo_alt"),
    "policy": (),  # checked by notifier.rendering.policy
    "support": ("url", "email", "phone", "hours", "reply_to"),
    "company": ("name", "street", "postcode", "city", "country", "chamber_of_commerce"),
}
_COMPANY_REQUIRED = ("name", "street", "postcode", "city", "country")
_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*[0-9]")
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
#: Makes the error of a malformed field from what is wrong with it.
_Fail = Callable[[str], ShopFileError]


@dataclass(frozen=True, slots=True)
class Support:
    """How customers reach the shop's support.

    Attributes:
        url: the support page (http or https).
        email: the support address.
        phone: the support phone number, as the shop writes it.
        hours: when support can be reached, one text per supported locale.
        reply_to: where replies to customer emails go (``Reply-To``), bare or with a name.
        replies_answered: whether a reply reaches someone: with a shop file, exactly when
            ``reply_to`` is given; the built-in profile's replies go to the sender.
    """

    url: str | None = None
    email: str | None = None
    phone: str | None = None
    hours: Mapping[str, str] | None = None
    reply_to: str | None = None
    replies_answered: bool = False


@dataclass(frozen=True, slots=True)
class Company:
    """The company behind the shop, for the legal footer.

    Attributes:
        name: the legal name.
        street: street and number.
        postcode: the postcode.
        city: the city.
        country: the ISO 3166 alpha-2 code (``NL``); emails name it in their language.
        chamber_of_commerce: the chamber of commerce number, if the shop shows it.
    """

    name: str
    street: str
    postcode: str
    city: str
    country: str
    chamber_of_commerce: str | None = None


@dataclass(frozen=True, slots=True)
class Shop:
    """The shop's profile: what frames every message.

    Attributes:
        brand: the name, colour and logo.
        policy: the return policy (an event's ``policy`` overrides it field by field).
        support: support contacts and where replies go.
        company: the company's address for the legal footer, if given.
    """

    brand: Brand = DEFAULT_BRAND
    policy: Policy = DEFAULT_POLICY
    support: Support = field(default_factory=lambda: Support(replies_answered=True))
    company: Company | None = None

    @property
    def reply_to(self) -> str | None:
        """The ``Reply-To`` of customer emails; None to leave replies to the sender."""
        return self.support.reply_to

    def view(self, template_locale: str) -> ShopView:
        """The shop as the templates of one language read it (``shop``)."""
        support, company = self.support, self.company
        return ShopView(
            replies=support.replies_answered,
            support_url=support.url,
            support_url_label=_url_label(support.url),
            support_email=support.email,
            phone=support.phone,
            phone_href=_tel(support.phone),
            hours=support.hours.get(template_locale) if support.hours else None,
            company=None if company is None else _address(company, template_locale),
        )


#: The built-in profile: the brand "Winkel", the default policy, replies to the sender.
DEFAULT_SHOP = Shop()


def load_shop(path: Path) -> Shop:
    """Load the shop's profile from a TOML file.

    Args:
        path: the shop file (see the module docstring for its tables and fields).

    Returns:
        The validated profile; what the file leaves out is as in :data:`DEFAULT_SHOP`,
        except that replies reach someone only if the file gives ``support.reply_to``.

    Raises:
        ShopFileError: the file is unreadable or not TOML, has an unknown table or field,
            or a field is missing or malformed; the message names the file and the field.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ShopFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ShopFileError(path, f"not UTF-8 text: {exc.reason}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ShopFileError(path, f"not valid TOML: {exc}") from exc
    for name, value in raw.items():
        if name not in TABLES:
            raise ShopFileError(path, f"unknown table [{name}]; use {', '.join(TABLES)}")
        if not isinstance(value, dict):
            raise ShopFileError(path, f"[{name}] must be a table, got {value!r}")
    tables = {name: _Table(path, name, raw.get(name)) for name in TABLES if name != "policy"}
    return Shop(
        brand=_brand(tables["brand"]),
        policy=_policy(path, raw.get("policy")),
        support=_support(tables["support"]),
        company=_company(tables["company"]),
    )


class _Table:
    """Typed readers over one table of the shop file; each error names the table and field."""

    def __init__(self, path: Path, name: str, values: Mapping[str, Any] | None) -> None:
        self.name = name
        self.given = values is not None
        self._path = path
        self._values: Mapping[str, Any] = values or {}
        unknown = sorted(set(self._values) - set(TABLES[name]))
        if unknown:
            raise self.fail(f"unknown field {unknown[0]!r}; use {', '.join(TABLES[name])}")

    def fail(self, problem: str) -> ShopFileError:
        return ShopFileError(self._path, f"[{self.name}] {problem}")

    def field_fail(self, key: str, what: str) -> ShopFileError:
        return self.fail(f"field {key!r} {what}, got {self._values.get(key)!r}")

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._values.get(key)
        if value is None:
            if required:
                raise self.fail(f"field {key!r} is required")
            return None
        if not isinstance(value, str) or not value.strip() or "\n" in value:
            raise self.field_fail(key, "must be a non-empty text on one line")
        return value.strip()

    def matching(self, key: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = self.text(key)
        if value is not None and not pattern.fullmatch(value):
            raise self.field_fail(key, what)
        return value

    def url(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not re.fullmatch(r"https?://[^\s/]+\S*", value):
            raise self.field_fail(key, "must be an http(s) URL")
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self._values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.field_fail(key, f"must be a whole number from {low} to {high}")
        return value

    def per_locale(self, key: str) -> Mapping[str, str] | None:
        value = self._values.get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(
            isinstance(text, str) and text.strip() and "\n" not in text for text in value.values()
        ):
            raise self.field_fail(key, "must be a table of one-line texts per locale")
        missing = [locale for locale in SUPPORTED_LOCALES if locale not in value]
        if missing:
            raise self.fail(f"field {key!r} has no text for {missing[0]!r}")
        return MappingProxyType({locale: text.strip() for locale, text in value.items()})


def _brand(table: _Table) -> Brand:
    if not table.given:
        return DEFAULT_BRAND
    name = table.text("name", required=True)
    assert name is not None
    return Brand(
        name=name,
        color=table.matching("color", _COLOR, "must be a colour like #1f6f5c")
        or DEFAULT_BRAND.color,
        logo_url=table.url("logo_url"),
        logo_width=table.integer("logo_width", *LOGO_WIDTHS) or DEFAULT_LOGO_WIDTH,
        logo_alt=table.text("logo_alt"),
    )


def _policy(path: Path, raw: Mapping[str, Any] | None) -> Policy:
    if raw is None:
        return DEFAULT_POLICY
    fail: _Fail = lambda problem: ShopFileError(path, f"[policy] {problem}")  # noqa: E731
    return policy_from(raw, fail)


def _support(table: _Table) -> Support:
    reply_to = table.text("reply_to")
    if reply_to is not None and not _EMAIL.fullmatch(parseaddr(reply_to)[1]):
        raise table.field_fail("reply_to", "must be an email address, bare or as 'Name <address>'")
    return Support(
        url=table.url("url"),
        email=table.matching("email", _EMAIL, "must be an email address"),
        phone=_phone(table),
        hours=table.per_locale("hours"),
        reply_to=reply_to,
        replies_answered=reply_to is not None,
    )


def _phone(table: _Table) -> str | None:
    phone = table.matching("phone", _PHONE, "must be a phone number (digits, spaces, +, -)")
    if phone is not None and sum(c.isdigit() for c in phone) < 6:
        raise table.field_fail("phone", "must be a phone number with at least 6 digits")
    return phone


def _company(table: _Table) -> Company | None:
    if not table.given:
        return None
    values = {key: table.text(key, required=True) or "" for key in _COMPANY_REQUIRED}
    country = values["country"].upper()
    if not re.fullmatch(r"[A-Z]{2}", country) or country not in Locale("en").territories:
        raise table.field_fail("country", "must be a two-letter country code such as NL")
    values["country"] = country
    return Company(**values, chamber_of_commerce=table.text("chamber_of_commerce"))


def _url_label(url: str | None) -> str | None:
    """A URL as a reader is shown it: without its scheme, ``www.`` kept, no trailing slash."""
    if url is None:
        return None
    return re.sub(r"^https?://", "", url).rstrip("/")


def _tel(phone: str | None) -> str | None:
    """A ``tel:`` link of a number: its digits, with the ``+`` of an international one."""
    if phone is None:
        return None
    digits = "".join(c for c in phone if c.isdigit())
    return f"tel:{'+' if phone.startswith('+') else ''}{digits}"


def _address(company: Company, template_locale: str) -> Address:
    country = Locale.parse(template_locale).territories.get(company.country, company.country)
    return Address(
        name=company.name,
        street=company.street,
        postcode=company.postcode,
        city=company.city,
        country=country,
        chamber_of_commerce=company.chamber_of_commerce,
    )
