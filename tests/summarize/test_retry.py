"""The retry policy's arithmetic: backoff growth, caps, and Retry-After in its three spellings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import openai
import pytest

from arxivbot.summarize.retry import RetriesExhausted, RetryPolicy, call_with_retries, is_retryable


def status_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, request=request)
    return openai.APIStatusError(f"HTTP {status}", response=response, body=None)  # type: ignore[arg-type]


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(backoff_base=1.0, max_backoff=5.0)
    delays = [policy.delay(attempt, status_error(500)) for attempt in (1, 2, 3, 4)]

    assert 1.0 <= delays[0] <= 1.1 and 2.0 <= delays[1] <= 2.2 and 4.0 <= delays[2] <= 4.4
    assert 5.0 <= delays[3] <= 5.5


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "12"}, 12.0), ({"retry-after-ms": "2500"}, 2.5), ({"Retry-After": "600"}, 120.0)],
    ids=["seconds", "milliseconds", "capped"],
)
def test_retry_after_wins_when_longer_than_the_backoff(headers: dict[str, str], expected: float) -> None:
    assert RetryPolicy(backoff_base=0.1).delay(1, status_error(429, headers)) == expected


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    delay = RetryPolicy(backoff_base=0.1).delay(1, status_error(503, {"Retry-After": when}))

    assert 28 <= delay <= 30


@pytest.mark.parametrize(
    ("status", "retried"),
    [(429, True), (500, True), (503, True), (408, True), (400, False), (401, False), (404, False), (413, False)],
)
def test_which_statuses_are_retried(status: int, retried: bool) -> None:
    assert is_retryable(status_error(status)) is retried


def test_attempts_are_bounded_and_non_retryable_errors_are_raised_at_once() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def always(status: int) -> object:
        calls.append(status)
        raise status_error(status)

    with pytest.raises(RetriesExhausted) as exhausted:
        call_with_retries(lambda: always(502), policy=RetryPolicy(max_retries=3, sleep=sleeps.append), what="x")
    assert (len(calls), len(sleeps), exhausted.value.attempts) == (4, 3, 4)
    assert str(exhausted.value) == "HTTP 502 after 4 attempts"

    calls.clear()
    with pytest.raises(openai.APIStatusError):
        call_with_retries(lambda: always(400), policy=RetryPolicy(max_retries=3, sleep=sleeps.append), what="x")
    assert calls == [400]
