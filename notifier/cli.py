"""The ``notifier`` command (CONTRACT section 1)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack

from notifier import logs
from notifier.errors import ConfigurationError
from notifier.settings import Settings, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
        _configure_logs(settings, args)
        return int(args.handler(settings, args) or 0)
    except ConfigurationError as error:
        print(f"notifier: {error}", file=sys.stderr)
        return 2


def _configure_logs(settings: Settings, args: argparse.Namespace) -> None:
    """One redacting handler for the process, its records marked with the command's role."""
    logs.configure(settings, getattr(args, "role", "cli"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notifier", description=__doc__)
    commands = parser.add_subparsers(title="commands")
    for name, handler, text in (
        ("run", _run, "API, worker threads, relay and scheduler in one process"),
        ("api", _api, "the HTTP API only"),
        ("worker", _worker, "dramatiq worker threads and the outbox relay"),
    ):
        commands.add_parser(name, help=text).set_defaults(handler=handler, role=name)
    scheduler = commands.add_parser("scheduler", help="reminders and nudges, every scan interval")
    scheduler.add_argument("--once", action="store_true", help="run one scan and exit")
    scheduler.set_defaults(handler=_scheduler, role="scheduler")

    dead = commands.add_parser("dead-letters", help="deliveries that exhausted their retries")
    dead_commands = dead.add_subparsers(title="dead-letters")
    dead_commands.add_parser("list", help="show dead letters").set_defaults(handler=_dead_list)
    replay = dead_commands.add_parser("replay", help="queue dead letters again")
    replay.add_argument("ids", nargs="*", metavar="ID", help="notification ids (default: all)")
    replay.set_defaults(handler=_dead_replay)

    purge = commands.add_parser(
        "purge", help="remove personal data older than NOTIFIER_RETENTION_DAYS now"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="print what would be removed, change nothing"
    )
    purge.set_defaults(handler=_purge)

    database = commands.add_parser("db", help="database schema").add_subparsers(title="db")
    database.add_parser("upgrade", help="apply schema migrations").set_defaults(handler=_upgrade)

    templates = commands.add_parser("templates", help="message templates").add_subparsers()
    templates.add_parser("check", help="lint every template").set_defaults(handler=_check)
    render = templates.add_parser("render", help="print one rendered message")
    render.add_argument("kind")
    render.add_argument("--locale", default="nl")
    render.add_argument("--channel", default="email", choices=("email", "sms"))
    render.add_argument("--sample", default=None)
    render.set_defaults(handler=_render)
    return parser


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from notifier import processes, service

    settings, lines = service.with_generated_credentials(settings)
    _configure_logs(settings, args)  # the generated secrets are secrets too
    with ExitStack() as stack:
        settings = stack.enter_context(processes.embedded_redis(settings))
        svc = service.build(settings)
        stack.callback(svc.close)
        processes.tune_garbage_collector()
        stack.enter_context(processes.worker(svc))
        stack.enter_context(processes.scheduler(svc))
        for line in lines:
            print(line, flush=True)
        print(f"notifier listening on http://{settings.host}:{settings.port}", flush=True)
        print(
            f"staff console: {settings.public_url}/staff (sign in with a staff token; "
            f"the generated one is kept in {settings.data_dir / 'staff-token'})",
            flush=True,
        )
        processes.serve_http(svc)
    return 0


def _api(settings: Settings, _: argparse.Namespace) -> int:
    from notifier import processes, service

    _require_redis(settings)
    if not settings.api_keys:
        raise ConfigurationError("NOTIFIER_API_KEYS is required for notifier api")
    svc = service.build(settings)
    try:
        processes.tune_garbage_collector()
        processes.serve_http(svc)
    finally:
        svc.close()
    return 0


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    from notifier import processes, service

    _require_redis(settings)
    svc = service.build(settings, upgrade_schema=False)
    try:
        processes.tune_garbage_collector()
        with processes.metrics_port(svc, "worker"), processes.worker(svc):
            processes.wait_for_signal()
    finally:
        svc.close()
    return 0


def _scheduler(settings: Settings, args: argparse.Namespace) -> int:
    from notifier import processes, service

    if not args.once:
        _require_redis(settings)
    svc = service.build(settings, upgrade_schema=False)
    try:
        processes.tune_garbage_collector()
        if args.once:
            report = svc.scheduler.scan()
            print(
                f"scan: {report.candidates} candidates, {report.fired} due, "
                f"{report.notifications} notifications planned, "
                f"{report.expired} too old to send"
            )
            if settings.redis_url is None and report.notifications:
                print("queued for the running service's relay (within NOTIFIER_REDELIVER_AFTER)")
            return 0
        with processes.metrics_port(svc, "scheduler"), processes.scheduler(svc):
            processes.wait_for_signal()
    finally:
        svc.close()
    return 0


def _require_redis(settings: Settings) -> None:
    if settings.redis_url is None:
        raise ConfigurationError(
            "NOTIFIER_REDIS_URL is required when the parts run as separate processes"
        )


def _dead_list(settings: Settings, _: argparse.Namespace) -> int:
    from notifier.delivery import DeadLetters
    from notifier.service import make_engine

    engine = make_engine(settings)
    letters = DeadLetters(engine, None).pending()
    engine.dispose()
    if not letters:
        print("no dead letters")
    for letter in letters:
        print(
            f"{letter.id}  {letter.return_id}  {letter.kind}  {letter.channel}  "
            f"{letter.recipient}  attempts={letter.attempts}  {letter.last_error}"
        )
    return 0


def _dead_replay(settings: Settings, args: argparse.Namespace) -> int:
    from notifier.delivery import DeadLetters
    from notifier.queue import declare_enqueuer
    from notifier.service import make_engine, redis_timeouts

    engine = make_engine(settings)
    enqueue = (
        declare_enqueuer(settings.redis_url, **redis_timeouts(settings))
        if settings.redis_url
        else None
    )
    try:
        replayed = DeadLetters(engine, enqueue).replay(args.ids)
    finally:
        engine.dispose()
    unknown = sorted(set(args.ids) - set(replayed))
    for notification_id in replayed:
        print(f"replayed {notification_id}")
    for notification_id in unknown:
        print(f"not a dead letter: {notification_id}", file=sys.stderr)
    if replayed and enqueue is None:
        print("queued for the running service's relay (within NOTIFIER_RELAY_INTERVAL)")
    return 1 if unknown else 0


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    from notifier import db
    from notifier.privacy import Retention

    engine = db.make_engine(settings.database_url)
    try:
        report = Retention(engine, settings.retention_days).purge(dry_run=args.dry_run)
    finally:
        engine.dispose()
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"personal data of returns without an event since {report.cutoff:%Y-%m-%d %H:%M} UTC "
        f"({report.days} days, NOTIFIER_RETENTION_DAYS): {verb}"
    )
    for table, count in report.counts.items():
        print(f"  {table}: {count}")
    return 0


def _upgrade(settings: Settings, _: argparse.Namespace) -> int:
    from notifier import migrate
    from notifier.service import make_engine

    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    print("database schema is up to date")
    return 0


def _check(settings: Settings, _: argparse.Namespace) -> int:
    from notifier.rendering import check_templates, default_template_dir
    from notifier.service import shop

    profile = shop(settings)
    problems = check_templates(
        settings.template_dir or default_template_dir(), profile, profile.policy
    )
    for line in problems:
        print(line)
    if problems:
        return 1
    print("templates: no problems found")
    return 0


def _render(settings: Settings, args: argparse.Namespace) -> int:
    from notifier.rendering import RenderError, default_template_dir, render_command
    from notifier.service import shop

    profile = shop(settings)
    try:
        text = render_command(
            settings.template_dir or default_template_dir(),
            args.kind,
            args.locale,
            args.channel,
            args.sample,
            profile,
            profile.policy,
        )
    except RenderError as error:
        print(f"notifier: {error}", file=sys.stderr)
        return 1
    try:
        print(text)
    except BrokenPipeError:  # `notifier templates render ... | head` closed the pipe
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
