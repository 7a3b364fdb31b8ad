"""Bad input is never a 500: random changes to the CONTRACT example, posted singly and in a
batch, on SQLite and PostgreSQL, are each answered with a 2xx, 409 or 422, and whatever is
accepted is stored as answered (the dispatch runs too, so nothing it renders fails)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from notifier import db
from notifier.http import create_app
from notifier.service import Service
from tests.drain import drain
from tests.factories import event

_examples = itertools.count()

#: Every field of the example event, as a path of keys (and list indexes).
_PATHS: list[tuple[Any, ...]] = []


def _collect(value: Any, path: tuple[Any, ...]) -> None:
    _PATHS.append(path)
    if isinstance(value, dict):
        for key, inner in value.items():
            _collect(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _collect(inner, (*path, index))


_collect(event(), ())
_PATHS.remove(())

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "Cc")),
    max_size=40,
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
    | st.sampled_from(
        [
            "",
            "9999-12-31T23:59:59-14:00",
            "2026-02-30",
            "2026-11-20T10:15:00",
            "49.999",
            "-0.00",
            "+31612345678",
            "0612345678",
            "sanne@@example.nl",
            "Europe/Nowhere",
            "return.*",
        ]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_CHANGES = st.lists(
    st.tuples(st.sampled_from(_PATHS), st.one_of(st.just("delete"), _VALUES)),
    min_size=1,
    max_size=3,
)


def _changed(changes: list[tuple[tuple[Any, ...], Any]], n: int) -> dict[str, Any]:
    body = copy.deepcopy(event(event_id=f"evt-fuzz-{n}", return_id=f"RMA-fuzz-{n % 7}"))
    for path, value in changes:
        target: Any = body
        try:
            for step in path[:-1]:
                target = target[step]
            if value == "delete":
                del target[path[-1]]
            else:
                target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced the path
    return body


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service), raise_server_exceptions=False) as client:
        yield client


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=_CHANGES)
def test_a_changed_event_is_never_a_server_error(
    client: TestClient, service: Service, auth: dict[str, str], changes: Any
) -> None:
    n = next(_examples)
    body = _changed(changes, n)
    batch_body = copy.deepcopy(body)
    if isinstance(batch_body.get("event_id"), str):
        batch_body["event_id"] += "-b"

    single = client.post("/v1/events", json=body, headers=auth)
    batch = client.post("/v1/events/batch", json={"events": [batch_body]}, headers=auth)
    drain(service)

    assert single.status_code in (200, 202, 409, 422), single.text
    assert batch.status_code == 207, batch.text
    [result] = batch.json()["results"]
    assert result["status"] in (200, 202, 409, 422), result
    accepted = [a for a in (single.json(), result) if "event_id" in a]
    with service.engine.connect() as connection:
        for answer in accepted:
            stored = connection.execute(
                select(func.count())
                .select_from(db.events)
                .where(db.events.c.event_id == answer["event_id"])
            ).scalar()
            assert stored == 1
        dead = connection.execute(
            select(func.count()).select_from(db.notifications).where(db.notifications.c.dead)
        ).scalar()
    assert dead == 0  # nothing accepted failed to render or to send
