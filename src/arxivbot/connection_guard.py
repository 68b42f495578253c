"""Slow and hostile clients: a deadline to send a request, and a cap on open connections.

uvicorn (checked in 0.29 to 0.55) gives a client all the time in the world to send its request:
``timeout_keep_alive`` is armed only after a response and cleared by every byte received, so a client
that connects and sends nothing, or its headers one byte at a time, holds a connection and a file
descriptor for ever. ``limit_concurrency`` answers 503 only once a request's headers are complete,
and counts the stalled connections among the busy ones: under a slow-header flood it would turn the
normal clients away while the attacker's sockets stay open. (hypercorn's ``read_timeout`` restarts on
every read; granian has a header timeout but brings its own process model: see docs/deploy.md.)

So the service wraps uvicorn's HTTP protocol (httptools) with two rules:

* **a read deadline**: a request — headers and body — must arrive within ``server.read_timeout_seconds``
  of the connection opening, or of the request's first byte on a kept-alive connection. Otherwise the
  client gets ``408 Request Timeout`` and the connection is closed.
* **a connection cap**: at most ``max_connections`` are open (kept below the file-descriptor limit by
  :func:`connection_cap`). A connection that arrives at the cap closes the open connection that has
  waited longest without a request being served — a stalled one, or an idle kept-alive one — so a
  normal client, which sends its request at once, is still served during a flood. Only when every
  open connection is busy with a request does the newcomer get ``503`` at once.

Neither rule ever cuts a response that is being sent, or a request the app is working on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

    from arxivbot.config import ServerConfig

log = logging.getLogger(__name__)

_FD_RESERVE = 64  # descriptors kept for the database, logs, and the cycle's own connections
_WARN_EVERY_SECONDS = 10.0


def _plain_response(status: bytes, text: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 " + status, b"content-type: text/plain; charset=utf-8", *extra]
    head += [b"content-length: " + str(len(text)).encode(), b"connection: close"]
    return b"\r\n".join(head) + b"\r\n\r\n" + text


_TIMEOUT_RESPONSE = _plain_response(b"408 Request Timeout", b"the request took too long to arrive.\n")
_BUSY_RESPONSE = _plain_response(
    b"503 Service Unavailable", b"too many connections; retry shortly.\n", b"retry-after: 5"
)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    read_timeout_seconds: float
    max_connections: int


def uvicorn_config(app: Any, server: ServerConfig) -> uvicorn.Config:
    """How ``arxivbot serve`` runs ``app``: guarded against slow clients, no Server header, no proxy trust."""
    import uvicorn

    limits = ConnectionLimits(server.read_timeout_seconds, connection_cap(server.max_connections))
    log.info(
        "slow clients: a request must arrive within %g s; at most %d connections",
        limits.read_timeout_seconds,
        limits.max_connections,
    )
    return uvicorn.Config(
        app,
        http=guarded_protocol(limits),
        ws="none",  # no route speaks WebSocket: an upgrade request is an ordinary request here
        log_level="info",
        server_header=False,
        proxy_headers=False,
        lifespan="on",
    )


def connection_cap(wanted: int) -> int:
    """``wanted``, or fewer when the process may not open that many files (``ulimit -n``).

    The soft limit is raised towards the hard one first, as far as ``wanted`` needs.
    """
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit to respect here
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + _FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    cap = max(1, soft - _FD_RESERVE)
    log.warning("server.max_connections lowered from %d to %d: the process may open only %d files", wanted, cap, soft)
    return cap


def guarded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol] | str:
    """uvicorn's httptools protocol with the read deadline and the connection cap, for ``uvicorn.Config(http=…)``.

    One call per server: the returned class shares one count of open connections.
    """
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is a dependency; without it, uvicorn's own protocol, unguarded
        log.warning("httptools is missing: slow clients are not timed out (pip install httptools)")
        return "auto"
    guard = _Guard(limits)

    class GuardedHttpProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _reading = True  # a request is (or may be) arriving: from the connection or the first byte after a response

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if guard.admit(self):
                self._arm_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_deadline()
            guard.forget(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            # The first byte after a response starts the clock for the next request, a stray byte on an
            # idle kept-alive connection included (it would otherwise stop uvicorn's keep-alive timer).
            # Bytes pipelined while the app works on a request wait for that request to be answered.
            if not self._reading and not self.responding() and not self._app_working():
                self._reading = True
            if self._reading:
                self._arm_deadline()
            super().data_received(data)

        def on_message_complete(self) -> None:
            self._reading = False
            self._disarm_deadline()
            guard.busy(self)
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                guard.waiting(self)  # idle between requests: uvicorn's keep-alive timeout closes it

        def responding(self) -> bool:
            """True while a response is being sent: never cut."""
            cycle: Any = self.cycle
            return cycle is not None and cycle.response_started and not cycle.response_complete

        def _app_working(self) -> bool:
            cycle: Any = self.cycle
            return cycle is not None and not cycle.response_complete

        def _arm_deadline(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(limits.read_timeout_seconds, self._read_timed_out)

        def _disarm_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _read_timed_out(self) -> None:
            self._deadline = None
            if self.transport.is_closing() or not self._reading:
                return
            guard.dropped("read deadline")
            if not self.responding():  # the app may have answered before the body arrived: no second answer
                self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()

    return GuardedHttpProtocol


class _Guard:
    """The open connections of one server; those not busy with a request are kept oldest first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.open: set[Any] = set()
        self.idle: dict[Any, None] = {}  # insertion order: the longest-waiting connection first
        self._dropped: dict[str, int] = {}
        self._warned_at = 0.0

    def admit(self, connection: Any) -> bool:
        """Count a new connection; at the cap, make room by closing the longest-waiting one, or refuse."""
        if len(self.open) >= self.limits.max_connections and not self._make_room():
            self.dropped("connection cap, every connection busy")
            connection.transport.write(_BUSY_RESPONSE)
            connection.transport.close()
            return False
        self.open.add(connection)
        self.idle[connection] = None
        return True

    def waiting(self, connection: Any) -> None:
        if connection in self.open and connection not in self.idle:
            self.idle[connection] = None

    def busy(self, connection: Any) -> None:
        self.idle.pop(connection, None)

    def forget(self, connection: Any) -> None:
        self.open.discard(connection)
        self.idle.pop(connection, None)

    def _make_room(self) -> bool:
        for connection in list(self.idle):
            del self.idle[connection]
            if connection.responding():  # a pipelined request arrived while a response is being sent
                continue
            self.open.discard(connection)
            connection.transport.close()
            self.dropped("connection cap, the longest-waiting connection closed")
            return True
        return False

    def dropped(self, why: str) -> None:
        """Count a dropped connection; say so at most every few seconds (a flood must not flood the log)."""
        self._dropped[why] = self._dropped.get(why, 0) + 1
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_SECONDS:
            counts = ", ".join(f"{count} ({reason})" for reason, count in self._dropped.items())
            log.warning(
                "slow or excess clients dropped: %s; read deadline %g s, at most %d connections",
                counts,
                self.limits.read_timeout_seconds,
                self.limits.max_connections,
            )
            self._dropped.clear()
            self._warned_at = now
