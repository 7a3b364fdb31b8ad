"""Settings: every ``NOTIFIER_*`` environment variable, read once into one typed object.

Nothing else in the service reads ``os.environ``. :func:`load_settings` is called by the
composition root; a malformed value raises :class:`~notifier.errors.ConfigurationError`
with one line naming the variable and what is wrong with it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from notifier.errors import ConfigurationError

#: The longest any setting in seconds may be: ``inf`` or 1e20 would overflow the timers and
#: dates it becomes.
MAX_SECONDS = 1e9

#: Prefix of every setting's environment variable.
PREFIX = "NOTIFIER_"

_KEY_LIST = re.compile(r"^[A-Za-z0-9_.-]+:[^,:\s]{8,}$")
#: The settings the shop file replaces, and what to do instead when it is given.
SHOP_FILE_REPLACES = {
    "BRAND_NAME": "set name in the shop file's [brand] table",
    "BRAND_COLOR": "set color in the shop file's [brand] table",
    "BRAND_LOGO_URL": "set logo_url in the shop file's [brand] table",
    "POLICY_FILE": "move its fields to the shop file's [policy] table",
}
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """SMS quiet hours in the customer's local time; ``start > end`` wraps past midnight."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Settings:
    """The service's configuration. See the README's settings table for each field.

    The defaults here are the only ones: :func:`load_settings` takes its defaults from
    :data:`DEFAULTS`, and the parts of the service get every value from the composition root.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    http_max_connections: int = 1000
    http_header_timeout: float = 10.0
    http_body_timeout: float = 30.0
    http_keep_alive: int = 5
    database_url: str = field(default="", repr=False)  # may hold a password
    redis_url: str | None = None
    data_dir: Path = Path("./var")
    api_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    staff_tokens: Mapping[str, str] = field(default_factory=dict, repr=False)
    public_url: str = ""
    default_locale: str = "nl"
    default_region: str = "NL"
    email_from: str | None = None
    sendgrid_api_key: str | None = field(default=None, repr=False)
    sendgrid_base_url: str = "https://api.sendgrid.com"
    sendgrid_webhook_public_key: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    webhook_allow_private: bool = False
    quiet_hours: QuietHours | None = QuietHours(time(21, 0), time(8, 0))
    scan_interval: float = 300.0
    catchup_max_age: float = 604800.0
    nudge_min_gap: float = 86400.0
    retention_days: int = 90
    staff_email: str | None = None
    rules_file: Path | None = None
    shop_file: Path | None = None
    brand_name: str = "Winkel"
    brand_color: str = "#1f6f5c"
    brand_logo_url: str | None = None
    policy_file: Path | None = None
    template_dir: Path | None = None
    template_reload: bool = False
    worker_threads: int = 4
    relay_interval: float = 5.0
    redeliver_after: float = 30.0
    retry_base: float = 15.0
    retry_max_delay: float = 3600.0
    retry_attempts: int = 12
    claim_lease: float = 60.0
    log_level: str = "INFO"
    db_connect_timeout: float = 3.0
    db_statement_timeout: float = 5.0
    db_lock_timeout: float = 2.0
    db_pool_timeout: float = 2.0
    sqlite_busy_timeout: float = 5.0
    redis_connect_timeout: float = 2.0
    redis_timeout: float = 5.0
    intake_deadline: float = 3.0
    hand_over_deadline: float = 0.05
    hand_over_pause: float = 5.0
    log_format: str = "text"
    #: The port ``notifier worker`` and ``notifier scheduler`` serve ``/metrics`` on; None
    #: for each process's own default (:data:`METRICS_PORTS`), 0 for none.
    metrics_port: int | None = None

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"


#: The longest retention period ``NOTIFIER_RETENTION_DAYS`` accepts (100 years): a date that
#: many days back is still one every database can hold.
RETENTION_DAYS_MAX = 36500

#: Every setting's default, as the fields of :class:`Settings` declare it.
DEFAULTS = Settings()

#: The metrics port of each separate process when ``NOTIFIER_METRICS_PORT`` is unset.
METRICS_PORTS = {"worker": 9100, "scheduler": 9101}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment).

    Raises:
        ConfigurationError: a variable is present but malformed; the message names it.
    """
    env = _Env(os.environ if environ is None else environ)
    default = DEFAULTS
    host = env.text("HOST", default.host)
    port = env.integer("PORT", default.port, low=1, high=65535)
    data_dir = env.path("DATA_DIR") or default.data_dir
    default_db = f"sqlite:///{data_dir / 'notifier.db'}"
    api_keys, staff_tokens = env.key_list("API_KEYS"), env.key_list("STAFF_TOKENS")
    shop_file = env.path("SHOP_FILE")
    if shop_file is not None:
        env.refuse_beside_shop_file()
    if set(api_keys.values()) & set(staff_tokens.values()):
        raise ConfigurationError(
            "NOTIFIER_STAFF_TOKENS: a staff token must not also be an API key "
            "(NOTIFIER_API_KEYS); give staff their own secrets"
        )
    return Settings(
        host=host,
        port=port,
        http_max_connections=env.integer(
            "HTTP_MAX_CONNECTIONS", default.http_max_connections, low=1, high=100_000
        ),
        http_header_timeout=env.number("HTTP_HEADER_TIMEOUT", default.http_header_timeout, low=0.1),
        http_body_timeout=env.number("HTTP_BODY_TIMEOUT", default.http_body_timeout, low=0.1),
        http_keep_alive=env.integer("HTTP_KEEP_ALIVE", default.http_keep_alive, low=1, high=3600),
        database_url=env.database_url("DATABASE_URL", default_db),
        redis_url=env.url("REDIS_URL", ("redis", "rediss", "unix")),
        data_dir=data_dir,
        api_keys=api_keys,
        staff_tokens=staff_tokens,
        public_url=(env.url("PUBLIC_URL", ("http", "https")) or f"http://{host}:{port}").rstrip(
            "/"
        ),
        default_locale=env.choice("DEFAULT_LOCALE", default.default_locale, ("nl", "en")),
        default_region=env.region("DEFAULT_REGION", default.default_region),
        email_from=env.optional("EMAIL_FROM"),
        sendgrid_api_key=env.optional("SENDGRID_API_KEY"),
        sendgrid_base_url=env.url("SENDGRID_BASE_URL", ("http", "https"))
        or default.sendgrid_base_url,
        sendgrid_webhook_public_key=env.optional("SENDGRID_WEBHOOK_PUBLIC_KEY"),
        twilio_account_sid=env.optional("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=env.optional("TWILIO_AUTH_TOKEN"),
        twilio_from=env.optional("TWILIO_FROM"),
        twilio_messaging_service_sid=env.optional("TWILIO_MESSAGING_SERVICE_SID"),
        twilio_base_url=env.url("TWILIO_BASE_URL", ("http", "https")) or default.twilio_base_url,
        webhook_allow_private=env.boolean("WEBHOOK_ALLOW_PRIVATE", default.webhook_allow_private),
        quiet_hours=env.quiet_hours("QUIET_HOURS", default.quiet_hours),
        scan_interval=env.number("SCAN_INTERVAL", default.scan_interval, low=0.1),
        catchup_max_age=env.number("CATCHUP_MAX_AGE", default.catchup_max_age, low=60.0),
        nudge_min_gap=env.number("NUDGE_MIN_GAP", default.nudge_min_gap, low=0.0),
        retention_days=env.integer(
            "RETENTION_DAYS", default.retention_days, low=1, high=RETENTION_DAYS_MAX
        ),
        staff_email=env.optional("STAFF_EMAIL"),
        rules_file=env.path("RULES_FILE"),
        shop_file=shop_file,
        brand_name=env.text("BRAND_NAME", default.brand_name),
        brand_color=env.colour("BRAND_COLOR", default.brand_color),
        brand_logo_url=env.url("BRAND_LOGO_URL", ("http", "https")),
        policy_file=env.path("POLICY_FILE"),
        template_dir=env.path("TEMPLATE_DIR"),
        template_reload=env.boolean("TEMPLATE_RELOAD", default.template_reload),
        worker_threads=env.integer("WORKER_THREADS", default.worker_threads, low=1, high=256),
        relay_interval=env.number("RELAY_INTERVAL", default.relay_interval, low=0.05),
        redeliver_after=env.number("REDELIVER_AFTER", default.redeliver_after, low=0.1),
        retry_base=env.number("RETRY_BASE", default.retry_base, low=0.01),
        retry_max_delay=env.number("RETRY_MAX_DELAY", default.retry_max_delay, low=0.01),
        retry_attempts=env.integer("RETRY_ATTEMPTS", default.retry_attempts, low=1, high=100),
        claim_lease=env.number("CLAIM_LEASE", default.claim_lease, low=15.0),
        log_level=env.choice("LOG_LEVEL", default.log_level, ("DEBUG", "INFO", "WARNING", "ERROR")),
        db_connect_timeout=env.number("DB_CONNECT_TIMEOUT", default.db_connect_timeout, low=2.0),
        db_statement_timeout=env.number(
            "DB_STATEMENT_TIMEOUT", default.db_statement_timeout, low=0.1
        ),
        db_lock_timeout=env.number("DB_LOCK_TIMEOUT", default.db_lock_timeout, low=0.1),
        db_pool_timeout=env.number("DB_POOL_TIMEOUT", default.db_pool_timeout, low=0.1),
        sqlite_busy_timeout=env.number("SQLITE_BUSY_TIMEOUT", default.sqlite_busy_timeout, low=0.1),
        redis_connect_timeout=env.number(
            "REDIS_CONNECT_TIMEOUT", default.redis_connect_timeout, low=0.1
        ),
        redis_timeout=env.number("REDIS_TIMEOUT", default.redis_timeout, low=0.1),
        intake_deadline=env.number("INTAKE_DEADLINE", default.intake_deadline, low=0.1),
        hand_over_deadline=env.number("HAND_OVER_DEADLINE", default.hand_over_deadline, low=0.0),
        hand_over_pause=env.number("HAND_OVER_PAUSE", default.hand_over_pause, low=0.0),
        log_format=env.choice("LOG_FORMAT", default.log_format, ("text", "json")),
        metrics_port=None
        if env.optional("METRICS_PORT") is None
        else env.integer("METRICS_PORT", 0, low=0, high=65535),
    )


class _Env:
    """Typed readers over the environment; each error names the full variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str) -> str | None:
        value = self._environ.get(PREFIX + name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def refuse_beside_shop_file(self) -> None:
        """Refuse a setting the shop file replaces when the shop file is given too."""
        for name, instead in SHOP_FILE_REPLACES.items():
            if self.optional(name) is not None:
                raise ConfigurationError(
                    f"{PREFIX}{name} cannot be combined with {PREFIX}SHOP_FILE: "
                    f"unset it and {instead}"
                )

    def fail(self, name: str, what: str, value: str) -> ConfigurationError:
        shown = "<hidden>" if name in _SECRETS else repr(value)
        return ConfigurationError(f"{PREFIX}{name} {what}, got {shown}")

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self.fail(name, "must be an integer", raw) from None
        if not low <= value <= high:
            raise self.fail(name, f"must be between {low} and {high}", raw)
        return value

    def number(self, name: str, default: float, *, low: float) -> float:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(name, "must be a number of seconds", raw) from None
        if not value >= low:
            raise self.fail(name, f"must be at least {low}", raw)
        if value > MAX_SECONDS:
            raise self.fail(name, f"must be at most {MAX_SECONDS:.0f} (about 31 years)", raw)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise self.fail(name, "must be true or false", raw)

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw not in allowed:
            raise self.fail(name, f"must be one of {', '.join(allowed)}", raw)
        return raw

    def region(self, name: str, default: str) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[A-Za-z]{2}", raw):
            raise self.fail(name, "must be a two-letter country code such as NL", raw)
        return raw.upper()

    def colour(self, name: str, default: str) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", raw):
            raise self.fail(name, "must be a colour like #1f6f5c", raw)
        return raw

    def url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        scheme, sep, rest = raw.partition("://")
        if not sep or scheme.lower() not in schemes or not rest:
            raise self.fail(name, f"must be a {'/'.join(schemes)} URL", raw)
        return raw

    def database_url(self, name: str, default: str) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", raw):
            raise self.fail(name, "must be a sqlite:/// or postgresql+psycopg:// URL", raw)
        return raw

    def path(self, name: str) -> Path | None:
        raw = self.optional(name)
        return Path(raw) if raw is not None else None

    def key_list(self, name: str) -> dict[str, str]:
        raw = self.optional(name)
        if raw is None:
            return {}
        keys: dict[str, str] = {}
        for item in raw.split(","):
            item = item.strip()
            if not _KEY_LIST.match(item):
                raise ConfigurationError(
                    f"{PREFIX}{name} must be name:secret[,name:secret...] with secrets of at "
                    "least 8 characters and no spaces"
                )
            key_name, secret = item.split(":", 1)
            keys[key_name] = secret
        return keys

    def quiet_hours(self, name: str, default: QuietHours | None) -> QuietHours | None:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw.lower() == "off":
            return None
        match = _QUIET.match(raw)
        if match is None:
            raise self.fail(name, "must be HH:MM-HH:MM or off", raw)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if (h1, m1) == (h2, m2):
            raise self.fail(name, "must not start and end at the same time", raw)
        return QuietHours(time(h1, m1), time(h2, m2))


_SECRETS = frozenset(
    {"API_KEYS", "STAFF_TOKENS", "SENDGRID_API_KEY", "TWILIO_AUTH_TOKEN", "DATABASE_URL"}
)
