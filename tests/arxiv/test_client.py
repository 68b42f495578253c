"""PoliteClient: pacing, retries, backoff and Retry-After, with a fake clock and no real waiting."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from arxivbot import PROJECT_URL, USER_AGENT, __version__
from arxivbot.arxiv.client import PoliteClient, make_http_client, make_polite_client, user_agent
from arxivbot.config import ArxivConfig
from arxivbot.errors import FetchError
from tests.faketime import FakeTime

URL = "https://export.arxiv.org/api/query"


Reply = Callable[[httpx.Request], httpx.Response]


class ScriptedArxiv:
    """An httpx transport handler answering from a script (the last answer repeats); logs request times."""

    def __init__(self, time: FakeTime, *answers: httpx.Response | Exception, takes: float = 0.0) -> None:
        self.time = time
        self.answers = list(answers)
        self.takes = takes  # how long each request "lasts" on the fake clock
        self.started: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.started.append(self.time.now)
        self.time.now += self.takes
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(100.0)


@pytest.fixture
def polite(fake_time: FakeTime) -> Iterator[Callable[..., tuple[PoliteClient, ScriptedArxiv]]]:
    """Build a PoliteClient over a scripted transport; closes the httpx clients afterwards."""
    clients: list[httpx.Client] = []

    def build(
        *answers: httpx.Response | Exception, takes: float = 0.0, **options: Any
    ) -> tuple[PoliteClient, ScriptedArxiv]:
        script = ScriptedArxiv(fake_time, *answers, takes=takes)
        http = httpx.Client(transport=httpx.MockTransport(script))
        clients.append(http)
        client = PoliteClient(http, sleep=fake_time.sleep, clock=fake_time.clock, **options)
        return client, script

    yield build
    for http in clients:
        http.close()


def ok(body: bytes = b"<feed/>") -> httpx.Response:
    return httpx.Response(200, content=body)


def status(code: int, **headers: str) -> httpx.Response:
    return httpx.Response(code, content=b"busy", headers={k.replace("_", "-"): v for k, v in headers.items()})


# --- pacing ----------------------------------------------------------------------------------------


def test_min_interval_is_kept_between_request_starts(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    client, script = polite(ok(), takes=0.5, min_interval=3.0)

    for _ in range(3):
        client.get(URL)

    assert script.started == [100.0, 103.0, 106.0]
    assert fake_time.sleeps == [2.5, 2.5]  # the 0.5 s each request took counts towards the interval


def test_no_wait_when_enough_time_has_passed(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    client, _ = polite(ok(), min_interval=3.0)

    client.get(URL)
    fake_time.now += 10.0  # the caller was busy elsewhere
    client.get(URL)

    assert fake_time.sleeps == []


def test_pacing_also_holds_between_retries(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    client, script = polite(status(503), ok(), takes=0.5, min_interval=3.0, backoff_base=1.0)

    client.get(URL)

    # The ~1 s backoff is shorter than the 3 s interval, so the retry still starts 3 s after the first try.
    assert script.started[1] - script.started[0] == pytest.approx(3.0)


# --- retries and backoff ---------------------------------------------------------------------------


def test_backoff_doubles_and_attempts_are_bounded(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    client, script = polite(status(503), max_retries=4, backoff_base=1.0, max_backoff=1000.0)

    with pytest.raises(FetchError, match=r"^https://export\.arxiv\.org/api/query: HTTP 503 after 5 attempt") as caught:
        client.get(URL)

    assert (caught.value.status, caught.value.attempts, caught.value.url) == (503, 5, URL)
    assert len(script.started) == 5
    # Exponential with up to 10 % jitter: about 1, 2, 4, 8 seconds.
    assert len(fake_time.sleeps) == 4
    for delay, base in zip(fake_time.sleeps, [1.0, 2.0, 4.0, 8.0], strict=True):
        assert base <= delay <= base * 1.1


def test_backoff_is_capped_by_max_backoff(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    client, _ = polite(status(502), max_retries=3, backoff_base=10.0, max_backoff=15.0)

    with pytest.raises(FetchError):
        client.get(URL)

    assert 10.0 <= fake_time.sleeps[0] <= 11.0
    assert fake_time.sleeps[1:] == [15.0, 15.0]


def test_zero_retries_means_one_attempt(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    client, script = polite(status(503), max_retries=0)

    with pytest.raises(FetchError) as caught:
        client.get(URL)

    assert caught.value.attempts == 1 and len(script.started) == 1 and fake_time.sleeps == []


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504, 520])
def test_rate_limits_and_every_server_error_are_retried(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], code: int
) -> None:
    client, script = polite(status(code), ok(b"done"))

    assert client.get(URL).content == b"done"
    assert len(script.started) == 2


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410])
def test_client_errors_fail_at_once(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime, code: int
) -> None:
    client, script = polite(status(code), ok())

    with pytest.raises(FetchError, match=rf"HTTP {code} after 1 attempt") as caught:
        client.get(URL)

    assert caught.value.status == code and len(script.started) == 1 and fake_time.sleeps == []
    # Retrying will not help, so the message says what to check instead.
    assert str(caught.value).endswith(
        "; check the address (arxiv.rss_url, arxiv.api_url, arxiv.pdf_url) and the categories"
    )


def test_retry_statuses_can_be_narrowed_per_call(polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]]) -> None:
    client, script = polite(status(503), ok())

    with pytest.raises(FetchError):
        client.get(URL, retry_statuses=frozenset())

    assert len(script.started) == 1


def test_not_modified_is_an_answer_not_an_error(polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]]) -> None:
    client, _ = polite(httpx.Response(304))

    assert client.get(URL, headers={"If-None-Match": '"x"'}).status_code == 304


def test_connection_errors_are_retried(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    client, script = polite(httpx.ConnectError("refused"), httpx.ReadError("reset"), ok(b"finally"))

    with caplog.at_level(logging.WARNING, logger="arxivbot.retry"):
        assert client.get(URL).content == b"finally"

    assert len(script.started) == 3 and len(fake_time.sleeps) == 2
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == f"{URL}: connection failed; retrying in {fake_time.sleeps[0]:.1f} s (attempt 1 of 5)"
    assert messages[1] == f"{URL}: network error (ReadError); retrying in {fake_time.sleeps[1]:.1f} s (attempt 2 of 5)"


def test_timeouts_exhaust_into_a_fetch_error(polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]]) -> None:
    client, script = polite(httpx.ReadTimeout("slow"), max_retries=2)

    with pytest.raises(FetchError, match=r"timed out after 3 attempts; check your network") as caught:
        client.get(URL)

    assert (caught.value.status, caught.value.attempts) == (None, 3) and len(script.started) == 3


# --- Retry-After -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected_low", "expected_high"),
    [
        ("30", 30.0, 30.0),  # longer than the backoff: honoured exactly
        ("0", 1.0, 1.1),  # shorter than the backoff: the backoff wins
        ("soon", 1.0, 1.1),  # unreadable: ignored
        ("600", 120.0, 120.0),  # longer than max_backoff: capped
    ],
)
def test_retry_after_seconds(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]],
    fake_time: FakeTime,
    header: str,
    expected_low: float,
    expected_high: float,
) -> None:
    client, _ = polite(status(503, Retry_After=header), ok(), backoff_base=1.0, max_backoff=120.0)

    client.get(URL)

    (delay,) = fake_time.sleeps
    assert expected_low <= delay <= expected_high


def test_retry_after_as_http_date(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=45), usegmt=True)
    client, _ = polite(status(429, Retry_After=when), ok(), backoff_base=1.0)

    client.get(URL)

    (delay,) = fake_time.sleeps
    assert 43.0 <= delay <= 45.0  # whole seconds in the header, and a moment has passed


def test_retry_after_date_in_the_past_falls_back_to_backoff(
    polite: Callable[..., tuple[PoliteClient, ScriptedArxiv]], fake_time: FakeTime
) -> None:
    client, _ = polite(status(503, Retry_After="Wed, 21 Oct 2015 07:28:00 GMT"), ok(), backoff_base=2.0)

    client.get(URL)

    assert 2.0 <= fake_time.sleeps[0] <= 2.2


# --- construction from the config ------------------------------------------------------------------


def test_user_agent_names_us_and_optionally_the_operator() -> None:
    assert user_agent() == USER_AGENT == f"arxivbot/{__version__} (+{PROJECT_URL})"
    assert user_agent("me@example.org") == f"arxivbot/{__version__} (+{PROJECT_URL}; mailto:me@example.org)"


def test_make_http_client_sets_user_agent_timeout_and_follows_redirects() -> None:
    seen: list[httpx.Request] = []

    def arxiv(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/rss/cs.AI":
            return httpx.Response(301, headers={"Location": "https://rss.arxiv.org/rss/cs.AI/"})
        return httpx.Response(200, content=b"<rss/>")

    config = ArxivConfig(timeout_seconds=12.5, contact="me@example.org")
    with make_http_client(config, transport=httpx.MockTransport(arxiv)) as http:
        response = http.get("https://rss.arxiv.org/rss/cs.AI")
        assert http.timeout.read == 12.5 and http.timeout.connect == 10.0

    assert response.content == b"<rss/>" and len(seen) == 2
    assert all(r.headers["User-Agent"] == user_agent("me@example.org") for r in seen)


def test_make_polite_client_takes_retries_and_pacing_from_the_config() -> None:
    config = ArxivConfig(max_retries=7, request_delay_seconds=3.0)
    with httpx.Client() as http:
        client = make_polite_client(config, http)
        assert (client.retry.max_retries, client.retry.attempts, client.min_interval) == (7, 8, 3.0)
        assert make_polite_client(config, http, min_interval=0).min_interval == 0
