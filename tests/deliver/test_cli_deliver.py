"""From outside: the real CLI (`arxivbot run`, `arxivbot deliver`) against a local arXiv, a real SMTP
server and a webhook receiver; and no secret in anything any of it produced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clirunner import Finished, run_arxivbot
from tests.deliver.conftest import PASSWORD, Sleeps, email_settings
from tests.deliver.smtpserver import SMTPServer, closed_port
from tests.localserver import LocalServer, Scripted
from tests.test_cli import FEED_PATH, RSS, SAMPLE_FEED, assert_one_line_error, write_config

USERS = {"me@example.org": PASSWORD}
HOOK = "/services/T0AAA/B0BBB/xoxSECRETwebhook77"
DAY = "2025-12-24"  # the sample feed's day


def arxivbot(*args: str) -> Finished:
    return run_arxivbot(*args, sleep=Sleeps())


@pytest.fixture
def arxiv(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """The local arXiv, which also stands in for Slack at HOOK (its URL is in SLACK_WEBHOOK_URL)."""
    local_server.route(FEED_PATH, Scripted(200, SAMPLE_FEED, RSS))
    local_server.route(HOOK, Scripted(200, b"ok"), method="POST")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", local_server.url + HOOK)
    return local_server


def config_file(folder: Path, arxiv: LocalServer, port: int, **email: Any) -> Path:
    delivery = {
        "email": email_settings(port, **email),
        "webhooks": [{"kind": "slack", "url_env": "SLACK_WEBHOOK_URL"}],
        "max_retries": 1,
    }
    return write_config(folder, arxiv.url + "/rss", delivery=delivery)


def test_smtp_down_then_up_publishes_both_times_and_delivers_exactly_once(
    tmp_path: Path, arxiv: LocalServer, password: str
) -> None:
    port = closed_port()
    config = str(config_file(tmp_path, arxiv, port))

    down = arxivbot("run", "--config", config)

    assert down.returncode == 3, down.stderr
    assert "Traceback" not in down.stderr
    assert f"warning: email: 127.0.0.1:{port}: connection refused; check delivery.email.smtp_host" in down.stderr
    assert "Undelivered digests stay due" in down.stderr
    assert "slack: posted 1 message to 127.0.0.1" in down.stdout
    assert (tmp_path / "README.md").is_file()

    with SMTPServer(users=USERS, port=port) as smtp:
        up = arxivbot("run", "--config", config)
        again = arxivbot("run", "--config", config)
        received = smtp.received

    assert up.returncode == 0 and again.returncode == 0, up.stderr + again.stderr
    assert f"email: sent to 2 recipients through 127.0.0.1:{port}" in up.stdout
    assert "email: already sent at" in again.stdout and "slack: already sent at" in again.stdout
    assert len(received) == 1 and len(arxiv.requests_to(HOOK)) == 1
    message = received[0].message
    assert message["Subject"].startswith(f"arXiv {DAY}: ") and message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",))
    assert html is not None and "Speculative Decoding for Long-Context LLM Inference" in html.get_content()
    report = json.loads(arxivbot("run", "--config", config, "--json").stdout)
    assert [(d["channel"], d["ok"]) for d in report["deliveries"]] == [
        ("files", True),
        ("email", True),
        ("slack", True),
    ]


def test_deliver_by_hand_test_messages_and_force(tmp_path: Path, arxiv: LocalServer, password: str) -> None:
    with SMTPServer(users=USERS) as smtp:
        config = str(config_file(tmp_path, arxiv, smtp.port))

        test = arxivbot("deliver", "--config", config, "--test")
        assert test.returncode == 0, test.stderr
        assert test.stdout.splitlines() == [
            f"email: test message sent to 2 recipients through 127.0.0.1:{smtp.port}",
            "slack: test message posted 1 message to 127.0.0.1",
        ]
        assert smtp.received[0].message["Subject"] == "arxivbot test message"

        no_digest = arxivbot("deliver", "--config", config)
        assert "no database yet" in assert_one_line_error(no_digest, 2)

        assert arxivbot("run", "--config", config).returncode == 0
        assert len(smtp.received) == 2
        again = arxivbot("deliver", "--config", config, "--date", DAY, "--channel", "email")
        assert again.returncode == 0 and again.stdout.startswith("email: already sent at")
        forced = arxivbot("deliver", "--config", config, "--date", DAY, "--channel", "email", "--force")
        assert forced.returncode == 0 and forced.stdout.startswith("email: sent to 2 recipients")
        assert len(smtp.received) == 3 and len(arxiv.requests_to(HOOK)) == 2  # slack: the test and the run

    unknown = arxivbot("deliver", "--config", config, "--channel", "teams")
    assert "--channel teams: no such channel; the configured ones are email, slack" in assert_one_line_error(unknown, 2)
    other_day = arxivbot("deliver", "--config", config, "--date", "2025-12-01")
    assert "no digest of 2025-12-01; run `arxivbot run --date 2025-12-01` first" in assert_one_line_error(other_day, 2)


def test_deliver_test_reports_each_channel_and_exits_3_when_one_failed(
    tmp_path: Path, arxiv: LocalServer, password: str
) -> None:
    arxiv.route(HOOK, Scripted(403, b"invalid_token"), method="POST")
    config = str(config_file(tmp_path, arxiv, closed_port()))

    result = arxivbot("deliver", "--config", config, "--test")

    assert result.returncode == 3 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("arxivbot: error:")]
    assert errors[0].startswith("arxivbot: error: email: 127.0.0.1:") and "connection refused" in errors[0]
    assert errors[1] == (
        "arxivbot: error: slack: 127.0.0.1: refused (HTTP 403) (invalid_token): the URL in SLACK_WEBHOOK_URL "
        "is wrong or was revoked"
    )


def test_without_channels_deliver_says_how_to_add_one(tmp_path: Path, arxiv: LocalServer) -> None:
    config = str(write_config(tmp_path, arxiv.url + "/rss"))
    mixed = arxivbot("deliver", "--config", config, "--test", "--force")
    assert "--test sends a test message to each channel; it takes no --date or --force" in assert_one_line_error(
        mixed, 2
    )
    result = arxivbot("deliver", "--config", config, "--test")
    assert "no delivery channel is configured: add delivery.email or delivery.webhooks" in assert_one_line_error(
        result, 2
    )


def test_an_invalid_recipient_is_a_configuration_error_naming_it(tmp_path: Path, arxiv: LocalServer) -> None:
    config = str(config_file(tmp_path, arxiv, 587, recipients=["me@example.org", "lab@@example.org"]))
    result = arxivbot("run", "--config", config)
    error = assert_one_line_error(result, 2)
    assert "delivery.email.recipients[1]: not a valid e-mail address" in error and '"lab@@example.org"' in error
    assert arxiv.requests_to(FEED_PATH) == []  # stopped before anything was fetched


def test_no_secret_reaches_any_output_log_or_the_database(
    tmp_path: Path, arxiv: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every path that could leak: a rejected password, a webhook that echoes its URL, verbose logging.
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    echo = Scripted(403, lambda request: f"invalid_token: {arxiv.url}{request.path}".encode())
    arxiv.route(HOOK, echo, method="POST")
    with SMTPServer(users={"me@example.org": "another-password"}) as smtp:
        config = str(config_file(tmp_path, arxiv, smtp.port))
        results = [
            arxivbot("run", "--config", config, "-v"),
            arxivbot("run", "--config", config, "--json"),
            arxivbot("deliver", "--config", config, "-v"),
            arxivbot("deliver", "--config", config, "--test", "-v"),
        ]
    assert [r.returncode for r in results] == [3, 3, 3, 3]
    assert "login as me@example.org refused (535" in results[0].stderr
    produced = [r.stdout + r.stderr for r in results]
    produced += [path.read_bytes().decode("utf-8", "replace") for path in tmp_path.rglob("*") if path.is_file()]
    assert any("arxivbot.db" in str(path) for path in tmp_path.rglob("*"))
    for text in produced:
        assert PASSWORD not in text
        assert "xoxSECRETwebhook77" not in text


def test_deliver_takes_the_run_lock_so_a_run_and_a_hand_delivery_never_both_send(
    tmp_path: Path, arxiv: LocalServer, password: str
) -> None:
    from filelock import FileLock

    from arxivbot.runlock import lock_path

    port = closed_port()
    config = config_file(tmp_path, arxiv, port)
    assert arxivbot("run", "--config", str(config)).returncode == 3  # published; the e-mail is due
    data = json.loads(config.read_text(encoding="utf-8"))
    data["storage"] = {"lock_timeout_seconds": 0}
    config.write_text(json.dumps(data), encoding="utf-8")
    posts_before = len(arxiv.requests_to(HOOK))

    with FileLock(str(lock_path(tmp_path / "data" / "arxivbot.db"))):  # a run is under way
        blocked = arxivbot("deliver", "--config", str(config))

    assert blocked.returncode == 4
    assert_one_line_error(blocked, 4)
    assert "another arxivbot run is using this database" in blocked.stderr
    assert len(arxiv.requests_to(HOOK)) == posts_before  # nothing was sent
