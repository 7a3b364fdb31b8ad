"""Random late, repeated and reordered events against a simple model of a return's story.

Events of several returns are posted in a random order, some several times, singly or in
batches. The model: an event that happened before the status known when it arrives is
stale (recorded, sends nothing); otherwise it becomes the status and plans its messages;
a repeat is a duplicate and changes nothing. Every event is recorded before the first
delivery, so a progress message is skipped when a later event of its return (not stale)
sends the customer a message of its own, and sent otherwise.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from notifier import db
from notifier.delivery.supersession import PROGRESS
from notifier.http.app import create_app
from notifier.lifecycle import EVENT_TYPES, ROUTES
from notifier.service import Service
from tests.drain import drain
from tests.factories import event

_examples = itertools.count()


@dataclass(frozen=True)
class Posted:
    event_id: str
    return_id: str
    type: str
    day: int

    def body(self) -> dict[str, object]:
        at = f"2026-11-{self.day:02d}T10:00:00+01:00"
        return event(self.type, self.event_id, return_id=self.return_id, occurred_at=at)


@st.composite
def stories(draw: st.DrawFn) -> tuple[list[Posted], list[list[int]]]:
    """Events of up to three returns, and the arrival order as chunks of indexes."""
    events = []
    for r in range(draw(st.integers(1, 3))):
        for e in range(draw(st.integers(1, 5))):
            kind = draw(st.sampled_from(EVENT_TYPES))
            events.append(Posted(f"e{r}.{e}", f"R{r}", kind, draw(st.integers(1, 6))))
    arrivals = [i for i in range(len(events)) for _ in range(draw(st.integers(1, 3)))]
    arrivals = draw(st.permutations(arrivals))
    cuts = sorted(draw(st.sets(st.integers(1, max(len(arrivals) - 1, 1)), max_size=4)))
    bounds = [0, *cuts, len(arrivals)]
    chunks = [arrivals[a:b] for a, b in itertools.pairwise(bounds) if a < b]
    return events, chunks


@dataclass
class Model:
    """What the service should say and send, computed the simple way."""

    status: dict[str, tuple[str, int]]
    stale: dict[str, bool]
    first_seen: dict[str, int]

    @classmethod
    def run(cls, events: list[Posted], arrivals: list[int]) -> Model:
        model = cls({}, {}, {})
        for index in arrivals:
            posted = events[index]
            if posted.event_id in model.stale:
                continue
            model.first_seen[posted.event_id] = len(model.first_seen)
            known = model.status.get(posted.return_id)
            model.stale[posted.event_id] = known is not None and posted.day < known[1]
            if not model.stale[posted.event_id]:
                model.status[posted.return_id] = (posted.type, posted.day)
        return model

    def messages(self, events: list[Posted]) -> dict[tuple[str, str], str]:
        """The status of each planned message, by event id and channel, once all are delivered."""
        outcome = {}
        for posted in events:
            if self.stale[posted.event_id]:
                continue
            status = "skipped" if self._superseded(posted, events) else "sent"
            route = ROUTES[posted.type]
            outcome |= {(posted.event_id, "email"): status} if route.email else {}
            outcome |= {(posted.event_id, "sms"): status} if route.sms else {}
        return outcome

    def _superseded(self, posted: Posted, events: list[Posted]) -> bool:
        return posted.type in PROGRESS and any(
            later.return_id == posted.return_id
            and later.day > posted.day
            and not self.stale[later.event_id]
            and (ROUTES[later.type].email or ROUTES[later.type].sms)
            for later in events
        )


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as client:
        yield client


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=stories())
def test_the_timeline_and_the_messages_match_the_model(
    client: TestClient,
    service: Service,
    auth: dict[str, str],
    story: tuple[list[Posted], list[list[int]]],
) -> None:
    prefix = f"x{next(_examples)}-"
    events = [Posted(prefix + p.event_id, prefix + p.return_id, p.type, p.day) for p in story[0]]
    chunks = story[1]
    model = Model.run(events, [i for chunk in chunks for i in chunk])

    statuses = []
    for chunk in chunks:
        bodies = [events[i].body() for i in chunk]
        if len(bodies) == 1:
            statuses.append(client.post("/v1/events", json=bodies[0], headers=auth).status_code)
        else:
            answer = client.post("/v1/events/batch", json={"events": bodies}, headers=auth)
            statuses.extend(r["status"] for r in answer.json()["results"])
    drain(service)

    firsts: list[bool] = []
    seen: set[str] = set()
    for index in (i for chunk in chunks for i in chunk):
        firsts.append(events[index].event_id not in seen)
        seen.add(events[index].event_id)
    assert statuses == [202 if first else 200 for first in firsts]
    delivered: dict[tuple[str, str], str] = {}
    for return_id in sorted({p.return_id for p in events}):
        story_answer = client.get(f"/v1/returns/{return_id}", headers=auth).json()
        mine = [p for p in events if p.return_id == return_id]
        expected = sorted(mine, key=lambda p: (p.day, model.first_seen[p.event_id]))
        assert story_answer["status"] == model.status[return_id][0]
        assert [(t["event_id"], t["stale"]) for t in story_answer["timeline"]] == [
            (p.event_id, model.stale[p.event_id]) for p in expected
        ]
        for note in story_answer["notifications"]:
            delivered[note["event_id"], note["channel"]] = note["status"]
        assert len(story_answer["notifications"]) == len(
            {(n["event_id"], n["channel"]) for n in story_answer["notifications"]}
        )
    assert delivered == model.messages(events)
    _assert_each_message_written_once(service, prefix)


def _assert_each_message_written_once(service: Service, prefix: str) -> None:
    """Each sent message is in the outbox once, and no skipped one is."""
    n = db.notifications.c
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(n.id, n.channel, n.status).where(n.return_id.startswith(prefix))
        ).all()
    outbox = service.settings.outbox_dir
    sms_file = outbox / "sms.jsonl"
    lines = sms_file.read_text().splitlines() if sms_file.exists() else []
    sms_ids = [json.loads(line)["id"] for line in lines]
    for row in rows:
        written = 1 if row.status == "sent" else 0
        if row.channel == "sms":
            assert sms_ids.count(row.id) == written
        else:
            assert (outbox / f"{row.id}.eml").exists() == bool(written)
