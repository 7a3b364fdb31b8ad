"""Customer emails in a real browser (Chromium): they fit a phone and a desktop, and every text
stays readable in light and dark mode, logo and buttons included."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from notifier.rendering import (
    CUSTOMER_KINDS,
    DEFAULT_POLICY,
    SAMPLE_SHOP,
    Renderer,
    default_template_dir,
    sample_now,
    samples_for,
)
from tests.http.staff.support import CHROMIUM_ARGS, chromium_path

#: A logo in the shop's dark green on a transparent background, as shops' logos often are.
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="80">'
    '<circle cx="40" cy="40" r="30" fill="#1f6f5c"/>'
    '<text x="80" y="52" font-size="34" fill="#1f2f2a">De Wolwinkel</text></svg>'
)
WIDTHS = (390, 640)
SCHEMES = ("light", "dark")
RENDERER = Renderer(default_template_dir(), SAMPLE_SHOP)
#: The text that must stay readable, by what it is.
READABLE = {
    "heading": "h1",
    "body text": ".content p",
    "reached step": ".step-current",
    "step to come": ".step-next",
    "help": ".help",
    "support link": ".contact a",
    "footer": ".footer p",
    "status button": ".button-link",
}
#: Each element's text colour, and the colour of the first background behind it.
COLOURS_JS = """(selectors) => {
  const behind = (node) => {
    for (; node; node = node.parentElement) {
      const colour = getComputedStyle(node).backgroundColor;
      if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") return colour;
    }
    return "rgb(255, 255, 255)";
  };
  const found = {};
  for (const [name, selector] of Object.entries(selectors)) {
    const node = document.querySelector(selector);
    if (node) found[name] = [getComputedStyle(node).color, behind(node)];
  }
  return found;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-scoped: Playwright's sync API keeps an event loop running until it is stopped.
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@cache
def email_html(kind: str, locale: str) -> str:
    """The kind's first sample with the return's page, as the sample shop sends it."""
    data = copy.deepcopy(next(iter(samples_for(kind).values())))
    data["return"]["status_url"] = "https://shop.example/retour/RMA-1001"
    message = RENDERER.render(
        kind,
        "email",
        data,
        locale=locale,
        timezone="Europe/Amsterdam",
        policy=DEFAULT_POLICY,
        now=sample_now(data),
    )
    assert message.html is not None
    return message.html


def open_page(browser: Browser, width: int, scheme: str) -> Page:
    """A page of this width and colour scheme, which loads the shop's logo."""
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    page = context.new_page()
    page.route("https://cdn.example/**", _logo)
    return page


def _logo(route: Route) -> None:
    route.fulfill(status=200, content_type="image/svg+xml", body=LOGO)


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two CSS ``rgb()`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(value) / 255 for value in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_every_customer_email_fits_and_reads_on_a_phone_and_a_desktop(
    browser: Browser, kind: str, scheme: str
) -> None:
    for width in WIDTHS:
        page = open_page(browser, width, scheme)
        try:
            for locale in ("nl", "en"):
                # Given the email open in a mail view of this width, in light or dark mode
                page.set_content(email_html(kind, locale), wait_until="load")
                layout: dict[str, Any] = page.evaluate(
                    "() => ({scroll: document.documentElement.scrollWidth,"
                    " card: document.querySelector('.card').getBoundingClientRect().width})"
                )
                colours: dict[str, list[str]] = page.evaluate(COLOURS_JS, READABLE)

                # Then it is never wider than the view: 600 px on a desktop, the phone's width
                assert layout["scroll"] <= width, (kind, locale, width)
                assert layout["card"] == (600 if width > 620 else width)
                # And every kind of text reads on what is behind it (WCAG AA, 4.5:1); a
                # return at its last step has no step to come
                assert set(READABLE) - set(colours) <= {"step to come"}
                for name, (foreground, background) in colours.items():
                    ratio = contrast(foreground, background)
                    assert ratio >= 4.5, f"{kind} {locale} {width}px {scheme}: {name} {ratio:.2f}"
        finally:
            page.context.close()


def test_in_dark_mode_the_logo_keeps_a_light_ground_and_the_page_turns_dark(
    browser: Browser,
) -> None:
    # Given an email in light and in dark mode
    html = email_html("return.approved", "nl")
    grounds = {}
    for scheme in SCHEMES:
        page = open_page(browser, 390, scheme)
        try:
            page.set_content(html, wait_until="load")
            grounds[scheme] = page.evaluate(
                "() => [getComputedStyle(document.querySelector('.logo')).backgroundColor,"
                " getComputedStyle(document.querySelector('.content')).backgroundColor,"
                " document.querySelector('.logo img').naturalWidth]"
            )
        finally:
            page.context.close()

    # Then the dark page is dark, and a dark logo still stands on white
    assert grounds["light"][1] == "rgb(255, 255, 255)"
    assert grounds["dark"][1] == "rgb(29, 29, 29)"
    assert grounds["dark"][0] == "rgb(255, 255, 255)"
    assert grounds["dark"][2] > 0
