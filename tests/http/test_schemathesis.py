"""Schemathesis over the app's own ``/openapi.json``: for every operation it lists (so an
endpoint added later is covered without a change here), valid and invalid requests with the
API key or staff token are answered without a 5xx, with a status code the operation
documents, and with the content type and body its documentation gives for that status.

The run is fixed: a set seed (derandomized) and a bounded number of examples per operation
and mode, in process over ASGI, on SQLite (about 20 s: marked slow).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from notifier.http import create_app
from notifier.service import Service
from tests.conftest import API_KEY

#: Examples per operation and generation mode.
EXAMPLES = 8
#: The checks every answer must pass.
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def operations(service: Service) -> Iterator[list[Any]]:
    """Every operation of the app's OpenAPI document, loaded over ASGI."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(service))
    yield [result.ok() for result in schema.get_all_operations()]


def _headers(service: Service, path: str) -> dict[str, str]:
    """What a real caller of ``path`` sends to be let in."""
    if path.startswith("/staff"):
        [token] = service.settings.staff_tokens.values()
        return {"Authorization": f"Bearer {token}"}
    if path.startswith("/v1/") and not path.startswith("/v1/providers/"):
        return {"Authorization": f"Bearer {API_KEY}"}
    return {}


def _explore(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """Run ``EXAMPLES`` requests of ``mode`` against ``operation``; the failures found."""
    failures: list[str] = []

    @given(
        case=operation.as_strategy(
            generation_mode=mode, phase=TestPhase.EXAMPLES, feedback=FeedbackSources()
        )
    )
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except FailureGroup as found:
            failures.extend(
                f"{operation.label} ({mode.value}): {type(failure).__name__}: {failure.title}; "
                f"{failure.message}"
                for failure in found.exceptions
            )

    try:
        run()
    except Unsatisfiable:  # nothing in the operation can be made invalid
        assert mode == GenerationMode.NEGATIVE
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_answers_as_documented(service: Service, operations: list[Any]) -> None:
    # Given every operation of the document, the caller's credentials for each
    # When schemathesis sends each valid and invalid requests
    failures = [
        failure
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for failure in _explore(operation, mode, _headers(service, operation.path))
    ]

    # Then every answer was a documented one, in its documented form, and none a 5xx
    assert len(operations) >= 14
    assert not failures, "\n\n".join(failures)
