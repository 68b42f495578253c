"""Exactly once, through whole cycles: a local arXiv, a real SMTP server and a webhook receiver.

A channel that fails costs neither the published files nor the other channels; the next run (same
day or later) delivers what is due, oldest first, and nothing that arrived is ever sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.deliver.outbox import deliver_due, message_channels
from arxivbot.models import Delivery, RunReport
from arxivbot.pipeline import run_cycle
from arxivbot.runtime import Runtime
from arxivbot.schedule import pipeline_cycle
from arxivbot.store import open_store
from tests.deliver.conftest import PASSWORD, Sleeps, email_settings
from tests.deliver.smtpserver import SMTPServer, closed_port
from tests.localserver import LocalServer, Scripted

FEED_PATH = "/rss/cs.AI+cs.LG"
TUESDAY, WEDNESDAY = date(2026, 5, 5), date(2026, 5, 6)
USERS = {"me@example.org": PASSWORD}


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def next_day_feed(feed: bytes) -> bytes:
    """Tuesday's captured feed as Wednesday's: new dates, new ids (new papers)."""
    return feed.replace(b"05 May 2026", b"06 May 2026").replace(b"Tue,", b"Wed,").replace(b"2605.01", b"2605.02")


@pytest.fixture
def feeds(own_fixture: Callable[[str], Path]) -> dict[date, bytes]:
    tuesday = own_fixture("rss_cs.AI+cs.LG_day1_5items.xml").read_bytes()
    return {TUESDAY: tuesday, WEDNESDAY: next_day_feed(tuesday)}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def make_config(tmp_path: Path, arxiv: LocalServer, delivery: dict[str, Any]) -> Config:
    data = {
        "categories": ["cs.AI", "cs.LG"],
        "keywords": ["LLM", "Sparse", "Escaping", "Distributed", "Planning"],
        "days_back": 0,
        "arxiv": {"rss_url": arxiv.url + "/rss", "max_retries": 0, "request_delay_seconds": 0},
        "delivery": {"max_retries": 1, **delivery},
    }
    return config_from_dict(data, base_dir=tmp_path)


def run(config: Config, http: httpx.Client, arxiv: LocalServer, feed: bytes, now: datetime) -> RunReport:
    arxiv.route(FEED_PATH, Scripted(200, feed, {"Content-Type": "application/rss+xml"}))
    return run_cycle(config, Runtime(http=http, sleep=Sleeps(), now=lambda: now))


def messages(report: RunReport) -> dict[str, Delivery]:
    return {d.channel: d for d in report.deliveries if d.channel != "files"}


def test_smtp_down_for_one_run_and_up_for_the_next_publishes_both_times_and_delivers_exactly_once(
    tmp_path: Path,
    local_server: LocalServer,
    http: httpx.Client,
    feeds: dict[date, bytes],
    password: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = closed_port()
    monkeypatch.setenv("HOOK_URL", local_server.url + "/hook")
    local_server.route("/hook", Scripted(200, b"ok"), method="POST")
    config = make_config(
        tmp_path, local_server, {"email": email_settings(port), "webhooks": [{"kind": "slack", "url_env": "HOOK_URL"}]}
    )

    down = run(config, http, local_server, feeds[TUESDAY], at(TUESDAY, 6))

    assert down.status == "ok" and down.exit_code == 3
    assert (tmp_path / "README.md").is_file() and str(tmp_path / "README.md") in down.outputs
    assert not messages(down)["email"].ok and messages(down)["slack"].ok  # the other channel still delivered
    assert any(w.startswith(f"email: 127.0.0.1:{port}: connection refused") for w in down.warnings)

    with SMTPServer(users=USERS, port=port) as smtp:
        up = run(config, http, local_server, feeds[TUESDAY], at(TUESDAY, 9))
        again = run(config, http, local_server, feeds[TUESDAY], at(TUESDAY, 12))
        received = smtp.received

    assert up.status == again.status == "ok" and up.exit_code == again.exit_code == 0
    assert len(received) == 1 and received[0].message["Subject"] == "arXiv 2026-05-05: 2 papers"
    assert messages(up)["email"].message == f"sent to 2 recipients through 127.0.0.1:{port}"
    assert messages(again)["email"].message.startswith("already sent at 2026-05-05 09:00 UTC")
    assert len(local_server.requests_to("/hook")) == 1  # slack: delivered on the first run, never again
    with open_store(config.storage.database) as store:
        record = store.delivery(TUESDAY, "email")
    assert record is not None and (record.status, record.attempts) == ("sent", 2)


def test_the_next_days_run_delivers_the_missed_digest_first_then_its_own(
    tmp_path: Path, local_server: LocalServer, http: httpx.Client, feeds: dict[date, bytes], password: str
) -> None:
    port = closed_port()
    config = make_config(tmp_path, local_server, {"email": email_settings(port)})
    assert run(config, http, local_server, feeds[TUESDAY], at(TUESDAY)).exit_code == 3

    with SMTPServer(users=USERS, port=port) as smtp:
        wednesday = run(config, http, local_server, feeds[WEDNESDAY], at(WEDNESDAY))
        subjects = [received.message["Subject"] for received in smtp.received]

    assert wednesday.exit_code == 0
    assert subjects == ["arXiv 2026-05-05: 2 papers", "arXiv 2026-05-06: 2 papers"]  # oldest first
    assert [d.message.split(":")[0] for d in wednesday.deliveries if d.channel == "email"] == [
        "digest of 2026-05-05",
        "sent to 2 recipients through 127.0.0.1",
    ]


def test_a_failing_channel_keeps_later_digests_due_without_trying_them_and_old_ones_expire(
    tmp_path: Path, local_server: LocalServer, http: httpx.Client, feeds: dict[date, bytes], password: str
) -> None:
    port = closed_port()
    config = make_config(tmp_path, local_server, {"email": email_settings(port), "retry_days": 3})
    run(config, http, local_server, feeds[TUESDAY], at(TUESDAY))
    sleeps = Sleeps()
    local_server.route(FEED_PATH, Scripted(200, feeds[WEDNESDAY]))
    report = run_cycle(config, Runtime(http=http, sleep=sleeps, now=lambda: at(WEDNESDAY)))
    (email,) = [d for d in report.deliveries if d.channel == "email"]
    assert email.message.startswith("digest of 2026-05-05: 127.0.0.1:")
    assert email.message.endswith("; the digest of 2026-05-06 waits too")
    assert len(sleeps) == 1  # one digest tried (max_retries 1), the next one not
    with open_store(config.storage.database) as store:
        assert store.due_deliveries("email", TUESDAY) == [TUESDAY, WEDNESDAY]
        # A week later (retry_days 3) both are too old to send: nothing is tried (that day has no digest).
        waits = Sleeps()
        channels = message_channels(config, sleep=waits)
        later = deliver_due(channels, store, config, day=date(2026, 5, 12), now=at(date(2026, 5, 12)))
        assert later == () and waits == []


def test_an_empty_arxiv_day_retries_what_is_due_and_sends_an_empty_digest_only_when_asked(
    tmp_path: Path, local_server: LocalServer, http: httpx.Client, feeds: dict[date, bytes], password: str
) -> None:
    port = closed_port()
    config = make_config(tmp_path, local_server, {"email": email_settings(port)})
    run(config, http, local_server, feeds[TUESDAY], at(TUESDAY))
    empty = feeds[TUESDAY].split(b"<item>")[0].replace(b"05 May 2026", b"09 May 2026") + b"</channel></rss>"

    with SMTPServer(users=USERS, port=port) as smtp:
        saturday = run(config, http, local_server, empty, at(date(2026, 5, 9)))
        assert saturday.status == "empty" and saturday.exit_code == 0
        assert [r.message["Subject"] for r in smtp.received] == ["arXiv 2026-05-05: 2 papers"]

        wanted = make_config(tmp_path / "b", local_server, {"email": email_settings(port, send_empty=True)})
        sunday = run(wanted, http, local_server, empty.replace(b"09 May", b"10 May"), at(date(2026, 5, 10)))
        assert sunday.status == "empty"
        assert smtp.received[-1].message["Subject"] == "arXiv 2026-05-10: 0 papers"
        plain = smtp.received[-1].message.get_body(("plain",))
        assert plain is not None and "No new paper matched your keywords today." in plain.get_content()


def test_the_services_scheduled_cycle_delivers_too(
    tmp_path: Path, local_server: LocalServer, http: httpx.Client, feeds: dict[date, bytes], password: str
) -> None:
    local_server.route(FEED_PATH, Scripted(200, feeds[TUESDAY], {"Content-Type": "application/rss+xml"}))
    with SMTPServer(users=USERS) as smtp:
        config = make_config(tmp_path, local_server, {"email": email_settings(smtp.port)})
        report = pipeline_cycle(config, Runtime(http=http, sleep=Sleeps()))()  # what `serve` runs on schedule
        assert isinstance(report, RunReport) and report.exit_code == 0
        assert len(smtp.received) == 1
