"""The e-mail channel: each digest as one multipart/alternative message, through an SMTP server.

smtplib and ``email.message.EmailMessage`` do the protocol and the MIME; this module picks the
connection (``security``: STARTTLS on 587, TLS from the first byte on 465, or none on a relay's port
25), logs in when a username is set, and turns every way that can fail into one line naming the
channel, the server and the likely fix.

**Recipients.** One message per digest, sent once to every recipient (one SMTP transaction, so it is
sent exactly once or not at all). Unless ``show_recipients`` is true, the recipients are only on the
envelope (as Bcc is): the ``To:`` header names the one recipient, or the sender when there are
several, so nobody sees who else gets the digest. A server that refuses some recipients but accepts
others has delivered the digest: the refusal is reported in the run's note, and it is not re-sent to
the others.

Transient failures (refused or dropped connections, time-outs, 4xx answers) are retried under the one
retry policy (:mod:`arxivbot.retry`); a wrong password, an unknown host or a TLS mismatch is not, since
trying again cannot help before the settings change.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from arxivbot.config import Config
from arxivbot.deliver.channel import Edition, RenderedChannel
from arxivbot.deliver.render_email import EmailContent, render_digest_email, render_test_email
from arxivbot.deliver.secrets import read_secret, redact
from arxivbot.deliver.settings import EMAIL_CHANNEL, EmailSettings
from arxivbot.errors import DeliveryError
from arxivbot.publish.escape import one_line
from arxivbot.retry import RetriesExhausted, Retryable, RetryPolicy

_FIX_PORT = '(Gmail, Outlook: port 587 with "starttls"; Fastmail: 465 with "ssl"; a relay: often 25 with "none")'


class EmailChannel(RenderedChannel):
    """Sends each digest to ``delivery.email.recipients``."""

    name = EMAIL_CHANNEL

    def __init__(self, settings: EmailSettings, config: Config, *, policy: RetryPolicy, timeout: float) -> None:
        self.settings = settings
        self.config = config
        self.policy = policy
        self.timeout = timeout
        self.refused: dict[str, str] = {}  # recipients the server refused in the last transaction

    @property
    def send_empty(self) -> bool:
        return self.settings.send_empty

    @property
    def server(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    # --- the MessageChannel interface (see outbox.py) ---

    def render(self, edition: Edition) -> list[EmailMessage]:
        content = render_digest_email(edition.digest, edition.config, self.settings)
        return [self.message(content, edition.now)]

    def render_test(self, now: datetime) -> list[EmailMessage]:
        return [self.message(render_test_email(self.config, now), now)]

    @contextmanager
    def session(self) -> Iterator[Callable[[EmailMessage], None]]:
        password = self._password()
        self.refused = {}

        def send(message: EmailMessage) -> None:
            try:
                self.policy.call(
                    lambda: self._transaction(message, password), what=f"email via {self.server}", judge=_judge
                )
            except RetriesExhausted as gave_up:
                raise self._error(gave_up.last, attempts=gave_up.attempts) from None
            except (OSError, smtplib.SMTPException) as err:
                raise self._error(err) from None

        yield send

    def describe(self, parts: int) -> str:
        count = len(self.settings.recipients)
        note = f"sent to {count} recipient{'' if count == 1 else 's'} through {self.server}"
        if self.refused:
            note += "; the server refused " + ", ".join(f"{who} ({why})" for who, why in self.refused.items())
        return note

    # --- building and sending ---

    def message(self, content: EmailContent, now: datetime) -> EmailMessage:
        settings = self.settings
        message = EmailMessage()
        message["Subject"] = one_line(content.subject)
        message["From"] = settings.sender or settings.sender_address
        if settings.show_recipients or len(settings.recipients) == 1:
            message["To"] = ", ".join(settings.recipients)
        else:  # the recipients are on the envelope only, as with Bcc
            message["To"] = settings.sender or settings.sender_address
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid("arxivbot", domain=settings.sender_address.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a bot
        message["X-Auto-Response-Suppress"] = "All"  # the same, in Exchange's words
        message.set_content(content.text)
        message.add_alternative(content.html, subtype="html")
        return message

    def _password(self) -> str | None:
        if not self.settings.password_env:
            return None
        return read_secret(
            self.settings.password_env, channel=self.name, what="the SMTP password", key="delivery.email.password_env"
        )

    def _transaction(self, message: EmailMessage, password: str | None) -> None:
        settings = self.settings
        smtp = self._connect()
        try:
            if settings.username and password is not None:
                smtp.login(settings.username, password)
            refused = smtp.send_message(
                message, from_addr=settings.sender_address, to_addrs=settings.recipient_addresses
            )
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        self.refused = {who: _reply(code, text) for who, (code, text) in refused.items()}

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        # A fixed HELO name: smtplib's default asks DNS for our own name, which can hang for seconds.
        helo = socket.gethostname() or "localhost"
        if settings.security == "ssl":
            return smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                local_hostname=helo,
                timeout=self.timeout,
                context=self._tls_context(),
            )
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, local_hostname=helo, timeout=self.timeout)
        try:
            if settings.security == "starttls":
                smtp.starttls(context=self._tls_context())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self.settings.ca_file
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as err:
            raise DeliveryError(
                f"cannot read delivery.email.ca_file {ca_file} ({getattr(err, 'strerror', None) or err}); "
                "point it at a PEM file of CA certificates, or remove it to trust the system's",
                channel=self.name,
            ) from None

    def _error(self, err: BaseException, *, attempts: int = 1) -> DeliveryError:
        """One line: the channel, the server, what happened, the likely fix. Never the password."""
        after = f" (after {attempts} attempts)" if attempts > 1 else ""
        text = redact(f"{self.server}: {_explain(err, self.settings, self.timeout)}{after}")
        return DeliveryError(text, channel=self.name)


def _explain(err: BaseException, settings: EmailSettings, timeout: float) -> str:
    """What went wrong, and what to change."""
    if isinstance(err, socket.gaierror):
        return f"unknown host ({err.strerror}); check delivery.email.smtp_host"
    if isinstance(err, ConnectionRefusedError):
        return f"connection refused; check delivery.email.smtp_host and smtp_port {_FIX_PORT}"
    if isinstance(err, ssl.SSLCertVerificationError):
        return (
            f"the server's certificate is not trusted ({err.verify_message}); check smtp_host, or set "
            "delivery.email.ca_file to your organisation's CA certificate"
        )
    if isinstance(err, ssl.SSLError):
        return (
            f"TLS handshake failed ({err.reason or err}): this port does not speak TLS from the first byte; "
            f'set security to "starttls" for port 587, or "ssl" only for port 465 {_FIX_PORT}'
        )
    if isinstance(err, TimeoutError) or _timed_out(err):
        hint = (
            'port 465 expects security "ssl"'
            if settings.smtp_port == 465 and settings.security != "ssl"
            else "check smtp_host, smtp_port and security"
        )
        return f"no answer within {timeout:g} s; {hint} {_FIX_PORT}"
    if isinstance(err, smtplib.SMTPNotSupportedError):
        if "STARTTLS" in str(err):
            return 'the server does not offer STARTTLS; set security to "ssl" (port 465), or "none" for a local relay'
        return (
            'the server offers no login (AUTH) on this connection; use security "starttls" or "ssl", or '
            "remove delivery.email.username if the relay needs no login"
        )
    if isinstance(err, smtplib.SMTPAuthenticationError):
        return (
            f"login as {settings.username} refused ({_reply(err.smtp_code, err.smtp_error)}); check "
            f"delivery.email.username and the password in {settings.password_env} "
            "(Gmail and Outlook need an app password, not the account's password)"
        )
    if isinstance(err, smtplib.SMTPSenderRefused):
        return (
            f"sender {settings.sender_address} refused ({_reply(err.smtp_code, err.smtp_error)}); set "
            "delivery.email.sender to an address your account may send from"
        )
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{who} ({_reply(code, text)})" for who, (code, text) in err.recipients.items())
        return f"every recipient was refused: {refused}; check delivery.email.recipients"
    if isinstance(err, smtplib.SMTPServerDisconnected):
        said = one_line(str(err)) or "no reason given"
        return f"the server closed the connection ({said}); check smtp_port and security"
    if isinstance(err, smtplib.SMTPResponseException):
        return f"the server answered {_reply(err.smtp_code, err.smtp_error)}"
    if isinstance(err, OSError):
        return f"{err.strerror or type(err).__name__}; check smtp_host and smtp_port"
    return f"{type(err).__name__}: {one_line(str(err))}"


def _timed_out(err: BaseException) -> bool:
    """smtplib reports a time-out while reading a reply as a disconnection; its cause says which."""
    return isinstance(err, smtplib.SMTPServerDisconnected) and isinstance(err.__context__, TimeoutError)


def _judge(err: Exception) -> Retryable | None:
    """Transient failures get another attempt; a wrong setting does not."""
    if isinstance(err, (socket.gaierror, ssl.SSLError, smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError)):
        return None
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in err.recipients.values()]
        return Retryable("recipients refused for now") if codes and all(400 <= c < 500 for c in codes) else None
    if isinstance(err, smtplib.SMTPResponseException):
        return Retryable(f"SMTP {err.smtp_code}") if 400 <= err.smtp_code < 500 else None
    if isinstance(err, TimeoutError) or _timed_out(err):
        return Retryable("timed out")
    if isinstance(err, smtplib.SMTPServerDisconnected):
        return Retryable("connection closed")
    if isinstance(err, (ConnectionError, OSError)):
        return Retryable("connection failed")
    return None


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    said = one_line(said)
    return f"{code} {said[:160]}".strip()
