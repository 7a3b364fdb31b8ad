"""The composition root: settings in, every part built once and wired together.

Each process (``run``, ``api``, ``worker``, ``scheduler``, the tests) builds one
:class:`Service` from one :class:`~notifier.settings.Settings` and takes the parts it needs.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dramatiq
from sqlalchemy import Engine

from channels.base import Channel, EmailMessage, SmsMessage
from channels.email_outbox import OutboxEmailChannel
from channels.email_sendgrid import SendGridEmailChannel, verify_sendgrid_signature
from channels.errors import ChannelConfigurationError, SignatureError
from channels.sms_outbox import OutboxSmsChannel
from channels.sms_twilio import TwilioSmsChannel
from channels.webhook import WebhookChannel
from notifier import db, migrate
from notifier.delivery import GATE_WAIT, Deliverer, RetryPolicy, Sender, Senders, SubscriberGate
from notifier.dispatch import Dispatcher, Planner
from notifier.errors import ConfigurationError
from notifier.intake import GroupCommitter, Intake, group_commit_for
from notifier.metrics import Metrics
from notifier.preview import Previewer
from notifier.privacy import Erasure, Retention
from notifier.queue import Actors, Relay, declare_actors, held_deliveries, held_events, make_broker
from notifier.rendering import (
    DEFAULT_TIMEZONE,
    Brand,
    Renderer,
    Shop,
    default_template_dir,
    load_policy,
    load_shop,
)
from notifier.scheduling import RuleSet, Scheduler, load_rules
from notifier.settings import Settings
from notifier.tracking import Tracker

log = logging.getLogger(__name__)

#: Sender of development-outbox mail when NOTIFIER_EMAIL_FROM is unset.
DEV_EMAIL_FROM = "Retouren <retouren@localhost>"


@dataclass(frozen=True, slots=True)
class Service:
    """Every part of the service, built from one settings object."""

    settings: Settings
    engine: Engine
    broker: dramatiq.Broker
    actors: Actors
    intake: Intake
    #: Stores the single events posted at the same moment in shared transactions.
    group_commit: GroupCommitter
    dispatcher: Dispatcher
    #: Renders notifications and sends them (a staff member's tests too); the console renders
    #: sent ones again with it.
    sender: Sender
    deliverer: Deliverer
    relay: Relay
    renderer: Renderer
    tracker: Tracker
    scheduler: Scheduler
    #: Shows what would be sent for an event, a return or a sample; sends and stores nothing.
    previewer: Previewer
    #: The process's metrics registry, counted into by the parts above.
    metrics: Metrics

    def watch_state(self) -> None:
        """Have the metrics read the queues (Redis) and the outbox at each scrape, as the
        process serving the API does; once per service."""
        self.metrics.watch_state(
            self.engine,
            self.settings.redis_url,
            getattr(self.broker, "namespace", ""),
            self.broker.get_declared_queues(),
        )

    #: Removes the personal data of returns older than ``NOTIFIER_RETENTION_DAYS``.
    retention: Retention
    #: Erases a customer's personal data, or gathers it for them, on request.
    erasure: Erasure

    def close(self) -> None:
        self.group_commit.close()
        self.intake.close()
        self.broker.close()
        self.sender.close()
        self.metrics.close()
        self.engine.dispose()


def build(
    settings: Settings, *, upgrade_schema: bool = True, channels: Senders | None = None
) -> Service:
    """Build the service from its settings.

    Args:
        settings: The settings.
        upgrade_schema: Apply the database migrations first.
        channels: The channel of each medium, used instead of the ones the settings
            call for (tests give in-memory twins, ``channels.memory``).

    Raises:
        ConfigurationError: A setting is unusable (:class:`~notifier.errors.RulesFileError`,
            :class:`~notifier.errors.ShopFileError` and
            :class:`~notifier.errors.PolicyFileError` for the files settings name); the
            files are read before the database is opened.
    """
    _check_sendgrid_webhook_key(settings.sendgrid_webhook_public_key)
    rules = RuleSet(load_rules(settings.rules_file))
    profile = shop(settings)
    policy = profile.policy
    metrics = Metrics()
    engine = make_engine(settings)
    if upgrade_schema:
        migrate.upgrade(engine)
    renderer = Renderer(
        settings.template_dir or default_template_dir(),
        profile,
        calendar_host=urlsplit(settings.public_url).hostname,
        auto_reload=settings.template_reload,
    )
    planner = Planner(settings.default_locale, DEFAULT_TIMEZONE)
    dispatcher = Dispatcher(engine, planner)
    sender = Sender(
        engine,
        renderer,
        timed(metrics, build_senders(settings) if channels is None else channels),
        policy=policy,
        email_from=settings.email_from or DEV_EMAIL_FROM,
        reply_to=profile.reply_to,
        staff_locale=settings.default_locale,
        gate=SubscriberGate(limit=max(1, settings.worker_threads // 4), wait=GATE_WAIT),
    )
    deliverer = Deliverer(
        engine,
        sender,
        quiet_hours=settings.quiet_hours,
        retry=RetryPolicy.configured(settings),
        lease=timedelta(seconds=settings.claim_lease),
        recheck=rules.lapsed,
        metrics=metrics,
    )
    broker = make_broker(settings.redis_url, **redis_timeouts(settings))
    actors = declare_actors(broker, dispatcher, deliverer)
    relay = Relay(
        engine,
        actors.enqueue_events,
        actors.enqueue_delivery,
        grace=settings.redeliver_after,
        held=held_deliveries(broker),
        held_events=held_events(broker),
        enqueue_deliveries=actors.enqueue_deliveries,
    )

    intake = Intake(
        engine,
        actors.enqueue_events,
        hand_over_deadline=settings.hand_over_deadline,
        hand_over_pause=settings.hand_over_pause,
    )
    return Service(
        settings=settings,
        engine=engine,
        broker=broker,
        actors=actors,
        intake=intake,
        group_commit=group_commit_for(
            engine, intake, deadline=settings.intake_deadline, deadlines=deadlines(settings)
        ),
        dispatcher=dispatcher,
        sender=sender,
        deliverer=deliverer,
        relay=relay,
        renderer=renderer,
        tracker=Tracker(engine, actors.fall_back_to_sms, actors.enqueue_delivery, metrics),
        scheduler=Scheduler(
            engine,
            planner,
            rules,
            enqueue=actors.enqueue_delivery,
            staff_email=settings.staff_email,
            staff_locale=settings.default_locale,
            default_timezone=DEFAULT_TIMEZONE,
            catchup_max_age=timedelta(seconds=settings.catchup_max_age),
            nudge_min_gap=timedelta(seconds=settings.nudge_min_gap),
            metrics=metrics,
        ),
        previewer=Previewer(
            engine,
            planner,
            renderer,
            policy=policy,
            quiet_hours=settings.quiet_hours,
            staff_email=settings.staff_email,
        ),
        metrics=metrics,
        retention=Retention(engine, settings.retention_days),
        erasure=Erasure(engine),
    )


def deadlines(settings: Settings) -> db.Deadlines:
    """How long the database may take (``NOTIFIER_DB_*``, ``NOTIFIER_SQLITE_BUSY_TIMEOUT``)."""
    return db.Deadlines(
        connect=settings.db_connect_timeout,
        statement=settings.db_statement_timeout,
        lock=settings.db_lock_timeout,
        pool=settings.db_pool_timeout,
        busy=settings.sqlite_busy_timeout,
    )


def make_engine(settings: Settings) -> Engine:
    """The engine of ``NOTIFIER_DATABASE_URL``, with the database's deadlines."""
    return db.make_engine(settings.database_url, deadlines=deadlines(settings))


def redis_timeouts(settings: Settings) -> dict[str, float]:
    """The Redis clients' timeouts, as :func:`~notifier.queue.make_broker` takes them."""
    return {"connect_timeout": settings.redis_connect_timeout, "timeout": settings.redis_timeout}


def shop(settings: Settings) -> Shop:
    """The shop's profile, as every message is framed with it: ``NOTIFIER_SHOP_FILE``, or
    without one the built-in profile with the brand of ``NOTIFIER_BRAND_*`` and the policy
    of ``NOTIFIER_POLICY_FILE``.

    Raises:
        ShopFileError: ``NOTIFIER_SHOP_FILE`` names an unusable file.
        PolicyFileError: ``NOTIFIER_POLICY_FILE`` names an unusable file.
    """
    if settings.shop_file is not None:
        return load_shop(settings.shop_file)
    brand = Brand(settings.brand_name, settings.brand_color, settings.brand_logo_url)
    return Shop(brand=brand, policy=load_policy(settings.policy_file))


def timed(metrics: Metrics, senders: Senders) -> Senders:
    """``senders`` with every provider call timed into ``metrics``."""
    return Senders(
        email=metrics.timed(senders.email),
        sms=metrics.timed(senders.sms),
        webhook=metrics.timed(senders.webhook),
    )


def build_senders(settings: Settings) -> Senders:
    """The channel for each medium: the real provider when configured, else the outbox."""
    email: Channel[EmailMessage]
    sms: Channel[SmsMessage]
    if settings.sendgrid_api_key:
        if not settings.email_from:
            raise ConfigurationError(
                "NOTIFIER_EMAIL_FROM is required when NOTIFIER_SENDGRID_API_KEY is set"
            )
        email = SendGridEmailChannel(settings.sendgrid_api_key, base_url=settings.sendgrid_base_url)
    else:
        email = OutboxEmailChannel(settings.outbox_dir)
    if settings.twilio_account_sid and settings.twilio_auth_token:
        if not (settings.twilio_from or settings.twilio_messaging_service_sid):
            raise ConfigurationError(
                "NOTIFIER_TWILIO_FROM or NOTIFIER_TWILIO_MESSAGING_SERVICE_SID is required "
                "when Twilio is configured"
            )
        sms = TwilioSmsChannel(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_base_url,
            status_callback=f"{settings.public_url}/v1/providers/twilio/status",
            pool_size=max(10, settings.worker_threads),
        )
    else:
        sms = OutboxSmsChannel(settings.outbox_dir)
    webhook = WebhookChannel(allow_private=settings.webhook_allow_private)
    return Senders(email=email, sms=sms, webhook=webhook)


def _check_sendgrid_webhook_key(public_key: str | None) -> None:
    """Refuse an unreadable SendGrid verification key at start-up, not at the first callback.

    Checking a dummy signature reads the key first: an unreadable key raises
    ChannelConfigurationError, a readable one ends in SignatureError.
    """
    if public_key is None:
        return
    try:
        verify_sendgrid_signature(public_key, b"", "AA==", "0", now=0)
    except SignatureError:
        return
    except ChannelConfigurationError as error:
        raise ConfigurationError(f"NOTIFIER_SENDGRID_WEBHOOK_PUBLIC_KEY: {error}") from None


def with_generated_credentials(settings: Settings) -> tuple[Settings, list[str]]:
    """For ``notifier run``: an API key and a staff token, generated once and kept on disk.

    Returns the settings with the credentials filled in, and lines to print about the ones
    that were generated.
    """
    lines: list[str] = []
    api_keys, staff_tokens = settings.api_keys, settings.staff_tokens
    if not api_keys:
        secret = _stored_secret(settings.data_dir / "api-key", "nk_")
        api_keys = {"local": secret}
        lines.append(f"API key (Authorization: Bearer ...): {secret}")
    if not staff_tokens:
        secret = _stored_secret(settings.data_dir / "staff-token", "st_")
        staff_tokens = {"staff": secret}
        lines.append(f"Staff token: {secret}")
    return replace(settings, api_keys=api_keys, staff_tokens=staff_tokens), lines


def _stored_secret(path: Path, prefix: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = prefix + secrets.token_urlsafe(24)
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return secret
