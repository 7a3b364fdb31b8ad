"""Single events posted at the same moment: stored in shared transactions, each answered as if
posted alone, on SQLite (writer thread) and PostgreSQL (on the event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from notifier import db
from notifier.http import create_app
from notifier.intake import GroupCommit, Intake, PostgresGroupCommit, group_commit_for
from notifier.intake.groups import store_or_split, store_or_split_async
from notifier.service import Service
from tests.factories import event


class _Queue:
    """Records what is handed over."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, event_pks: Sequence[int]) -> None:
        self.calls.append(list(event_pks))


def _with_queue(service: Service, queue: _Queue) -> Service:
    intake = Intake(service.engine, queue)
    return replace(service, intake=intake, group_commit=group_commit_for(service.engine, intake))


async def _post_all(
    services: Sequence[Service], bodies: Sequence[dict[str, Any]], auth: dict[str, str]
) -> list[httpx.Response]:
    """Post every body at once, each to the next service in turn (two API processes)."""
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(s)), base_url="http://t")
        for s in services
    ]
    try:
        return await asyncio.gather(
            *(
                clients[n % len(clients)].post("/v1/events", json=body, headers=auth)
                for n, body in enumerate(bodies)
            )
        )
    finally:
        for client in clients:
            await client.aclose()


def _stored(service: Service) -> list[tuple[str, str]]:
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(db.events.c.event_id, db.events.c.return_id).order_by(db.events.c.pk)
        )
        return [(row.event_id, row.return_id) for row in rows]


def test_events_posted_together_share_transactions_and_keep_their_own_answers(
    service: Service, auth: dict[str, str]
) -> None:
    queue = _Queue()
    grouped = _with_queue(service, queue)
    types = ["return.requested", "return.approved", "return.label_created", "return.in_transit"]
    bodies = [
        event(
            types[n // 5],
            f"evt-{n}",
            return_id=f"RMA-{n % 5}",
            occurred_at=f"2026-11-2{n // 5}T10:00:00+01:00",
        )
        for n in range(20)
    ]
    bodies += [
        event(
            "return.requested", "evt-0", return_id="RMA-0", occurred_at="2026-11-20T10:00:00+01:00"
        )
    ]
    bodies += [event("return.cancelled", "evt-1", return_id="RMA-1")]  # evt-1 reused

    try:
        answers = asyncio.run(_post_all([grouped], bodies, auth))
    finally:
        grouped.group_commit.close()

    assert [a.status_code for a in answers] == [202] * 20 + [200, 409]
    assert answers[20].json() == {"event_id": "evt-0", "return_id": "RMA-0", "duplicate": True}
    assert "evt-1" in answers[21].json()["detail"]
    assert sorted(_stored(service)) == sorted((f"evt-{n}", f"RMA-{n % 5}") for n in range(20))
    handed = [pk for call in queue.calls for pk in call]
    assert sorted(handed) == sorted(set(handed)) and len(handed) == 20
    assert len(queue.calls) < 20  # handed over (and so stored) in groups, not one by one
    with service.engine.connect() as connection:
        statuses = dict(
            connection.execute(select(db.returns.c.return_id, db.returns.c.status)).all()
        )
    assert statuses == {f"RMA-{r}": "return.in_transit" for r in range(5)}


def test_two_api_processes_racing_on_the_same_events_store_each_once(
    service: Service, make_service: Any, auth: dict[str, str]
) -> None:
    other = make_service(service.settings)
    bodies = [event(event_id=f"evt-{n % 10}", return_id=f"RMA-{n % 10 % 3}") for n in range(40)]

    answers = asyncio.run(_post_all([service, other], bodies, auth))

    assert {a.status_code for a in answers} == {200, 202}
    accepted = sorted(a.json()["event_id"] for a in answers if a.status_code == 202)
    assert accepted == sorted(f"evt-{n}" for n in range(10))
    assert len(_stored(service)) == 10


class _GroupsFail(Intake):
    """Fails any transaction of more than one event, as a transient error would."""

    def store_many(self, api_key: str, payloads: Sequence[Any]) -> Any:
        if len(payloads) > 1:
            raise ConnectionError("the group's transaction failed")
        return super().store_many(api_key, payloads)


class _PostgresGroupsFail(PostgresGroupCommit):
    async def _store_group(self, api_key: str, payloads: Sequence[Any]) -> Any:
        if len(payloads) > 1:
            raise ConnectionError("the group's transaction failed")
        return await super()._store_group(api_key, payloads)


def test_when_a_group_fails_its_events_are_stored_one_by_one(
    service: Service, auth: dict[str, str]
) -> None:
    queue = _Queue()
    intake = _GroupsFail(service.engine, queue)
    committer: GroupCommit | PostgresGroupCommit = GroupCommit(intake)
    if service.engine.dialect.name == "postgresql":
        committer = _PostgresGroupsFail(service.engine, intake)
    failing = replace(service, intake=intake, group_commit=committer)
    bodies = [event(event_id=f"evt-{n}", return_id=f"RMA-{n}") for n in range(6)]

    try:
        answers = asyncio.run(_post_all([failing], bodies, auth))
    finally:
        committer.close()

    assert [a.status_code for a in answers] == [202] * 6
    assert sorted(_stored(service)) == sorted((f"evt-{n}", f"RMA-{n}") for n in range(6))
    assert sorted(pk for call in queue.calls for pk in call) == list(range(1, 7))


def _run_in_thread(group: list[str], store: Callable[[list[str]], Any]) -> list[Any]:
    return store_or_split(group, store)


def _run_on_loop(group: list[str], store: Callable[[list[str]], Any]) -> list[Any]:
    async def awaited(part: list[str]) -> Any:
        await asyncio.sleep(0)
        return store(part)

    return asyncio.run(store_or_split_async(group, awaited))


@pytest.mark.parametrize(
    ("group", "transactions", "parts"),
    [
        (["a", "b"], [["a", "b"]], [(["a", "b"], ["a b"])]),
        (
            ["a", "bad", "c"],
            [["a", "bad", "c"], ["a"], ["bad"], ["c"]],
            [(["a"], ["a"]), (["bad"], "refused: bad"), (["c"], ["c"])],
        ),
        (["bad"], [["bad"]], [(["bad"], "refused: bad")]),
    ],
)
@pytest.mark.parametrize("run", [_run_in_thread, _run_on_loop], ids=["thread", "event loop"])
def test_a_group_is_stored_whole_else_one_by_one_the_same_way_by_both_writers(
    run: Callable[[list[str], Callable[[list[str]], Any]], list[Any]],
    group: list[str],
    transactions: list[list[str]],
    parts: list[tuple[list[str], Any]],
) -> None:
    # Given a store whose transaction fails whenever it holds the event "bad"
    tried: list[list[str]] = []

    def store(part: list[str]) -> list[str]:
        tried.append(part)
        if "bad" in part:
            raise ConnectionError("refused: bad")
        return [" ".join(part)]

    # When a group is stored, by the thread writer's driver or the event loop's
    outcomes = run(group, store)

    # Then a group that fails is stored again one event at a time, and only the event that
    # fails alone gets the error as its answer
    assert tried == transactions
    assert [(part, _shown(outcome)) for part, outcome in outcomes] == parts


def _shown(outcome: Any) -> Any:
    return str(outcome) if isinstance(outcome, Exception) else outcome


def test_an_unreachable_database_is_a_503_that_invites_a_retry(
    service: Service, auth: dict[str, str]
) -> None:
    if service.engine.dialect.name == "postgresql":
        broken = create_engine("postgresql+psycopg://notifier@127.0.0.1:9/none?connect_timeout=2")
    else:
        broken = create_engine("sqlite:////nonexistent-dir/notifier.db")
    intake = Intake(broken, _Queue())
    down = replace(service, intake=intake, group_commit=group_commit_for(broken, intake))

    async def post() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(down)), base_url="http://t"
        ) as client:
            single = await client.post("/v1/events", json=event(), headers=auth)
            batch = await client.post("/v1/events/batch", json={"events": [event()]}, headers=auth)
            return [single, batch]

    try:
        answers = asyncio.run(post())
    finally:
        down.group_commit.close()

    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        assert "retry later" in answer.json()["detail"]
    with service.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(db.events)).scalar() == 0


def test_the_event_path_answers_other_methods_with_405(service: Service) -> None:
    async def get() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(service)), base_url="http://t"
        ) as client:
            return await client.get("/v1/events")

    answer = asyncio.run(get())

    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


def test_postgresql_groups_are_stored_on_the_event_loop(service: Service) -> None:
    expected = PostgresGroupCommit if service.engine.dialect.name == "postgresql" else GroupCommit
    assert isinstance(service.group_commit, expected)
