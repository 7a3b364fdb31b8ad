"""Errors of the notifier service.

::

    NotifierError                 root of the service's own errors
     ├─ ConfigurationError        a setting is malformed or missing; stops start-up
     ├─ EventConflictError        an event_id was seen before with a different body (409)
     └─ NotFoundError             a return, notification or subscription does not exist (404)

Channel errors live in :mod:`channels.errors`; template errors in
:mod:`notifier.rendering.message`.
"""


class NotifierError(Exception):
    """Root of the errors raised by the notifier service."""


class ConfigurationError(NotifierError):
    """Raised at start-up when a setting is present but malformed, or a needed one is missing.

    The message is one line that names the variable and what is wrong with it.
    """


class EventConflictError(NotifierError):
    """Raised when an ``event_id`` is posted again with a different body."""


class NotFoundError(NotifierError):
    """Raised when a requested record does not exist."""
