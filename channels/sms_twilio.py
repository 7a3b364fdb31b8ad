"""Text messages through Twilio's Programmable Messaging, with the official ``twilio`` SDK.

The SDK builds and sends every request. Its API domain takes its host from the
domain object's ``base_url`` attribute (``Client().api.base_url``, set by the
SDK to ``https://api.twilio.com``); the channel overrides that one attribute so
tests and staging can point the SDK at a loopback stand-in. Everything else
(paths, form encoding, authentication, error parsing) stays the SDK's.

Connections are kept alive: the SDK's ``TwilioHttpClient`` sends every message
through one ``requests`` Session, whose connection pools (one per host, safe to
share between threads) keep a connection open for the next message. The channel
sizes those pools for ``pool_size`` threads sending at once, for http and https
alike (the SDK sizes only the https pool, by the machine's cores).

How answers are classified:

===========================================  ==========================================
Twilio's answer                              outcome
===========================================  ==========================================
2xx (201 Created)                            ``SendResult`` with the ``SM...`` sid
429, or error code 20429                     transient; ``Retry-After`` when sent
5xx                                          transient; ``Retry-After`` when sent
timeout, connection error                    transient
21610 (recipient replied STOP)               permanent, ``opt_out=True``
21211, 21614, 21408, any other 4xx           permanent, reason ``"<code>: <message>"``
===========================================  ==========================================

The rule itself is ``channels.answers.classify``, shared by every channel; the
opt-out and the rate-limit code are Twilio's own.

Inbound status callbacks live beside the sender, in ``channels.sms_twilio_events``,
and are re-exported here: ``verify_twilio_signature`` and ``parse_twilio_status``.
"""

from __future__ import annotations

import threading
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from requests import Session
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from channels.answers import classify
from channels.base import SendResult, SmsMessage
from channels.errors import ChannelConfigurationError, PermanentChannelError, TransientChannelError
from channels.retry_after import retry_after_from_headers
from channels.sms_twilio_events import (
    NOTIFICATION_ID_PARAM,
    OPT_OUT_CODE,
    parse_twilio_status,
    verify_twilio_signature,
)

__all__ = ["TwilioSmsChannel", "parse_twilio_status", "verify_twilio_signature"]

#: Twilio's production API host.
DEFAULT_BASE_URL = "https://api.twilio.com"

#: Twilio's error code for "Too Many Requests".
RATE_LIMIT_CODE = 20429

#: Twilio's name at the start of a transient error's message.
PROVIDER = "Twilio"

#: Prefix the SDK puts before Twilio's own message in ``TwilioRestException.msg``.
_SDK_PREFIX = "Unable to create record: "


class TwilioSmsChannel:
    """Sends ``SmsMessage`` values through Twilio.

    Args:
        account_sid: The account SID (``AC...``).
        auth_token: The account's auth token.
        from_: The sending number or alphanumeric sender id.
        messaging_service_sid: A Messaging Service (``MG...``) to send from
            instead of, or together with, ``from_``.
        base_url: The API host.
        status_callback: URL Twilio posts status changes to; the channel adds
            ``notification_id=<id>`` to its query for each message.
        timeout: Seconds to wait for Twilio to connect and answer.
        pool_size: Connections kept open for reuse: as many as threads send at once.

    Raises:
        ChannelConfigurationError: Credentials are empty, there is no sender, or
            a URL is not http(s).
    """

    name = "sms"
    provider = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        status_callback: str | None = None,
        timeout: float = 10.0,
        pool_size: int = 10,
    ):
        if not account_sid.strip() or not auth_token.strip():
            raise ChannelConfigurationError("the Twilio account SID and auth token must be set")
        if not from_ and not messaging_service_sid:
            raise ChannelConfigurationError(
                "Twilio needs a sender: set a from number or a messaging service SID"
            )
        for label, url in (("base URL", base_url), ("status callback", status_callback)):
            if url is not None and not url.startswith(("https://", "http://")):
                raise ChannelConfigurationError(
                    f"the Twilio {label} must start with https:// or http://, got {url!r}"
                )
        self._from = from_
        self._messaging_service_sid = messaging_service_sid
        self._status_callback = status_callback
        self._last_headers = threading.local()
        http_client = TwilioHttpClient(
            pool_connections=True,  # one Session for every message: its connections stay open
            timeout=timeout,
            request_hooks={"response": [self._remember_headers]},
        )
        self._session = cast(Session, http_client.session)
        pools = HTTPAdapter(pool_connections=4, pool_maxsize=max(1, pool_size), max_retries=0)
        for scheme in ("https://", "http://"):
            self._session.mount(scheme, pools)
        self._client = Client(account_sid, auth_token, http_client=http_client)
        # Settings come from the constructor only: ignore TWILIO_EDGE / TWILIO_REGION,
        # which would make the SDK rewrite the host below.
        self._client.edge = None
        self._client.region = None
        self._client.api.base_url = base_url.rstrip("/")

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._session.close()

    def send(self, message: SmsMessage) -> SendResult:
        """Send one text message; see the module docstring for how failures are classified.

        Raises:
            TransientChannelError: 429, 5xx, timeout or connection failure.
            PermanentChannelError: Any other refusal, with Twilio's code and message.
        """
        self._last_headers.value = {}
        try:
            created = self._client.messages.create(**self._create_params(message))
        except (TwilioRestException, TwilioServiceException) as error:
            raise self._classify(error) from None
        except OSError as error:  # requests' ConnectionError and Timeout are OSErrors
            raise classify(None, f"could not be reached: {error}", provider=PROVIDER) from error
        return SendResult(provider=self.provider, provider_message_id=str(created.sid))

    def _create_params(self, message: SmsMessage) -> dict[str, str]:
        params = {"to": message.to, "body": message.text}
        if self._from:
            params["from_"] = self._from
        if self._messaging_service_sid:
            params["messaging_service_sid"] = self._messaging_service_sid
        if self._status_callback:
            params["status_callback"] = _with_query(
                self._status_callback, NOTIFICATION_ID_PARAM, message.id
            )
        return params

    def _remember_headers(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        # A requests response hook; runs on the sending thread, so a thread-local
        # keeps concurrent sends apart. The SDK's exceptions do not carry headers.
        self._last_headers.value = {str(k).lower(): str(v) for k, v in response.headers.items()}
        return response

    def _classify(
        self, error: TwilioRestException | TwilioServiceException
    ) -> TransientChannelError | PermanentChannelError:
        status = int(error.status)
        code = int(error.code) if error.code is not None else None
        reason = f"{code if code is not None else status}: {_message(error)}"
        if code == OPT_OUT_CODE:
            return PermanentChannelError(reason, status=status, code=_text(code), opt_out=True)
        headers: dict[str, str] = getattr(self._last_headers, "value", {})
        return classify(
            status,
            reason,
            provider=PROVIDER,
            retry_after=retry_after_from_headers(headers),
            code=_text(code),
            rate_limited=code == RATE_LIMIT_CODE,
        )


def _message(error: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(error, TwilioServiceException):
        return str(error.detail or error.title)
    return str(error.msg).removeprefix(_SDK_PREFIX)


def _text(code: int | None) -> str | None:
    return None if code is None else str(code)


def _with_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))
