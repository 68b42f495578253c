"""The e-mail channel against a real SMTP server (aiosmtpd): plain, STARTTLS and TLS from the first byte,
with AUTH; the messages are parsed back; every way a send fails gives one line with the fix."""

from __future__ import annotations

import socket
from pathlib import Path

import lxml.html
import pytest

from arxivbot.config import Config
from arxivbot.deliver.email import _explain
from arxivbot.deliver.outbox import deliver_due, message_channels
from arxivbot.deliver.render_email import MAX_HTML_BYTES
from arxivbot.deliver.settings import EmailSettings
from arxivbot.models import Delivery
from arxivbot.store import open_store
from tests.deliver.conftest import NOW, PASSWORD, RECIPIENTS, Sleeps, email_settings, seeded_config
from tests.deliver.smtpserver import Certificates, SilentServer, SMTPServer, closed_port
from tests.publish.seeding import DAY2, EVIL_TITLE

USERS = {"me@example.org": PASSWORD}
GMAIL_CLIP = 102 * 1024


def deliver(config: Config, sleeps: Sleeps | None = None) -> Delivery:
    with open_store(config.storage.database) as store:
        channels = message_channels(config, sleep=sleeps if sleeps is not None else Sleeps())
        (delivery,) = deliver_due(channels, store, config, day=DAY2, now=NOW)
    return delivery


def stored_status(config: Config) -> tuple[str, int, str]:
    with open_store(config.storage.database) as store:
        record = store.delivery(DAY2, "email")
    assert record is not None
    return record.status, record.attempts, record.last_error


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_each_security_mode_logs_in_and_delivers_one_message_to_every_recipient(
    security: str, tmp_path: Path, certificates: Certificates, password: str
) -> None:
    with SMTPServer(security=security, users=USERS, certificates=certificates) as server:
        extra = {"ca_file": str(certificates.ca_file)} if security != "none" else {}
        config = seeded_config(tmp_path, {"email": email_settings(server.port, security=security, **extra)})

        delivery = deliver(config)

        assert delivery.ok, delivery.message
        assert delivery.message == f"sent to 2 recipients through 127.0.0.1:{server.port}"
        (received,) = server.received
    assert received.login == "me@example.org"
    assert received.mail_from == "bot@example.org"
    assert received.recipients == ["me@example.org", "lab@example.org"]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "arXiv 2025-12-23: 3 papers"
    assert message["From"] == "arxivbot <bot@example.org>"
    # Recipients are on the envelope only: no header names them (they do not see each other).
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    assert "me@example.org" not in headers and "lab@example.org" not in headers
    assert message["To"] == "arxivbot <bot@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert stored_status(config) == ("sent", 1, "")


def test_one_recipient_is_addressed_directly_and_show_recipients_lists_them_all(tmp_path: Path, password: str) -> None:
    with SMTPServer(users=USERS) as server:
        alone = seeded_config(tmp_path / "a", {"email": email_settings(server.port, recipients=["me@example.org"])})
        together = seeded_config(tmp_path / "b", {"email": email_settings(server.port, show_recipients=True)})
        assert deliver(alone).ok and deliver(together).ok
        first, second = server.received
    assert first.message["To"] == "me@example.org" and first.recipients == ["me@example.org"]
    assert second.message["To"] == "me@example.org, Lab <lab@example.org>"


def test_both_parts_list_every_paper_with_its_facts_and_nothing_from_arxiv_or_the_model_is_live(
    tmp_path: Path, password: str
) -> None:
    with SMTPServer(users=USERS) as server:
        config = seeded_config(tmp_path, {"email": email_settings(server.port)})
        assert deliver(config).ok
        (received,) = server.received
    html_part = received.message.get_body(("html",))
    text_part = received.message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html, text = html_part.get_content(), text_part.get_content().replace("\r\n", "\n")
    page = lxml.html.fromstring(html)

    # Inert: no script, no image or other resource to load, no javascript: link, whatever the title said.
    assert page.xpath("//script | //img | //iframe | //object | //link | //*[@src]") == []
    hrefs = page.xpath("//a/@href")
    assert hrefs and all(href.startswith("https://") for href in hrefs)
    assert not any("javascript" in href for href in hrefs)
    assert EVIL_TITLE in page.text_content()  # shown as text, character for character
    assert "<script>document.title='pwned'</script>" in page.text_content()  # the summary's too
    # Every paper: a title link to arXiv, authors, category, score, why, and its summary.
    titles = {
        a.text_content(): a.get("href") for a in page.xpath("//a") if a.get("href", "").startswith("https://arxiv")
    }
    assert titles["SparseKV: Dynamic KV Cache Eviction"] == "https://arxiv.org/abs/2512.20276"
    assert titles[EVIL_TITLE] == "https://arxiv.org/abs/2512.00666"
    assert len(titles) == 3
    for needle in (
        "Ada Lovelace, Alan Turing",
        "cs.AI · score 3.5 · new",
        "why: keywords: LLM",
        "AI summary (by qwen-long)",
    ):
        assert needle in page.text_content() and needle in text
    assert page.xpath("//table//td[text()='LongBench']")  # the summary's markdown, rendered
    assert '<meta name="color-scheme" content="light dark">' in html  # dark mode declared
    assert "1. SparseKV: Dynamic KV Cache Eviction\n   https://arxiv.org/abs/2512.20276" in text
    assert EVIL_TITLE in text


def test_a_long_digest_stays_under_gmail_clipping_with_shortened_summaries_linking_to_the_page(
    tmp_path: Path, password: str
) -> None:
    paragraph = "**SparseKV** 在 LongBench 上吞吐提升 2.1 倍，精度几乎不变。" * 25
    long_summary = "## 主要贡献\n\n- 问题\n- 方法\n\n" + "\n\n".join([paragraph] * 5)
    with SMTPServer(users=USERS) as server:
        config = seeded_config(tmp_path, {"email": email_settings(server.port)}, papers=40, summary=long_summary)
        assert len(long_summary.encode()) * 40 > 3 * GMAIL_CLIP  # far too much to send whole
        assert deliver(config).ok
        (received,) = server.received
    html_part = received.message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert len(html.encode("utf-8")) <= MAX_HTML_BYTES < GMAIL_CLIP
    assert len(received.raw) < 2 * GMAIL_CLIP  # both parts, encoded
    page = lxml.html.fromstring(html)
    assert len([a for a in page.xpath("//a/@href") if a.startswith("https://arxiv.org/abs/")]) == 40  # all listed
    more = page.xpath("//a[text()='Read the whole summary']/@href")
    assert "https://example.org/arxiv/2025-12-23/#2512.20276" in more
    assert "SparseKV" in page.text_content()  # the start of each summary is kept


# --- faults: one line naming the channel's server and the fix, recorded, retried next run -------------------


def test_a_refused_connection_is_retried_then_reported_with_the_fix(tmp_path: Path, password: str) -> None:
    port = closed_port()
    config = seeded_config(tmp_path, {"email": email_settings(port)})
    sleeps = Sleeps()

    delivery = deliver(config, sleeps)

    assert not delivery.ok
    assert delivery.message.startswith(f"127.0.0.1:{port}: connection refused; check delivery.email.smtp_host")
    assert "(after 3 attempts)" in delivery.message
    assert len(sleeps) == 2  # max_retries 2: the retry policy's waits, never real ones
    assert stored_status(config) == ("failed", 1, delivery.message)


def test_a_wrong_password_is_not_retried_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certificates: Certificates
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-Pa55-word")
    with SMTPServer(security="starttls", users=USERS, certificates=certificates) as server:
        config = seeded_config(
            tmp_path,
            {"email": email_settings(server.port, security="starttls", ca_file=str(certificates.ca_file))},
        )
        sleeps = Sleeps()
        delivery = deliver(config, sleeps)
        assert server.received == [] and set(server.authenticator.attempts) == {"me@example.org"}
    assert not delivery.ok and sleeps == []
    assert "login as me@example.org refused (535" in delivery.message
    assert "password in SMTP_PASSWORD" in delivery.message and "app password" in delivery.message
    assert "wrong-Pa55-word" not in delivery.message
    assert b"wrong-Pa55-word" not in config.storage.database.read_bytes()


def test_a_missing_password_variable_names_it(tmp_path: Path) -> None:
    with SMTPServer(users=USERS) as server:
        config = seeded_config(tmp_path, {"email": email_settings(server.port)})
        delivery = deliver(config)
        assert server.received == []
    assert not delivery.ok
    assert delivery.message.startswith("the SMTP password is not set: put it in the environment variable SMTP_PASSWORD")


def test_tls_from_the_first_byte_against_a_starttls_port_says_which_setting_to_change(
    tmp_path: Path, password: str
) -> None:
    with SMTPServer(users=USERS) as server:  # a plain port, as 587 is before STARTTLS
        config = seeded_config(tmp_path, {"email": email_settings(server.port, security="ssl")})
        delivery = deliver(config)
    assert not delivery.ok
    assert "TLS handshake failed" in delivery.message and 'set security to "starttls" for port 587' in delivery.message


def test_starttls_against_a_server_without_it_says_which_setting_to_change(tmp_path: Path, password: str) -> None:
    with SMTPServer(users=None) as server:
        config = seeded_config(tmp_path, {"email": email_settings(server.port, security="starttls", login=False)})
        delivery = deliver(config)
    assert not delivery.ok
    assert "does not offer STARTTLS" in delivery.message and 'set security to "ssl" (port 465)' in delivery.message


def test_an_untrusted_certificate_points_at_ca_file(tmp_path: Path, certificates: Certificates, password: str) -> None:
    with SMTPServer(security="ssl", users=USERS, certificates=certificates) as server:
        config = seeded_config(tmp_path, {"email": email_settings(server.port, security="ssl")})  # no ca_file
        delivery = deliver(config)
    assert not delivery.ok
    assert "certificate is not trusted" in delivery.message and "delivery.email.ca_file" in delivery.message


def test_a_silent_server_times_out_with_the_port_hint(tmp_path: Path, password: str) -> None:
    with SilentServer() as server:
        config = seeded_config(
            tmp_path, {"email": email_settings(server.port), "timeout_seconds": 0.2, "max_retries": 0}
        )
        delivery = deliver(config)
    assert not delivery.ok
    assert delivery.message.startswith(f"127.0.0.1:{server.port}: no answer within 0.2 s")


def test_a_temporary_refusal_is_retried_and_a_permanent_one_is_not(tmp_path: Path, password: str) -> None:
    with SMTPServer(users=USERS) as server:
        server.refuse_next("451 4.3.0 Mailbox busy, try again later")
        config = seeded_config(tmp_path / "a", {"email": email_settings(server.port)})
        sleeps = Sleeps()
        assert deliver(config, sleeps).ok
        assert len(server.received) == 1 and len(sleeps) == 1

        server.refuse_next("554 5.7.1 Message rejected as spam")
        config = seeded_config(tmp_path / "b", {"email": email_settings(server.port)})
        sleeps = Sleeps()
        delivery = deliver(config, sleeps)
        assert len(server.received) == 1 and sleeps == []
    assert not delivery.ok and "the server answered 554 5.7.1 Message rejected as spam" in delivery.message


def test_an_unknown_host_is_explained() -> None:
    settings = EmailSettings(smtp_host="smtp.example.invalid", recipients=RECIPIENTS, sender="bot@example.org")
    said = _explain(socket.gaierror(socket.EAI_NONAME, "Name or service not known"), settings, 30)
    assert said == "unknown host (Name or service not known); check delivery.email.smtp_host"
