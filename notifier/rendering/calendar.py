"""Calendar events: the last day to hand in a return, or the carrier's pickup window, as an
RFC 5545 ``.ics`` file attached to the email that sets it.

Which emails: those of :data:`~notifier.rendering.kinds.CALENDAR_KINDS` (the ones that set
a deadline or an appointment), never an SMS, and only while the date still lies ahead:

- method ``pickup`` with ``return.pickup.date``: when the carrier collects the parcel, a
  timed event from ``from`` to ``to`` in the customer's time zone (with its ``VTIMEZONE``),
  or an all-day event on the date when the event gives no window;
- otherwise, with ``return.ship_by``: the last day to hand the return in (at the drop-off
  point, in the shop ``return.store`` names, or to the carrier), an all-day event.

The last day is an all-day event (``DTSTART;VALUE=DATE``, ``TRANSP:TRANSPARENT``): the
deadline is a day, not a time of day (the drop-off point's opening hours decide how late is
too late), so every calendar shows it at the top of that day, it keeps the customer's time
free, and it stays on its day on a device in another time zone. An event ending at 23:59
would sit out of sight at the bottom of the day and promise a time the shop cannot keep.

Each event has one alarm, the day before at :data:`ALARM_AT` in the customer's time: a day
to get to the drop-off point, or to print the label and pack before the carrier comes. For
an all-day event it is written relative to the floating start (15 hours before it), the
form calendars themselves use for "the day before at 9:00". It is left out once that moment
has passed (the reminder on the last day itself).

The ``UID`` depends on the return alone (``ship-by-RMA-1001@<host>``,
``pickup-RMA-1001@<host>``, the host of ``NOTIFIER_PUBLIC_URL``), so a later message about
the same return updates the event already in the customer's calendar (its newer ``DTSTAMP``
wins, RFC 5546 section 2.1.5) rather than adding a second one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone

from notifier.rendering.fields import Fields
from notifier.rendering.message import Attachment
from notifier.rendering.models import Brand, Return

#: The MIME type of an attached event: iCalendar in UTF-8, published (RFC 5545 section 8.1,
#: the iTIP method of RFC 5546 as a parameter).
CONTENT_TYPE = "text/calendar; charset=utf-8; method=PUBLISH"
#: The host in a ``UID`` when the service has no public URL.
DEFAULT_HOST = "notifier"
#: When an event's alarm goes off: the day before it, at this time in the customer's zone.
ALARM_AT = time(9, 0)
#: The event's ``what`` for the last day to hand a return in.
LAST_DAY = "last_day"
#: The event's ``what`` for the carrier collecting the parcel.
PICKUP = "pickup"
#: The first word of an attachment's file name, per template locale.
FILE_PREFIX = {"nl": "retour", "en": "return"}
#: The most characters of a return id a file name keeps.
MAX_FILE_ID = 64
#: How far around the event the ``VTIMEZONE`` describes the zone's offsets.
ZONE_SPAN = timedelta(days=366)

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

#: What the event says, per template locale.
TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "last_day": "{brand}: laatste dag om je retour {id} in te leveren",
        "last_day_pickup": "{brand}: laatste dag om je retour {id} te laten ophalen",
        "pickup": "{brand}: {carrier} haalt je retour {id} op",
        "pickup_carrier_unknown": "{brand}: je retour {id} wordt opgehaald",
        "drop_off": "Pak je artikelen goed in, plak het retourlabel op de doos en breng je "
        "pakket naar {place}.",
        "carrier_point": "een {carrier}-punt",
        "any_point": "een pakketpunt van de vervoerder",
        "in_store": "Neem je artikelen mee naar {place} en noem bij de kassa je retournummer {id}.",
        "any_store": "een van onze winkels",
        "opening_hours": "Openingstijden: {hours}",
        "pack": "Pak je artikelen goed in en plak het retourlabel op de doos.",
        "collects": "{carrier} haalt je pakket bij je op.",
        "ready": "Houd het klaar: goed ingepakt, met het retourlabel op de doos.",
        "carrier": "De vervoerder",
        "label": "Je retourlabel: {url}",
        "status": "Je retour volgen: {url}",
    },
    "en": {
        "last_day": "{brand}: last day to hand in your return {id}",
        "last_day_pickup": "{brand}: last day to have your return {id} collected",
        "pickup": "{brand}: {carrier} collects your return {id}",
        "pickup_carrier_unknown": "{brand}: your return {id} is collected",
        "drop_off": "Pack your items securely, stick the return label on the box and take "
        "your parcel to {place}.",
        "carrier_point": "a {carrier} point",
        "any_point": "a carrier drop-off point",
        "in_store": "Bring your items to {place} and mention your return number {id} at the till.",
        "any_store": "one of our shops",
        "opening_hours": "Opening hours: {hours}",
        "pack": "Pack your items securely and stick the return label on the box.",
        "collects": "{carrier} will collect your parcel from you.",
        "ready": "Have it ready: packed securely, with the return label on the box.",
        "carrier": "The carrier",
        "label": "Your return label: {url}",
        "status": "Track your return: {url}",
    },
}


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """The calendar event an email carries (``calendar`` in templates).

    Attributes:
        what: :data:`LAST_DAY` (the last day to hand the return in) or :data:`PICKUP`
            (when the carrier collects it).
        filename: the attachment's file name, e.g. ``retour-RMA-1001.ics``.
        uid: the event's ``UID``, the same for every message about this return's event.
        summary: the event's title, with the shop's name.
        description: what to do, and the label and status links, one per line.
        location: where to hand the return in, or None.
        url: the return's status page, else its label, or None.
        start: the day (all day) or the window's start in the customer's time zone.
        end: the day after (all day, exclusive) or the window's end.
        alarm: when to remind the customer, or None when that moment has passed.
        stamp: when the event was made (``DTSTAMP``), in UTC.
        prodid: the ``PRODID`` of the calendar.
    """

    what: str
    filename: str
    uid: str
    summary: str
    description: str
    location: str | None
    url: str | None
    start: date | datetime
    end: date | datetime
    alarm: datetime | None
    stamp: datetime
    prodid: str

    @property
    def all_day(self) -> bool:
        """Whether the event takes whole days rather than a window of time."""
        return not isinstance(self.start, datetime)


def calendar_event(
    fields: Fields,
    ret: Return,
    *,
    brand: Brand,
    template_locale: str,
    now: datetime,
    timezone: ZoneInfo,
    host: str,
) -> CalendarEvent | None:
    """The calendar event an email about ``ret`` carries, if any (see the module docstring).

    Args:
        fields: the event data.
        ret: the return's view.
        brand: the shop's brand, named in the title.
        template_locale: ``nl`` or ``en``: the language of the event's texts.
        now: the moment of rendering: an event already over is not attached.
        timezone: the customer's time zone.
        host: the host that makes the ``UID`` unique.

    Returns:
        The event, or None when the return has no date ahead to put in a calendar.

    Raises:
        RenderError: a pickup time is not ``HH:MM``.
    """
    texts = TEXTS[template_locale]
    local_now = now.astimezone(timezone)
    pickup_day = fields.day("return.pickup.date") if ret.method == "pickup" else None
    if pickup_day is not None:
        start, end = _window(fields, pickup_day, timezone)
        what, stem, lines, location = PICKUP, "pickup", _pickup_lines(fields, texts), None
        title = "pickup" if _carrier(fields) else "pickup_carrier_unknown"
    elif ret.ship_by is not None:
        start, end = ret.ship_by, ret.ship_by + timedelta(days=1)
        what, stem = LAST_DAY, "ship-by"
        lines, location = _last_day_lines(fields, ret, texts)
        title = "last_day_pickup" if ret.method == "pickup" else "last_day"
    else:
        return None
    if _over(end, local_now):
        return None
    status_url, label_url = ret.status_url, fields.url("return.label.url")
    if status_url:
        lines.append(texts["status"].format(url=status_url))
    alarm = _alarm(start, timezone)
    return CalendarEvent(
        what=what,
        filename=attachment_name(template_locale, ret.id),
        uid=f"{stem}-{quote(ret.id, safe='')}@{host}",
        summary=texts[title].format(brand=brand.name, id=ret.id, carrier=_carrier(fields)),
        description="\n".join(lines),
        location=location,
        url=status_url or (label_url if ret.method != "in_store" else None),
        start=start,
        end=end,
        alarm=alarm if alarm > local_now else None,
        stamp=now.astimezone(UTC),
        prodid=f"-//{brand.name}//notifier//{template_locale.upper()}",
    )


def attachment(event: CalendarEvent) -> Attachment:
    """The ``.ics`` file of ``event``: a ``VCALENDAR`` published with one ``VEVENT``."""
    return Attachment(event.filename, CONTENT_TYPE, _ics(event))


def attachment_name(template_locale: str, return_id: str) -> str:
    """The file name of a return's calendar event: ``retour-RMA-1001.ics`` in Dutch.

    Only ASCII letters, digits, ``-`` and ``_`` of the return id are kept (accents lose
    their marks, anything else becomes ``-``), at most :data:`MAX_FILE_ID` of them, so the
    name is safe in every mail client and file system.
    """
    plain = unicodedata.normalize("NFKD", return_id).encode("ascii", "ignore").decode()
    safe = _UNSAFE.sub("-", plain).strip("-")[:MAX_FILE_ID].strip("-")
    prefix = FILE_PREFIX[template_locale]
    return f"{prefix}-{safe}.ics" if safe else f"{prefix}.ics"


def _window(
    fields: Fields, day: date, timezone: ZoneInfo
) -> tuple[date, date] | tuple[datetime, datetime]:
    """The pickup's window in the customer's zone, or the whole day when it has none."""
    start, end = fields.clock("return.pickup.from"), fields.clock("return.pickup.to")
    if start is None or end is None or end <= start:
        return day, day + timedelta(days=1)
    return (
        datetime.combine(day, start, tzinfo=timezone),
        datetime.combine(day, end, tzinfo=timezone),
    )


def _over(end: date | datetime, local_now: datetime) -> bool:
    """Whether an event ending at ``end`` (exclusive: the day after, for whole days) is over."""
    if isinstance(end, datetime):
        return end <= local_now
    return end <= local_now.date()


def _carrier(fields: Fields) -> str | None:
    return fields.text("return.pickup.carrier") or fields.text("return.label.carrier")


def _pickup_lines(fields: Fields, texts: dict[str, str]) -> list[str]:
    carrier = _carrier(fields) or texts["carrier"]
    lines = [f"{texts['collects'].format(carrier=carrier)} {texts['ready']}"]
    return lines + _label_line(fields, texts)


def _last_day_lines(
    fields: Fields, ret: Return, texts: dict[str, str]
) -> tuple[list[str], str | None]:
    """What to do by the last day, and where (the ``LOCATION``), for the return's method."""
    if ret.method == "pickup":
        carrier = _carrier(fields) or texts["carrier"]
        lines = [f"{texts['pack']} {texts['collects'].format(carrier=carrier)}"]
        return lines + _label_line(fields, texts), None
    if ret.method == "in_store":
        # The shop's store; events from before return.store named it as the drop-off point.
        name, address = _place(fields, "return.store")
        if not (name or address):
            name, address = _place(fields, "return.drop_off")
        shown = _shown(name, address) or texts["any_store"]
        lines = [texts["in_store"].format(place=shown, id=ret.id)]
        hours = fields.text("return.store.opening_hours")
        if hours:
            lines.append(texts["opening_hours"].format(hours=hours))
        return lines, _location(name, address)
    name, address = _place(fields, "return.drop_off")
    label_carrier = fields.text("return.label.carrier")
    point = (
        texts["carrier_point"].format(carrier=label_carrier)
        if label_carrier
        else texts["any_point"]
    )
    lines = [texts["drop_off"].format(place=_shown(name, address) or point)]
    return lines + _label_line(fields, texts), _location(name, address)


def _place(fields: Fields, path: str) -> tuple[str | None, str | None]:
    """The name and the address (its lines joined by commas) at ``path``, each or None."""
    name = fields.text(f"{path}.name")
    written = fields.text(f"{path}.address", line=False)
    lines = [line.strip().rstrip(",;").strip() for line in (written or "").splitlines()]
    return name, ", ".join(line for line in lines if line) or None


def _location(name: str | None, address: str | None) -> str | None:
    """A place as a calendar's ``LOCATION`` (and a map search) takes it: one line."""
    return ", ".join(part for part in (name, address) if part) or None


def _shown(name: str | None, address: str | None) -> str | None:
    """A place as a sentence names it: ``Name (address)``, or either alone."""
    if name and address:
        return f"{name} ({address})"
    return name or address


def _label_line(fields: Fields, texts: dict[str, str]) -> list[str]:
    url = fields.url("return.label.url")
    return [texts["label"].format(url=url)] if url else []


def _alarm(start: date | datetime, timezone: ZoneInfo) -> datetime:
    """The day before ``start`` at :data:`ALARM_AT`, in the customer's zone."""
    day = (start.date() if isinstance(start, datetime) else start) - timedelta(days=1)
    return datetime.combine(day, ALARM_AT, tzinfo=timezone)


def _ics(event: CalendarEvent) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", event.prodid)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.stamp)
    vevent.add("dtstart", event.start)
    vevent.add("dtend", event.end)
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    if event.all_day:
        vevent.add("transp", "TRANSPARENT")
    if event.alarm is not None:
        vevent.add_component(_valarm(event, event.alarm))
    calendar.add_component(vevent)
    if isinstance(event.start, datetime) and isinstance(event.start.tzinfo, ZoneInfo):
        zone = Timezone.from_tzinfo(
            event.start.tzinfo,
            first_date=event.start.date() - ZONE_SPAN,
            last_date=event.start.date() + ZONE_SPAN,
        )
        calendar.subcomponents.insert(0, zone)
    return bytes(calendar.to_ical())


def _valarm(event: CalendarEvent, at: datetime) -> Alarm:
    """A display alarm ringing ``at``, written relative to the event's start."""
    if isinstance(event.start, datetime):
        before = at.astimezone(UTC) - event.start.astimezone(UTC)
    else:
        # An all-day event starts at midnight wherever the calendar is: the trigger is
        # relative to that floating midnight, so it rings at 09:00 on the customer's clock.
        midnight = datetime.combine(event.start, time(0, 0))
        before = at.replace(tzinfo=None) - midnight
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", event.summary)
    alarm.add("trigger", before)
    return alarm
