"""Errors of the notifier service.

::

    NotifierError                 root of the service's own errors
     ├─ ConfigurationError        a setting is malformed or missing; stops start-up
     │   ├─ RulesFileError        the file NOTIFIER_RULES_FILE names is unreadable or invalid
     │   ├─ PolicyFileError       the file NOTIFIER_POLICY_FILE names is unreadable or invalid
     │   └─ ShopFileError         the file NOTIFIER_SHOP_FILE names is unreadable or invalid
     ├─ EventConflictError        an event_id was seen before with a different body (409)
     ├─ InvalidCursorError        a paging cursor this service did not hand out (422)
     ├─ NotFoundError             a return, notification or subscription does not exist (404)
     ├─ UnknownSampleError        a preview asks for a sample kind, locale, channel or name
     │                            that does not exist (422 naming the field)
     ├─ ResendRefusedError        staff asked to resend a notification that may not be resent
     ├─ IntakeBusyError           an event was not stored within the intake's deadline (503)
     └─ RenderError               a message cannot be rendered (notifier.rendering.message)

    channels.errors               the channels' own tree: channels never imports notifier
     ├─ ChannelError              a send failed (TransientChannelError, PermanentChannelError)
     ├─ ChannelConfigurationError a provider's key or setting is unusable
     └─ CallbackError             a provider callback is unsigned or unreadable

:class:`~notifier.rendering.message.RenderError` is defined beside the rendered message.
"""

from __future__ import annotations

from pathlib import Path


class NotifierError(Exception):
    """Root of the errors raised by the notifier service."""


class ConfigurationError(NotifierError):
    """Raised at start-up when a setting is present but malformed, or a needed one is missing.

    The message is one line that names the variable and what is wrong with it.
    """


class RulesFileError(ConfigurationError):
    """Raised at start-up when the rules file cannot be read or a rule in it is invalid.

    The message is one line: ``NOTIFIER_RULES_FILE: <file>: <what is wrong>``, where what is
    wrong names the entry and field (``rules[0].days must be ...``).

    Attributes:
        path: the rules file.
        problem: what is wrong with it.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"NOTIFIER_RULES_FILE: {path}: {problem}")
        self.path = path
        self.problem = problem


class PolicyFileError(ConfigurationError):
    """Raised at start-up when the policy file cannot be read or a field in it is invalid.

    The message is one line: ``NOTIFIER_POLICY_FILE: <file>: <what is wrong>``, where what is
    wrong names the field (``policy field 'window_days' must be ...``).

    Attributes:
        path: the policy file.
        problem: what is wrong with it.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"NOTIFIER_POLICY_FILE: {path}: {problem}")
        self.path = path
        self.problem = problem


class ShopFileError(ConfigurationError):
    """Raised at start-up when the shop's profile cannot be read or a field in it is invalid.

    The message is one line: ``NOTIFIER_SHOP_FILE: <file>: <what is wrong>``, where what is
    wrong names the table and field (``[support] field 'email' must be ...``).

    Attributes:
        path: the shop file.
        problem: what is wrong with it.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"NOTIFIER_SHOP_FILE: {path}: {problem}")
        self.path = path
        self.problem = problem


class EventConflictError(NotifierError):
    """Raised when an ``event_id`` is posted again with a different body."""


class InvalidCursorError(NotifierError):
    """Raised when a paging cursor is not one this service handed out (a 422 on ``cursor``)."""


class NotFoundError(NotifierError):
    """Raised when a requested record does not exist."""


class UnknownSampleError(NotifierError):
    """Raised when a preview asks for a built-in sample that does not exist: an unknown
    message kind, an unsupported locale, a channel the kind has no template for, or a
    sample name the kind does not have.

    Attributes:
        field: which of ``kind``, ``locale``, ``channel`` and ``sample`` is wrong.
        problem: what is wrong with it, naming the values to choose from.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class ResendRefusedError(NotifierError):
    """Raised when a notification may not be resent: it is not ``failed`` or ``bounced``, or
    a webhook is asked to go to another recipient than its subscription."""


class IntakeBusyError(NotifierError):
    """Raised when an event could not be stored within the intake's deadline, or found its
    queue full: the database is too slow or not answering. Posting it again later is safe."""
