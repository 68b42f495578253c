"""Secrets of the delivery channels: read from the environment only, and kept out of every text we make.

A password, bot token, signing secret or webhook URL (a Slack or Discord webhook URL *is* a
credential) is read when a channel sends, never earlier. Each one read is remembered for the life of
the process so that :func:`redact` can blank it out of any text that might carry it (a server's error
reply, an exception), and a logging filter blanks it out of what the HTTP libraries log (httpx logs
every request URL at INFO, and a Telegram URL holds the bot token).
"""

from __future__ import annotations

import logging
import os
import threading
from urllib.parse import quote

from arxivbot.errors import DeliveryError

MASK = "[secret]"
_known: set[str] = set()
_lock = threading.Lock()
_NOISY_LOGGERS = ("httpx", "httpcore")


def read_secret(env_name: str, *, channel: str, what: str, key: str) -> str:
    """The value of ``env_name``; a :class:`DeliveryError` naming the variable when it is unset or empty."""
    value = os.environ.get(env_name, "").strip()
    if not value:
        raise DeliveryError(
            f"{what} is not set: put it in the environment variable {env_name} (named by {key}); "
            "on GitHub Actions, as a repository secret passed to the run step",
            channel=channel,
        )
    with _lock:
        _known.update(_forms(value))
    return value


def redact(text: str) -> str:
    """``text`` with every secret read so far (raw or URL-encoded) replaced by ``[secret]``."""
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)  # the longest first: a URL before its token
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _forms(value: str) -> set[str]:
    forms = {value, quote(value, safe=""), quote(value, safe="/:")}
    return {form for form in forms if len(form) >= 4}  # never blank out a trivially short string


class _RedactSecrets(logging.Filter):
    """Rewrites a log record so that no secret read by a channel reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _known:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_FILTER = _RedactSecrets()
for _name in _NOISY_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)
