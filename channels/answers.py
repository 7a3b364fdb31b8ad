"""What a provider's refusal means: try again later, or give up.

One rule for every channel:

==========================================  ===============================================
the provider's answer                       outcome
==========================================  ===============================================
no answer: timeout, connection error        transient
429, or the provider's own rate-limit code  transient, waiting ``retry_after`` when known
5xx                                         transient, waiting ``retry_after`` when known
any other status                            permanent, with the provider's reason
==========================================  ===============================================

Each channel reads its SDK's answer into a status, a reason and a wait, calls
:func:`classify`, and keeps its provider's quirks to itself: Twilio's 21610
opt-out, a webhook endpoint's 410 Gone and its redirects, SendGrid's
``X-RateLimit-Reset``.
"""

from __future__ import annotations

from channels.errors import PermanentChannelError, TransientChannelError

__all__ = ["classify"]


def classify(
    status: int | None,
    reason: str,
    *,
    provider: str,
    retry_after: float | None = None,
    code: str | None = None,
    rate_limited: bool = False,
) -> TransientChannelError | PermanentChannelError:
    """The error for a message the provider did not accept.

    Args:
        status: The provider's HTTP status, or None when it did not answer (a timeout
            or connection error).
        reason: The provider's reason for a refusal; without an answer, what happened,
            worded to follow the provider's name (``could not be reached: ...``).
        provider: Who was asked, at the start of a transient error's message
            (``SendGrid``, ``Twilio``, ``webhook endpoint``).
        retry_after: Seconds the provider asked to wait, kept on a transient error.
        code: The provider's own error code, when it gave one.
        rate_limited: The provider's own code says rate limit, whatever the status.

    Returns:
        A ``TransientChannelError`` for no answer, a rate limit or a server error; a
        ``PermanentChannelError`` whose ``reason`` is ``reason`` for anything else.
    """
    if status is None:
        return TransientChannelError(f"{provider} {reason}", code=code)
    if status == 429 or rate_limited:
        return TransientChannelError(
            f"{provider} rate limit: {reason}", retry_after=retry_after, status=status, code=code
        )
    if status >= 500:
        return TransientChannelError(
            f"{provider} server error: {reason}", retry_after=retry_after, status=status, code=code
        )
    return PermanentChannelError(reason, status=status, code=code)
