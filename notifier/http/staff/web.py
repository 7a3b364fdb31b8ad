"""What every console page shares: the templates, the headers, the session and the forms.

Pages are server-rendered Jinja2 (autoescaped) from ``templates/`` in this package, with one
stylesheet from ``static/``; no script runs on any page. Every answer carries a strict
Content-Security-Policy (nothing but this origin's stylesheet and images; no script; no
embedding, ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``) and is not cached.
Inline styles are allowed because the email previews, shown in sandboxed ``srcdoc``
frames, inherit this policy and are styled inline as email must be. An email's attachment
is a ``data:`` link with a ``download`` name: a download, which no fetch directive governs.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl, quote, urlencode

from babel.numbers import format_currency
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from notifier.http.deps import Api
from notifier.http.staff.audit import AuditLog
from notifier.http.staff.auth import LANGUAGE_COOKIE, SESSION_COOKIE, StaffAuth, StaffSession
from notifier.http.staff.i18n import LANGUAGES, translator
from notifier.rendering import Attachment

#: The headers of every console answer.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; frame-src 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
#: Largest form body a console page accepts.
MAX_FORM = 512 * 1024
#: Largest form body of signing in or out, read before anyone is known: a token and a path.
MAX_SIGN_IN_FORM = 8 * 1024
_STATIC = Path(__file__).parent / "static"
_NEXT = re.compile(r"^/staff(/[A-Za-z0-9._~\-/%?=&+]*)?$")


@dataclass(frozen=True, slots=True)
class Console:
    """The console's parts, built once per application: the API's, sign-in and the audit."""

    api: Api
    auth: StaffAuth
    audit: AuditLog
    templates: Environment

    @classmethod
    def build(cls, api: Api) -> Console:
        settings = api.service.settings
        templates = Environment(
            loader=PackageLoader("notifier.http.staff", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        templates.filters["money"] = _money
        templates.filters["data_url"] = _data_url
        return cls(
            api=api,
            auth=StaffAuth(settings.staff_tokens, secure=settings.public_url.startswith("https:")),
            audit=AuditLog(api.service.engine),
            templates=templates,
        )


def _money(amount: object, currency: str | None, lang: str) -> str:
    """``amount`` (a decimal string) as the staff member reads money: ``€ 49,95``."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    locale = "nl_NL" if lang == "nl" else "en_IE"
    return format_currency(value, currency or "EUR", locale=locale)


def _data_url(attachment: Attachment) -> str:
    """An attachment as a ``data:`` URL, for a download link that needs no request."""
    media_type = attachment.content_type.replace(" ", "")
    return f"data:{media_type};base64,{base64.b64encode(attachment.content).decode('ascii')}"


class NotSignedIn(Exception):
    """A console page was asked for without a valid session."""


class FormExpired(Exception):
    """A form that changes something came without the session's CSRF token."""


def console(request: Request) -> Console:
    """The application's :class:`Console`."""
    return cast(Console, request.app.state.console)


def language(request: Request) -> str:
    """The staff member's language: ``?lang=`` first, then their cookie, else Dutch."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else LANGUAGES[0]


def client_of(request: Request) -> str:
    """The client's address, as recorded with a sign-in."""
    return request.client.host if request.client else "unknown"


async def signed_in(request: Request) -> StaffSession:
    """The staff session of the request; :class:`NotSignedIn` without a valid one."""
    session = console(request).auth.read(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NotSignedIn()
    return session


#: The signed-in staff member, as an endpoint parameter.
Staff = Annotated[StaffSession, Depends(signed_in)]
#: The console's parts, as an endpoint parameter.
Parts = Annotated[Console, Depends(console)]


async def read_form(request: Request, limit: int = MAX_FORM) -> dict[str, list[str]]:
    """The request's URL-encoded form, every value of every field; a form over ``limit``
    bytes is refused (:class:`FormExpired`) at its first byte over, or at once from its
    ``Content-Length``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FormExpired()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise FormExpired()
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields


async def checked_form(request: Request) -> dict[str, list[str]]:
    """The form of a request that changes something, once its CSRF token is checked."""
    session = await signed_in(request)
    fields = await read_form(request)
    if not StaffAuth.csrf_matches(session, first(fields, "csrf") or None):
        raise FormExpired()
    return fields


#: A checked form (signed in, CSRF token matching), as an endpoint parameter.
Form = Annotated[dict[str, list[str]], Depends(checked_form)]


def first(fields: Mapping[str, list[str]], name: str, default: str = "") -> str:
    """The first value of form field ``name``, stripped."""
    return (fields.get(name) or [default])[0].strip()


def page(
    request: Request,
    template: str,
    *,
    session: StaffSession | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` as a whole page, with the headers every page carries."""
    parts = console(request)
    lang = language(request)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    switch = {
        other: f"{request.url.path}?{urlencode([*kept, ('lang', other)])}" for other in LANGUAGES
    }
    html = parts.templates.get_template(template).render(
        t=translator(lang),
        lang=lang,
        session=session,
        path=request.url.path,
        query=str(request.url.query),
        switch=switch,
        **context,
    )
    answer = HTMLResponse(html, status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in LANGUAGES:
        answer.set_cookie(
            LANGUAGE_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="strict",
            secure=parts.auth.secure,
            path="/staff",
        )
    return answer


def redirect(url: str) -> RedirectResponse:
    """A 303 to ``url`` (after a form), with the console's headers."""
    return RedirectResponse(url, 303, headers=SECURITY_HEADERS)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path, never another site."""
    if value and _NEXT.match(value) and "//" not in value:
        return value
    return "/staff"


def sign_in_url(request: Request) -> str:
    """The sign-in page, coming back to this page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/staff/sign-in?next=" + quote(safe_next(here), safe="")


def static_file(name: str) -> Response:
    """A file of ``static/`` (the stylesheet), cached for a day."""
    path = _STATIC / name
    if "/" in name or not path.is_file():
        return Response("not found", 404, headers=SECURITY_HEADERS)
    media = {"css": "text/css", "svg": "image/svg+xml", "png": "image/png"}
    kind = media.get(path.suffix.lstrip("."), "application/octet-stream")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(path.read_bytes(), media_type=kind, headers=headers)
