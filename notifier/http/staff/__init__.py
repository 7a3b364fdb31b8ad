"""The support staff's web console, served under ``/staff`` by the API process.

Server-rendered pages sharing the service's parts with the JSON API. Offers
:func:`install_console`, which mounts the pages on an application and answers a missing
session with the sign-in page and a missing CSRF token with a 403.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from notifier.http.deps import Api
from notifier.http.staff.pages import home, resend, returns, session
from notifier.http.staff.web import (
    Console,
    FormExpired,
    NotSignedIn,
    page,
    redirect,
    sign_in_url,
)

#: Every router of the console.
ROUTERS = (session.router, home.router, returns.router, resend.router)


def install_console(app: FastAPI, api: Api) -> None:
    """Serve the console on ``app`` under ``/staff``."""
    app.state.console = Console.build(api)
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _: NotSignedIn) -> Response:
        if request.method in ("GET", "HEAD"):
            return redirect(sign_in_url(request))
        return page(request, "error.html", session=None, status=401, problem="signed-out")

    @app.exception_handler(FormExpired)
    async def _form_expired(request: Request, _: FormExpired) -> Response:
        return page(request, "error.html", session=None, status=403, problem="form-expired")


__all__ = ["ROUTERS", "install_console"]
