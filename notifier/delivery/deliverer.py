"""Delivery: claim notifications, check each, hand it to its sender, record the outcome.

A notification is sent only under a claim (:mod:`notifier.delivery.claims`), so a
redelivered job, a relay hand-over or a second worker sends nothing twice. The notifications
handed over together are claimed with one statement, and what the checks read (the returns,
the events, suppressions and preferences) is read in that same transaction; their emails and
SMS are rendered one after another, then each is sent in turn and its outcome written as
soon as it is known, so a worker that dies mid-group leaves only the send in flight
unrecorded. Before sending, a claimed notification is checked once more against what may
have changed since it was planned: a reminder or nudge whose rule no longer holds for the
return, or a progress message a later event has superseded
(:mod:`notifier.delivery.supersession`), is ``skipped``, a suppressed address or an
opted-out customer makes it ``suppressed`` (an email then falls back to SMS), and an SMS
inside the quiet hours waits, as ``scheduled``, for their end. Transient failures are
retried on the schedule of :mod:`notifier.delivery.retry`; exhausted ones become dead
letters.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from channels.errors import (
    ChannelConfigurationError,
    PermanentChannelError,
    TransientChannelError,
)
from notifier import db, logs
from notifier.delivery.claims import Claim, Claims
from notifier.delivery.quiet_hours import quiet_until
from notifier.delivery.retry import RetryPolicy
from notifier.delivery.sender import Prepared, Sender, SubscriberBusy
from notifier.delivery.supersession import checked, superseded, superseded_many
from notifier.delivery.suppressions import suppress, suppression, suppressions_of
from notifier.metrics import Metrics
from notifier.records import NotificationRecord, ReturnRecord
from notifier.rendering import RenderError
from notifier.settings import QuietHours
from notifier.status import Channel, NotificationStatus

log = logging.getLogger(__name__)

#: Around how long a job put back for a busy subscriber waits before it is tried again.
BUSY_DELAY = timedelta(seconds=2)
#: Seconds between tries to record a sent message while the database cannot be used.
RECORD_AGAIN = 0.5
#: HTTP statuses of a permanent email failure that are the sender's problem, not the
#: recipient's (a bad or under-privileged API key): no SMS fallback for those.
_SENDER_FAULTS = frozenset({401, 403})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivery attempt.

    ``status`` is the notification's status afterwards, or None when there was nothing to do
    (not due, already sent or being sent by another worker: it was not claimed).
    ``retry_in`` set means hand the notification to the queue again after that long;
    ``fallback`` means the email will not reach the customer and the message should go by
    SMS where the customer allows it. ``hooks`` are the webhooks written to tell subscribers
    of this outcome (``notification.failed``, ``notification.suppressed``), to hand to
    delivery.
    """

    status: NotificationStatus | None
    retry_in: timedelta | None = None
    fallback: bool = False
    hooks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the checks of a group of claimed notifications read, read once with the claim.

    Attributes:
        events: The payloads of the events that caused them, by event pk.
        received: When those events were accepted, by event pk.
        suppressed: Why an address is suppressed, by (channel, lower-case address).
        preferences: The customers' channel preferences (``email``, ``sms``) by customer id.
        superseded: For each progress message (:func:`checked`), why a later event
            supersedes it, or None.
    """

    events: Mapping[int, Mapping[str, Any]]
    received: Mapping[int, datetime]
    suppressed: Mapping[tuple[str, str], str]
    preferences: Mapping[str, Any]
    superseded: Mapping[str, str | None]

    def event_of(self, row: NotificationRecord) -> Mapping[str, Any] | None:
        """The payload of the event that caused ``row`` (None for one a rule planned)."""
        return None if row.event_pk is None else self.events.get(row.event_pk)


class Deliverer:
    """Delivers notifications by id.

    Args:
        engine: The database.
        sender: Renders a claimed notification and sends it on its channel.
        quiet_hours: SMS quiet hours, or None when off.
        retry: The retry schedule.
        lease: How long a claim protects a notification being sent; must outlast the slowest
            provider call (the channels time out at 10 s).
        recheck: For a notification a rule planned (``rule`` set): given it, the return's
            current ``returns`` row (or None) and the moment of sending, why the rule no
            longer holds, or None to send it.
        metrics: Where outcomes, retries, dead letters and hand-off latency are counted.
    """

    def __init__(
        self,
        engine: Engine,
        sender: Sender,
        *,
        quiet_hours: QuietHours | None,
        retry: RetryPolicy,
        lease: timedelta,
        recheck: Callable[[NotificationRecord, ReturnRecord | None, datetime], str | None]
        | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._engine = engine
        self._metrics = metrics or Metrics()
        self._claims = Claims(engine, lease)
        self._sender = sender
        self._quiet = quiet_hours
        self._retry = retry
        self._recheck = recheck

    def deliver(self, notification_id: str, now: datetime | None = None) -> Outcome:
        """Try to send notification ``notification_id`` once, if it is still due and unclaimed.

        Raises:
            ChannelConfigurationError: a channel is misconfigured; the claim is released
                and the error recorded, but no attempt is counted.
        """
        return self.deliver_many([notification_id], now)[0][1]

    def deliver_many(
        self,
        notification_ids: Sequence[str],
        now: datetime | None = None,
        *,
        then: Callable[[str, Outcome], None] | None = None,
    ) -> list[tuple[str, Outcome]]:
        """Try to send each of ``notification_ids`` once, those still due and unclaimed.

        They are claimed with one statement, their emails and SMS rendered one after another,
        then each is checked and sent in turn, its outcome written as soon as it is known. A
        claim not used yet is renewed when a quarter of the lease has passed, so no claim runs
        out under a long group.

        Args:
            notification_ids: The notifications, in the order to send them.
            now: The moment to deliver at; the clock (read again for each one) by default.
            then: Called with each notification's id and outcome as soon as the outcome is
                written (to queue a retry or a fallback at once).

        Returns:
            Each notification's id and outcome, in the order given (``Outcome(None)`` for
            one there was nothing to do for).

        Raises:
            ChannelConfigurationError: a channel is misconfigured; that claim is released
                with the error recorded but no attempt counted. This, and any other error,
                gives back the claims of the notifications not tried yet.
        """
        fixed = now
        claimed_at = now or db.now()
        with self._engine.begin() as connection:
            claims = self._claims.take_many(connection, notification_ids, claimed_at)
            facts = self._facts(connection, claims)
        try:
            prepared = self._prepare(claims, facts)
        except BaseException:
            self._give_back(claims)
            raise
        outcomes: dict[str, Outcome] = {}
        held = {claim.row.id for claim in claims}
        for index, claim in enumerate(claims):
            at = fixed or db.now()
            sending = False
            try:
                if at - claimed_at >= self._claims.lease / 4:
                    held = self._claims.renew(claims[index:], at)
                    claimed_at = at
                if claim.row.id not in held:
                    continue  # the claim ran out, and another worker has it now
                sending = True
                with logs.bound(**_log_context(claim, facts)):
                    outcome = self._deliver_claimed(claim, facts, at, prepared.get(claim.row.id))
                sending = False
                outcomes[claim.row.id] = outcome
                if then is not None:
                    then(claim.row.id, outcome)
            except BaseException:
                # The one being sent keeps its claim (the provider may have taken it) until
                # the lease ends; a finished one's claim is gone already.
                self._give_back(claims[index + 1 if sending else index :])
                raise
        return [(i, outcomes.get(i, Outcome(None))) for i in notification_ids]

    def _prepare(self, claims: Sequence[Claim], facts: _Facts) -> dict[str, Prepared]:
        """The group's emails and SMS rendered one after another, before any is sent
        (:meth:`Sender.render_ahead`), until the first is no longer fresh: the rest are
        rendered at their turn, as are the webhooks and whatever failed to render here."""
        prepared: dict[str, Prepared] = {}
        first: Prepared | None = None
        for claim in claims:
            if first is not None and not first.fresh():
                break
            row = claim.row
            try:
                with logs.bound(**_log_context(claim, facts)):
                    ahead = self._sender.render_ahead(row, claim.snapshot, facts.event_of(row))
            except Exception:  # noqa: BLE001 - the same fails again at its turn, and says so
                continue
            if ahead is not None:
                prepared[row.id] = ahead
                first = first or ahead
        return prepared

    def _deliver_claimed(
        self, claim: Claim, facts: _Facts, now: datetime, prepared: Prepared | None
    ) -> Outcome:
        row, finish = claim.row, self._claims.finish
        lapsed = self._lapsed(row, claim.current, now, facts.superseded)
        if lapsed is not None:
            finish(claim, status=NotificationStatus.SKIPPED, reason=lapsed, count=False)
            self._metrics.notification(row.kind, row.channel, "skipped")
            return Outcome(NotificationStatus.SKIPPED)
        blocked = _blocked_by(
            row,
            facts.suppressed.get((row.channel, row.recipient.lower())),
            facts.preferences.get(row.customer_id),
        )
        if blocked is not None:
            hooks = finish(claim, status=NotificationStatus.SUPPRESSED, reason=blocked, count=False)
            self._metrics.notification(row.kind, row.channel, "suppressed")
            return Outcome(
                NotificationStatus.SUPPRESSED,
                fallback=row.channel == Channel.EMAIL,
                hooks=tuple(hooks),
            )
        if row.channel == Channel.SMS and (held := quiet_until(now, row.timezone, self._quiet)):
            finish(claim, status=NotificationStatus.SCHEDULED, next_attempt_at=held, count=False)
            self._metrics.notification(row.kind, row.channel, "held")
            return Outcome(NotificationStatus.SCHEDULED, retry_in=held - now)
        outcome = self._attempt(claim, now, facts.event_of(row), prepared)
        accepted_at = None if row.event_pk is None else facts.received.get(row.event_pk)
        if outcome.status == NotificationStatus.SENT and accepted_at is not None:
            self._metrics.handed_off(row.channel, accepted_at, db.now())
        return outcome

    def _facts(self, connection: Connection, claims: Sequence[Claim]) -> _Facts:
        """What the checks of ``claims`` read, read in the claim's transaction."""
        if not claims:
            return _Facts({}, {}, {}, {}, {})
        rows = [claim.row for claim in claims]
        pks = {row.event_pk for row in rows if row.event_pk is not None}
        e = db.events.c
        events: dict[int, Mapping[str, Any]] = {}
        received: dict[int, datetime] = {}
        if pks:
            for pk, payload, received_at in connection.execute(
                select(e.pk, e.payload, e.received_at).where(db.listed_in(e.pk, values=pks))
            ):
                events[pk] = payload
                received[pk] = received_at
        messaged = [row for row in rows if row.channel in (Channel.EMAIL, Channel.SMS)]
        suppressed: dict[tuple[str, str], str] = {}
        preferences: dict[str, Any] = {}
        if messaged:
            c = db.customers.c
            suppressed = suppressions_of(connection, {row.recipient for row in messaged})
            customers = {row.customer_id for row in messaged}
            for prefs in connection.execute(
                select(c.customer_id, c.email, c.sms).where(
                    db.listed_in(c.customer_id, values=customers)
                )
            ):
                preferences[prefs.customer_id] = prefs
        return _Facts(events, received, suppressed, preferences, superseded_many(connection, rows))

    def _give_back(self, claims: Sequence[Claim]) -> None:
        """Release the claims of notifications not tried, so a retried job may take them at
        once; if that fails too, their leases run out and the relay hands them over."""
        try:
            self._claims.release(claims)
        except Exception:  # noqa: BLE001 - best effort, on the way out of a failure
            log.warning("could not give back %d unused claims", len(claims), exc_info=True)

    def _attempt(
        self,
        claim: Claim,
        now: datetime,
        event: Mapping[str, Any] | None,
        prepared: Prepared | None = None,
    ) -> Outcome:
        finish = self._claims.finish
        try:
            result = self._sender.send(claim.row, claim.snapshot, event, prepared=prepared)
        except SubscriberBusy:
            finish(claim, count=False)
            return Outcome(
                NotificationStatus.QUEUED, retry_in=BUSY_DELAY * random.uniform(0.5, 1.5)
            )
        except TransientChannelError as error:
            return self._transient(claim, now, error)
        except PermanentChannelError as error:
            return self._permanent(claim, error)
        except RenderError as error:
            hooks = finish(claim, status=NotificationStatus.FAILED, last_error=_reason(error))
            self._metrics.notification(claim.row.kind, claim.row.channel, "failed")
            return Outcome(NotificationStatus.FAILED, hooks=tuple(hooks))
        except ChannelConfigurationError as error:
            finish(claim, count=False, last_error=_reason(error))
            raise
        sent_at = db.now()
        self._keep_trying(
            lambda: self._claims.finish_sent(
                claim,
                provider=result.provider,
                provider_message_id=result.provider_message_id,
                sent_at=sent_at,
            )
        )
        self._metrics.notification(claim.row.kind, claim.row.channel, "sent")
        return Outcome(NotificationStatus.SENT)

    def _keep_trying(self, write: Callable[[], None]) -> None:
        """Write that a provider took a message, again while the database cannot be used.

        The provider has the message: if the write were given up at the database's deadline,
        the relay would send the message again once the claim's lease ended. A claim has at
        least three quarters of its lease left when its message is sent (it is renewed each
        quarter), so the write is tried for half a lease.
        """
        give_up = time.monotonic() + self._claims.lease.total_seconds() / 2
        tries = 0
        while True:
            try:
                write()
                return
            except Exception as error:
                if not db.is_unavailable(error) or time.monotonic() > give_up:
                    raise
                tries += 1
                if tries == 1:
                    log.warning("recording a sent message failed, trying again: %s", error)
                time.sleep(RECORD_AGAIN)

    def why_not_sent(
        self, row: NotificationRecord, now: datetime | None = None
    ) -> tuple[NotificationStatus, str] | None:
        """What delivery would record instead of sending ``row``, were it due now.

        The checks :meth:`deliver` makes once it has claimed a notification, without claiming
        or changing anything: ``skipped`` and why, when the return has moved on; ``suppressed``
        and why, when the address is suppressed or the customer opted out of the channel.

        Args:
            row: A notification, stored or about to be.
            now: The moment to judge at; the clock by default.

        Returns:
            The status and its reason, or None when delivery would send it (an SMS may still
            wait for the end of the quiet hours).
        """
        now = now or db.now()
        with self._engine.connect() as connection:
            current = connection.execute(
                select(db.returns).where(db.returns.c.return_id == row.return_id)
            ).first()
        lapsed = self._lapsed(row, None if current is None else ReturnRecord.from_row(current), now)
        if lapsed is not None:
            return NotificationStatus.SKIPPED, lapsed
        blocked = self._blocked(row)
        if blocked is not None:
            return NotificationStatus.SUPPRESSED, blocked
        return None

    def _lapsed(
        self,
        row: NotificationRecord,
        current: ReturnRecord | None,
        now: datetime,
        known: Mapping[str, str | None] | None = None,
    ) -> str | None:
        """Why a reminder, nudge or progress message no longer holds (the return moved on);
        ``known`` holds supersession already read, by notification id."""
        if row.rule is not None:
            return None if self._recheck is None else self._recheck(row, current, now)
        if not checked(row):
            return None
        if known is not None and row.id in known:
            return known[row.id]
        with self._engine.connect() as connection:
            return superseded(connection, row)

    def _blocked(self, row: NotificationRecord) -> str | None:
        """Why a claimed email or SMS may no longer go out, or None if it may."""
        if row.channel not in (Channel.EMAIL, Channel.SMS):
            return None
        c = db.customers.c
        with self._engine.connect() as connection:
            suppressed = suppression(connection, row.channel, row.recipient)
            prefs = connection.execute(
                select(c.email, c.sms).where(c.customer_id == row.customer_id)
            ).first()
        return _blocked_by(row, suppressed, prefs)

    def _transient(self, claim: Claim, now: datetime, error: TransientChannelError) -> Outcome:
        row = claim.row
        failed = row.attempts + 1
        if self._retry.exhausted(failed):
            hooks = self._claims.finish(
                claim, status=NotificationStatus.FAILED, dead=True, last_error=_reason(error)
            )
            log.warning(
                "notification %s exhausted its retries: %s", row.id, logs.masked(str(error))
            )
            self._metrics.notification(row.kind, row.channel, "dead_lettered")
            self._metrics.dead_letters.labels(row.channel).inc()
            return Outcome(NotificationStatus.FAILED, hooks=tuple(hooks))
        wait = self._retry.wait(failed, error.retry_after)
        self._claims.finish(
            claim,
            status=NotificationStatus.QUEUED,
            next_attempt_at=now + wait,
            last_error=_reason(error),
        )
        self._metrics.retries.labels(row.channel).inc()
        return Outcome(NotificationStatus.QUEUED, retry_in=wait)

    def _permanent(self, claim: Claim, error: PermanentChannelError) -> Outcome:
        row = claim.row
        with self._engine.begin() as connection:
            if error.opt_out:
                suppress(connection, row.channel, row.recipient, _reason(error))
            if error.gone and row.channel == Channel.WEBHOOK:
                connection.execute(
                    update(db.webhooks)
                    .where(db.webhooks.c.id == row.recipient)
                    .values(active=False, disabled_reason=_reason(error))
                )
        status = NotificationStatus.SUPPRESSED if error.opt_out else NotificationStatus.FAILED
        hooks = self._claims.finish(claim, status=status, last_error=_reason(error))
        self._metrics.notification(row.kind, row.channel, status)
        fallback = row.channel == Channel.EMAIL and error.status not in _SENDER_FAULTS
        return Outcome(status, fallback=fallback, hooks=tuple(hooks))


def _blocked_by(row: NotificationRecord, suppressed: str | None, prefs: Any) -> str | None:
    """Why the email or SMS ``row`` may no longer go out, given why its address is suppressed
    (None: it is not) and its customer's preferences (a row with ``email`` and ``sms``, or
    None); None if it may, and always for a webhook."""
    if row.channel not in (Channel.EMAIL, Channel.SMS):
        return None
    if suppressed is not None:
        return f"address suppressed: {suppressed}"[:2000]
    if row.kind.startswith("staff.") or prefs is None:
        return None
    if getattr(prefs, row.channel) is False:
        return f"the customer opted out of {row.channel}"
    return None


def _log_context(claim: Claim, facts: _Facts) -> dict[str, Any]:
    """What the log lines about sending ``claim`` carry: its ids, and its customer's names to
    mask (from the return, the event or the notification's own data)."""
    row = claim.row
    event = facts.event_of(row)
    sources = (claim.snapshot, event, row.data)
    customers = [(source or {}).get("customer") or {} for source in sources]
    return {
        "event_id": (event or {}).get("event_id"),
        "return_id": row.return_id,
        "notification_id": row.id,
        "channel": row.channel,
        "names": [c.get(k) for c in customers for k in ("name", "first_name")],
    }


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
