"""A status hook in the console: named for what it tells, its body shown as it is sent."""

from __future__ import annotations

import html
import json

from fastapi.testclient import TestClient

from notifier.service import Service
from tests.delivery_support import accept, subscribe
from tests.factories import event


def test_a_status_hook_reads_well_on_the_return_page_and_shows_its_body(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given a subscriber told of failures, and a refund whose SMS failed for good
    subscribe(service, "http://127.0.0.1:9/crm", "whsec_" + "A" * 32, ["notification.*"])
    ids = accept(service, event(policy={"return_shipping": "paid", "shipping_cost": None}))
    [hook] = service.deliverer.deliver(ids["sms"]).hooks

    # When staff open the return, and the hook
    page = signed_in_client.get("/staff/returns/RMA-1001")
    opened = signed_in_client.get(f"/staff/returns/RMA-1001/notifications/{hook}")

    # Then it is named in Dutch for what it tells, and shows the JSON the subscriber gets
    assert page.status_code == 200
    assert "Berichtstatus: mislukt" in page.text
    assert "notification.failed" not in page.text
    assert opened.status_code == 200, opened.text
    text = html.unescape(opened.text)
    assert '"type": "notification.failed"' in text
    assert f'"id": "{ids["sms"]}"' in text
    assert json.dumps("+316*****678") in text
