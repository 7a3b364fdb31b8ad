"""Finding returns for the console, and the ones that changed last, a page at a time.

A search matches a return id, an order id or a customer id exactly, or a customer's email
address (in any case) or phone number (read as intake reads one: ``06 1234 5678`` is
``+31612345678`` with ``NOTIFIER_DEFAULT_REGION`` ``NL``). An address finds the returns whose
notifications went to it, and every other return of the same customers. Every lookup uses
an index: ``returns`` by its key, ``order_id``, ``customer_id`` and ``updated_at``;
``notifications`` by ``lower(recipient)`` (a phone number, in E.164, has no case).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, literal, or_, select

from notifier import db
from notifier.errors import InvalidCursorError
from notifier.http.reads import decode_cursor, encode_cursor
from notifier.http.schemas import email_address, phone_number
from notifier.status import Channel, EventType

#: Returns on one page of a list.
PAGE = 25
#: The longest search that can match anything (an email address has at most 254 characters).
MAX_QUERY = 320
#: The most returns one lookup (an order, a customer, an address) contributes to a search.
MATCH_LIMIT = 1000

_r = db.returns.c
_n = db.notifications.c


@dataclass(frozen=True, slots=True)
class ReturnSummary:
    """One return in a list: what tells it apart, and when it last changed."""

    return_id: str
    order_id: str
    customer_id: str
    status: EventType
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReturnPage:
    """One page of returns, the most recently changed first, and the cursor of the next."""

    returns: list[ReturnSummary]
    next: str | None


class Finder:
    """Finds returns.

    Args:
        engine: The database.
        region: The region of phone numbers written without a country code.
    """

    def __init__(self, engine: Engine, region: str) -> None:
        self._engine = engine
        self._region = region

    def find(self, query: str, cursor: str | None = None) -> ReturnPage:
        """The returns ``query`` names (see the module), one page from ``cursor`` on."""
        query = query.strip()
        if not query or len(query) > MAX_QUERY or not query.isprintable():
            return ReturnPage([], None)  # nothing stored could match it
        with self._engine.connect() as connection:
            matched = self._matches(connection, query)
            if not matched:
                return ReturnPage([], None)
            return _page(connection, cursor, _r.return_id.in_(sorted(matched)))

    def recent(self, cursor: str | None = None) -> ReturnPage:
        """Every return, the most recently changed first, one page from ``cursor`` on."""
        with self._engine.connect() as connection:
            return _page(connection, cursor, None)

    def _matches(self, connection: Connection, query: str) -> set[str]:
        found: set[str] = set()
        for column in (_r.return_id, _r.order_id, _r.customer_id):
            found.update(
                connection.execute(
                    select(_r.return_id).where(column == query).limit(MATCH_LIMIT)
                ).scalars()
            )
        addressed = self._addressed(connection, query)
        if addressed:
            customers = select(_r.customer_id).where(_r.return_id.in_(sorted(addressed)))
            found |= addressed
            found.update(
                connection.execute(
                    select(_r.return_id).where(_r.customer_id.in_(customers)).limit(MATCH_LIMIT)
                ).scalars()
            )
        return found

    def _addressed(self, connection: Connection, query: str) -> set[str]:
        """The returns with a notification to the email address or phone number ``query``."""
        wanted = []
        if _is_email(query):
            wanted.append(
                and_(
                    func.lower(_n.recipient) == func.lower(literal(query)),
                    _n.channel == Channel.EMAIL,
                )
            )
        number = _phone(query, self._region)
        if number is not None:
            wanted.append(and_(func.lower(_n.recipient) == number, _n.channel == Channel.SMS))
        if not wanted:
            return set()
        return set(
            connection.execute(
                select(_n.return_id).where(or_(*wanted)).distinct().limit(MATCH_LIMIT)
            ).scalars()
        )


def _page(
    connection: Connection, cursor: str | None, where: ColumnElement[bool] | None
) -> ReturnPage:
    query = select(_r.return_id, _r.order_id, _r.customer_id, _r.status, _r.updated_at)
    if where is not None:
        query = query.where(where)
    after = _after(cursor)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(_r.updated_at < at, and_(_r.updated_at == at, _r.return_id < last_id))
        )
    rows = connection.execute(
        query.order_by(_r.updated_at.desc(), _r.return_id.desc()).limit(PAGE + 1)
    ).all()
    page = [
        ReturnSummary(r.return_id, r.order_id, r.customer_id, EventType(r.status), r.updated_at)
        for r in rows[:PAGE]
    ]
    if len(rows) <= PAGE:
        return ReturnPage(page, None)
    return ReturnPage(page, encode_cursor(page[-1].updated_at, page[-1].return_id))


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a page starts; a cursor this service did not hand out starts at the beginning."""
    if not cursor:
        return None
    try:
        return decode_cursor(cursor)
    except InvalidCursorError:
        return None


def _is_email(query: str) -> bool:
    try:
        email_address(query)
    except ValueError:
        return False
    return True


def _phone(query: str, region: str) -> str | None:
    if not any(char.isdigit() for char in query) or len(query) > 32:
        return None
    try:
        return phone_number(query, region)
    except ValueError:
        return None
