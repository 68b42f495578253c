"""POST /api/feedback: what the page's like/dislike buttons call, and everything it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from arxivbot.config import Config
from arxivbot.serve import create_app
from arxivbot.store import open_store
from arxivbot.web.feedback import RateLimiter
from tests.publish.seeding import DAY1, make_config, make_paper, seed_day

TOKEN = "feedback-t0ken-never-shown"
TOKEN_ENV = "ARXIVBOT_UPDATE_TOKEN"
KNOWN = "2512.00001"
OLD_STYLE = "hep-th/9901001"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = make_config(tmp_path, server={"update_token_env": TOKEN_ENV})
    with open_store(config.storage.database) as store:
        seed_day(store, DAY1, [make_paper(KNOWN), make_paper(OLD_STYLE)])
    return config


@pytest.fixture
def client(config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(config, run_cycle=lambda: None, scheduler=False)) as test_client:
        yield test_client


def post(client: TestClient, body: object, token: str | None = TOKEN, **headers: str) -> tuple[int, dict[str, str]]:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = client.post("/api/feedback", content=content, headers={"Content-Type": "application/json", **headers})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


def verdicts(config: Config) -> dict[str, str]:
    with open_store(config.storage.database, readonly=True) as store:
        return store.feedback()


def test_like_dislike_and_none_record_what_the_cli_records(config: Config, client: TestClient) -> None:
    assert post(client, {"id": KNOWN, "verdict": "like"}) == (200, {"id": KNOWN, "verdict": "like"})
    assert verdicts(config) == {KNOWN: "like"}
    assert post(client, {"id": f"{KNOWN}v1", "verdict": "dislike"})[0] == 200
    assert post(client, {"id": OLD_STYLE, "verdict": "like"})[0] == 200
    assert verdicts(config) == {KNOWN: "dislike", OLD_STYLE: "like"}
    assert post(client, {"id": KNOWN, "verdict": "none"}) == (200, {"id": KNOWN, "verdict": "none"})
    assert verdicts(config) == {OLD_STYLE: "like"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"id": "2512.99999", "verdict": "like"}, 404, "unknown paper: 2512.99999"),
        (b"{not json", 400, "not JSON"),
        (b"\xff\xfe", 400, "not JSON"),
        ([KNOWN, "like"], 400, "unexpected body"),
        ({"id": KNOWN}, 400, "unexpected body"),
        ({"id": KNOWN, "verdict": "love"}, 400, "unexpected body"),
        ({"id": 2512.00001, "verdict": "like"}, 400, "unexpected body"),
        ({"id": "<script>", "verdict": "like"}, 400, "not an arXiv identifier"),
        ({"id": KNOWN, "verdict": "like", "pad": "x" * 1100}, 413, "at most 1024 bytes"),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(
    config: Config, client: TestClient, body: object, status: int, message: str
) -> None:
    code, answer = post(client, body)
    assert code == status
    assert message in answer["error"]
    assert "Traceback" not in answer["error"] and "<script>" not in answer["error"]
    assert verdicts(config) == {}


def test_an_oversized_body_without_a_length_is_refused_too(config: Config, client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": "2512.00001", "verdict": "like", "pad": "'
        for _ in range(40):
            yield b"x" * 100
        yield b'"}'

    response = client.post("/api/feedback", content=chunks(), headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 413
    assert verdicts(config) == {}


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("", 401), ("wrong-token", 401), (TOKEN + "x", 401)],
)
def test_a_missing_or_wrong_token_is_401(config: Config, client: TestClient, token: str | None, status: int) -> None:
    code, answer = post(client, {"id": KNOWN, "verdict": "like"}, token=token)
    assert code == status
    assert TOKEN not in json.dumps(answer)
    assert verdicts(config) == {}


def test_feedback_is_disabled_without_a_token(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    with TestClient(create_app(config, run_cycle=lambda: None, scheduler=False)) as client:
        code, answer = post(client, {"id": KNOWN, "verdict": "like"}, token="anything")
    assert code == 403 and "feedback is disabled" in answer["error"]
    assert verdicts(config) == {}


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get("/api/feedback").status_code == 405


def test_a_burst_of_requests_is_rate_limited(config: Config, client: TestClient) -> None:
    codes = [post(client, {"id": KNOWN, "verdict": "like"}, token="wrong")[0] for _ in range(60)]
    assert codes[:30] == [401] * 30  # a client guessing tokens is slowed down too
    assert 429 in codes
    limited = client.post("/api/feedback", content=b"{}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert verdicts(config) == {}


def test_the_rate_limiter_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(burst=3, per_second=0.5, clock=lambda: now[0], max_clients=2)
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.allow("a") == pytest.approx(2.0)
    assert limiter.allow("b") == 0.0  # each client has its own bucket
    now[0] = 2.0
    assert limiter.allow("a") == 0.0
    assert limiter.allow("a") > 0
    now[0] = 100.0
    limiter.allow("c")  # a third client: the full buckets of idle ones are forgotten
    assert limiter.allow("a") == 0.0


def test_pages_served_with_a_token_carry_the_buttons_and_static_pages_do_not(client: TestClient) -> None:
    page = client.get(f"/{DAY1.isoformat()}/").text
    assert 'data-feedback="api/feedback"' in page and 'data-verdict="like"' in page
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "unsafe-inline" not in policy
