"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd): plain, STARTTLS or TLS from the first byte,
with AUTH, recording every message it accepts, parsed back.

The TLS certificate is made per test by ``trustme`` (a throwaway CA and a certificate for 127.0.0.1);
the CA's PEM file is what ``delivery.email.ca_file`` points at. ``refuse_next`` makes the next
transactions fail with a temporary (4xx) or permanent (5xx) answer, to test retries.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """One accepted message: the envelope and the message, parsed."""

    mail_from: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage
    login: str | None  # who logged in for it (None: no AUTH)


@dataclass
class Certificates:
    """A throwaway CA, and the server side of a certificate for 127.0.0.1 signed by it."""

    ca_file: Path
    server_context: ssl.SSLContext

    @classmethod
    def make(cls, folder: Path) -> Certificates:
        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        ca_file = folder / "test-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        return cls(ca_file, context)


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # answers for the next DATA commands, in turn
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
            raw = bytes(envelope.original_content or envelope.content)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed, login))  # type: ignore[arg-type]
        return "250 OK: queued"


class _Authenticator:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.attempts: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.attempts.append(login)
        ok = self.users.get(login) == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class _Controller(Controller):
    """aiosmtpd's controller on a free port (it wants a fixed one), found once the server listens."""

    def factory(self) -> Any:
        # AUTH without TLS is what the plain-port tests want; aiosmtpd warns about it (an error here).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return super().factory()

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SMTPServer:
    """``with SMTPServer(security="starttls", users={"me": "pw"}, certificates=certs) as server: ...``

    ``port`` 0 picks a free port; a given one lets a test bring "the same server" back after an outage.
    """

    def __init__(
        self,
        *,
        security: str = "none",
        users: dict[str, str] | None = None,
        certificates: Certificates | None = None,
        port: int = 0,
    ) -> None:
        self.handler = _Handler()
        self.authenticator = _Authenticator(users or {})
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": port, "ready_timeout": 5.0}
        if security in ("starttls", "ssl") and certificates is None:
            raise ValueError("TLS needs certificates")
        if security == "ssl":
            kwargs["ssl_context"] = certificates.server_context  # type: ignore[union-attr]
        if security == "starttls":
            kwargs["tls_context"] = certificates.server_context  # type: ignore[union-attr]
            kwargs["require_starttls"] = True
        if users is not None:
            kwargs["authenticator"] = self.authenticator
            kwargs["auth_required"] = True
            # aiosmtpd counts only STARTTLS as TLS for AUTH; a port that is TLS from the first byte is too.
            kwargs["auth_require_tls"] = security == "starttls"
        self._controller = _Controller(self.handler, **kwargs)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def refuse_next(self, *answers: str) -> None:
        """Answer the next DATA commands with these (``"451 4.3.0 try again later"``) instead of accepting."""
        with self.handler.lock:
            self.handler.refusals.extend(answers)

    def __enter__(self) -> SMTPServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (a connection there is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SilentServer:
    """Accepts connections (the kernel does) and never says a word: every client times out."""

    def __enter__(self) -> SilentServer:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self.port = int(self._socket.getsockname()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()
