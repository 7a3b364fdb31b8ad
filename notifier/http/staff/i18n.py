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
    # The suppressions page (pages/suppressions.py).
    "Addresses we no longer send to on a channel: the email bounced for good, the customer "
    "marked it as spam or unsubscribed, or replied STOP to a text message.": (
        "Adressen waar we via een kanaal niets meer naartoe sturen: de e-mail kwam definitief "
        "terug, de klant markeerde een bericht als spam of meldde zich af, of antwoordde STOP "
        "op een sms."
    ),
    "Suppression lifted. Later messages to this address will be sent again.": (
        "Blokkade opgeheven. Nieuwe berichten naar dit adres worden weer verstuurd."
    ),
    "This address was not suppressed any more: someone lifted it already.": (
        "Dit adres was al niet meer geblokkeerd: iemand heeft de blokkade al opgeheven."
    ),
    "Find an address": "Zoek een adres",
    "Exact email address or phone number": "Volledig e-mailadres of telefoonnummer",
    "Type the whole address: capitals do not matter, and a phone number may be written as "
    "06 12345678 or +31 6 12345678.": (
        "Typ het hele adres: hoofdletters maken niet uit, en een telefoonnummer mag als "
        "06 12345678 of +31 6 12345678."
    ),
    "That is not an email address or a phone number. Type the whole address.": (
        "Dat is geen e-mailadres of telefoonnummer. Typ het hele adres."
    ),
    "Search result for {address}": "Zoekresultaat voor {address}",
    "Every suppression": "Alle blokkades",
    "1 suppressed address.": "1 geblokkeerd adres.",
    "{count} suppressed addresses, newest first.": (
        "{count} geblokkeerde adressen, nieuwste eerst."
    ),
    "Address": "Adres",
    "Reason": "Reden",
    "Since": "Sinds",
    "Lift": "Opheffen",
    "Lift the suppression of {address}": "Blokkade van {address} opheffen",
    "This address is not suppressed.": "Dit adres is niet geblokkeerd.",
    "Messages to it are sent. If a customer gets nothing, look up their return to see what "
    "happened to each message.": (
        "Berichten naar dit adres worden gewoon verstuurd. Krijgt een klant niets? Zoek de "
        "retour op en kijk wat er met elk bericht is gebeurd."
    ),
    "No suppressed addresses on this channel.": "Geen geblokkeerde adressen op dit kanaal.",
    "No suppressed addresses.": "Geen geblokkeerde adressen.",
    "Every customer can be reached. An address shows up here when its email bounces for good, "
    "when it is marked as spam or unsubscribed, or when a customer replies STOP to a text "
    "message.": (
        "Alle klanten zijn bereikbaar. Een adres komt hier te staan als de e-mail definitief "
        "terugkomt, als de klant een bericht als spam markeert of zich afmeldt, of als de klant "
        "STOP antwoordt op een sms."
    ),
    "Lift suppression": "Blokkade opheffen",
    "Back to the suppressions": "Terug naar geblokkeerd",
    "Lift the suppression of {address}?": "Blokkade van {address} opheffen?",
    "Later messages to this address will be sent again. Messages that were already "
    "suppressed stay unsent.": (
        "Nieuwe berichten naar dit adres worden weer verstuurd. Berichten die al zijn "
        "tegengehouden, blijven onverstuurd."
    ),
    "A customer who replied STOP can only be texted again once they reply START to our "
    "number: until then the SMS provider refuses every text, and the address is suppressed "
    "again at the next one.": (
        "Heeft de klant STOP geantwoord? Dan kunnen we pas weer sms'en als de klant START "
        "terugstuurt naar ons nummer. Tot die tijd weigert de sms-dienst elk bericht, en bij de "
        "volgende sms wordt het nummer weer geblokkeerd."
    ),
    "Only lift it when the customer asked for it or the address works again: a new hard "
    "bounce or spam report suppresses it again.": (
        "Hef de blokkade alleen op als de klant erom vraagt of als het adres weer werkt: bij een "
        "nieuwe harde bounce of spammelding wordt het opnieuw geblokkeerd."
    ),
    "This address is not suppressed (any more): someone may have lifted it already.": (
        "Dit adres is niet (meer) geblokkeerd: misschien heeft iemand de blokkade al opgeheven."
    ),
}


def translator(language: str) -> Callable[..., str]:
    """``t(phrase, **values)``: ``phrase`` in ``language``, with ``{name}`` filled in."""

    def t(phrase: str, **values: object) -> str:
        text = DUTCH.get(phrase, phrase) if language == "nl" else phrase
        return text.format(**values) if values else text

    return t
