"""The shop's profile (NOTIFIER_SHOP_FILE): loaded from TOML, every bad field named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from notifier.errors import ShopFileError
from notifier.rendering import DEFAULT_POLICY, DEFAULT_SHOP, Company, Shop, Support, load_shop
from notifier.rendering.models import Address, Brand

#: The example profile shipped in the repository.
EXAMPLE = Path(__file__).resolve().parents[2] / "shop.example.toml"

FULL = """
[brand]
name = "De Wolwinkel"
color = "#336699"
logo_url = "https://cdn.example/logo.png"
logo_width = 180
logo_alt = "De Wolwinkel, wol en meer"

[policy]
window_days = 14
return_shipping = "deducted"
shipping_cost = "4.95"
refund_days = 3
eligibility = { nl = "Ongedragen.", en = "Unworn." }

[support]
url = "https://www.wol.example/help/"
email = "help@wol.example"
phone = "+31 30 123 45 67"
hours = { nl = "ma t/m vr 9.00-17.00 uur", en = "Mon to Fri, 9am-5pm" }
reply_to = "De Wolwinkel <help@wol.example>"

[company]
name = "De Wolwinkel B.V."
street = "Oudegracht 12"
postcode = "3511 AB"
city = "Utrecht"
country = "nl"
chamber_of_commerce = "12345678"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_shop_file_is_loaded(tmp_path: Path) -> None:
    # Given a shop file with every table and field
    path = write(tmp_path, FULL)

    # When it is loaded
    shop = load_shop(path)

    # Then every field is in the profile, typed
    assert shop.brand == Brand(
        "De Wolwinkel",
        "#336699",
        "https://cdn.example/logo.png",
        logo_width=180,
        logo_alt="De Wolwinkel, wol en meer",
    )
    assert (shop.policy.window_days, shop.policy.return_shipping) == (14, "deducted")
    assert (shop.policy.shipping_cost, shop.policy.refund_days) == (Decimal("4.95"), 3)
    assert shop.policy.inspection_days == DEFAULT_POLICY.inspection_days
    assert dict(shop.policy.eligibility) == {"nl": "Ongedragen.", "en": "Unworn."}
    assert shop.support == Support(
        url="https://www.wol.example/help/",
        email="help@wol.example",
        phone="+31 30 123 45 67",
        hours=shop.support.hours,
        reply_to="De Wolwinkel <help@wol.example>",
        replies_answered=True,
    )
    assert dict(shop.support.hours or {}) == {
        "nl": "ma t/m vr 9.00-17.00 uur",
        "en": "Mon to Fri, 9am-5pm",
    }
    assert shop.company == Company(
        "De Wolwinkel B.V.", "Oudegracht 12", "3511 AB", "Utrecht", "NL", "12345678"
    )
    assert shop.reply_to == "De Wolwinkel <help@wol.example>"


def test_the_templates_read_the_profile_in_their_language(tmp_path: Path) -> None:
    # Given the full profile
    shop = load_shop(write(tmp_path, FULL))

    # When Dutch and English templates read it
    nl, en = shop.view("nl"), shop.view("en")

    # Then the hours and the country are in each language, links ready to tap
    assert (nl.hours, en.hours) == ("ma t/m vr 9.00-17.00 uur", "Mon to Fri, 9am-5pm")
    assert nl.company == Address(
        "De Wolwinkel B.V.", "Oudegracht 12", "3511 AB", "Utrecht", "Nederland", "12345678"
    )
    assert en.company is not None and en.company.country == "Netherlands"
    assert nl.phone_href == "tel:+31301234567"
    assert nl.support_url_label == "www.wol.example/help"
    assert nl.replies and nl.contacts


def test_an_empty_shop_file_is_the_built_in_profile_without_replies(tmp_path: Path) -> None:
    # Given a shop file that gives nothing
    shop = load_shop(write(tmp_path, ""))

    # Then brand and policy are the built-in ones, there are no contacts or address, and
    # no email invites a reply: a shop file says where replies go, or no one reads them
    assert (shop.brand, shop.policy, shop.company) == (DEFAULT_SHOP.brand, DEFAULT_POLICY, None)
    assert shop.support == Support()
    assert shop.reply_to is None
    view = shop.view("nl")
    assert not view.replies and not view.contacts


def test_the_built_in_profile_keeps_replies_to_the_sender() -> None:
    # Given no shop file at all
    shop = Shop()

    # Then replies go to the sender, who reads them, as before shop files
    assert shop.reply_to is None
    assert shop.view("en").replies


def test_the_example_shop_file_in_the_repository_loads() -> None:
    # Given the example profile shipped beside the README
    shop = load_shop(EXAMPLE)

    # Then every table of it is in use
    assert shop.brand.name == "De Wolwinkel" and shop.brand.logo_url is not None
    assert shop.policy.return_shipping == "paid" and shop.policy.shipping_cost == Decimal("4.95")
    assert shop.support.replies_answered and shop.support.hours is not None
    assert shop.company is not None and shop.company.chamber_of_commerce == "12345678"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[shop]\nname = 'x'", "unknown table [shop]; use brand, policy, support, company"),
        ("brand = 'De Wolwinkel'", "[brand] must be a table, got 'De Wolwinkel'"),
        ("[brand]\nnaam = 'x'", "[brand] unknown field 'naam'; use name, color, logo_url"),
        ("[brand]\ncolor = '#123456'", "[brand] field 'name' is required"),
        ("[brand]\nname = ''", "[brand] field 'name' must be a non-empty text on one line"),
        ("[brand]\nname = 7", "[brand] field 'name' must be a non-empty text on one line, got 7"),
        ("[brand]\nname = 'W'\ncolor = 'green'", "[brand] field 'color' must be a colour like"),
        (
            "[brand]\nname = 'W'\nlogo_url = 'javascript:alert(1)'",
            "[brand] field 'logo_url' must be an http(s) URL, got 'javascript:alert(1)'",
        ),
        (
            "[brand]\nname = 'W'\nlogo_width = 1000",
            "[brand] field 'logo_width' must be a whole number from 16 to 536, got 1000",
        ),
        (
            "[brand]\nname = 'W'\nlogo_width = '160px'",
            "[brand] field 'logo_width' must be a whole number from 16 to 536, got '160px'",
        ),
        (
            "[policy]\nwindow_days = -1",
            "[policy] field 'window_days' must be a non-negative integer, got -1",
        ),
        ("[policy]\nreturn_shipping = 'paid'", "[policy] field 'shipping_cost' is required"),
        ("[policy]\nwindow = 30", "[policy] unknown field 'window'"),
        ("[policy]\neligibility = { nl = 'x' }", "[policy] field 'eligibility' has no text for"),
        ("[support]\nurl = 'www.shop.example'", "[support] field 'url' must be an http(s) URL"),
        ("[support]\nemail = 'help at shop'", "[support] field 'email' must be an email address"),
        ("[support]\nphone = 'bel ons'", "[support] field 'phone' must be a phone number"),
        ("[support]\nphone = '112'", "[support] field 'phone' must be a phone number with at"),
        ("[support]\nhours = '9-17'", "[support] field 'hours' must be a table of one-line"),
        ("[support]\nhours = { nl = '9-17' }", "[support] field 'hours' has no text for 'en'"),
        ("[support]\nreply_to = 'klantenservice'", "[support] field 'reply_to' must be an email"),
        ("[support]\nfax = '030 123'", "[support] unknown field 'fax'"),
        ("[company]\nname = 'W B.V.'", "[company] field 'street' is required"),
        (
            "[company]\nname = 'W'\nstreet = 'S 1'\npostcode = '1'\ncity = 'C'\ncountry = 'XX'",
            "[company] field 'country' must be a two-letter country code such as NL, got 'XX'",
        ),
        (
            "[company]\nname = 'W'\nstreet = 'S 1'\npostcode = '1'\ncity = 'C'\ncountry = 'NL'\n"
            "kvk = '1'",
            "[company] unknown field 'kvk'",
        ),
        ("[brand\nname = 'x'", "not valid TOML: "),
    ],
)
def test_a_malformed_field_is_named_in_one_line(tmp_path: Path, text: str, problem: str) -> None:
    # Given a shop file with one bad table or field
    path = write(tmp_path, text)

    # When it is loaded
    with pytest.raises(ShopFileError) as raised:
        load_shop(path)

    # Then one line names the setting, the file and what is wrong with which field
    message = str(raised.value)
    assert message.startswith(f"NOTIFIER_SHOP_FILE: {path}: {problem}"), message
    assert "\n" not in message


def test_an_unreadable_or_binary_shop_file_is_named(tmp_path: Path) -> None:
    # Given a missing file and one that is not text
    missing = tmp_path / "nowhere.toml"
    binary = tmp_path / "logo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")

    # Then each is refused with the file named
    with pytest.raises(ShopFileError, match=f"NOTIFIER_SHOP_FILE: {missing}: cannot be read"):
        load_shop(missing)
    with pytest.raises(ShopFileError, match=f"NOTIFIER_SHOP_FILE: {binary}: not UTF-8 text"):
        load_shop(binary)
