"""The console's own words in Dutch and English (the staff member's choice, Dutch first).

Templates call ``t("Returns")``; a phrase missing from :data:`DUTCH` is shown in English,
and ``tests/http/staff/test_i18n.py`` checks that every phrase the templates use has its
Dutch.
"""

from __future__ import annotations

from collections.abc import Callable

#: The languages of the console, the first one the default.
LANGUAGES = ("nl", "en")

#: English phrase -> Dutch.
DUTCH: dict[str, str] = {
    "Support console": "Klantenservice",
    "Returns": "Retouren",
    "Messages": "Berichten",
    "Preview": "Voorbeeld",
    "Dead letters": "Onbezorgd",
    "Suppressions": "Geblokkeerd",
    "Audit": "Logboek",
    "Sign in": "Inloggen",
    "Sign out": "Uitloggen",
    "Signed in as": "Ingelogd als",
    "Staff token": "Medewerkerstoken",
    "The token you were given, as name:secret or only the secret.": (
        "Het token dat je hebt gekregen, als naam:geheim of alleen het geheim."
    ),
    "This token is not valid.": "Dit token klopt niet.",
    "Too many attempts. Try again in {seconds} seconds.": (
        "Te veel pogingen. Probeer het over {seconds} seconden opnieuw."
    ),
    "You have been signed out.": "Je bent uitgelogd.",
    "Sign in to continue.": "Log in om verder te gaan.",
    "Your session has expired. Sign in again.": "Je sessie is verlopen. Log opnieuw in.",
    "This form has expired. Reload the page and try again.": (
        "Dit formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens."
    ),
    "Language": "Taal",
    "Overview": "Overzicht",
    "Stored returns": "Opgeslagen retouren",
    "Waiting to be sent": "Wacht op verzending",
    "Not found": "Niet gevonden",
    "Something went wrong": "Er ging iets mis",
    "Back to the overview": "Terug naar het overzicht",
    "When": "Wanneer",
    "Who": "Wie",
    "Action": "Actie",
    "Subject": "Onderwerp",
    "Details": "Details",
    "From": "Vanaf",
    "Nothing recorded yet.": "Nog niets vastgelegd.",
    "Every sign-in, failed sign-in, test send, resend, replay and lifted suppression.": (
        "Elke inlog, mislukte inlog, testverzending, herzending, nieuwe poging en "
        "opgeheven blokkade."
    ),
    "Filter": "Filter",
    "All actions": "Alle acties",
    "sign_in": "ingelogd",
    "sign_in_failed": "inloggen mislukt",
    "sign_out": "uitgelogd",
    "test_send": "testbericht verstuurd",
    "resend": "opnieuw verstuurd",
    "replay": "opnieuw geprobeerd",
    "lift_suppression": "blokkade opgeheven",
    "Find a return, preview a message, or put right what failed.": (
        "Zoek een retour, bekijk een bericht vooraf of herstel wat misging."
    ),
    "Skip to content": "Naar de inhoud",
    "Find a return": "Zoek een retour",
    "Find": "Zoeken",
    "Return id, order id, email address or phone number": (
        "Retournummer, ordernummer, e-mailadres of telefoonnummer"
    ),
    "every message in every language, as customers get it": (
        "elk bericht in elke taal, zoals klanten het krijgen"
    ),
    "what notifier would send for an event, without sending it": (
        "wat notifier voor een gebeurtenis zou versturen, zonder het te versturen"
    ),
    "who did what, and when": "wie deed wat, en wanneer",
    "No staff tokens are configured: set NOTIFIER_STAFF_TOKENS.": (
        "Er zijn geen medewerkerstokens ingesteld: zet NOTIFIER_STAFF_TOKENS."
    ),
    # Preview and test sends (pages/preview.py, templates/preview.html, _message.html)
    "See what notifier would send for an event or a stored return. Nothing is sent or stored.": (
        "Zie wat notifier zou versturen voor een gebeurtenis of een opgeslagen retour. "
        "Er wordt niets verstuurd of opgeslagen."
    ),
    "Paste an event": "Plak een gebeurtenis",
    "Event (JSON), as a return system posts it": (
        "Gebeurtenis (JSON), zoals een retoursysteem die stuurt"
    ),
    "Show what would be sent": "Toon wat er verstuurd zou worden",
    "Or pick a stored return": "Of kies een opgeslagen retour",
    "Return id": "Retournummer",
    "Shows what its latest event would send now, with today's preferences and suppressions.": (
        "Toont wat de laatste gebeurtenis nu zou versturen, met de voorkeuren en blokkades "
        "van vandaag."
    ),
    "No return {id} is stored.": "Retour {id} staat er niet in.",
    "This event would be refused (422)": "Deze gebeurtenis zou worden geweigerd (422)",
    "Test sent to {to}.": "Testbericht verstuurd naar {to}.",
    "You have sent {n} tests in the last 10 minutes. Wait a little before the next.": (
        "Je hebt de afgelopen 10 minuten {n} testberichten verstuurd. Wacht even voor je "
        "het volgende stuurt."
    ),
    "That is not an address this message can go to.": ("Naar dat adres kan dit bericht niet."),
    "The provider refused the test:": "De provider weigerde het testbericht:",
    "Only an email or an SMS can be sent as a test.": (
        "Alleen een e-mail of sms kan als test worden verstuurd."
    ),
    "This message is no longer in the preview. Preview again.": (
        "Dit bericht staat niet meer in het voorbeeld. Vraag het voorbeeld opnieuw op."
    ),
    "What would be sent": "Wat er verstuurd zou worden",
    "Nothing: this event sends no message.": "Niets: deze gebeurtenis verstuurt geen bericht.",
    "Held by the quiet hours until {at}.": "Wacht door de stille uren tot {at}.",
    "Send a test to": "Stuur een test naar",
    "your own email address": "je eigen e-mailadres",
    "your own phone number": "je eigen telefoonnummer",
    "Send test": "Test versturen",
    "Preheader": "Voorvertoning",
    "Desktop": "Computer",
    "Phone": "Telefoon",
    "Email on a desktop": "E-mail op een computer",
    "Email on a phone": "E-mail op een telefoon",
    "Plain text": "Platte tekst",
    "{n} characters": "{n} tekens",
    "{n} septets": "{n} septets",
    "{n} segments": "{n} delen",
    "1 segment": "1 deel",
    "More than 3 segments: this SMS is long and costs more.": (
        "Meer dan 3 delen: deze sms is lang en kost meer."
    ),
    "This message cannot be rendered.": "Dit bericht kan niet worden opgemaakt.",
    "send": "versturen",
    "hold": "wacht",
    "suppress": "geblokkeerd",
    "skip": "overgeslagen",
}


def translator(language: str) -> Callable[..., str]:
    """``t(phrase, **values)``: ``phrase`` in ``language``, with ``{name}`` filled in."""

    def t(phrase: str, **values: object) -> str:
        text = DUTCH.get(phrase, phrase) if language == "nl" else phrase
        return text.format(**values) if values else text

    return t
