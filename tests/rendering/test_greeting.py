"""The name a message greets with: a first name as it is written, or none at all."""

from __future__ import annotations

import copy

import pytest

from notifier.rendering import DEFAULT_POLICY, SAMPLE_BRAND, Renderer, default_template_dir
from notifier.rendering.greeting import greeting_name
from notifier.rendering.samples import sample_now, samples_for


@pytest.mark.parametrize(
    ("first_name", "name", "greeted"),
    [
        (None, "Sanne de Vries", "Sanne"),
        (None, "SANNE DE VRIES", "Sanne"),
        (None, "sanne de vries", "Sanne"),
        (None, "ANNE-MARIE van Dijk", "Anne-Marie"),
        (None, "McKenzie Smith", "McKenzie"),
        (None, "Jo Smit", "Jo"),
        (None, "D'Anne Smit", "D'Anne"),
        (None, "S. de Vries", ""),
        (None, "S.J. de Vries", ""),
        (None, "J Smit", ""),
        (None, "dhr. Jansen", ""),
        (None, "Mevr. S. de Vries", ""),
        (None, "Mr Smith", ""),
        (None, "", ""),
        (None, None, ""),
        ("Sanne", "S. de Vries", "Sanne"),
        ("SANNE", None, "Sanne"),
        ("S.", "Sanne de Vries", "Sanne"),
        ("dhr.", None, ""),
    ],
)
def test_a_greeting_uses_a_first_name_never_an_initial_title_or_surname(
    first_name: str | None, name: str | None, greeted: str
) -> None:
    assert greeting_name(first_name, name) == greeted


@pytest.mark.parametrize(
    ("customer", "nl", "en"),
    [
        ({"name": "S. de Vries"}, "Hoi,", "Hi"),
        ({"name": "SANNE DE VRIES"}, "Hoi Sanne,", "Hi Sanne,"),
        ({"name": "dhr. Jansen", "first_name": "Pieter"}, "Hoi Pieter,", "Hi Pieter,"),
    ],
)
def test_email_and_sms_greet_with_the_safe_first_name(
    customer: dict[str, str], nl: str, en: str
) -> None:
    # Given a received return of a customer whose name comes in one of many shapes
    renderer = Renderer(default_template_dir(), SAMPLE_BRAND)
    data = copy.deepcopy(samples_for("return.received")["card"])
    data["customer"].pop("first_name", None)
    data["customer"].update(customer)

    for locale, greeting in (("nl", nl), ("en", en)):
        # When its email and SMS are rendered
        options = {"locale": locale, "timezone": "Europe/Amsterdam", "policy": DEFAULT_POLICY}
        email = renderer.render("return.received", "email", data, now=sample_now(data), **options)
        sms = renderer.render("return.received", "sms", data, now=sample_now(data), **options)

        # Then both greet with the first name, or with none ("Hi there," in an English email)
        assert email.text.startswith(greeting), email.text[:40]
        assert f": {greeting}" in sms.text, sms.text[:60]
        assert "S." not in email.text.split("\n")[0] and "Jansen" not in sms.text
