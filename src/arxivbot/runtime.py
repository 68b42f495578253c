"""The runtime: the clients and clocks one cycle needs, built once at the edge and passed down.

The CLI, the web service and the tests each build one :class:`Runtime` (tests point its HTTP client
at a local arXiv, hand in an LLM client aimed at a local OpenAI-compatible server, and a fake sleep
and clock), and every stage reads what it needs from it. Nothing is patched, and no stage builds
its own client — the way httpx passes a transport instead of patching sockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
    import openai

    from arxivbot.arxiv.client import PoliteClient
    from arxivbot.config import Config


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Runtime:
    """What a cycle talks to and what it measures time with. Build it with :func:`open_runtime`."""

    http: httpx.Client  # arXiv (feeds, API, PDFs); file:// sources are mounted on it
    llm: openai.OpenAI | None = None  # None: built from ``ai_summary`` when summaries need one
    sleep: Callable[[float], None] = time.sleep  # pacing and retry back-off
    clock: Callable[[], float] = time.monotonic  # pacing between request starts
    now: Callable[[], datetime] = utc_now  # timestamps of runs, digests and outputs
    progress: bool = False  # show progress bars (a person is watching a terminal)

    def arxiv(self, config: Config) -> PoliteClient:
        """A polite arXiv client over :attr:`http`: one per cycle, so pacing spans all its requests."""
        from arxivbot.arxiv.client import make_polite_client

        return make_polite_client(config.arxiv, self.http, sleep=self.sleep, clock=self.clock)


@contextmanager
def open_runtime(
    config: Config,
    *,
    http: httpx.Client | None = None,
    llm: openai.OpenAI | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = utc_now,
    progress: bool = False,
) -> Iterator[Runtime]:
    """A :class:`Runtime` for ``config``; clients handed in stay the caller's, the ones built here are closed."""
    from arxivbot.arxiv.client import make_http_client

    client = make_http_client(config.arxiv) if http is None else http
    try:
        yield Runtime(http=client, llm=llm, sleep=sleep, clock=clock, now=now, progress=progress)
    finally:
        if http is None:
            client.close()
