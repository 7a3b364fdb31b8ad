"""The message gallery: ``/staff/messages`` and ``/staff/messages/{kind}``.

The index lists every message kind with its channels, its sample scenarios and how many
template check findings concern it. A kind's page shows one sample on one channel
(``?sample=`` and ``?channel=``, email by default), rendered by the service's own renderer
with the shop's brand and policy, in Dutch and English side by side, with the template
check's findings next to the locale they concern. Nothing here reads the database.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from notifier.http.staff.gallery import (
    CHANNEL_NAMES,
    KIND_NAMES,
    LOCALE_NAMES,
    SAMPLE_NAMES,
    gallery_channels,
    preview,
    sms_fallback_only,
    template_check,
)
from notifier.http.staff.i18n import translator
from notifier.http.staff.web import Parts, Staff, language, page
from notifier.rendering import ALL_KINDS, STAFF_KINDS, SUPPORTED_LOCALES, samples_for

router = APIRouter()

#: Segments above which an SMS is flagged (the template check's limit).
MAX_SEGMENTS = 3


@router.get("/staff/messages", include_in_schema=False)
def gallery(request: Request, session: Staff, parts: Parts) -> Response:
    check = template_check(parts.api.service.settings)
    kinds = []
    for kind in ALL_KINDS:
        channels, findings = gallery_channels(kind), check.of_kind(kind)
        concerned = [c for c in channels if any(c in f.channels for f in findings)]
        kinds.append(
            {
                "kind": kind,
                "name": KIND_NAMES.get(kind, kind),
                "staff": kind in STAFF_KINDS,
                "channels": channels,
                "samples": list(samples_for(kind)),
                "findings": len(findings),
                "findings_channel": (concerned or ["email"])[0],
            }
        )
    return page(
        request,
        "messages.html",
        session=session,
        kinds=kinds,
        check=check,
        shared=check.shared(),
        channel_names=CHANNEL_NAMES,
        sample_names=SAMPLE_NAMES,
    )


@router.get("/staff/messages/{kind}", include_in_schema=False)
def message(request: Request, kind: str, session: Staff, parts: Parts) -> Response:
    samples = samples_for(kind) if kind in ALL_KINDS else {}
    sample = request.query_params.get("sample") or next(iter(samples), "")
    channel = request.query_params.get("channel") or "email"
    if sample not in samples or channel not in gallery_channels(kind):
        t = translator(language(request))
        problem = t("There is no message, sample or channel by that name.")
        return page(
            request, "error.html", session=session, status=404, problem="not-found", message=problem
        )
    service = parts.api.service
    check = template_check(service.settings)
    service.renderer.reload_changed()  # a template edited on disk shows at once
    previews = [
        preview(service.renderer, check, kind, channel, sample, locale)
        for locale in SUPPORTED_LOCALES
    ]
    shown = {finding for p in previews for finding in p.findings}
    return page(
        request,
        "message.html",
        session=session,
        kind=kind,
        name=KIND_NAMES.get(kind, kind),
        sample=sample,
        samples=list(samples),
        channel=channel,
        channels=gallery_channels(kind),
        previews=previews,
        elsewhere=[finding for finding in check.of_kind(kind) if finding not in shown],
        failed=check.failed,
        fallback_only=channel == "sms" and sms_fallback_only(kind),
        max_segments=MAX_SEGMENTS,
        channel_names=CHANNEL_NAMES,
        sample_names=SAMPLE_NAMES,
        locale_names=LOCALE_NAMES,
    )
