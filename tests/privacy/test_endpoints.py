"""``GET /v1/customers/{id}/data`` and ``DELETE /v1/customers/{id}``: what they answer,
whom they refuse, and what the privacy audit keeps of them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from notifier import db
from notifier.http import create_app
from notifier.privacy import fingerprint
from notifier.service import Service
from tests.privacy.support import CUSTOMER, EMAIL, PHONE

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_a_customer_is_handed_everything_stored_about_them(
    busy: tuple[Service, TestClient], auth: dict[str, str]
) -> None:
    # Given the canary customer's data everywhere
    service, client = busy

    # When their data is asked for
    answer = client.get(f"/v1/customers/{CUSTOMER}/data", headers=auth)

    # Then it holds their returns with each event as posted, every message in clear, their
    # preferences and the suppression of their address
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert {r["return_id"] for r in data["returns"]} == {"RMA-CANARY", "RMA-CANARY-2"}
    events = [e for r in data["returns"] for e in r["events"]]
    assert {e["payload"]["customer"]["email"] for e in events} == {EMAIL}
    assert {n["recipient"] for n in data["notifications"]} >= {EMAIL, PHONE}
    assert any(EMAIL in (n["last_error"] or "") for n in data["notifications"])
    assert data["preferences"]["locale"] == "en"
    assert [(s["channel"], s["address"]) for s in data["suppressions"]] == [("email", EMAIL)]

    # And the audit records who asked and when, naming the customer only by fingerprint
    with service.engine.connect() as connection:
        audit = connection.execute(select(db.privacy_audit)).one()
    assert (audit.actor, audit.action, audit.subject) == ("shop", "access", fingerprint(CUSTOMER))
    assert audit.counts == {
        "returns": 2,
        "notifications": len(data["notifications"]),
        "suppressions": 1,
    }
    assert EMAIL not in str(tuple(audit)) and CUSTOMER not in str(tuple(audit))


@SQLITE_ONLY
def test_an_unknown_customer_has_nothing_to_hand_over_or_erase(
    service: Service, auth: dict[str, str]
) -> None:
    with TestClient(create_app(service)) as client:
        # When a customer never seen is asked for, and erased
        data = client.get("/v1/customers/C-NOBODY/data", headers=auth)
        erased = client.delete("/v1/customers/C-NOBODY", headers=auth)

    # Then there is nothing to hand over, and nothing was erased
    assert data.status_code == 404
    assert data.json() == {"detail": "nothing is stored about customer 'C-NOBODY'"}
    assert erased.status_code == 200
    assert erased.json()["customer_id"] == "C-NOBODY"
    assert set(erased.json()["erased"].values()) == {0}


@SQLITE_ONLY
def test_the_endpoints_refuse_a_missing_key_and_an_unusable_id(
    service: Service, auth: dict[str, str]
) -> None:
    with TestClient(create_app(service)) as client:
        # When they are called without a key, or with an id intake would never store
        anonymous = [
            client.get(f"/v1/customers/{CUSTOMER}/data").status_code,
            client.delete(f"/v1/customers/{CUSTOMER}").status_code,
        ]
        too_long = client.delete("/v1/customers/" + "x" * 129, headers=auth)

    # Then they are refused, the 422 naming the path parameter
    assert anonymous == [401, 401]
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["path", "customer_id"]
    with service.engine.connect() as connection:
        assert connection.execute(select(db.privacy_audit)).all() == []
