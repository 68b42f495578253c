"""The chat channels against a local HTTP server standing in for each service's API: the payloads it
receives (format, limits, escaping), retries on 429/5xx through the one policy, and every refusal as
one line that names the host, never the webhook URL or the token."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from arxivbot.config import Config
from arxivbot.deliver.feishu import sign
from arxivbot.deliver.outbox import deliver_due, message_channels
from arxivbot.models import Delivery
from arxivbot.store import open_store
from tests.deliver.conftest import LONG_SUMMARY, NOW, Sleeps, seeded_config
from tests.deliver.smtpserver import closed_port
from tests.localserver import LocalServer, RecordedRequest, Scripted
from tests.publish.seeding import DAY2, EVIL_TITLE

SECRET_PATH = "/services/T0AAA/B0BBB/xoxSECRETpart9f3a"  # what a Slack webhook URL hides
TOKEN = "123456:AAE-secret-bot-token"
OK_JSON = Scripted(200, b'{"ok": true, "code": 0}', {"Content-Type": "application/json"})


def deliver(config: Config, sleeps: Sleeps | None = None) -> list[Delivery]:
    with open_store(config.storage.database) as store:
        channels = message_channels(config, sleep=sleeps if sleeps is not None else Sleeps())
        return list(deliver_due(channels, store, config, day=DAY2, now=NOW))


def bodies(server: LocalServer, path: str) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in server.requests_to(path)]


@pytest.fixture
def hook(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """The service stand-in; its URL (with a secret path) is in HOOK_URL, as a user would put it."""
    monkeypatch.setenv("HOOK_URL", local_server.url + SECRET_PATH)
    return local_server


def webhook(kind: str, **extra: Any) -> dict[str, Any]:
    return {"webhooks": [{"kind": kind, "url_env": "HOOK_URL", **extra}]}


# --- Slack -------------------------------------------------------------------------------------------------


def test_slack_gets_block_kit_messages_within_its_limits_split_between_papers(
    tmp_path: Path, hook: LocalServer
) -> None:
    hook.route(SECRET_PATH, Scripted(200, b"ok"), method="POST")
    config = seeded_config(tmp_path, webhook("slack"), papers=30, summary=LONG_SUMMARY * 6)
    sleeps = Sleeps()

    (delivery,) = deliver(config, sleeps)

    payloads = bodies(hook, SECRET_PATH)
    assert delivery.ok and delivery.message == f"posted {len(payloads)} messages to 127.0.0.1"
    assert len(payloads) > 1 and sleeps == [1.0] * (len(payloads) - 1)  # one message a second
    sections: list[str] = []
    for payload in payloads:
        assert len(payload["blocks"]) <= 50 and payload["unfurl_links"] is False
        for block in payload["blocks"]:
            if block["type"] == "section":
                assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3000
                sections.append(block["text"]["text"])
    header = payloads[0]["blocks"][0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "arXiv digest 2025-12-23: 30 papers", "emoji": True},
    }
    assert len(sections) == 30  # every paper once, in rank order
    assert [s.split(" ", 1)[0] for s in sections] == [f"*{n}." for n in range(1, 31)]
    assert sections[0].startswith("*1. <https://arxiv.org/abs/2512.20276|SparseKV: Dynamic KV Cache Eviction>*")
    evil = sections[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; ](javascript:alert(1)) Attention" in evil
    assert "<script" not in json.dumps(payloads) and "<img" not in json.dumps(payloads)
    assert "<https://example.org/arxiv/2025-12-23/#2512.20276|the whole summary>" in sections[0]


def test_slack_429_waits_as_long_as_retry_after_asks_and_5xx_is_retried(tmp_path: Path, hook: LocalServer) -> None:
    hook.route(
        SECRET_PATH,
        Scripted(429, b"rate_limited", {"Retry-After": "7"}),
        Scripted(503, b"service unavailable"),
        Scripted(200, b"ok"),
        method="POST",
    )
    config = seeded_config(tmp_path, webhook("slack"))
    sleeps = Sleeps()

    (delivery,) = deliver(config, sleeps)

    assert delivery.ok and len(hook.requests_to(SECRET_PATH)) == 3
    assert sleeps[0] >= 7 and len(sleeps) == 2  # Retry-After honoured, then the policy's backoff


def test_a_refused_webhook_names_the_host_and_the_variable_never_the_url(
    tmp_path: Path, hook: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Slack answers 404 "no_service" for a deleted webhook; this stand-in also echoes the URL back.
    echo = Scripted(404, lambda request: f"no_service for {hook.url}{request.path}".encode())
    hook.route(SECRET_PATH, echo, method="POST")
    config = seeded_config(tmp_path, webhook("slack"))
    sleeps = Sleeps()

    with caplog.at_level(logging.DEBUG):
        (delivery,) = deliver(config, sleeps)

    assert not delivery.ok and sleeps == []  # a 404 is not retried
    assert delivery.message == (
        "127.0.0.1: not found (HTTP 404) (no_service for [secret]): the URL in HOOK_URL names no webhook "
        "(deleted?); put a current one there"
    )
    for text in (delivery.message, caplog.text, config.storage.database.read_bytes().decode("utf-8", "replace")):
        assert "xoxSECRETpart9f3a" not in text
    assert "HTTP Request: POST" in caplog.text  # httpx did log the request, with the secret blanked out


def test_connection_refused_and_time_outs_are_retried_then_reported(
    tmp_path: Path, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", f"http://127.0.0.1:{closed_port()}/hook")
    config = seeded_config(tmp_path / "a", webhook("discord"))
    sleeps = Sleeps()
    (refused,) = deliver(config, sleeps)
    assert not refused.ok and len(sleeps) == 2
    assert "cannot connect" in refused.message and "after 3 attempts" in refused.message
    assert "check the URL in HOOK_URL" in refused.message

    local_server.route("/slow", Scripted(204, delay=0.5), method="POST")
    monkeypatch.setenv("HOOK_URL", local_server.url + "/slow")
    config = seeded_config(tmp_path / "b", {**webhook("discord"), "timeout_seconds": 0.1, "max_retries": 0})
    (slow,) = deliver(config)
    assert not slow.ok and slow.message == "127.0.0.1: no answer within 0.1 s; it is retried next run"


def test_a_missing_or_malformed_url_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = seeded_config(tmp_path, webhook("slack"))
    (missing,) = deliver(config)
    assert missing.message == (
        "the webhook URL is not set: put it in the environment variable HOOK_URL (named by "
        "delivery.webhooks[0].url_env); on GitHub Actions, as a repository secret passed to the run step"
    )
    monkeypatch.setenv("HOOK_URL", "hooks.slack.com/services/T0/B0/secret-without-scheme")
    with open_store(config.storage.database) as store:  # the failed digest is due again
        assert store.due_deliveries("slack", DAY2) == [DAY2]
    (malformed,) = deliver(config)
    assert malformed.message.startswith("the URL in HOOK_URL is not an http(s) URL")
    assert "secret-without-scheme" not in malformed.message


# --- Discord -----------------------------------------------------------------------------------------------


def test_discord_gets_embeds_within_its_limits_with_mentions_off_and_markdown_escaped(
    tmp_path: Path, hook: LocalServer
) -> None:
    hook.route(SECRET_PATH, Scripted(204), method="POST")
    config = seeded_config(tmp_path, webhook("discord"), papers=24, summary=LONG_SUMMARY * 6)
    sleeps = Sleeps()

    (delivery,) = deliver(config, sleeps)

    payloads = bodies(hook, SECRET_PATH)
    assert delivery.ok and len(payloads) > 2 and sleeps == [0.5] * (len(payloads) - 1)
    embeds = [embed for payload in payloads for embed in payload["embeds"]]
    for payload in payloads:
        assert payload["allowed_mentions"] == {"parse": []}
        assert len(payload["content"]) <= 2000 and len(payload["embeds"]) <= 10
        assert sum(len(e["title"]) + len(e["description"]) for e in payload["embeds"]) <= 6000
    assert len(embeds) == 24 and all(len(e["title"]) <= 256 and len(e["description"]) <= 4096 for e in embeds)
    assert embeds[0]["url"] == "https://arxiv.org/abs/2512.20276"
    assert embeds[1]["title"] == r"2. \<script\>alert\(1\)\</script\> & \]\(javascript:alert\(1\)\) Attention"
    assert "**AI summary \\(by qwen-long\\)**" in embeds[0]["description"]
    assert "[the whole summary](https://example.org/arxiv/2025-12-23/#2512.20276)" in embeds[0]["description"]


def test_discord_429_honours_its_retry_after(tmp_path: Path, hook: LocalServer) -> None:
    limited = Scripted(
        429,
        b'{"message": "You are being rate limited.", "retry_after": 2.5, "global": false}',
        {"Content-Type": "application/json", "Retry-After": "3"},
    )
    hook.route(SECRET_PATH, limited, Scripted(204), method="POST")
    config = seeded_config(tmp_path, webhook("discord"))
    sleeps = Sleeps()
    (delivery,) = deliver(config, sleeps)
    assert delivery.ok and sleeps[0] >= 3


# --- Telegram ----------------------------------------------------------------------------------------------


@pytest.fixture
def telegram(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    return {
        "webhooks": [
            {
                "kind": "telegram",
                "bot_token_env": "TELEGRAM_BOT_TOKEN",
                "chat_id": -1001234,
                "api_url": local_server.url,
            }
        ]
    }


def test_telegram_gets_html_messages_under_4096_characters_with_only_its_tags(
    tmp_path: Path, local_server: LocalServer, telegram: dict[str, Any]
) -> None:
    path = f"/bot{TOKEN}/sendMessage"
    local_server.route(path, OK_JSON, method="POST")
    config = seeded_config(tmp_path, telegram, papers=20)
    sleeps = Sleeps()

    (delivery,) = deliver(config, sleeps)

    payloads = bodies(local_server, path)
    assert delivery.ok and len(payloads) > 1 and sleeps == [3.0] * (len(payloads) - 1)
    assert delivery.message == f"posted {len(payloads)} messages to 127.0.0.1"  # the host, not the token
    for payload in payloads:
        assert payload["chat_id"] == "-1001234" and payload["parse_mode"] == "HTML"
        assert payload["link_preview_options"] == {"is_disabled": True}
        assert len(payload["text"]) <= 4096
        tags = {element.tag for element in lxml.html.fragment_fromstring(payload["text"], create_parent="div").iter()}
        assert tags <= {"div", "b", "i", "a", "code"}, tags
    text = "\n".join(payload["text"] for payload in payloads)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; ](javascript:alert(1)) Attention" in text
    assert '<b>1. <a href="https://arxiv.org/abs/2512.20276">SparseKV: Dynamic KV Cache Eviction</a></b>' in text
    assert text.count('href="https://arxiv.org/abs/') == 20


def test_telegram_errors_come_from_its_json_and_the_token_stays_hidden(
    tmp_path: Path, local_server: LocalServer, telegram: dict[str, Any]
) -> None:
    path = f"/bot{TOKEN}/sendMessage"
    refused = b'{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}'
    local_server.route(path, Scripted(400, refused, {"Content-Type": "application/json"}), method="POST")
    config = seeded_config(tmp_path, telegram)
    (delivery,) = deliver(config)
    assert not delivery.ok
    assert delivery.message == "127.0.0.1: refused the message (HTTP 400) (Bad Request: chat not found)"

    flood = b'{"ok": false, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 11}}'
    local_server.route(path, Scripted(429, flood), OK_JSON, method="POST")
    sleeps = Sleeps()
    (retried,) = deliver(config, sleeps)
    assert retried.ok and sleeps == [11.0]


# --- Feishu ------------------------------------------------------------------------------------------------


def test_feishu_gets_signed_cards_under_20_kb_with_every_special_character_escaped(
    tmp_path: Path, hook: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEISHU_SECRET", "feishu-Signing-s3cret")
    hook.route(SECRET_PATH, OK_JSON, method="POST")
    config = seeded_config(tmp_path, webhook("feishu", secret_env="FEISHU_SECRET"), papers=30)

    (delivery,) = deliver(config, Sleeps())

    requests = hook.requests_to(SECRET_PATH)
    assert delivery.ok and len(requests) > 1
    contents = []
    for request in requests:
        assert len(request.body) <= 20 * 1024
        payload = json.loads(request.body)
        assert payload["sign"] == sign(payload["timestamp"], "feishu-Signing-s3cret")
        assert payload["msg_type"] == "interactive"
        contents += [e["content"] for e in payload["card"]["elements"] if e["tag"] == "markdown"]
    evil = next(content for content in contents if "Attention" in content)
    assert "&#60;script&#62;alert&#40;1&#41;&#60;&#47;script&#62; &#38; &#93;&#40;javascript&#58;alert" in evil
    assert "<" not in evil  # no tag (a mention, a font) can form
    assert json.loads(requests[0].body)["card"]["header"]["title"]["content"] == "arXiv digest 2025-12-23: 30 papers"


def test_feishu_refusals_inside_a_200_answer_fail_and_its_rate_limit_is_retried(
    tmp_path: Path, hook: LocalServer
) -> None:
    limited = Scripted(200, b'{"code": 11232, "msg": "frequency limited psm"}')
    hook.route(SECRET_PATH, limited, OK_JSON, method="POST")
    config = seeded_config(tmp_path / "a", webhook("feishu"))
    sleeps = Sleeps()
    (retried,) = deliver(config, sleeps)
    assert retried.ok and len(sleeps) == 1

    hook.route(
        SECRET_PATH,
        Scripted(200, b'{"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}'),
        method="POST",
    )
    (refused,) = deliver(seeded_config(tmp_path / "b", webhook("feishu")))
    assert not refused.ok
    assert (
        refused.message
        == "127.0.0.1: refused the message (HTTP 200) (code 19021: sign match fail or timestamp is not within one hour)"
    )


# --- any URL -----------------------------------------------------------------------------------------------


def test_generic_webhook_gets_the_papers_json_document(tmp_path: Path, hook: LocalServer) -> None:
    hook.route(SECRET_PATH, Scripted(202), method="POST")
    config = seeded_config(tmp_path, webhook("generic"))

    (delivery,) = deliver(config)

    (request,) = hook.requests_to(SECRET_PATH)
    document = json.loads(request.body)
    assert delivery.ok and request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["user-agent"].startswith("arxivbot/")
    assert document["schema_version"] == 1 and document["day"] == "2025-12-23" and document["paper_count"] == 3
    assert [paper["arxiv_id"] for paper in document["papers"]] == ["2512.20276", "2512.00666", "2512.10000"]
    assert document["papers"][1]["title"] == EVIL_TITLE  # JSON carries the text as it is; escaping is the reader's


def _first_block_is_header(request: RecordedRequest) -> bool:
    return bool(json.loads(request.body)["blocks"][0]["type"] == "header")


def test_a_split_digest_that_failed_half_way_resumes_after_the_messages_that_arrived(
    tmp_path: Path, hook: LocalServer
) -> None:
    hook.route(SECRET_PATH, Scripted(200, b"ok"), Scripted(500, b"oops"), method="POST")
    config = seeded_config(tmp_path, {**webhook("slack"), "max_retries": 0}, papers=30)
    (failed,) = deliver(config)
    first_run = hook.requests_to(SECRET_PATH)
    assert not failed.ok and len(first_run) == 2 and _first_block_is_header(first_run[0])

    hook.route(SECRET_PATH, Scripted(200, b"ok"), method="POST")
    (resumed,) = deliver(config)

    second_run = hook.requests_to(SECRET_PATH)[2:]
    assert resumed.ok and "(the first 1 had arrived before)" in resumed.message
    assert second_run[0].body == first_run[1].body  # the part that failed, then the rest; never part one again
    assert not any(_first_block_is_header(request) for request in second_run)
    with open_store(config.storage.database) as store:
        record = store.delivery(DAY2, "slack")
    assert (
        record is not None
        and record.status == "sent"
        and record.parts_sent == record.parts_total == len(second_run) + 1
    )
