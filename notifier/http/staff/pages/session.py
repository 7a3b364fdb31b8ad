"""Signing in and out: ``/staff/sign-in``, ``/staff/sign-out``.

Wrong tokens are slowed down: each failure waits a little longer before its answer, and a
client with :data:`~notifier.http.staff.auth.THROTTLE_FAILURES` failures within
:data:`~notifier.http.staff.auth.THROTTLE_WINDOW` is refused (429) until the oldest of them
leaves the window. The failures are counted from the audit log, so every API process of a
deployment sees them.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from notifier import db
from notifier.http.staff.auth import (
    SESSION_COOKIE,
    SESSION_HOURS,
    THROTTLE_FAILURES,
    THROTTLE_WINDOW,
)
from notifier.http.staff.web import (
    MAX_SIGN_IN_FORM,
    Parts,
    client_of,
    first,
    page,
    read_form,
    redirect,
    safe_next,
    static_file,
)

router = APIRouter()


@router.get("/staff/sign-in", include_in_schema=False)
async def sign_in_page(request: Request, parts: Parts) -> Response:
    session = parts.auth.read(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        return redirect(safe_next(request.query_params.get("next")))
    return page(
        request,
        "sign_in.html",
        session=None,
        next=safe_next(request.query_params.get("next")),
        configured=parts.auth.configured,
        notice=request.query_params.get("notice"),
    )


@router.post("/staff/sign-in", include_in_schema=False)
async def sign_in(request: Request, parts: Parts) -> Response:
    fields = await read_form(request, MAX_SIGN_IN_FORM)
    target = safe_next(first(fields, "next"))
    client = client_of(request)
    since = db.now() - THROTTLE_WINDOW
    failures = await run_in_threadpool(parts.audit.count, "sign_in_failed", since, client=client)
    if failures >= THROTTLE_FAILURES:
        oldest = await run_in_threadpool(
            parts.audit.oldest_since, "sign_in_failed", since, client=client
        )
        wait = int(((oldest or db.now()) + THROTTLE_WINDOW - db.now()).total_seconds()) + 1
        answer = page(
            request,
            "sign_in.html",
            session=None,
            status=429,
            next=target,
            configured=True,
            throttled=max(wait, 1),
        )
        answer.headers["Retry-After"] = str(max(wait, 1))
        return answer
    name = parts.auth.name_for(first(fields, "token"))
    if name is None:
        await run_in_threadpool(parts.audit.record, "sign_in_failed", None, client=client)
        await asyncio.sleep(min(0.25 * 2**failures, 4.0))
        return page(
            request,
            "sign_in.html",
            session=None,
            status=401,
            next=target,
            configured=parts.auth.configured,
            failed=True,
        )
    await run_in_threadpool(parts.audit.record, "sign_in", name, client=client)
    signed = redirect(target)
    signed.set_cookie(
        SESSION_COOKIE,
        parts.auth.issue(name),
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=parts.auth.secure,
        path="/",  # POST /v1/preview takes a staff session too
    )
    return signed


@router.post("/staff/sign-out", include_in_schema=False)
async def sign_out(request: Request, parts: Parts) -> Response:
    session = parts.auth.read(request.cookies.get(SESSION_COOKIE))
    fields = await read_form(request, MAX_SIGN_IN_FORM)
    if session is not None and parts.auth.csrf_matches(session, first(fields, "csrf") or None):
        await run_in_threadpool(
            parts.audit.record, "sign_out", session.name, client=client_of(request)
        )
    answer = redirect("/staff/sign-in?notice=signed-out")
    answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return answer


@router.get("/staff/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    return static_file(name)
