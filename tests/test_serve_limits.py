"""Slow and hostile clients, over real sockets on 127.0.0.1.

First the real ``arxivbot serve`` in its own process under a slow-header flood while a normal client
reads ``/rss``; then the guard's rules one at a time, under uvicorn in a thread with a tiny app whose
answers the test controls. Deadlines are a fraction of a second; the waits are bounded socket reads.
"""

from __future__ import annotations

import asyncio
import json
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from arxivbot.connection_guard import ConnectionLimits, guarded_protocol
from tests.clirunner import run_arxivbot
from tests.procs import SAMPLE_FEED, Arxivbot, wait_until

FLOOD = 200
PARTIAL_REQUEST = b"GET /rss HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # headers never finished


def closed_by_server(conn: socket.socket, seconds: float = 10.0) -> bytes | None:
    """What the server sent before closing ``conn`` (b"" if nothing); None if it kept it open."""
    conn.settimeout(seconds)
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def all_closed_by_server(conns: list[socket.socket], seconds: float = 15.0) -> list[bytes | None]:
    """``closed_by_server`` for many connections at once, within one overall bound."""
    received = {conn: b"" for conn in conns}
    still_open = set(conns)
    with selectors.DefaultSelector() as selector:
        for conn in conns:
            conn.setblocking(False)
            selector.register(conn, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while still_open and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=left):
                conn = key.fileobj
                assert isinstance(conn, socket.socket)
                try:
                    chunk = conn.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    received[conn] += chunk
                else:
                    selector.unregister(conn)
                    still_open.discard(conn)
    return [None if conn in still_open else received[conn] for conn in conns]


def test_serve_keeps_serving_rss_during_a_slow_header_flood(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "keywords": ["LLM", "Inference", "Sparse"],
                "days_back": 0,
                "arxiv": {"rss_url": str(SAMPLE_FEED)},
                "server": {"read_timeout_seconds": 1, "max_connections": 30, "run_on_startup": False},
            }
        ),
        encoding="utf-8",
    )
    assert run_arxivbot("run", "--config", str(config)).returncode == 0

    with Arxivbot("serve", "--config", str(config), "--port", "0", cwd=tmp_path) as serve:
        port = int(serve.wait_for_line(r"serving on http://127\.0\.0\.1:(\d+)/")[1])
        serve.wait_for_line(r"Application startup complete")  # listening from here on
        flood = []
        statuses = []
        try:
            for number in range(FLOOD):
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                conn.sendall(PARTIAL_REQUEST)
                flood.append(conn)
                if number % 20 == 10:  # a normal reader, in the middle of the flood
                    statuses.append(httpx.get(f"http://127.0.0.1:{port}/rss", timeout=10))
            closed = all_closed_by_server(flood)
        finally:
            for conn in flood:
                conn.close()

    assert [r.status_code for r in statuses] == [200] * (FLOOD // 20)
    assert all(r.text.startswith("<?xml") and "<rss" in r.text for r in statuses)
    assert [answer for answer in closed if answer is None] == []  # every stalled connection was dropped
    assert all(answer in (b"", b"HTTP/1.1 408") or answer.startswith(b"HTTP/1.1 408 ") for answer in closed)
    assert "slow or excess clients dropped" in serve.stderr


# --- the guard's rules, one at a time ----------------------------------------------------------------------


class App:
    """Answers ``hello`` once ``release`` is set; counts the requests it is holding."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.release.set()
        self.holding = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):  # read the whole body first, as Starlette does
            pass
        self.holding += 1
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        self.holding -= 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"hello"})


class Guarded:
    """``app`` under uvicorn with the guard, in a thread, on a free port."""

    def __init__(self, app: App, limits: ConnectionLimits) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        config = uvicorn.Config(app, http=guarded_protocol(limits), ws="none", lifespan="off", log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.listener]})

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def get(self, conn: socket.socket | None = None) -> bytes:
        """A complete GET, and the whole answer (the server closes: Connection: close)."""
        conn = conn or self.connect()
        with conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return closed_by_server(conn) or b""

    def __enter__(self) -> Guarded:
        self.thread.start()
        wait_until(lambda: self.server.started)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def guarded(app: App) -> Iterator[Guarded]:
    with Guarded(app, ConnectionLimits(read_timeout_seconds=0.3, max_connections=3)) as server:
        yield server


def test_a_silent_connection_gets_408_and_is_closed(guarded: Guarded) -> None:
    with guarded.connect() as conn:
        assert (closed_by_server(conn) or b"").startswith(b"HTTP/1.1 408 Request Timeout")


def test_a_trickle_of_header_bytes_does_not_extend_the_deadline(guarded: Guarded) -> None:
    trickle = b"GET / HTTP/1.1\r\n" + b"X-Slow: " + b"a" * 200  # 200 writes; the deadline passes long before
    cut = False
    with guarded.connect() as conn:
        for byte in trickle:
            try:
                conn.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            threading.Event().wait(0.01)
        answer = b"" if cut else closed_by_server(conn)
    assert cut or (answer is not None and answer.startswith(b"HTTP/1.1 408"))


def test_a_body_that_never_comes_is_timed_out_too(guarded: Guarded, app: App) -> None:
    with guarded.connect() as conn:
        conn.sendall(b"POST /update HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a little")
        assert (closed_by_server(conn) or b"").startswith(b"HTTP/1.1 408")


def test_a_slow_answer_is_never_cut(guarded: Guarded, app: App) -> None:
    app.release.clear()
    threading.Timer(1.0, app.release.set).start()  # the app works for three deadlines
    assert guarded.get().startswith(b"HTTP/1.1 200 OK")


def test_a_stray_byte_on_an_idle_kept_alive_connection_starts_the_clock(guarded: Guarded) -> None:
    with guarded.connect() as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = conn.recv(65536)
        conn.sendall(b"G")  # then nothing more
        rest = closed_by_server(conn)
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert rest is not None and rest.startswith(b"HTTP/1.1 408")


def test_at_the_cap_the_longest_waiting_connection_makes_room(guarded: Guarded) -> None:
    stalled = [guarded.connect() for _ in range(3)]  # the cap: 3
    for conn in stalled:
        conn.sendall(PARTIAL_REQUEST)
    try:
        answer = guarded.get()  # a fourth, normal client
        oldest = closed_by_server(stalled[0])
    finally:
        for conn in stalled:
            conn.close()
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert oldest == b""  # closed, to make room, without an answer


def test_at_the_cap_with_every_connection_busy_a_newcomer_gets_503(guarded: Guarded, app: App) -> None:
    app.release.clear()
    busy = [guarded.connect() for _ in range(3)]
    for conn in busy:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    wait_until(lambda: app.holding == 3, what="three requests in the app")
    try:
        refused = guarded.get()
        app.release.set()
        served = [closed_by_server(conn) or b"" for conn in busy]
    finally:
        app.release.set()
        for conn in busy:
            conn.close()
    assert refused.startswith(b"HTTP/1.1 503 Service Unavailable") and b"retry-after: 5" in refused
    assert all(answer.startswith(b"HTTP/1.1 200 OK") for answer in served)  # the busy ones were not cut
