"""The OpenAPI document: FastAPI's own, plus the hand-validated event bodies and answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from notifier.http.connections import BUSY_DETAIL, BUSY_RETRY_AFTER
from notifier.http.problems import UNAVAILABLE_DESCRIPTION
from notifier.http.schemas import (
    BatchAnswer,
    BatchIn,
    EventAnswer,
    EventIn,
    PreviewEventIn,
    PreviewSampleIn,
    ProblemAnswer,
    StatusHookBody,
)
from notifier.rendering import CONTRACT_EVENT
from notifier.status import NotificationEvent

#: The CONTRACT's example event, shown as the example body (the same as the samples').
EXAMPLE_EVENT: dict[str, Any] = CONTRACT_EVENT
#: What each ``notification.*`` webhook tells a subscriber.
STATUS_HOOKS: dict[NotificationEvent, str] = {
    NotificationEvent.DELIVERED: "The provider reports a customer's email or SMS reached them.",
    NotificationEvent.BOUNCED: "A customer's email was accepted by the provider and bounced.",
    NotificationEvent.FAILED: "A customer's email or SMS failed for good: the provider refused "
    "it, it could not be rendered, or every retry failed (a dead letter).",
    NotificationEvent.SUPPRESSED: "A customer's email or SMS was not sent: the address is "
    "suppressed or the customer opted out of the channel.",
}
#: The example bodies of ``POST /v1/preview``: an event, or a built-in sample.
PREVIEW_EXAMPLES: dict[str, Any] = {
    "event": {"summary": "An event", "value": {"event": EXAMPLE_EVENT}},
    "sample": {
        "summary": "A built-in sample",
        "value": {
            "kind": "return.refund_issued",
            "locale": "nl",
            "channel": "sms",
            "sample": "card",
        },
    },
}

_REF = "#/components/schemas/{model}"
#: What any request can be answered past the server's connection limit.
BUSY = (
    f"The server is at its connection limit (`NOTIFIER_HTTP_MAX_CONNECTIONS`): answered at "
    f"once, before the request is read, with `Retry-After: {BUSY_RETRY_AFTER}` and "
    f"`Connection: close`; the detail is {BUSY_DETAIL!r}."
)


def _schema(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF, by_alias=True)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _batch_schema(components: dict[str, Any]) -> dict[str, Any]:
    schema = BatchIn.model_json_schema(by_alias=True)
    schema["properties"]["events"]["items"] = _schema(EventIn, components)
    components[BatchIn.__name__] = schema
    return {"$ref": _REF.format(model=BatchIn.__name__)}


def _responses(components: dict[str, Any], ok: dict[str, Any]) -> dict[str, Any]:
    problem = {"application/json": {"schema": _schema(ProblemAnswer, components)}}
    return {
        **ok,
        "400": {"description": "The body is not valid JSON.", "content": problem},
        "401": {"description": "Missing or unknown API key.", "content": problem},
        "413": {"description": "The body is over the size limit.", "content": problem},
        "415": {"description": "Content-Type is not application/json.", "content": problem},
        "422": {"description": "Invalid body: one problem per field.", "content": problem},
    }


def _unavailable(components: dict[str, Any], what: str) -> dict[str, Any]:
    """The ``503`` of an operation that needs the database, with its ``Retry-After``."""
    return {
        "description": f"{what}{UNAVAILABLE_DESCRIPTION}",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        },
        "content": {"application/json": {"schema": _schema(ProblemAnswer, components)}},
    }


def _document_preview(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """``POST /v1/preview`` reads its body by hand: its two forms and every answer."""
    forms = [_schema(PreviewEventIn, components), _schema(PreviewSampleIn, components)]
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"oneOf": forms}, "examples": PREVIEW_EXAMPLES}},
    }
    ok = operation["responses"]["200"]
    ok["description"] = "What would be sent; nothing was sent or stored."
    operation["responses"] = _responses(components, {"200": ok})
    operation.pop("x-body-model", None)


def _document_busy(doc: dict[str, Any]) -> None:
    """Every operation can be answered 503 past the connection limit: say so, beside any
    503 it has of its own."""
    retry = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
    problem = {"application/json": {"schema": {"$ref": _REF.format(model="ProblemAnswer")}}}
    for item in doc["paths"].values():
        for operation in item.values():
            own = operation["responses"].get("503")
            if own is None:
                operation["responses"]["503"] = {
                    "description": BUSY,
                    "headers": retry,
                    "content": problem,
                }
            else:
                own["description"] = f"{own['description']} Or: {BUSY}"
                own.setdefault("headers", retry)


def _status_hooks(components: dict[str, Any]) -> dict[str, Any]:
    """The ``notification.*`` webhooks a subscription may ask for, as OpenAPI webhooks."""
    body = {"application/json": {"schema": _schema(StatusHookBody, components)}}
    return {
        event.value: {
            "post": {
                "tags": ["webhooks"],
                "summary": event.value,
                "description": what + " Sent to subscriptions whose types name it or "
                "`notification.*`; signed per Standard Webhooks, retried like every webhook.",
                "operationId": f"status_hook_{event.name.lower()}",
                "requestBody": {"required": True, "content": body},
                "responses": {
                    "200": {
                        "description": "Any 2xx answer is success; 410 disables the "
                        "subscription; anything else is retried."
                    }
                },
            }
        }
        for event, what in STATUS_HOOKS.items()
    }


def _document_common_answers(doc: dict[str, Any], components: dict[str, Any]) -> None:
    """Add the answers any operation can give, whatever it does, where not documented yet:

    * 400 for a JSON body that does not parse;
    * 422 for a NUL character in the URL, refused before any route is reached
      (``notifier.http.app.NotifierApp``);
    * 503 while the database cannot be reached or used, with ``Retry-After``
      (``notifier.http.problems``), for every operation but ``/healthz``, which needs none.
    """
    problem = {"application/json": {"schema": _schema(ProblemAnswer, components)}}
    for path, item in doc["paths"].items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                responses.setdefault(
                    "400", {"description": "The body is not valid JSON.", "content": problem}
                )
            responses.setdefault(
                "422", {"description": "The URL holds a NUL character.", "content": problem}
            )
            if path != "/healthz":
                responses.setdefault("503", _unavailable(components, ""))


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the event bodies, examples and every answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        answer = {"application/json": {"schema": _schema(EventAnswer, components)}}
        # POST /v1/events is served ahead of FastAPI's router (notifier.http.NotifierApp): its whole
        # operation is written here.
        event: dict[str, Any] = {
            "tags": ["events"],
            "summary": "Post Event",
            "description": "Store one return status event durably and queue its messages.",
            "operationId": "post_event_v1_events_post",
        }
        doc["paths"] = {"/v1/events": {"post": event}, **doc["paths"]}
        event["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _schema(EventIn, components),
                    "example": EXAMPLE_EVENT,
                }
            },
        }
        event["responses"] = _responses(
            components,
            {
                "202": {"description": "Stored durably and queued.", "content": answer},
                "200": {
                    "description": "The same event again: nothing is sent twice.",
                    "content": answer,
                },
                "409": {
                    "description": "The same event_id with a different body.",
                    "content": {"application/json": {"schema": _schema(ProblemAnswer, components)}},
                },
            },
        )
        batch = doc["paths"]["/v1/events/batch"]["post"]
        batch["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _batch_schema(components),
                    "example": {"events": [EXAMPLE_EVENT]},
                }
            },
        }
        batch["responses"] = _responses(
            components,
            {
                "207": {
                    "description": "One result per event, in order: each has the status a "
                    "single post would have had (202, 200, 409 or 422) and its answer.",
                    "content": {"application/json": {"schema": _schema(BatchAnswer, components)}},
                },
            },
        )
        batch.pop("x-body-model", None)
        _document_preview(doc["paths"]["/v1/preview"]["post"], components)
        event["responses"]["503"] = _unavailable(
            components,
            "The event was not stored within the intake's deadline (the database is slow or "
            "not answering, or too many events are waiting): posting it again is always safe. ",
        )
        doc["webhooks"] = _status_hooks(components)
        readyz = doc["paths"]["/readyz"]["get"]["responses"]
        readyz["200"]["description"] = "The database and Redis answer."
        readyz["503"] = {
            "description": "A dependency does not answer or would not take a write; each "
            "check says why.",
            "content": readyz["200"]["content"],
        }
        _document_common_answers(doc, components)
        for path, item in doc["paths"].items():
            if path.startswith("/v1/") and not path.startswith("/v1/providers/"):
                for operation in item.values():
                    operation["security"] = [{"bearer": []}]
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        _document_busy(doc)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
