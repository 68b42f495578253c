"""The web service, through Starlette's test client and through real HTTP on 127.0.0.1 (uvicorn)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import feedparser
import httpx
import lxml.html
import pytest
from starlette.testclient import TestClient

from arxivbot.config import Config
from arxivbot.errors import FetchError, ServeError
from arxivbot.models import RunReport
from arxivbot.publish.site import render_site
from arxivbot.serve import create_app, next_scheduled_run, serve, should_run_on_startup
from arxivbot.store import open_store
from tests.chromium import run_headless, system_chromium
from tests.liveserver import LiveServer
from tests.publish.seeding import EVIL_SUMMARY, EVIL_TITLE, make_config, make_paper, seed_day

TODAY = datetime.now(timezone.utc).date()
YESTERDAY = TODAY - timedelta(days=1)
TOKEN = "s3cret-t0ken-never-shown"
SITE_PATHS = {
    "/": "text/html; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/rss": "application/rss+xml; charset=utf-8",
    "/rss.xml": "application/rss+xml; charset=utf-8",
    "/rss/cs.AI": "application/rss+xml; charset=utf-8",
    "/rss/cs.CL.xml": "application/rss+xml; charset=utf-8",
    "/atom": "application/atom+xml; charset=utf-8",
    "/atom.xml": "application/atom+xml; charset=utf-8",
    "/atom/cs.LG": "application/atom+xml; charset=utf-8",
    "/papers.json": "application/json",
}


def wait_until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


class RecordingCycle:
    """A real cycle: records a run and publishes a new digest for today in the store.

    ``hold=True`` keeps it running until ``release`` is set, to observe single-flight behaviour.
    """

    def __init__(self, config: Config, *, hold: bool = False, fail: bool = False) -> None:
        self.config = config
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = fail
        if not hold:
            self.release.set()

    def __call__(self) -> RunReport:
        self.calls += 1
        self.started.set()
        assert self.release.wait(10)
        started = datetime.now(timezone.utc)
        with open_store(self.config.storage.database) as store:
            run_id = store.start_run("serve", TODAY)
            if self.fail:
                report = RunReport(
                    run_id, "failed", TODAY, started, datetime.now(timezone.utc), message="arXiv unreachable"
                )
                store.finish_run(run_id, report)
                raise FetchError("arXiv unreachable after 4 attempts", url="http://127.0.0.1:9/")
            seed_day(store, TODAY, [make_paper(f"2512.9{self.calls:04d}", title=f"Fresh paper {self.calls}")])
            report = RunReport(
                run_id,
                "ok",
                TODAY,
                started,
                datetime.now(timezone.utc),
                fetched=40,
                new_papers=12,
                selected=1,
                summarized=0,
            )
            store.finish_run(run_id, report)
        return report


def seeded_config(folder: Path) -> Config:
    """Two days of digests in ``folder`` (one with a hostile title and summary) and a config over them."""
    config = make_config(folder, server={"update_token_env": "ARXIVBOT_UPDATE_TOKEN"})
    with open_store(config.storage.database) as store:
        seed_day(
            store,
            TODAY - timedelta(days=2),
            [make_paper("2512.00001")],
            summaries={"2512.00001": "## Main contributions\n\nFaster **LLM** decoding."},
        )
        seed_day(
            store,
            YESTERDAY,
            [
                make_paper("2512.00002", categories=("cs.CL",)),
                make_paper("2512.00666", title=EVIL_TITLE, categories=("cs.LG",)),
            ],
            summaries={"2512.00666": EVIL_SUMMARY},
        )
    return config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return seeded_config(tmp_path)


@pytest.fixture
def cycle(config: Config) -> RecordingCycle:
    return RecordingCycle(config)


@pytest.fixture
def client(config: Config, cycle: RecordingCycle) -> Iterator[TestClient]:
    with TestClient(create_app(config, run_cycle=cycle, scheduler=False)) as test_client:
        yield test_client


def running(client: TestClient) -> bool:
    return bool(client.get("/health").json()["running"])


# --- the published files ---------------------------------------------------------------------------


def test_site_endpoints_serve_the_pre_rendered_bytes(config: Config, client: TestClient) -> None:
    with open_store(config.storage.database) as store:
        files = render_site(store, config, served=True)  # the service's pages carry the feedback buttons
    expected = {"/": "index.html", "/rss": "rss.xml", "/atom/cs.LG": "atom/cs.LG.xml", "/papers.json": "papers.json"}
    for path, content_type in SITE_PATHS.items():
        response = client.get(path, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, path
        assert response.headers["content-type"] == content_type
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["etag"].startswith('"')
        assert response.headers["last-modified"].endswith(" GMT")
        assert "content-encoding" not in response.headers
        if path in expected:
            assert response.content == files[expected[path]], path


def test_feeds_served_are_valid_and_hold_history(client: TestClient) -> None:
    rss = feedparser.parse(client.get("/rss").content)
    assert rss.bozo == 0
    assert [e.id for e in rss.entries] == ["2512.00002", "2512.00666", "2512.00001"]
    cl = feedparser.parse(client.get("/rss/cs.CL").content)
    assert [e.id for e in cl.entries] == ["2512.00002"]
    assert client.get("/rss/cs.CL").content == client.get("/rss/cs.CL.xml").content
    assert client.get("/atom").content == client.get("/atom.xml").content


def test_gzip_variant_has_its_own_etag(client: TestClient) -> None:
    plain = client.get("/rss", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/rss", headers={"Accept-Encoding": "gzip, deflate"})

    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # httpx decoded it
    assert zipped.headers["etag"] != plain.headers["etag"]
    refused = client.get("/rss", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_conditional_requests_get_304(client: TestClient) -> None:
    first = client.get("/rss")
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    by_etag = client.get("/rss", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag
    assert client.get("/rss", headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.get("/rss", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/", headers={"If-None-Match": "*"}).status_code == 304

    assert client.get("/rss", headers={"If-None-Match": '"stale"'}).status_code == 200
    earlier = format_datetime(datetime.now(timezone.utc) - timedelta(days=1), usegmt=True)
    assert client.get("/rss", headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match decides when both are present (RFC 9110).
    both = client.get("/rss", headers={"If-None-Match": '"stale"', "If-Modified-Since": modified})
    assert both.status_code == 200
    assert client.get("/rss", headers={"If-Modified-Since": "yesterday-ish"}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/rss/cs.XX",
        "/atom/cs.XX.xml",
        "/rss/..%2F..%2Fetc%2Fpasswd",
        "/rss/%2e%2e%2fconfig",
        "/atom/cs.AI%00",
        "/public/index.html",
        "/data/arxivbot.db",
        "/rss/cs.AI.xml.gz",
        "/nothing-here",
    ],
)
def test_unknown_paths_and_path_tricks_get_404(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 404
    assert b"<" not in response.content


def test_the_page_carries_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


# --- health and config ----------------------------------------------------------------------------------


def test_health_reports_the_last_run(config: Config, client: TestClient) -> None:
    empty = client.get("/health")
    assert empty.status_code == 200
    assert empty.headers["cache-control"] == "no-store"
    assert empty.json()["last_run"] is None
    assert empty.json()["next_run"] is None  # no scheduler in this app

    with open_store(config.storage.database) as store:
        run_id = store.start_run("run", TODAY)
        now = datetime.now(timezone.utc)
        store.finish_run(
            run_id,
            RunReport(
                run_id,
                "ok",
                TODAY,
                now,
                now,
                fetched=120,
                new_papers=80,
                selected=30,
                summarized=15,
                llm_calls=15,
                cache_hits=3,
            ),
        )
    health = client.get("/health").json()

    last = health["last_run"]
    assert last["id"] == run_id and last["status"] == "ok" and last["day"] == TODAY.isoformat()
    assert last["counts"] == {
        "fetched": 120,
        "new_papers": 80,
        "backfilled": 0,
        "selected": 30,
        "summarized": 15,
        "summary_failures": 0,
        "llm_calls": 15,
        "cache_hits": 3,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    assert last["exit_code"] == 0 and last["deliveries"] == [] and last["warnings"] == []
    assert health["last_successful_run"]["id"] == run_id
    assert health["running"] is False
    assert health["schedule"] == {"enabled": False, "time": "12:00", "timezone": "UTC"}


def test_health_gives_the_next_scheduled_run(tmp_path: Path) -> None:
    config = make_config(tmp_path, server={"schedule": "07:30", "timezone": "Asia/Shanghai", "run_on_startup": False})
    cycle = RecordingCycle(config)
    with TestClient(create_app(config, run_cycle=cycle, scheduler=True)) as client:
        health = client.get("/health").json()

    next_run = datetime.fromisoformat(health["next_run"])
    assert next_run.utcoffset() == timedelta(hours=8)
    assert (next_run.hour, next_run.minute) == (7, 30)
    assert timedelta(0) < next_run - datetime.now(timezone.utc) <= timedelta(days=1)
    assert health["schedule"]["enabled"] is True
    assert cycle.calls == 0  # run_on_startup is off


def test_next_scheduled_run_follows_the_configured_time_zone(tmp_path: Path) -> None:
    config = make_config(tmp_path, server={"schedule": "12:00", "timezone": "America/New_York"})
    before = datetime(2025, 12, 24, 16, 59, tzinfo=timezone.utc)  # 11:59 in New York
    after = datetime(2025, 12, 24, 17, 1, tzinfo=timezone.utc)

    assert next_scheduled_run(config, before) == datetime(2025, 12, 24, 17, 0, tzinfo=timezone.utc)
    assert next_scheduled_run(config, after) == datetime(2025, 12, 25, 17, 0, tzinfo=timezone.utc)


def test_config_endpoint_shows_the_effective_config(config: Config, client: TestClient) -> None:
    response = client.get("/config")
    assert response.status_code == 200
    assert response.json() == config.public_dict()
    assert response.json()["server"]["update_token_env"] == "ARXIVBOT_UPDATE_TOKEN"


def test_the_token_never_appears_in_any_response(
    client: TestClient, cycle: RecordingCycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARXIVBOT_UPDATE_TOKEN", TOKEN)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-also-secret-0123456789")
    responses = [client.get(path) for path in [*SITE_PATHS, "/health", "/config", "/update", "/x"]]
    responses += [
        client.post("/update"),
        client.post("/update", headers={"Authorization": "Bearer wrong"}),
        client.post("/update", headers={"Authorization": f"Bearer {TOKEN}"}),
    ]
    wait_until(lambda: cycle.calls == 1 and not running(client))
    responses.append(client.get("/health"))

    for response in responses:
        dump = response.content + str(response.headers).encode()
        assert TOKEN.encode() not in dump, response.url
        assert b"sk-also-secret" not in dump, response.url


# --- refresh --------------------------------------------------------------------------------------------


def test_update_is_disabled_without_a_configured_token(tmp_path: Path) -> None:
    config = make_config(tmp_path)  # no server.update_token_env
    cycle = RecordingCycle(config)
    with TestClient(create_app(config, run_cycle=cycle, scheduler=False)) as client:
        response = client.post("/update", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
    assert "disabled" in response.json()["error"]
    assert cycle.calls == 0


def test_update_is_disabled_while_the_token_variable_is_empty(client: TestClient, cycle: RecordingCycle) -> None:
    response = client.post("/update", headers={"Authorization": "Bearer "})
    assert response.status_code == 403
    assert "disabled" in response.json()["error"]
    assert cycle.calls == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer wrong-token"}, 403),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403),
    ],
)
def test_update_refuses_missing_or_wrong_tokens(
    client: TestClient,
    cycle: RecordingCycle,
    monkeypatch: pytest.MonkeyPatch,
    headers: dict[str, str],
    status: int,
) -> None:
    monkeypatch.setenv("ARXIVBOT_UPDATE_TOKEN", TOKEN)
    response = client.post("/update", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert cycle.calls == 0


def test_get_update_triggers_nothing(
    client: TestClient, cycle: RecordingCycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARXIVBOT_UPDATE_TOKEN", TOKEN)
    response = client.get("/update", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405
    time.sleep(0.1)
    assert cycle.calls == 0
    assert client.get("/health").json()["running"] is False


def test_update_runs_a_cycle_and_the_feeds_follow(
    client: TestClient, cycle: RecordingCycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARXIVBOT_UPDATE_TOKEN", TOKEN)
    before = client.get("/rss")

    response = client.post("/update", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 202
    assert response.json() == {"status": "started"}
    wait_until(lambda: cycle.calls == 1 and not running(client))

    after = client.get("/rss", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # new bytes, new ETag
    assert after.headers["etag"] != before.headers["etag"]
    ids = [e.id for e in feedparser.parse(after.content).entries]
    assert ids[0] == "2512.90001" and "2512.00001" in ids  # today's paper first, history kept
    assert "Fresh paper 1" in client.get("/").text
    assert client.get("/health").json()["last_run"]["status"] == "ok"


def test_concurrent_updates_start_a_single_cycle(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARXIVBOT_UPDATE_TOKEN", TOKEN)
    cycle = RecordingCycle(config, hold=True)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(config, run_cycle=cycle, scheduler=False)) as client:
        first = client.post("/update", headers=auth)
        assert first.status_code == 202
        assert cycle.started.wait(10)
        with ThreadPoolExecutor(max_workers=8) as pool:
            others = list(pool.map(lambda _: client.post("/update", headers=auth), range(8)))
        assert [r.status_code for r in others] == [409] * 8
        assert {r.json()["status"] for r in others} == {"already running"}
        assert running(client)

        cycle.release.set()
        wait_until(lambda: not running(client))
        assert cycle.calls == 1
        assert client.post("/update", headers=auth).status_code == 202  # free again afterwards
        wait_until(lambda: cycle.calls == 2 and not running(client))


def test_a_failed_cycle_keeps_serving_and_frees_the_lock(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARXIVBOT_UPDATE_TOKEN", TOKEN)
    cycle = RecordingCycle(config, fail=True)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(config, run_cycle=cycle, scheduler=False)) as client:
        before = client.get("/rss").content
        assert client.post("/update", headers=auth).status_code == 202
        wait_until(lambda: cycle.calls == 1 and not running(client))

        assert client.get("/rss").content == before
        assert client.get("/health").json()["last_run"]["status"] == "failed"
        assert client.post("/update", headers=auth).status_code == 202
        wait_until(lambda: cycle.calls == 2 and not running(client))


def test_a_cycle_run_by_another_process_is_picked_up(config: Config, client: TestClient) -> None:
    """``arxivbot run`` from cron writes the database; the minute check re-renders the site."""
    site = client.app.state.service.site  # type: ignore[attr-defined]
    assert site.refresh_if_changed() is False  # nothing changed since start-up
    before = client.get("/rss").headers["etag"]

    RecordingCycle(config)()  # a cycle in "another process": straight into the database

    assert site.refresh_if_changed() is True
    after = client.get("/rss")
    assert after.headers["etag"] != before
    assert feedparser.parse(after.content).entries[0].id == "2512.90001"
    assert site.refresh_if_changed() is False


# --- start-up run ----------------------------------------------------------------------------------------


def test_startup_runs_a_cycle_when_today_has_no_run(config: Config) -> None:
    cycle = RecordingCycle(config)
    with TestClient(create_app(config, run_cycle=cycle, scheduler=True)) as client:
        wait_until(lambda: cycle.calls == 1 and not running(client))
        assert "Fresh paper 1" in client.get("/").text
    assert cycle.calls == 1


def test_startup_skips_the_cycle_when_today_already_ran(config: Config) -> None:
    with open_store(config.storage.database) as store:
        run_id = store.start_run("run", TODAY)
        now = datetime.now(timezone.utc)
        store.finish_run(run_id, RunReport(run_id, "empty", TODAY, now, now))
    cycle = RecordingCycle(config)
    with TestClient(create_app(config, run_cycle=cycle, scheduler=True)) as client:
        assert client.get("/health").json()["running"] is False
        time.sleep(0.2)
    assert cycle.calls == 0


def test_should_run_on_startup_decisions(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    off = make_config(tmp_path, server={"run_on_startup": False})
    now = datetime.now(timezone.utc)
    with open_store(config.storage.database) as store:
        assert should_run_on_startup(store, config, now) is True
        assert should_run_on_startup(store, off, now) is False
        failed = store.start_run("run", TODAY)
        store.finish_run(failed, RunReport(failed, "failed", TODAY, now, now))
        assert should_run_on_startup(store, config, now) is True  # a failed run does not count
        ok = store.start_run("run", TODAY)
        store.finish_run(ok, RunReport(ok, "ok", TODAY, now, now))
        assert should_run_on_startup(store, config, now) is False
        assert should_run_on_startup(store, config, now + timedelta(days=1)) is True


# --- real HTTP -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for the module's read-only HTTP tests (none of them starts a cycle or writes)."""
    config = seeded_config(tmp_path_factory.mktemp("live"))
    with LiveServer(create_app(config, run_cycle=RecordingCycle(config), scheduler=False)) as server:
        yield server


def raw_get(port: int, target: str) -> bytes:
    """Send a request line exactly as written (no client-side path normalisation)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_real_http_serves_feeds_with_validators(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, timeout=5) as http:
        response = http.get("/rss")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert response.headers["content-encoding"] == "gzip"
        assert feedparser.parse(response.content).bozo == 0
        again = http.get("/rss", headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        head = http.head("/atom")
        assert head.status_code == 200 and head.content == b""
        assert http.get("/health").json()["running"] is False
        assert http.post("/update").status_code == 403  # no token in the environment


@pytest.mark.parametrize(
    "target",
    # Sent as written: an HTTP client would normalise the dot segments before they reach the server.
    [
        "/rss/../../etc/passwd",
        "/rss/cs.AI/../../../etc/passwd",
        "/rss/..",
        "/rss/..%2F..%2Fetc%2Fpasswd",
        "/atom/%2e%2e/%2e%2e/etc/passwd",
        "/rss/cs.XX",
        "//etc/passwd",
    ],
)
def test_real_http_path_tricks_get_404(live: LiveServer, target: str) -> None:
    reply = raw_get(live.port, target)
    assert reply.startswith(b"HTTP/1.1 404 ")
    assert b"root:" not in reply


def test_serve_reports_a_busy_port_as_a_serve_error(config: Config) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve(config, host="127.0.0.1", port=port)


# --- a real browser -----------------------------------------------------------------------------------------


@pytest.mark.skipif(system_chromium() is None, reason="chromium is not installed")
def test_the_page_in_headless_chromium(live: LiveServer, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    # One browser start for both: the DOM after scripts had their chance, and a rendered screenshot.
    result = run_headless(
        tmp_path / "chromium-profile",
        "--virtual-time-budget=3000",
        "--dump-dom",
        f"--screenshot={shot}",
        "--window-size=1200,1600",
        f"{live.url}/",
    )

    assert result.returncode == 0, result.stderr[-2000:]
    page = lxml.html.fromstring(result.stdout)
    titles = [a.text_content() for a in page.xpath('//article[@class="paper"]//h2/a')]
    assert titles == ["Sparse LLM Inference at Scale, part 2512.00002", EVIL_TITLE]
    # The title and the summary created no element: the only scripts are the page's own (the search
    # library is loaded on first use of the search box only).
    assert {script.get("src").split("?")[0] for script in page.xpath("//script")} == {"static/arxivbot.js"}
    assert page.xpath("//img") == []
    assert page.findtext(".//title") != "pwned"
    assert page.findtext(".//title").startswith("arXiv digest")
    assert len(page.xpath("//details")) == 1
    assert shot.read_bytes().startswith(b"\x89PNG")
