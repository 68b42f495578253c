"""Answers too large to be real: read as they stream in and refused past a cap, with a safe preview.

A local server streams a body lazily (it never holds it whole), counting what it managed to send, so
the tests can tell that arxivbot stopped reading rather than downloading everything and then complaining.
"""

from __future__ import annotations

import gzip
import json
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from arxivbot.arxiv.api import fetch_window, parse_api_page
from arxivbot.arxiv.client import body_preview, make_polite_client
from arxivbot.arxiv.rss import fetch_daily_feed, parse_daily_feed
from arxivbot.config import config_from_dict
from arxivbot.errors import FeedFormatError, FetchError, SummaryError
from arxivbot.models import Paper
from arxivbot.summarize.pdf import fetch_pdf
from tests.clirunner import run_arxivbot

MB = 1024 * 1024
CHUNK = bytes(range(256)) * 256  # 64 kB of binary garbage


@dataclass
class Stream:
    chunks: int  # how many CHUNKs to send
    headers: dict[str, str]
    first: bytes = b""  # sent before the chunks
    sent: int = 0  # bytes the server got out before the client hung up


class StreamingServer:
    """Answers every GET with ``stream``'s bytes, produced lazily: the server never holds the body."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                for name, value in outer.stream.headers.items():
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(outer.stream.first)
                    outer.stream.sent += len(outer.stream.first)
                    for _ in range(outer.stream.chunks):
                        self.wfile.write(CHUNK)
                        outer.stream.sent += len(CHUNK)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what we want

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> StreamingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def garbage() -> Iterator[StreamingServer]:
    """50 MB of binary garbage, sent as a feed without a Content-Length."""
    with StreamingServer(Stream(chunks=50 * MB // len(CHUNK), headers={"Content-Type": "application/rss+xml"})) as s:
        yield s


def polite(tmp_path: Path, **arxiv: object) -> object:
    config = config_from_dict({"arxiv": {"request_delay_seconds": 0, "max_retries": 0, **arxiv}}, base_dir=tmp_path)
    return make_polite_client(config.arxiv)


def test_a_50_mb_feed_is_refused_past_the_cap_without_being_read(garbage: StreamingServer, tmp_path: Path) -> None:
    client = polite(tmp_path, max_feed_mb=1)

    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as refused:
            fetch_daily_feed(client, garbage.url + "/rss/cs.AI")  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    message = str(refused.value)
    assert "the daily feed is larger than the 1 MB allowed (stopped reading it;" in message
    assert "raise arxiv.max_feed_mb" in message
    assert "it starts with bytes 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f … (not text)" in message
    assert all(char.isprintable() for char in message)  # never raw bytes
    assert peak < 8 * MB  # read whole, 50 MB would have passed through memory (179 MB peak before the cap)
    assert garbage.stream.sent < 25 * MB  # the rest was never downloaded


def test_a_gzip_bomb_is_measured_by_what_it_inflates_to(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * (20 * MB))  # about 20 kB on the wire
    stream = Stream(chunks=0, first=bomb, headers={"Content-Encoding": "gzip", "Content-Length": str(len(bomb))})
    client = polite(tmp_path, max_feed_mb=1)

    with StreamingServer(stream) as server, pytest.raises(FetchError, match="larger than the 1 MB allowed"):
        fetch_daily_feed(client, server.url + "/rss/cs.AI")  # type: ignore[arg-type]


def test_an_announced_size_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    stream = Stream(chunks=48, headers={"Content-Length": str(48 * len(CHUNK))})  # 3 MB
    client = polite(tmp_path, max_feed_mb=1)

    with StreamingServer(stream) as server, pytest.raises(FetchError) as refused:
        fetch_daily_feed(client, server.url + "/rss/cs.AI")  # type: ignore[arg-type]

    assert "larger than the 1 MB allowed (it announces 3.0 MB)" in str(refused.value)


def test_the_api_and_pdfs_have_their_own_caps(tmp_path: Path) -> None:
    stream = Stream(chunks=40, headers={})  # 2.5 MB
    client = polite(tmp_path, max_feed_mb=1, max_api_mb=2, max_pdf_mb=2)
    paper = Paper("2512.20276", 1, "T", (), "", ("cs.AI",), "https://arxiv.org/abs/2512.20276")
    from datetime import datetime, timezone

    start = datetime(2026, 5, 4, tzinfo=timezone.utc)
    with StreamingServer(stream) as server:
        with pytest.raises(FetchError, match=r"arXiv API answer is larger than the 2 MB allowed.*arxiv\.max_api_mb"):
            list(fetch_window(client, server.url + "/api/query", ["cs.AI"], start, start, 10))  # type: ignore[arg-type]
        with pytest.raises(SummaryError, match=r"PDF is larger than the 2 MB allowed.*arxiv\.max_pdf_mb"):
            fetch_pdf(client, server.url + "/pdf", paper, tmp_path / "pdfs")  # type: ignore[arg-type]
    assert not (tmp_path / "pdfs").exists() or not any((tmp_path / "pdfs").iterdir())


def test_an_answer_within_the_cap_is_read_whole(tmp_path: Path) -> None:
    stream = Stream(chunks=8, headers={"Content-Encoding": "identity"})  # 512 kB
    client = polite(tmp_path, max_feed_mb=1)
    with StreamingServer(stream) as server:
        response = client.get(server.url + "/x", cap=client.limits.feed)  # type: ignore[attr-defined]
    assert response.content == CHUNK * 8 and "content-encoding" not in response.headers


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"\x1b[2J\x1b[31mPWNED", '"\\x1b[2J\\x1b[31mPWNED"'),  # a terminal escape stays inert
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "bytes 89 50 4e 47 0d 0a 1a 0a 00 00 00 00 00 00 00 00 … (not text)"),
        ('Ошибка: 服务不可用 "busy"'.encode(), '"Ошибка: 服务不可用 \\"busy\\""'),
        (b"A" * 100, '"' + "A" * 40 + '…"'),
    ],
    ids=["ansi-escape", "binary", "unicode-text", "long-text"],
)
def test_body_previews_are_safe_to_print(body: bytes, shown: str) -> None:
    assert body_preview(body) == shown


def test_a_non_xml_feed_or_api_answer_is_quoted_safely() -> None:
    hostile = b"\x1b]0;owned\x07\x1b[2J not a feed"
    with pytest.raises(FeedFormatError) as feed:
        parse_daily_feed(hostile, source_url="https://rss.arxiv.org/rss/cs.AI")
    with pytest.raises(FeedFormatError) as api:
        parse_api_page(hostile)
    for error in (feed.value, api.value):
        assert '"\\x1b]0;owned\\x07\\x1b[2J not a feed"' in str(error)
        assert "\x1b" not in str(error) and "\x07" not in str(error)


def test_the_cli_reports_an_oversized_feed_in_one_printable_line(garbage: StreamingServer, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {"keywords": ["LLM"], "arxiv": {"rss_url": garbage.url + "/rss", "max_feed_mb": 1, "max_retries": 0}}
        ),
        encoding="utf-8",
    )

    result = run_arxivbot("run", "--config", str(config))

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("arxivbot: error:")]
    assert len(errors) == 1 and "larger than the 1 MB allowed" in errors[0]
    assert all(char.isprintable() or char == "\n" for char in result.stderr)
    assert not (tmp_path / "README.md").exists()
