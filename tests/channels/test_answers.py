"""The one rule every channel applies to a provider's refusal."""

from __future__ import annotations

from typing import Any

import pytest

from channels.answers import classify
from channels.errors import ChannelError, PermanentChannelError, TransientChannelError

#: The provider's answer -> the error class and the attributes it carries.
ANSWERS: list[Any] = [
    pytest.param(
        {"status": None, "reason": "could not be reached: refused", "retry_after": 9.0},
        TransientChannelError,
        {"status": None, "retry_after": None, "message": "Acme could not be reached: refused"},
        id="no-answer",
    ),
    pytest.param(
        {"status": 429, "reason": "too many", "retry_after": 30.0},
        TransientChannelError,
        {"status": 429, "retry_after": 30.0, "message": "Acme rate limit: too many"},
        id="429-retry-after",
    ),
    pytest.param(
        {"status": 429, "reason": "too many"},
        TransientChannelError,
        {"status": 429, "retry_after": None},
        id="429-no-wait-given",
    ),
    pytest.param(
        {"status": 400, "reason": "slow down", "code": "20429", "rate_limited": True},
        TransientChannelError,
        {"status": 400, "code": "20429", "message": "Acme rate limit: slow down"},
        id="provider-rate-limit-code",
    ),
    pytest.param(
        {"status": 500, "reason": "boom"},
        TransientChannelError,
        {"status": 500, "retry_after": None, "message": "Acme server error: boom"},
        id="500",
    ),
    pytest.param(
        {"status": 503, "reason": "maintenance", "retry_after": 5.0},
        TransientChannelError,
        {"status": 503, "retry_after": 5.0},
        id="503-retry-after",
    ),
    pytest.param(
        {"status": 599, "reason": "odd"},
        TransientChannelError,
        {"status": 599},
        id="599",
    ),
    pytest.param(
        {"status": 400, "reason": "bad address", "code": "21211", "retry_after": 5.0},
        PermanentChannelError,
        {"status": 400, "code": "21211", "reason": "bad address", "message": "bad address"},
        id="400-wait-ignored",
    ),
    pytest.param(
        {"status": 401, "reason": "bad key"},
        PermanentChannelError,
        {"status": 401, "reason": "bad key"},
        id="401",
    ),
    pytest.param(
        {"status": 403, "reason": "forbidden"},
        PermanentChannelError,
        {"status": 403, "reason": "forbidden"},
        id="403",
    ),
    pytest.param(
        {"status": 404, "reason": "HTTP 404"},
        PermanentChannelError,
        {"status": 404, "reason": "HTTP 404"},
        id="404",
    ),
    pytest.param(
        {"status": 410, "reason": "HTTP 410"},
        PermanentChannelError,
        {"status": 410, "gone": False, "opt_out": False},
        id="410-gone-is-the-webhook's-own",
    ),
    pytest.param(
        {"status": 413, "reason": "too large"},
        PermanentChannelError,
        {"status": 413, "reason": "too large"},
        id="413",
    ),
    pytest.param(
        {"status": 422, "reason": "unprocessable"},
        PermanentChannelError,
        {"status": 422},
        id="422",
    ),
    pytest.param(
        {"status": 301, "reason": "moved"},
        PermanentChannelError,
        {"status": 301},
        id="301",
    ),
]


@pytest.mark.parametrize(("answer", "error_class", "attributes"), ANSWERS)
def test_provider_answers_are_transient_or_permanent(
    answer: dict[str, Any], error_class: type[ChannelError], attributes: dict[str, Any]
) -> None:
    # Given a provider's refusal (or no answer at all)
    options = {k: v for k, v in answer.items() if k not in ("status", "reason")}

    # When it is classified
    error = classify(answer["status"], answer["reason"], provider="Acme", **options)

    # Then it is the expected kind of error, carrying what the provider said
    assert type(error) is error_class
    for name, expected in attributes.items():
        actual = str(error) if name == "message" else getattr(error, name)
        assert actual == expected, name
