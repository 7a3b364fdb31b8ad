"""Staff sign-in: tokens, signed session cookies, CSRF tokens and the sign-in throttle.

A staff member signs in with a token of ``NOTIFIER_STAFF_TOKENS`` (``name:secret``). The
session is a cookie signed with a key derived from those secrets (every API process derives
the same one; changing the tokens ends every session), expiring after
:data:`SESSION_HOURS`, ``HttpOnly``, ``SameSite=Strict``, ``Secure`` when the public URL is
https. It carries the staff member's name and a random CSRF token that every form which
changes something must send back. Staff tokens are never API keys, and an API key is never
a staff token: the two are checked against their own lists only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

#: The session cookie's name.
SESSION_COOKIE = "notifier_staff"
#: The language cookie's name (``nl`` or ``en``).
LANGUAGE_COOKIE = "notifier_staff_lang"
#: How long a session lasts, in hours.
SESSION_HOURS = 8
#: Failed sign-ins from one client within :data:`THROTTLE_WINDOW` before it must wait.
THROTTLE_FAILURES = 5
#: The window the failed sign-ins of one client are counted in.
THROTTLE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class StaffSession:
    """A signed-in staff member: their name (from the token) and the session's CSRF token."""

    name: str
    csrf: str


class StaffAuth:
    """Checks staff tokens and issues and reads session cookies.

    Args:
        tokens: ``NOTIFIER_STAFF_TOKENS``: name -> secret.
        secure: Mark the cookie ``Secure`` (the public URL is https).
    """

    def __init__(self, tokens: Mapping[str, str], *, secure: bool) -> None:
        self._tokens = [(name, secret.encode()) for name, secret in tokens.items()]
        material = b"\x00".join(sorted(secret for _, secret in self._tokens))
        key = hashlib.sha256(b"notifier staff session\x00" + material).hexdigest()
        self._serializer = URLSafeTimedSerializer(key, salt="notifier.staff.session")
        self.secure = secure

    @property
    def configured(self) -> bool:
        """Whether any staff token is configured (otherwise nobody can sign in)."""
        return bool(self._tokens)

    def name_for(self, token: str) -> str | None:
        """The staff member whose token ``token`` is (``name:secret`` or the secret), else None.

        Compared with every token in constant time, so the time taken reveals nothing.
        """
        token = token.strip()
        given_name, sep, secret = token.partition(":")
        candidate = (secret if sep else token).encode()
        found = None
        for name, known in self._tokens:
            if hmac.compare_digest(known, candidate) and (not sep or given_name == name):
                found = name
        return found

    def issue(self, name: str) -> str:
        """A new session cookie value for staff member ``name``."""
        return self._serializer.dumps({"n": name, "c": secrets.token_urlsafe(24)})

    def read(self, cookie: str | None) -> StaffSession | None:
        """The session in ``cookie``, or None if it is missing, forged or expired."""
        if not cookie or not self._tokens:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        name, csrf = data.get("n"), data.get("c")
        if not isinstance(name, str) or not isinstance(csrf, str):
            return None
        if name not in {n for n, _ in self._tokens}:
            return None  # the token was removed since
        return StaffSession(name, csrf)

    @staticmethod
    def csrf_matches(session: StaffSession, given: str | None) -> bool:
        """Whether a form's CSRF token is the session's."""
        return given is not None and hmac.compare_digest(session.csrf, given)
