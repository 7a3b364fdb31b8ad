"""The scheduler: plans each due reminder and nudge exactly once, reading only what is due.

The scheduler keeps an agenda (:mod:`notifier.scheduling.agenda`): per rule and open return,
the next due moment in UTC, indexed. A scan

1. brings each rule's agenda up to date with the returns changed since the rule's last
   completed scan, its *mark* (less :data:`CHANGE_OVERLAP`, for commit delays), and with the
   returns of customers whose preferences changed since (a new time zone moves the
   moments); then reads, keyset-paged on a ``(status, <date>)`` index, the returns whose
   first possible due moment came within reach since the mark (a scan reads only a few
   minutes' worth of dates). The first scan of a rule, or of a rule whose definition
   changed, reads every return that can have a due moment by now that the catch-up age
   still allows: the returns whose moments are all ahead are read by the scan in whose
   reach their first one comes. Each return is read once for all the rules of its status
   that share a date column; the moments found are fired :data:`FIRING_BATCH` at a time
   and the agenda written :data:`AGENDA_BATCH` entries at a time;
2. reads the agenda rows due by now, a page at a time through the ``due_at`` index, and the
   returns they name by primary key;
3. of each return looked at, computes the latest passed due moment in the customer's time
   zone and *fires* it: a ``rule_firings`` row keyed by rule, return and due moment, plus the
   notification rows it causes (ids derived from the same key), in one transaction. Then the
   return's agenda row moves to its next due moment, or is removed.

A second scheduler, a restart mid-scan or a scan after an outage finds the firing and plans
nothing again (an outage catches up once: only the latest passed moment is sent); delivery's
claim does the same for redelivered jobs, and delivery checks the rule again before sending.
A due moment older than the catch-up age (``NOTIFIER_CATCHUP_MAX_AGE``) is not sent, so a
scheduler started on a database of long-stuck returns does not message them all at once.

A customer nudge due within the minimum gap (``NOTIFIER_NUDGE_MIN_GAP``) of another email
or SMS about the return is postponed to the end of the gap
(:func:`~notifier.scheduling.moments.after_gap`): the return's agenda row moves there, and
the nudge is fired then if the return is still stuck. Its catch-up age counts from that
moment. Reminders and staff alerts are not moved.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from notifier import db, logs
from notifier.dispatch import Planner
from notifier.metrics import Metrics
from notifier.scheduling.agenda import Agenda, Entry
from notifier.scheduling.candidates import Candidates, Window
from notifier.scheduling.firings import Firing, Firings
from notifier.scheduling.moments import after_gap, due, next_due
from notifier.scheduling.rules import Rule
from notifier.scheduling.rules_file import RuleSet

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Returns (or agenda rows) read per query.
PAGE = 1000
#: Agenda entries a first scan writes per transaction: on SQLite each transaction rewrites
#: every index page it touches, so few large ones cost far less than one per page of returns.
AGENDA_BATCH = 20_000
#: Due moments a first scan fires per transaction, for the same reason (planned
#: :data:`~notifier.scheduling.firings.PLAN_CHUNK` at a time, which bounds the memory).
FIRING_BATCH = 5_000
#: Pages of returns a scan reads ahead of the one it handles on PostgreSQL, in a thread of
#: its own: the server reads them while the scan works out the moments of the page before
#: and fires them. (SQLite reads in this process: there, reading ahead only contends for
#: the interpreter, and took a first scan longer.)
READ_AHEAD = 2
#: How far back of the last completed scan changed returns are looked at again (commit delay).
CHANGE_OVERLAP = timedelta(minutes=10)


#: Which candidates of a page are a rule's own (None: all).
_Test = Callable[[Any], bool] | None


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What one scan did: returns looked at, due moments fired, notifications planned, and due
    moments not sent because they were older than the catch-up age."""

    candidates: int = 0
    fired: int = 0
    notifications: int = 0
    expired: int = 0

    def __add__(self, other: ScanReport) -> ScanReport:
        return ScanReport(
            self.candidates + other.candidates,
            self.fired + other.fired,
            self.notifications + other.notifications,
            self.expired + other.expired,
        )


class Scheduler:
    """Plans the reminders and nudges the rules call for; see the module docstring.

    Args:
        engine: The database.
        planner: Plans a customer's messages.
        rules: The configured rules.
        enqueue: Hands a planned notification's id to the queue.
        staff_email: Where staff alerts go, or None for none by email.
        staff_locale: The locale of staff alerts.
        default_timezone: The zone of customers who name none (or an unknown one).
        catchup_max_age: A due moment older than this is not sent (``NOTIFIER_CATCHUP_MAX_AGE``).
        nudge_min_gap: A customer nudge waits until this long after the last email or SMS
            to the customer about the return (``NOTIFIER_NUDGE_MIN_GAP``).
        page_size: Returns (or agenda rows) read per query.
        firing_batch: Due moments a scan fires per transaction (at least).
        metrics: Where each finished scan's duration and due moments are recorded.
    """

    def __init__(
        self,
        engine: Engine,
        planner: Planner,
        rules: RuleSet,
        *,
        enqueue: Callable[[str], None],
        staff_email: str | None,
        staff_locale: str,
        default_timezone: str,
        catchup_max_age: timedelta,
        nudge_min_gap: timedelta,
        page_size: int = PAGE,
        firing_batch: int = FIRING_BATCH,
        metrics: Metrics | None = None,
    ) -> None:
        self._engine = engine
        self._metrics = metrics or Metrics()
        self._rules = rules
        self._enqueue = enqueue
        self._catchup = catchup_max_age
        self._gap = nudge_min_gap
        self._page = page_size
        self._firing_batch = firing_batch
        self._agenda = Agenda(engine)
        self._candidates = Candidates(
            engine, self._agenda, page_size=page_size, default_timezone=default_timezone
        )
        self._firings = Firings(
            engine,
            planner,
            staff_email=staff_email,
            staff_locale=staff_locale,
            default_timezone=default_timezone,
        )
        self._stopping = threading.Event()

    def stop(self) -> None:
        """End the scan in progress after the page it is on, and every later one at once
        (the process is stopping). What a scan leaves, the next one does: a rule's scan mark
        only moves when its pages are all handled."""
        self._stopping.set()

    def scan(self, now: datetime | None = None) -> ScanReport:
        """Run every rule once at ``now`` (default: the clock)."""
        started = time.perf_counter()
        now = now or db.now()
        self._agenda.keep_only([rule.name for rule in self._rules])
        report = ScanReport()
        fresh: list[Rule] = []
        windows: list[Window] = []
        for rule in self._rules:
            if self._stopping.is_set():
                return report
            mark = self._agenda.mark(rule.name, rule.fingerprint())
            if mark is None:
                fresh.append(rule)
            else:
                report += self._refresh(rule, mark, now)
            windows.append(self._candidates.window(rule, now, self._catchup, mark))
        if self._stopping.is_set():  # a refresh left unfinished: no mark may move
            return report
        report += self._extend(windows, fresh, now)
        for entries in self._agenda.due(now, self._page):
            if self._stopping.is_set():
                break
            report += self._due(entries, now)
        self._metrics.scanned(time.perf_counter() - started, report.fired)
        return report

    def _refresh(self, rule: Rule, mark: datetime, now: datetime) -> ScanReport:
        """Bring the agenda of ``rule`` up to date with the returns changed since ``mark``."""
        report = ScanReport()
        for page in self._candidates.changed(rule, mark - CHANGE_OVERLAP):
            if self._stopping.is_set():
                return report
            report += self._handle([(rule, None)], page, now)
        return report

    def _extend(
        self, windows: Sequence[Window], fresh: Sequence[Rule], now: datetime
    ) -> ScanReport:
        """Read the returns of each rule's window (:meth:`Candidates.window`), fire what is
        due of them and put their next moments in the agenda; then move every rule's mark to
        ``now``. The agenda of a ``fresh`` rule (never scanned, or changed since) is cleared
        first, and its returns collected by a pickup read whatever their dates.

        A return is read once for all the rules of its status that share a date column;
        due moments are fired :data:`FIRING_BATCH` at a time in one transaction, and the
        entries written :data:`AGENDA_BATCH` at a time, after the firings before them.
        """
        for rule in fresh:
            self._agenda.clear(rule.name)
        groups: dict[tuple[str, str], list[Window]] = {}
        for window in windows:
            for status in window.rule.statuses:
                groups.setdefault((status, window.column.key), []).append(window)
        report = ScanReport()
        batch = _Batch(self._firing_batch, (rule.name for rule in fresh))
        ahead = READ_AHEAD if self._engine.dialect.name == "postgresql" else 0
        with _ahead(self._reads(groups, fresh), ahead) as pages:
            for tests, page in pages:
                if self._stopping.is_set():
                    return report  # the batch not fired yet is left to the next scan
                report += self._handle(tests, page, now, batch)
                if batch.full():
                    report += self._flush(batch, now)
        report += self._flush(batch, now)
        if self._stopping.is_set():
            return report
        for window in windows:
            self._agenda.advance(window.rule.name, window.rule.fingerprint(), now)
        return report

    def _reads(
        self, groups: dict[tuple[str, str], list[Window]], fresh: Sequence[Rule]
    ) -> Iterator[tuple[Sequence[tuple[Rule, _Test]], list[Any]]]:
        """Each page of the windows of ``groups`` (by status and date column), with which
        rule each candidate is for; then, for a ``fresh`` ship-by rule, the pickup returns
        its window left out."""
        for (status, _), group in groups.items():
            mine = [(w.rule, w.holds) for w in group]
            for page in self._candidates.every(status, group):
                yield mine, page
            picked = [w for w in group if w.rule in fresh and w.rule.anchor == "ship_by"]
            if picked:
                others = [(w.rule, _outside(w)) for w in picked]
                for page in self._candidates.pickups(status):
                    yield others, page

    def _flush(self, batch: _Batch, now: datetime) -> ScanReport:
        """Fire the firings of ``batch`` in one transaction, then write its entries (which
        move past the moments fired): a crash in between leaves the moments to fire again,
        and the firings keep them from being sent twice."""
        queued, planned = self._firings.fire(batch.firings, now) if batch.firings else ([], 0)
        self._agenda.write(batch.written())
        fired = len(batch.firings)
        batch.firings.clear()
        batch.entries.clear()
        self._hand_over(queued)
        return ScanReport(fired=fired, notifications=planned)

    def _due(self, rows: Sequence[Any], now: datetime) -> ScanReport:
        """Look again at the returns of due agenda rows."""
        report = ScanReport()
        by_rule: dict[str, list[str]] = {}
        for row in rows:
            by_rule.setdefault(row.rule, []).append(row.return_id)
        for name, return_ids in by_rule.items():
            rule = self._rules.get(name)
            if rule is None:
                self._agenda.remove(name, return_ids)
                continue
            page = self._candidates.by_id(return_ids)
            self._agenda.remove(name, sorted(set(return_ids) - {c.return_id for c in page}))
            report += self._handle([(rule, None)], page, now)
        return report

    def _handle(
        self,
        rules: Sequence[tuple[Rule, _Test]],
        page: Sequence[Any],
        now: datetime,
        batch: _Batch | None = None,
    ) -> ScanReport:
        """Fire what is due of ``page`` for each of ``rules`` (each with the test of which
        candidates are its own, None: all), and note each return's next moment for it: at
        once, or in ``batch`` for the caller to fire and write with others."""
        if not page:
            return ScanReport()
        with db.read_only(self._engine) as connection:
            looked = self._candidates.facts(connection, page)
            mine = [
                (rule, [(c, f) for c, f in looked if test is None or test(c)])
                for rule, test in rules
            ]
            moments = [
                Firing(c, f, d)
                for rule, pairs in mine
                for c, f in pairs
                if (d := due(rule, f, now)) is not None
            ]
            unfired = self._sendable(connection, self._firings.unfired(connection, moments))
        oldest = now - self._catchup
        firings = [x for x, at in unfired if oldest <= at <= now]
        waiting = {(x.due.rule.name, x.candidate.return_id): at for x, at in unfired if at > now}
        report = ScanReport(
            candidates=len({c.return_id for _, pairs in mine for c, _ in pairs}),
            expired=sum(1 for _, at in unfired if at < oldest),
        )
        into = batch if batch is not None else _Batch(0)
        into.firings += firings
        into.entries += (
            Entry(
                rule.name,
                c.return_id,
                c.customer_id,
                _earliest(next_due(rule, f, now), waiting.get((rule.name, c.return_id))),
                c.updated_at,
            )
            for rule, pairs in mine
            for c, f in pairs
        )
        return report if batch is not None else report + self._flush(into, now)

    def _sendable(
        self, connection: Connection, firings: list[Firing]
    ) -> list[tuple[Firing, datetime]]:
        """Each of ``firings`` with the moment it may be sent: a customer nudge waits for the
        minimum gap after the last message about its return."""
        nudges = [x.candidate.return_id for x in firings if x.due.rule.nudge]
        told = self._candidates.last_told(connection, nudges) if nudges and self._gap else {}
        return [
            (x, after_gap(x.due, x.facts, told.get(x.candidate.return_id), self._gap))
            for x in firings
        ]

    def _hand_over(self, notifications: Iterable[str]) -> None:
        for notification in notifications:
            try:
                with logs.bound(notification_id=notification):
                    self._enqueue(notification)
            except Exception:  # noqa: BLE001 - stored as queued: the relay hands it over
                log.warning("notification %s planned but not queued", notification, exc_info=True)


class _Batch:
    """What a scan's pages leave to fire and write in few large transactions."""

    def __init__(self, firings: int, cleared: Iterable[str] = ()) -> None:
        self.limit = firings
        #: Rules whose agenda this scan cleared: removing one of their entries is a no-op.
        self.cleared = frozenset(cleared)
        self.firings: list[Firing] = []
        self.entries: list[Entry] = []

    def written(self) -> list[Entry]:
        """The entries to write: all but the removals from a cleared agenda."""
        if not self.cleared:
            return self.entries
        return [e for e in self.entries if e.due_at is not None or e.rule not in self.cleared]

    def full(self) -> bool:
        """Whether it holds enough to fire and write now."""
        return len(self.firings) >= self.limit or len(self.entries) >= AGENDA_BATCH


def _outside(window: Window) -> Callable[[Any], bool]:
    """Whether a candidate is not in ``window`` (and so not handled by its read)."""
    return lambda candidate: not window.holds(candidate)


@contextmanager
def _ahead(items: Iterator[_T], depth: int) -> Iterator[Iterator[_T]]:
    """``items``, taken by a thread of their own up to ``depth`` ahead of their reader (with
    a ``depth`` of 0, by the reader itself).

    An error taking them is raised to the reader. When the reader leaves (done, stopping or
    failing), the thread stops taking more and is waited for.
    """
    if depth == 0:
        yield items
        return
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    leaving = threading.Event()

    def offer(entry: tuple[bool, Any]) -> bool:
        """Hand ``entry`` to the reader once it has room; False if it left meanwhile."""
        while not leaving.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def take() -> None:
        try:
            for item in items:
                if not offer((False, item)):
                    return
            outcome: tuple[bool, Any] = (True, None)
        except BaseException as error:  # noqa: BLE001 - raised to the reader
            outcome = (True, error)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # in this thread, which took them
        offer(outcome)

    def read() -> Iterator[_T]:
        while True:
            last, item = ready.get()
            if last:
                if item is not None:
                    raise item
                return
            yield item

    # With the caller's context: what the reads log carries its bound fields.
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(take,), name="scheduler-reads")
    thread.daemon = True
    thread.start()
    try:
        yield read()
    finally:
        leaving.set()
        thread.join()


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)
