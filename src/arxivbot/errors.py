"""The one exception tree of arxivbot.

Every error a user can meet is one of these; the CLI turns them into a one-line message and an
exit code (``exit_code``), never a traceback. Messages say what happened *and* how to fix it.

::

    ArxivbotError                      base; exit code 1
    ├── ConfigError                    bad or missing configuration; exit code 2
    ├── UsageError                     a command used wrongly (bad option values, a folder in the way); exit code 2
    ├── FetchError                     arXiv could not be read (after retries); carries url, status, attempts, body
    │   └── FeedFormatError            arXiv answered, but not with a feed (HTML page, truncated XML)
    │       └── ArxivErrorFeed         arXiv answered with its own error document; its reason is quoted
    ├── StoreError                     the SQLite database cannot be opened or migrated
    │   └── LockedError                another run holds the database's lock; exit code 4
    ├── SummaryError                   one paper's summary failed (the run goes on without it)
    │   └── LLMAuthError               the key is missing or rejected; names the env var
    ├── OutputError                    a file or folder could not be written or read (permissions, disk full)
    │   └── PublishError               a published output could not be rendered or written (the old one is kept)
    ├── DeliveryError                  an e-mail or chat message was not delivered; names the channel, server, fix
    └── ServeError                     the web service cannot start
"""

from __future__ import annotations


class ArxivbotError(Exception):
    """Base of every arxivbot error. ``str(err)`` is a complete, user-facing sentence."""

    exit_code = 1


class ConfigError(ArxivbotError):
    """The configuration is missing, unreadable or invalid.

    ``problems`` holds one ``key.path: what is wrong, got X`` line per problem.
    """

    exit_code = 2

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class UsageError(ArxivbotError):
    """A command was used wrongly: an option value that cannot work, a target folder in the way."""

    exit_code = 2


class FetchError(ArxivbotError):
    """arXiv (or a PDF host) could not be read, even after retries."""

    def __init__(
        self, message: str, *, url: str = "", status: int | None = None, attempts: int = 0, body: bytes = b""
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts
        self.body = body  # the refusing answer, when it may explain itself (arXiv's error feeds)


class FeedFormatError(FetchError):
    """The response arrived but is not an RSS/Atom feed: a failure, never an empty day."""


class ArxivErrorFeed(FeedFormatError):
    """arXiv explained a refusal in its own error document (an RSS "Feed error", an API error entry)."""


class StoreError(ArxivbotError):
    """The SQLite database cannot be opened, migrated or written."""


class LockedError(StoreError):
    """Another run (a cron ``arxivbot run``, the service's cycle) holds the database's lock: one run at a time.

    Exit code 4, so a scheduler can tell "someone else is on it" from a failed run.
    """

    exit_code = 4


class SummaryError(ArxivbotError):
    """One paper could not be summarized; the digest is published without that summary."""


class LLMAuthError(SummaryError):
    """The LLM API key is missing or was rejected."""


class OutputError(ArxivbotError):
    """A file or folder could not be written or read; the message names it and the reason (errno)."""


class PublishError(OutputError):
    """A published output could not be rendered or written; the previously published file is left intact."""


class DeliveryError(ArxivbotError):
    """A message channel (e-mail, chat) could not deliver; the run goes on and retries it next time.

    The message names the channel, the server (host only: a webhook URL is a secret) and the likely
    fix, and never holds a password, token or webhook URL.
    """

    def __init__(self, message: str, *, channel: str = "") -> None:
        super().__init__(message)
        self.channel = channel


class ServeError(ArxivbotError):
    """The web service cannot start."""
