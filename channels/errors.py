"""Errors raised by channels and by the checks of their inbound callbacks.

The tree::

    ChannelError                    root of the errors raised by a channel's send()
     ├─ TransientChannelError       the provider may accept the message later: retry
     └─ PermanentChannelError       the provider will never accept it: do not retry
    ChannelConfigurationError       a bad key or setting; deliberately not a ChannelError
    CallbackError                   root of the errors raised while reading a provider callback
     ├─ SignatureError              signature or timestamp missing or wrong (answer 401)
     └─ MalformedCallbackError      body or fields unreadable (answer 400)

``ChannelConfigurationError`` stands apart so that code which catches
``ChannelError`` to retry or record a failed delivery can never swallow a
misconfiguration: that must stop the process and be fixed by an operator.
"""

from __future__ import annotations

__all__ = [
    "CallbackError",
    "ChannelConfigurationError",
    "ChannelError",
    "MalformedCallbackError",
    "PermanentChannelError",
    "SignatureError",
    "TransientChannelError",
]


class ChannelError(Exception):
    """A message could not be handed to the provider.

    Args:
        message: What went wrong, for logs and the notification's last error.
        status: The provider's HTTP status, when there was an answer.
        code: The provider's own error code, when it gave one.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class TransientChannelError(ChannelError):
    """Raised when the provider may accept the same message later.

    Rate limits (429), server errors (5xx), timeouts and connection errors.

    Args:
        message: What went wrong.
        retry_after: Seconds the provider asked us to wait (``Retry-After`` or
            ``X-RateLimit-Reset``), or None when it did not say.
        status: The provider's HTTP status, when there was an answer.
        code: The provider's own error code, when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: str | None = None,
    ):
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class PermanentChannelError(ChannelError):
    """Raised when the provider refused the message and would refuse it again.

    Args:
        reason: The provider's reason, recorded on the notification as given.
        status: The provider's HTTP status, when there was an answer.
        code: The provider's own error code, when it gave one.
        opt_out: True when the recipient has opted out at the provider (Twilio
            21610); the service should stop sending to that address.
        gone: True when a webhook endpoint answered 410 Gone; the service
            should disable the subscription.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        code: str | None = None,
        opt_out: bool = False,
        gone: bool = False,
    ):
        super().__init__(reason, status=status, code=code)
        self.reason = reason
        self.opt_out = opt_out
        self.gone = gone


class ChannelConfigurationError(Exception):
    """Raised when a channel is built or used with a bad key or setting.

    Not a ``ChannelError`` on purpose: nothing should retry or record it as a
    delivery failure. The message names the setting and what to do.
    """


class CallbackError(Exception):
    """Root of the errors raised while checking or reading a provider callback."""


class SignatureError(CallbackError):
    """Raised when a callback's signature or timestamp is missing, malformed or wrong.

    The HTTP edge answers 401 and does not look at the body.
    """


class MalformedCallbackError(CallbackError):
    """Raised when a callback's body or fields cannot be read (the edge answers 400)."""
