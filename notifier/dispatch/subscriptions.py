"""Webhook subscriptions: where return systems and staff tools want events pushed."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import Engine, delete, insert, select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.errors import NotFoundError
from notifier.records import WebhookSubscription


class Subscriptions:
    """Creates, lists and removes webhook subscriptions (delivery disables one on a 410)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, url: str, types: Sequence[str]) -> tuple[WebhookSubscription, str]:
        """A new subscription and its secret; the answer is the only time the secret is shown."""
        created = WebhookSubscription(
            id="wh_" + secrets.token_hex(12),
            url=url,
            types=list(types),
            active=True,
            disabled_reason=None,
            created_at=db.now(),
        )
        secret = new_webhook_secret()
        with self._engine.begin() as connection:
            connection.execute(insert(db.webhooks).values(**asdict(created), secret=secret))
        return created, secret

    def all(self) -> list[WebhookSubscription]:
        """Every subscription, oldest first."""
        w = db.webhooks.c
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(w.id, w.url, w.types, w.active, w.disabled_reason, w.created_at).order_by(
                    w.created_at, w.id
                )
            ).all()
        return [WebhookSubscription.from_row(row) for row in rows]

    def delete(self, subscription_id: str) -> None:
        """Raises NotFoundError if there is no such subscription."""
        with self._engine.begin() as connection:
            gone = connection.execute(
                delete(db.webhooks).where(db.webhooks.c.id == subscription_id)
            ).rowcount
        if gone != 1:
            raise NotFoundError(f"webhook {subscription_id!r} does not exist")
