"""The example the README tells newcomers to post is the CONTRACT's, and it is valid."""

from __future__ import annotations

import json
from pathlib import Path

from notifier.http import EXAMPLE_EVENT, EventIn

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "refund_issued.json"


def test_the_readme_example_is_the_contract_example() -> None:
    example = json.loads(EXAMPLE.read_text())

    assert example == EXAMPLE_EVENT
    assert EventIn.model_validate(example).type == "return.refund_issued"
