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
    # The dead letters page (pages/dead_letters.py); its first words are shared with the
    # suppressions page.
    "just now": "zojuist",
    "{n} min ago": "{n} min geleden",
    "{n} h ago": "{n} uur geleden",
    "1 day ago": "1 dag geleden",
    "{n} days ago": "{n} dagen geleden",
    "Email": "E-mail",
    "SMS": "Sms",
    "Webhook": "Webhook",
    "Channel": "Kanaal",
    "All channels": "Alle kanalen",
    "Kind": "Soort",
    "All kinds": "Alle soorten",
    "Recipient": "Ontvanger",
    "Return": "Retour",
    "Clear filter": "Filter wissen",
    "Pages": "Pagina's",
    "Newer": "Nieuwer",
    "Older": "Ouder",
    "Cancel": "Annuleren",
    "Messages that failed all {attempts} attempts. Once the cause is fixed, replay them: "
    "each keeps its id, so nobody gets a message twice.": (
        "Berichten die bij alle {attempts} pogingen mislukten. Is de oorzaak verholpen? "
        "Probeer ze dan opnieuw: elk bericht houdt zijn id, dus niemand krijgt iets dubbel."
    ),
    "Nothing was queued: none of them is a dead letter any more.": (
        "Er is niets opnieuw verstuurd: geen van deze berichten is nog onbezorgd."
    ),
    "1 message queued again. It goes out within a minute.": (
        "1 bericht staat weer in de wachtrij. Het gaat binnen een minuut de deur uit."
    ),
    "{count} messages queued again. They go out within a few minutes.": (
        "{count} berichten staan weer in de wachtrij. Ze gaan binnen een paar minuten de deur uit."
    ),
    "Tick the dead letters to replay first, or replay all of them.": (
        "Vink eerst de berichten aan die je opnieuw wilt proberen, of probeer ze allemaal opnieuw."
    ),
    "Died": "Opgegeven",
    "Any time": "Wanneer dan ook",
    "Recently": "Recent",
    "In the last hour": "In het afgelopen uur",
    "In the last 24 hours": "In de afgelopen 24 uur",
    "In the last 7 days": "In de afgelopen 7 dagen",
    "Longer ago": "Langer geleden",
    "More than an hour ago": "Meer dan een uur geleden",
    "More than a day ago": "Meer dan een dag geleden",
    "More than 7 days ago": "Meer dan 7 dagen geleden",
    "1 dead letter, newest first.": "1 onbezorgd bericht.",
    "{count} dead letters, newest first.": "{count} onbezorgde berichten, nieuwste eerst.",
    "1 of {overall} dead letters matches the filter.": (
        "1 van de {overall} onbezorgde berichten past bij het filter."
    ),
    "{count} of {overall} dead letters match the filter, newest first.": (
        "{count} van de {overall} onbezorgde berichten passen bij het filter, nieuwste eerst."
    ),
    "Replay ticked": "Aangevinkte opnieuw proberen",
    "Replay all {count} shown by the filter": "Alle {count} uit het filter opnieuw proberen",
    "Replay all {count}": "Alle {count} opnieuw proberen",
    "Replay this one": "Dit ene bericht opnieuw proberen",
    "Tick": "Aanvinken",
    "Tick {id}": "{id} aanvinken",
    "Attempts": "Pogingen",
    "Last error": "Laatste fout",
    "No dead letters match this filter.": "Geen onbezorgde berichten bij dit filter.",
    "Show every dead letter": "Toon alle onbezorgde berichten",
    "No dead letters.": "Geen onbezorgde berichten.",
    "Every message was delivered, or failed for a reason a new attempt cannot fix. A message "
    "that fails all its attempts shows up here, to replay once the cause is fixed.": (
        "Alles is bezorgd, of mislukte om een reden die een nieuwe poging niet oplost. Mislukt "
        "een bericht bij al zijn pogingen, dan komt het hier te staan, zodat je het opnieuw kunt "
        "proberen zodra de oorzaak verholpen is."
    ),
    "Replay dead letters": "Onbezorgde berichten opnieuw proberen",
    "Back to the dead letters": "Terug naar onbezorgd",
    "Nothing to replay": "Niets om opnieuw te proberen",
    "None of the ticked messages is a dead letter any more: they were replayed or sent "
    "meanwhile.": (
        "Geen van de aangevinkte berichten is nog onbezorgd: ze zijn intussen al opnieuw "
        "geprobeerd of verstuurd."
    ),
    "Replay 1 dead letter?": "1 onbezorgd bericht opnieuw proberen?",
    "Replay {count} dead letters?": "{count} onbezorgde berichten opnieuw proberen?",
    "Each is queued again under its own id and sent within a few minutes. A message that was "
    "sent meanwhile is not sent again. If the cause is not fixed yet, it fails again and comes "
    "back here after all its attempts.": (
        "Elk bericht gaat met hetzelfde id terug in de wachtrij en wordt binnen een paar minuten "
        "verstuurd. Een bericht dat intussen al verstuurd is, gaat niet nog een keer. Is de "
        "oorzaak nog niet verholpen, dan mislukt het opnieuw en staat het na al zijn pogingen "
        "weer hier."
    ),
    "Died before": "Opgegeven vóór",
    "(dead letters from later are left alone)": "(latere onbezorgde berichten blijven staan)",
    "Yes, replay 1 message": "Ja, probeer 1 bericht opnieuw",
    "Yes, replay {count} messages": "Ja, probeer {count} berichten opnieuw",
}


def translator(language: str) -> Callable[..., str]:
    """``t(phrase, **values)``: ``phrase`` in ``language``, with ``{name}`` filled in."""

    def t(phrase: str, **values: object) -> str:
        text = DUTCH.get(phrase, phrase) if language == "nl" else phrase
        return text.format(**values) if values else text

    return t
