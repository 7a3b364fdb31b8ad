"""A loopback webhook endpoint that checks Standard Webhooks signatures.

The check uses the ``standardwebhooks`` package, independent of the code under
test, so a passing test means a real subscriber would accept the delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.standins.server import Answer, RecordedRequest, StandinServer


@dataclass(frozen=True, slots=True)
class ReceivedWebhook:
    """One delivery: whether its signature verified, its headers (lower-cased) and body."""

    verified: bool
    headers: dict[str, str]
    body: bytes


class WebhookReceiver(StandinServer):
    """Accepts ``POST`` at any path with 200 unless scripted otherwise.

    Args:
        secret: The ``whsec_`` secret deliveries should be signed with.
        keep_alive: See :class:`~tests.standins.server.StandinServer`.
    """

    def __init__(self, secret: str, *, keep_alive: bool = False) -> None:
        super().__init__(keep_alive=keep_alive)
        self._webhook = Webhook(secret)
        self._deliveries: list[ReceivedWebhook] = []

    @property
    def deliveries(self) -> list[ReceivedWebhook]:
        """Every POST received, with the signature verdict made on arrival."""
        with self._lock:
            return list(self._deliveries)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._deliveries.clear()

    def check(self, request: RecordedRequest) -> Answer | None:
        if request.method == "POST":
            delivery = ReceivedWebhook(self._verify(request), request.headers, request.body)
            with self._lock:
                self._deliveries.append(delivery)
        return None

    def _verify(self, request: RecordedRequest) -> bool:
        try:
            self._webhook.verify(request.body, request.headers, json_parse=False)
        except (WebhookVerificationError, ValueError):
            return False
        return True
