"""Which LLM API failures are retried, how they are told, and Retry-After in its three spellings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import openai
import pytest

from arxivbot.summarize.retry import (
    RetriesExhausted,
    call_with_retries,
    describe_api_error,
    is_retryable,
    llm_retry_policy,
)

KEY = "sk-test-7d41c0e9b2a84f65a3e1"


def status_error(status: int, headers: dict[str, str] | None = None, message: str = "") -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, request=request)
    return openai.APIStatusError(message or f"HTTP {status}", response=response, body=None)  # type: ignore[arg-type]


def failing(*errors: Exception) -> tuple[Callable[[], str], list[int]]:
    """A call that raises ``errors`` in turn, then answers "ok"; and the list of its attempts."""
    attempts: list[int] = []

    def call() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return "ok"

    return call, attempts


def test_backoff_doubles_and_is_capped_at_30_seconds() -> None:
    sleeps: list[float] = []
    call, _ = failing(*(status_error(500) for _ in range(7)))

    assert call_with_retries(call, policy=llm_retry_policy(7, sleeps.append), what="x") == "ok"

    for delay, base in zip(sleeps, [1.0, 2.0, 4.0, 8.0, 16.0], strict=False):
        assert base <= delay <= base * 1.1  # up to 10 % of jitter
    assert sleeps[5:] == [30.0, 30.0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "12"}, 12.0), ({"retry-after-ms": "2500"}, 2.5), ({"Retry-After": "600"}, 120.0)],
    ids=["seconds", "milliseconds", "capped"],
)
def test_retry_after_wins_when_longer_than_the_backoff(headers: dict[str, str], expected: float) -> None:
    sleeps: list[float] = []
    call, _ = failing(status_error(429, headers))

    call_with_retries(call, policy=llm_retry_policy(2, sleeps.append), what="x")

    assert sleeps == [expected]


def test_retry_after_as_an_http_date() -> None:
    sleeps: list[float] = []
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    call, _ = failing(status_error(503, {"Retry-After": when}))

    call_with_retries(call, policy=llm_retry_policy(2, sleeps.append), what="x")

    (delay,) = sleeps
    assert 28 <= delay <= 30  # whole seconds in the header, and a moment has passed


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (503, True),
        (400, False),
        (401, False),
        (404, False),
        (413, False),
    ],
)
def test_which_statuses_are_retried(status: int, retried: bool) -> None:
    assert is_retryable(status_error(status)) is retried


def test_connection_failures_and_timeouts_are_retried_and_told_apart() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    timeout, refused = openai.APITimeoutError(request=request), openai.APIConnectionError(request=request)

    assert is_retryable(timeout) and is_retryable(refused)
    assert (describe_api_error(timeout), describe_api_error(refused)) == ("timed out", "connection failed")


def test_attempts_are_bounded_and_non_retryable_errors_are_raised_at_once() -> None:
    sleeps: list[float] = []
    call, attempts = failing(*(status_error(502) for _ in range(10)))

    with pytest.raises(RetriesExhausted) as exhausted:
        call_with_retries(call, policy=llm_retry_policy(3, sleeps.append), what="x")
    assert (len(attempts), len(sleeps), exhausted.value.attempts) == (4, 3, 4)
    assert str(exhausted.value) == "HTTP 502 after 4 attempts"
    assert isinstance(exhausted.value.last, openai.APIStatusError)

    call, attempts = failing(status_error(400), status_error(400))
    with pytest.raises(openai.APIStatusError):
        call_with_retries(call, policy=llm_retry_policy(3, sleeps.append), what="x")
    assert attempts == [1]


def test_the_retry_warning_never_quotes_the_server(caplog: pytest.LogCaptureFixture) -> None:
    # A server may echo the key in its error text; the warning says only the kind and the status.
    call, _ = failing(status_error(429, {"Retry-After": "2"}, message=f"rate limited for key {KEY}"))

    with caplog.at_level(logging.WARNING):
        call_with_retries(call, policy=llm_retry_policy(4, lambda s: None), what="2501.00001v1: summary request")

    assert [r.getMessage() for r in caplog.records] == [
        "2501.00001v1: summary request: HTTP 429; retrying in 2.0 s (attempt 1 of 5)"
    ]
    assert KEY not in caplog.text and KEY[-8:] not in caplog.text
