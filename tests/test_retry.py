"""The one retry policy: bounds, backoff, Retry-After, and the same warning line from all three of its users."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import openai
import pytest

from arxivbot.arxiv.api import fetch_window
from arxivbot.arxiv.client import PoliteClient
from arxivbot.retry import RetriesExhausted, Retryable, RetryPolicy, parse_retry_after, server_retry_after
from arxivbot.summarize.retry import call_with_retries, llm_retry_policy
from tests.conftest import OWN_FIXTURES
from tests.faketime import FakeTime


class Flaky(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = Retryable(reason, retry_after)


def judge(err: Exception) -> Retryable | None:
    return err.retryable if isinstance(err, Flaky) else None


def failing_then(answer: str, *errors: Exception) -> tuple[list[int], Callable[[], str]]:
    attempts: list[int] = []

    def call() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return answer

    return attempts, call


# --- the policy --------------------------------------------------------------------------------------


def test_failures_are_retried_with_a_doubling_backoff_until_an_answer() -> None:
    sleeps: list[float] = []
    attempts, call = failing_then("done", Flaky("HTTP 503"), Flaky("HTTP 503"), Flaky("timed out"))

    assert RetryPolicy(max_retries=3, backoff_base=2.0, sleep=sleeps.append).call(call, what="x", judge=judge) == "done"

    assert attempts == [1, 2, 3, 4] and len(sleeps) == 3
    for delay, base in zip(sleeps, [2.0, 4.0, 8.0], strict=True):
        assert base <= delay <= base * 1.1


def test_exhaustion_carries_the_last_failure_and_the_attempt_count() -> None:
    sleeps: list[float] = []
    last = Flaky("HTTP 502")
    attempts, call = failing_then("never", Flaky("timed out"), last)

    with pytest.raises(RetriesExhausted) as exhausted:
        RetryPolicy(max_retries=1, sleep=sleeps.append).call(call, what="x", judge=judge)

    assert (exhausted.value.last, exhausted.value.attempts, exhausted.value.reason) == (last, 2, "HTTP 502")
    assert str(exhausted.value) == "HTTP 502 after 2 attempts" and len(sleeps) == 1 and attempts == [1, 2]


def test_what_the_judge_rejects_is_raised_at_once_unchanged() -> None:
    sleeps: list[float] = []
    refused = ValueError("HTTP 404")
    attempts, call = failing_then("never", refused)

    with pytest.raises(ValueError) as caught:
        RetryPolicy(sleep=sleeps.append).call(call, what="x", judge=judge)

    assert caught.value is refused and attempts == [1] and sleeps == []


def test_zero_retries_is_one_attempt() -> None:
    sleeps: list[float] = []
    attempts, call = failing_then("never", Flaky("HTTP 503"))

    with pytest.raises(RetriesExhausted, match=r"^HTTP 503 after 1 attempt$"):
        RetryPolicy(max_retries=0, sleep=sleeps.append).call(call, what="x", judge=judge)

    assert attempts == [1] and sleeps == []


@pytest.mark.parametrize(
    ("asked", "low", "high"),
    [(None, 1.0, 1.1), (0.5, 1.0, 1.1), (7.0, 7.0, 7.0), (500.0, 60.0, 60.0)],
    ids=["no ask", "shorter than the backoff", "longer", "capped"],
)
def test_the_servers_retry_after_wins_when_longer_up_to_a_cap(asked: float | None, low: float, high: float) -> None:
    sleeps: list[float] = []
    _, call = failing_then("ok", Flaky("HTTP 429", asked))

    RetryPolicy(max_retry_after=60.0, sleep=sleeps.append).call(call, what="x", judge=judge)

    (delay,) = sleeps
    assert low <= delay <= high


def test_the_backoff_is_capped() -> None:
    sleeps: list[float] = []
    _, call = failing_then("ok", *(Flaky("HTTP 500") for _ in range(4)))

    RetryPolicy(max_retries=4, backoff_base=10.0, max_backoff=25.0, sleep=sleeps.append).call(
        call, what="x", judge=judge
    )

    assert 10.0 <= sleeps[0] <= 11.0 and 20.0 <= sleeps[1] <= 22.0 and sleeps[2:] == [25.0, 25.0]


# --- Retry-After, in one place --------------------------------------------------------------------------


def test_retry_after_as_delay_seconds_or_an_http_date() -> None:
    in_a_minute = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=60), usegmt=True)
    seconds = parse_retry_after(in_a_minute)

    assert seconds is not None and 58.0 <= seconds <= 60.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait asked
    assert parse_retry_after("soon") is None and parse_retry_after("") is None and parse_retry_after(None) is None


def test_retry_after_ms_comes_first_and_headers_are_case_insensitive() -> None:
    assert server_retry_after(httpx.Headers({"Retry-After-Ms": "1500", "Retry-After": "9"})) == 1.5
    assert server_retry_after(httpx.Headers({"retry-after-ms": "soon", "RETRY-AFTER": "9"})) == 9.0
    assert server_retry_after(httpx.Headers({})) is None and server_retry_after(None) is None


def test_an_http_date_retry_after_is_waited_out_by_the_arxiv_client() -> None:
    fake = FakeTime()
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    answers = iter([httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, content=b"ok")])
    with httpx.Client(transport=httpx.MockTransport(lambda request: next(answers))) as http:
        client = PoliteClient(http, sleep=fake.sleep, clock=fake.clock)
        assert client.get("https://export.arxiv.org/api/query").content == b"ok"

    (delay,) = fake.sleeps
    assert 18.0 <= delay <= 20.0


# --- one warning line, three users ----------------------------------------------------------------------


LINE = re.compile(r"^(?P<what>.+?): (?P<reason>[^;]+); retrying in (?P<delay>\d+\.\d) s \(attempt (\d+) of (\d+)\)$")


def test_the_retry_warning_is_the_same_line_for_arxiv_the_api_pager_and_the_llm(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTime()
    url = "https://export.arxiv.org/api/query"
    busy = httpx.Response(503, headers={"Retry-After": "2"}, content=b"busy")
    pages = [
        busy,  # the arXiv client retries this one
        httpx.Response(200, content=(OWN_FIXTURES / "api_window_page1of3.xml").read_bytes()),
        httpx.Response(200, content=(OWN_FIXTURES / "api_window_empty_page_midway.xml").read_bytes()),  # the pager's
        httpx.Response(200, content=(OWN_FIXTURES / "api_window_page2of3.xml").read_bytes()),
        httpx.Response(200, content=(OWN_FIXTURES / "api_window_page3of3.xml").read_bytes()),
    ]
    answers = iter(pages)
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    llm_busy = openai.APIStatusError(
        "busy", response=httpx.Response(503, headers={"Retry-After": "2"}, request=request), body=None
    )
    llm_answers: list[Exception | str] = [llm_busy, "summary"]

    def ask_llm() -> str:
        answer = llm_answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    start, end = datetime(2026, 4, 27, 18, tzinfo=timezone.utc), datetime(2026, 4, 29, 18, tzinfo=timezone.utc)
    with caplog.at_level(logging.WARNING), httpx.Client(transport=httpx.MockTransport(lambda r: next(answers))) as http:
        arxiv = PoliteClient(http, sleep=fake.sleep, clock=fake.clock)
        papers = list(fetch_window(arxiv, url, ["cs.AI"], start, end, 2))
        summary = call_with_retries(
            ask_llm, policy=llm_retry_policy(4, fake.sleep), what="2501.00001v1: summary request"
        )

    assert len(papers) == 6 and summary == "summary"
    records = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert {r.name for r in records} == {"arxivbot.retry"}  # one place writes it
    client_line, pager_line, llm_line = (r.getMessage() for r in records)
    assert client_line == f"{url}: HTTP 503; retrying in 2.0 s (attempt 1 of 5)"
    assert llm_line == "2501.00001v1: summary request: HTTP 503; retrying in 2.0 s (attempt 1 of 5)"
    pager = LINE.match(pager_line)
    assert pager is not None, pager_line
    assert (pager["what"], pager["reason"]) == (url, "empty page at start=2 of 6 results")
    assert pager["delay"] == f"{fake.sleeps[1]:.1f}"
    for line in (client_line, llm_line):
        assert LINE.match(line)
