"""The canary customer of the privacy tests: values planted in every place personal data
reaches, and the search for them in every table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from notifier import db
from notifier.service import Service
from tests.factories import event

NAME = "Xanthippe Quagmirebottom"
EMAIL = "xanthippe.canary@example.nl"
PHONE = "+31687654321"
TOKEN = "quagmire77token"
#: What must not be found anywhere afterwards (case-insensitive).
CANARIES = ("xanthippe", "quagmirebottom", EMAIL, "687654321", TOKEN)
CUSTOMER = "C-CANARY"


def canary_event(event_id: str, type: str, return_id: str = "RMA-CANARY") -> dict[str, Any]:
    """An event whose every personal field, free text and URL query holds a canary."""
    body = event(
        type,
        event_id,
        return_id=return_id,
        customer={"id": CUSTOMER, "name": NAME, "email": EMAIL, "phone": PHONE},
    )
    body["return"]["status_url"] = f"https://shop.example/r/{return_id}?token={TOKEN}&e={EMAIL}"
    body["return"]["inspection"] = {
        "outcome": "accepted",
        "note": f"Quagmirebottom asked to be called on {PHONE}",
    }
    return body


def leftovers(service: Service) -> list[str]:
    """Every row of every table, stringified, that still holds a canary."""
    found = []
    with service.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                text = str(tuple(row)).lower()
                found += [f"{table.name}: {c}" for c in CANARIES if c.lower() in text]
    return found


def planted(service: Service) -> dict[str, int]:
    """How many rows of each table hold a canary (to check the planting reached them)."""
    counts: dict[str, int] = {}
    for line in leftovers(service):
        table = line.split(":")[0]
        counts[table] = counts.get(table, 0) + 1
    return counts
