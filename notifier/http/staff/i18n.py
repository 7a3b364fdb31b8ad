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
    "Attachments": "Bijlagen",
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
    "Refund issued": "Terugbetaald",
    "Exchange shipped": "Ruilartikel verstuurd",
    "Return cancelled": "Retour geannuleerd",
    "Reminder: send the return": "Herinnering: retour opsturen",
    "Reminder: label expiring": "Herinnering: label verloopt",
    "Return date passed": "Retourdatum voorbij",
    "Update on a waiting return": "Update over een retour die stilstaat",
    "Staff alert: return waiting": "Melding voor het team: retour staat stil",
    "Drop-off (standard)": "Afgeven bij een punt (standaard)",
    "Pickup, paid shipping": "Ophalen, betaalde verzending",
    "In store": "In de winkel",
    "In store, with a label": "In de winkel, met label",
    "In store, the shop given as drop-off point": "In de winkel, de winkel als afgiftepunt",
    "Pickup, no date yet": "Ophalen, nog zonder datum",
    "Required fields only": "Alleen verplichte velden",
    "Rejected, with a reason": "Afgewezen, met reden",
    "Label without details": "Label zonder details",
    "Partly accepted": "Deels geaccepteerd",
    "Partly accepted, with items not accepted": "Deels geaccepteerd, met afgewezen artikelen",
    "With the shop's status page": "Met de statuspagina van de winkel",
    "Rejected: outside the return period": "Afgewezen: buiten de retourtermijn",
    "Rejected: not eligible": "Afgewezen: valt niet onder het retourbeleid",
    "Rejected: used or worn": "Afgewezen: gebruikt of gedragen",
    "Rejected: tags removed": "Afgewezen: labels verwijderd",
    "Rejected: damaged": "Afgewezen: beschadigd",
    "Rejected: incomplete": "Afgewezen: niet compleet",
    "Rejected: other reason": "Afgewezen: andere reden",
    "Store credit": "Tegoed",
    "Shipping deducted": "Verzendkosten ingehouden",
    "Paid with Klarna": "Betaald met Klarna",
    "Exchange": "Ruilen",
    "Refund by iDEAL": "Terugbetaling via iDEAL",
    "Refund to a card": "Terugbetaling op een kaart",
    "Refund by PayPal": "Terugbetaling via PayPal",
    "Klarna invoice adjusted": "Klarna-factuur aangepast",
    "Refund by Bancontact": "Terugbetaling via Bancontact",
    "Gift card": "Cadeaukaart",
    "Refund method not given": "Zonder terugbetaalmethode",
    "Return shipping kept back": "Retourkosten ingehouden",
    "Damage kept back": "Schade ingehouden",
    "Shipping and damage kept back": "Retourkosten en schade ingehouden",
    "Partly accepted, items held": "Deels geaccepteerd, artikelen bewaard",
    "Shop's note in English": "Toelichting van de winkel in het Engels",
    "Rejected at inspection, reason code only": "Afgewezen bij controle, alleen redencode",
    "Items with size and colour": "Artikelen met maat en kleur",
    "Exchange of items with size and colour": "Ruilen van artikelen met maat en kleur",
    "Exchange, tracking number only": "Ruilen, alleen trackingnummer",
    "Last day": "Laatste dag",
    "Name outside GSM-7": "Naam buiten GSM-7",
    "Greeted by first name": "Begroet met voornaam",
    "Waiting after receipt": "Wacht na ontvangst",
    "Waiting in transit": "Wacht onderweg",
    "Waiting after approval": "Wacht na goedkeuring",
    "Waiting after the request": "Wacht na aanvraag",
    "Email": "E-mail",
    "SMS": "Sms",
    "Webhook": "Webhook",
    "Dutch": "Nederlands",
    "English": "Engels",
    # The dead letters page (pages/dead_letters.py); its first words are shared with the
    # suppressions page.
    "just now": "zojuist",
    "{n} min ago": "{n} min geleden",
    "{n} h ago": "{n} uur geleden",
    "1 day ago": "1 dag geleden",
    "{n} days ago": "{n} dagen geleden",
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
    "Cancelled": "Geannuleerd",
    "Closed": "Afgesloten",
    "Ship-by reminder": "Herinnering: op tijd versturen",
    "Label expiry reminder": "Herinnering: label verloopt",
    "Taking-longer message": "Bericht: het duurt langer",
    "Staff alert: return stuck": "Teammelding: retour staat stil",
    "Message status: delivered": "Berichtstatus: afgeleverd",
    "Message status: bounced": "Berichtstatus: onbestelbaar",
    "Message status: failed": "Berichtstatus: mislukt",
    "Message status: suppressed": "Berichtstatus: geblokkeerd",
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
    "Customer": "Klant",
    "Name": "Naam",
    "Time zone": "Tijdzone",
    "To": "Aan",
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
    "The email on a computer": "De e-mail op een computer",
    "The email on a phone": "De e-mail op een telefoon",
    "{count} characters": "{count} tekens",
    "SMS parts: {count}": "Sms-delen: {count}",
    "Send this message again": "Dit bericht opnieuw versturen",
    "Went to": "Ging naar",
    "Personal data removed on {date}, after the retention period: what messages said and "
    "to whom is no longer known.": (
        "Persoonsgegevens verwijderd op {date}, na de bewaartermijn: wat berichten zeiden en "
        "aan wie is niet meer bekend."
    ),
    "Its personal data was removed after the retention period: there is no one to send it "
    "to again.": (
        "De persoonsgegevens ervan zijn na de bewaartermijn verwijderd: er is niemand meer om "
        "het opnieuw naartoe te sturen."
    ),
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
