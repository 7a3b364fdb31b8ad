"""The support staff's web console, served under ``/staff`` by the API process.

Server-rendered pages sharing the service's parts with the JSON API. Offers
:func:`install_console`, which mounts the pages on an application and answers a missing
session with the sign-in page and a missing CSRF token with a 403.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from notifier.http.deps import Api
from notifier.http.staff.auth import SESSION_COOKIE, StaffSession
from notifier.http.staff.gallery import warm_up
from notifier.http.staff.pages import (
    dead_letters,
    home,
    messages,
    preview,
    resend,
    returns,
    session,
    suppressions,
)
from notifier.http.staff.web import (
    Console,
    FormExpired,
    NotSignedIn,
    console,
    page,
    redirect,
    sign_in_url,
)

#: Every router of the console.
ROUTERS = (
    session.router,
    home.router,
    returns.router,
    resend.router,
    messages.router,
    preview.router,
    dead_letters.router,
    suppressions.router,
)


def staff_session(request: Request) -> StaffSession | None:
    """The signed-in staff member of ``request``, if its console session is valid."""
    return console(request).auth.read(request.cookies.get(SESSION_COOKIE))


def install_console(app: FastAPI, api: Api) -> None:
    """Serve the console on ``app`` under ``/staff``."""
    app.state.console = Console.build(api)
    warm_up(api.service.settings)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/staff/{rest:path}", include_in_schema=False)
    async def _unknown_page(request: Request, rest: str) -> Response:  # after every page
        session = console(request).auth.read(request.cookies.get(SESSION_COOKIE))
        return page(request, "error.html", session=session, status=404, problem="not-found")

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _: NotSignedIn) -> Response:
        if request.method in ("GET", "HEAD"):
            return redirect(sign_in_url(request))
        return page(request, "error.html", session=None, status=401, problem="signed-out")

    @app.exception_handler(FormExpired)
    async def _form_expired(request: Request, _: FormExpired) -> Response:
        session = console(request).auth.read(request.cookies.get(SESSION_COOKIE))
        return page(request, "error.html", session=session, status=403, problem="form-expired")


__all__ = ["ROUTERS", "install_console", "staff_session"]
