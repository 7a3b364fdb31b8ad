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
    # Returns pages: /staff/returns, a return, a message as sent, sending a message again.
    "scheduled": "gepland",
    "queued": "in de wachtrij",
    "sent": "verstuurd",
    "delivered": "afgeleverd",
    "bounced": "onbestelbaar",
    "failed": "mislukt",
    "suppressed": "geblokkeerd",
    "skipped": "overgeslagen",
    "dead": "onbezorgd",
    "Requested": "Aangevraagd",
    "Approved": "Goedgekeurd",
    "Rejected": "Afgewezen",
    "Label created": "Label gemaakt",
    "In transit": "Onderweg",
    "Received": "Ontvangen",
    "Inspected": "Gecontroleerd",
    "Refund issued": "Terugbetaald",
    "Exchange shipped": "Omruiling verstuurd",
    "Cancelled": "Geannuleerd",
    "Closed": "Afgesloten",
    "Ship-by reminder": "Herinnering: op tijd versturen",
    "Label expiry reminder": "Herinnering: label verloopt",
    "Taking-longer message": "Bericht: het duurt langer",
    "Staff alert: return stuck": "Teammelding: retour staat stil",
    "Email": "E-mail",
    "SMS": "Sms",
    "Webhook": "Webhook",
    "drop-off point": "afgeven bij een punt",
    "collected by the carrier": "opgehaald door de vervoerder",
    "in store": "in de winkel",
    "accepted": "goedgekeurd",
    "partly accepted": "deels goedgekeurd",
    "rejected": "afgekeurd",
    "to the original payment": "terug naar de oorspronkelijke betaling",
    "store credit": "tegoed",
    "gift card": "cadeaukaart",
    "You are here": "Je bent hier",
    "Find a return to see where it stands, every message sent about it, and to send a "
    "message again.": (
        "Zoek een retour om te zien hoe het ervoor staat en welke berichten de klant kreeg, "
        "en om een bericht opnieuw te versturen."
    ),
    "A return number, order number or customer number, or the customer's full email address "
    "or phone number.": (
        "Een retournummer, ordernummer of klantnummer, of het volledige e-mailadres of "
        "telefoonnummer van de klant."
    ),
    "No return found for “{query}”.": "Geen retour gevonden voor “{query}”.",
    "Search for a whole return number, order number or customer number (such as RMA-1001), "
    "or for the customer's full email address or phone number; 06 1234 5678 and "
    "+31 6 12345678 both work.": (
        "Zoek op een volledig retournummer, ordernummer of klantnummer (zoals RMA-1001), of op "
        "het volledige e-mailadres of telefoonnummer van de klant; 06 1234 5678 en "
        "+31 6 12345678 werken allebei."
    ),
    "No returns yet.": "Nog geen retouren.",
    "A return appears here as soon as a return system posts its first event.": (
        "Een retour verschijnt hier zodra een retoursysteem de eerste gebeurtenis doorgeeft."
    ),
    "Returns found for “{query}”": "Gevonden voor “{query}”",
    "Recently changed": "Recent gewijzigd",
    "Return": "Retour",
    "Order": "Order",
    "Customer number": "Klantnummer",
    "Status": "Status",
    "Last change": "Laatste wijziging",
    "Back to the newest": "Terug naar de nieuwste",
    "Older returns": "Oudere retouren",
    "Return {id}": "Retour {id}",
    "since": "sinds",
    "Sent again as a new message to {recipient}. It is on its way; its status below follows it.": (
        "Opnieuw verstuurd als nieuw bericht naar {recipient}. Het is onderweg; de status "
        "hieronder loopt mee."
    ),
    "View the new message": "Bekijk het nieuwe bericht",
    "Method": "Manier",
    "Ship by": "Versturen vóór",
    "Label": "Label",
    "valid until": "geldig tot",
    "Open the label": "Label openen",
    "Drop-off": "Afgiftepunt",
    "Items": "Artikelen",
    "Inspection": "Controle",
    "Refund": "Terugbetaling",
    "Rejected because": "Afgewezen omdat",
    "Exchange": "Omruiling",
    "Customer": "Klant",
    "Name": "Naam",
    "Phone": "Telefoon",
    "Time zone": "Tijdzone",
    "Message": "Bericht",
    "Channel": "Kanaal",
    "To": "Aan",
    "Attempts": "Pogingen",
    "Last error": "Laatste fout",
    "Next attempt": "Volgende poging",
    "Created": "Aangemaakt",
    "Sent": "Verstuurd",
    "Rule": "Regel",
    "Times": "Tijden",
    "created": "aangemaakt",
    "Send again": "Opnieuw versturen",
    "No messages for this return (yet). Events that tell the customer something plan them.": (
        "Nog geen berichten voor deze retour. Die komen zodra er iets is om de klant te vertellen."
    ),
    "Timeline": "Tijdlijn",
    "What": "Wat",
    "Event": "Gebeurtenis",
    "late: sent nothing": "te laat: niets verstuurd",
    "received": "ontvangen",
    "to the same or a corrected address, after you confirm": (
        "naar hetzelfde of een verbeterd adres, nadat je het bevestigt"
    ),
    "Provider's id": "Id bij de provider",
    "Sent again from": "Opnieuw verstuurd van",
    "Message id": "Bericht-id",
    "The message as it will be sent": "Het bericht zoals het verstuurd wordt",
    "The message as it was sent": "Het bericht zoals het verstuurd is",
    "The message as it would have been sent": "Het bericht zoals het verstuurd zou zijn",
    "Put together again from what is stored: the event, the return's details and the "
    "customer's language and time zone.": (
        "Opnieuw opgebouwd uit wat er bewaard is: de gebeurtenis, de gegevens van de retour en "
        "de taal en tijdzone van de klant."
    ),
    "This message cannot be put together:": "Dit bericht kan niet worden opgebouwd:",
    "Webhook body": "Inhoud van de webhook",
    "JSON body, as posted to the subscriber": "De JSON, zoals die naar de abonnee gaat",
    "Desktop": "Computer",
    "The email on a computer": "De e-mail op een computer",
    "The email on a phone": "De e-mail op een telefoon",
    "Plain text": "Platte tekst",
    "{count} characters": "{count} tekens",
    "SMS parts: {count}": "Sms-delen: {count}",
    "Send this message again": "Dit bericht opnieuw versturen",
    "Went to": "Ging naar",
    "Only a failed or bounced message can be sent again. This one is “{status}”.": (
        "Alleen een mislukt of onbestelbaar bericht kun je opnieuw versturen. Dit bericht is "
        "“{status}”."
    ),
    "Back to the message": "Terug naar het bericht",
    "A webhook goes to the same subscription again.": (
        "Een webhook gaat opnieuw naar hetzelfde abonnement."
    ),
    "Corrected email address": "Verbeterd e-mailadres",
    "Corrected phone number": "Verbeterd telefoonnummer",
    "optional": "mag leeg blijven",
    "Leave it empty to send to the same address ({address}).": (
        "Laat het leeg om naar hetzelfde adres te versturen ({address})."
    ),
    "This is not a valid email address. Check it for typing errors, such as name@example.nl.": (
        "Dit is geen geldig e-mailadres. Kijk of er een typfout in zit; het ziet eruit als "
        "naam@voorbeeld.nl."
    ),
    "This is not a valid phone number. Write it like 06 12345678, or with its country code "
    "like +32 470 12 34 56.": (
        "Dit is geen geldig telefoonnummer. Schrijf het als 06 12345678, of met landcode, "
        "zoals +32 470 12 34 56."
    ),
    "Continue": "Verder",
    "Cancel": "Annuleren",
    "Nothing is sent yet: the next step shows what will be sent to whom.": (
        "Er gaat nog niets weg: in de volgende stap zie je wat er naar wie gaat."
    ),
    "Confirm sending again": "Opnieuw versturen bevestigen",
    "This message goes out again as a new message:": (
        "Dit bericht gaat opnieuw weg, als nieuw bericht:"
    ),
    "corrected address": "verbeterd adres",
    "the same address": "hetzelfde adres",
    "Instead of": "In plaats van",
    "This message will not go out.": "Dit bericht gaat niet weg.",
    "Delivery will record it as “suppressed”: the address is suppressed, or the customer "
    "opted out of this channel. Enter another address, or lift the suppression first.": (
        "Het wordt vastgelegd als “geblokkeerd”: het adres is geblokkeerd, of de klant wil "
        "via dit kanaal niets meer ontvangen. Vul een ander adres in, of hef eerst de "
        "blokkade op."
    ),
    "Delivery will record it as “skipped”: the return has moved on since.": (
        "Het wordt vastgelegd als “overgeslagen”: de retour is inmiddels verder."
    ),
    "The original message stays “{status}”. Sending again is recorded in the audit log under "
    "your name.": (
        "Het oorspronkelijke bericht blijft “{status}”. Het opnieuw versturen komt op jouw "
        "naam in het logboek."
    ),
    "Yes, send it again": "Ja, verstuur opnieuw",
    "Change the address": "Adres wijzigen",
    "Show the message": "Bericht bekijken",
    "This return has no such message.": "Deze retour heeft geen bericht met dit nummer.",
    "There is no return with this number.": "Er is geen retour met dit nummer.",
    "All returns": "Alle retouren",
}


def translator(language: str) -> Callable[..., str]:
    """``t(phrase, **values)``: ``phrase`` in ``language``, with ``{name}`` filled in."""

    def t(phrase: str, **values: object) -> str:
        text = DUTCH.get(phrase, phrase) if language == "nl" else phrase
        return text.format(**values) if values else text

    return t
