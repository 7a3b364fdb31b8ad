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
    # The message gallery (/staff/messages, /staff/messages/{kind}); names of kinds,
    # samples, channels and locales from notifier.http.staff.gallery.
    "Every message notifier sends, with the shop's brand and policy, for each sample. "
    "Open one to see its email, SMS or webhook in Dutch and English side by side.": (
        "Elk bericht dat notifier verstuurt, met de huisstijl en het retourbeleid van de "
        "winkel, voor elke situatie. Open er een om de e-mail, sms of webhook in het "
        "Nederlands en Engels naast elkaar te zien."
    ),
    "The template check could not run:": "De templatecontrole kon niet draaien:",
    "The template check found {count} problems. Each is shown next to the template it is about.": (
        "De templatecontrole vond {count} problemen. Elk probleem staat naast de template "
        "waar het over gaat."
    ),
    "The template check found one problem. It is shown next to the template it is about.": (
        "De templatecontrole vond één probleem. Het staat naast de template waar het over gaat."
    ),
    "The template check found no problems.": "De templatecontrole vond geen problemen.",
    "Message kinds": "Soorten berichten",
    "Message": "Bericht",
    "Channels": "Kanalen",
    "Samples": "Situaties",
    "Template check": "Templatecontrole",
    "to the team": "voor het team",
    "{count} findings": "{count} bevindingen",
    "1 finding": "1 bevinding",
    "no findings": "geen bevindingen",
    "Shared templates and other files": "Gedeelde templates en andere bestanden",
    "These findings concern no one message: a layout or partial every message uses, or a "
    "file no message uses.": (
        "Deze bevindingen gaan niet over één bericht: een opmaak of onderdeel dat elk bericht "
        "gebruikt, of een bestand dat geen enkel bericht gebruikt."
    ),
    "All messages": "Alle berichten",
    "As the customer gets it, with the shop's brand and policy, for the sample's data and "
    "moment.": (
        "Zoals de klant het krijgt, met de huisstijl en het retourbeleid van de winkel, voor "
        "de gegevens en het moment van de situatie."
    ),
    "Channel": "Kanaal",
    "Sample": "Situatie",
    "This message goes by SMS only when its email cannot reach the customer.": (
        "Dit bericht gaat alleen per sms als de e-mail de klant niet bereikt."
    ),
    "The JSON body a webhook subscriber receives, signed as Standard Webhooks. A sample has "
    "no stored notification, so its id is made up.": (
        "De JSON die een webhook-abonnee ontvangt, ondertekend volgens Standard Webhooks. "
        "Een situatie heeft geen opgeslagen bericht, dus de id is verzonnen."
    ),
    "Template check: this message on other channels": (
        "Templatecontrole: dit bericht op andere kanalen"
    ),
    "This message does not render.": "Dit bericht lukt niet: de template geeft een fout.",
    "Desktop, 640 px wide": "Desktop, 640 px breed",
    "Phone, 375 px wide": "Telefoon, 375 px breed",
    "Email at desktop width": "E-mail op desktopbreedte",
    "Email at phone width": "E-mail op telefoonbreedte",
    "Encoding": "Codering",
    "Characters": "Tekens",
    "Septets": "Septets",
    "UTF-16 units": "UTF-16-eenheden",
    "Segments": "Delen",
    "A character outside GSM-7 makes the whole SMS UCS-2: 70 characters fit in one SMS, 67 "
    "in each part of a longer one.": (
        "Eén teken buiten GSM-7 maakt de hele sms UCS-2: dan passen er 70 tekens in één sms, "
        "en 67 in elk deel van een langere."
    ),
    "This SMS takes {segments} segments, more than {limit}: each costs as much as a whole "
    "SMS. Shorten the template.": (
        "Deze sms kost {segments} delen, meer dan {limit}: elk deel kost evenveel als een hele "
        "sms. Maak de template korter."
    ),
    "There is no message, sample or channel by that name.": (
        "Er is geen bericht, situatie of kanaal met die naam."
    ),
    "Return requested": "Retour aangevraagd",
    "Return approved": "Retour goedgekeurd",
    "Return rejected": "Retour afgewezen",
    "Return label ready": "Retourlabel klaar",
    "Return on its way": "Retour onderweg",
    "Return received": "Retour ontvangen",
    "Return inspected": "Retour gecontroleerd",
    "Refund issued": "Geld teruggestort",
    "Exchange shipped": "Ruilartikel verstuurd",
    "Return cancelled": "Retour geannuleerd",
    "Reminder: send the return": "Herinnering: retour opsturen",
    "Reminder: label expiring": "Herinnering: label verloopt",
    "Update on a waiting return": "Update over een retour die stilstaat",
    "Staff alert: return waiting": "Melding voor het team: retour staat stil",
    "Drop-off (standard)": "Afgeven bij een punt (standaard)",
    "Pickup, paid shipping": "Ophalen, betaalde verzending",
    "In store": "In de winkel",
    "In store, with a label": "In de winkel, met label",
    "Required fields only": "Alleen verplichte velden",
    "Rejected, with a reason": "Afgewezen, met reden",
    "Label without details": "Label zonder details",
    "Partly accepted": "Deels geaccepteerd",
    "Store credit": "Tegoed",
    "Shipping deducted": "Verzendkosten ingehouden",
    "Bank transfer": "Bankoverschrijving",
    "Exchange": "Ruilen",
    "Exchange, tracking number only": "Ruilen, alleen trackingnummer",
    "Last day": "Laatste dag",
    "Name outside GSM-7": "Naam buiten GSM-7",
    "Waiting after receipt": "Wacht na ontvangst",
    "Waiting in transit": "Wacht onderweg",
    "Waiting after approval": "Wacht na goedkeuring",
    "Waiting after the request": "Wacht na aanvraag",
    "Email": "E-mail",
    "SMS": "Sms",
    "Webhook": "Webhook",
    "Dutch": "Nederlands",
    "English": "Engels",
}


def translator(language: str) -> Callable[..., str]:
    """``t(phrase, **values)``: ``phrase`` in ``language``, with ``{name}`` filled in."""

    def t(phrase: str, **values: object) -> str:
        text = DUTCH.get(phrase, phrase) if language == "nl" else phrase
        return text.format(**values) if values else text

    return t
