"""AI summaries of the day's top papers through any OpenAI-compatible API: concurrent, retried, cached, costed.

:func:`summarize_papers` takes the top ``ai_summary.max_papers_to_summarize`` papers of the digest,
serves what the cache already holds (keyed by paper id and version, model, prompt hash and input
mode: a second run of the same day makes no LLM call), and asks the model for the rest with at most
``ai_summary.max_workers`` requests in flight. Every new summary is stored as soon as it arrives, so
an interrupted run keeps what it paid for. A paper whose summary fails is reported (which and why,
at warning level) and published without one; a missing or rejected key stops the asking and is
reported once, naming the env var.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import openai

from arxivbot.arxiv.client import PoliteClient, make_polite_client
from arxivbot.config import AISummaryConfig, Config
from arxivbot.errors import LLMAuthError
from arxivbot.models import Paper, Summary
from arxivbot.store import Store
from arxivbot.summarize.prompt import load_prompt, prompt_hash
from arxivbot.summarize.request import (
    Outcome,
    PaperSummarizer,
    TokenBudget,
    missing_key_message,
)
from arxivbot.summarize.retry import llm_retry_policy

__all__ = ["SummaryResult", "make_llm_client", "prompt_hash", "summarize_papers"]

log = logging.getLogger(__name__)


def make_llm_client(ai: AISummaryConfig) -> openai.OpenAI:
    """An OpenAI SDK client for ``ai_summary.base_url`` with the key from ``ai_summary.api_key_env``.

    The SDK's own retries are off: :mod:`arxivbot.summarize.retry` does them (see why there).
    Raises :class:`LLMAuthError` naming the env var when it is unset or empty.
    """
    key = os.environ.get(ai.api_key_env, "").strip()
    if not key:
        raise LLMAuthError(missing_key_message(ai))
    return openai.OpenAI(
        api_key=key,
        base_url=ai.base_url,
        timeout=ai.timeout_seconds or None,
        max_retries=0,
    )


@dataclass(frozen=True)
class SummaryResult:
    """What the summarizing stage did; the pipeline copies it into the run's RunReport."""

    summaries: Mapping[str, Summary] = field(default_factory=dict)  # by arxiv_id: cached and new
    llm_calls: int = 0  # chat-completion requests sent, retries included
    cache_hits: int = 0
    prompt_tokens: int = 0  # spent by this run (cached summaries cost nothing)
    completion_tokens: int = 0
    failures: tuple[tuple[str, str], ...] = ()  # (arxiv_id, reason), one per paper that failed
    skipped_for_budget: int = 0
    auth_error: str | None = None  # the one message when the key is missing or rejected
    skipped_for_auth: int = 0  # papers not summarized because of it

    @property
    def summarized(self) -> int:
        return len(self.summaries)

    @property
    def new_summaries(self) -> int:
        return len(self.summaries) - self.cache_hits

    @property
    def unsummarized(self) -> int:
        """Papers of the top N left without a summary, whatever the reason."""
        return len(self.failures) + self.skipped_for_budget + self.skipped_for_auth

    def warnings(self) -> tuple[str, ...]:
        """One line per problem, for ``RunReport.warnings``."""
        lines = [f"no AI summary for {arxiv_id}: {reason}" for arxiv_id, reason in self.failures]
        if self.auth_error:
            lines.append(f"{self.auth_error} ({self.skipped_for_auth} paper(s) published without an AI summary)")
        if self.skipped_for_budget:
            lines.append(
                f"ai_summary.max_tokens_per_run reached: {self.skipped_for_budget} paper(s) "
                "published without an AI summary"
            )
        return tuple(lines)

    def describe(self) -> str:
        """``summaries: 15 (3 new, 12 cached), 1 failed; 4 LLM calls, 120,000 + 6,000 tokens``"""
        text = f"summaries: {self.summarized} ({self.new_summaries} new, {self.cache_hits} cached)"
        if self.unsummarized:
            text += f", {self.unsummarized} missing"
        return (
            f"{text}; {self.llm_calls} LLM calls, "
            f"{self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion tokens"
        )


def summarize_papers(
    papers: Sequence[Paper],
    config: Config,
    store: Store,
    *,
    llm: openai.OpenAI | None,
    pdf_client: PoliteClient | None = None,
    resummarize: bool = False,
    progress: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> SummaryResult:
    """Summaries for the first ``ai_summary.max_papers_to_summarize`` of ``papers`` (the digest's order).

    Nothing happens (an empty report) when ``ai_summary.enabled`` is false.

    ``llm=None`` means no usable key (``make_llm_client`` raised): cached summaries are still served
    and the rest is reported once as missing the key. ``pdf_client`` downloads PDFs (share the
    pipeline's arXiv client so pacing covers PDFs too); None makes one from ``config.arxiv``.
    ``resummarize`` ignores the cache and overwrites it. ``sleep`` is the retry backoff's (tests).
    """
    ai = config.ai_summary
    if not ai.enabled:
        return SummaryResult()
    chosen = list(papers)[: ai.max_papers_to_summarize]
    prompt = load_prompt(ai)
    key = prompt_hash(prompt)
    mode = ai.input_mode
    summaries: dict[str, Summary] = {}
    todo: list[Paper] = []
    for paper in chosen:
        cached = None if resummarize else store.get_summary(paper.arxiv_id, paper.version, ai.model, key, mode)
        if cached is not None:
            summaries[paper.arxiv_id] = cached
        else:
            todo.append(paper)
    cache_hits = len(summaries)
    if not todo:
        report = SummaryResult(summaries=summaries, cache_hits=cache_hits)
        log.info("%s", report.describe())
        return report
    if llm is None:
        message = missing_key_message(ai)
        log.warning("%s; %d paper(s) published without an AI summary", message, len(todo))
        return SummaryResult(summaries=summaries, cache_hits=cache_hits, auth_error=message, skipped_for_auth=len(todo))

    with _pdf_client(config, pdf_client, needed=mode != "abstract") as downloads:
        summarizer = PaperSummarizer(
            llm=llm,
            ai=ai,
            prompt=prompt,
            prompt_hash=key,
            input_mode=mode,
            policy=llm_retry_policy(ai.max_retries, sleep),
            budget=TokenBudget(ai.max_tokens_per_run),
            pdf_client=downloads,
            pdf_url=config.arxiv.pdf_url,
            pdf_cache=config.storage.pdf_cache,
        )
        outcomes = _summarize_concurrently(todo, summarizer, store, ai.max_workers, progress)
    report = _report(outcomes, summaries, cache_hits)
    if report.skipped_for_budget:
        log.warning(
            "ai_summary.max_tokens_per_run (%d) reached: %d paper(s) published without an AI summary",
            ai.max_tokens_per_run,
            report.skipped_for_budget,
        )
    log.info("%s", report.describe())
    return report


def _summarize_concurrently(
    papers: list[Paper], summarizer: PaperSummarizer, store: Store, workers: int, progress: bool
) -> list[Outcome]:
    """Run the papers through ``workers`` threads; store each summary, from this thread, as it arrives."""
    outcomes: list[Outcome] = []
    with (
        _progress_bar(len(papers), progress) as advance,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="summarize") as pool,
    ):
        futures = [pool.submit(summarizer.summarize, paper) for paper in papers]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                if outcome.summary is not None:
                    store.save_summary(outcome.summary)
                elif outcome.failure is not None:
                    log.warning(
                        "No AI summary for %s (%s): %s",
                        outcome.paper.versioned_id,
                        _title(outcome.paper),
                        outcome.failure,
                    )
                elif outcome.auth_error is not None and not any(o.auth_error for o in outcomes):
                    log.warning("%s; the remaining papers are published without an AI summary", outcome.auth_error)
                outcomes.append(outcome)
                advance()
        except BaseException:  # Ctrl-C or a database error: start nothing new, keep what was stored
            summarizer.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    order = {paper.arxiv_id: index for index, paper in enumerate(papers)}
    return sorted(outcomes, key=lambda o: order[o.paper.arxiv_id])


def _report(outcomes: list[Outcome], cached: dict[str, Summary], cache_hits: int) -> SummaryResult:
    summaries = dict(cached)
    auth_errors = [o.auth_error for o in outcomes if o.auth_error]
    for outcome in outcomes:
        if outcome.summary is not None:
            summaries[outcome.paper.arxiv_id] = outcome.summary
    return SummaryResult(
        summaries=summaries,
        llm_calls=sum(o.usage.calls for o in outcomes),
        cache_hits=cache_hits,
        prompt_tokens=sum(o.usage.prompt_tokens for o in outcomes),
        completion_tokens=sum(o.usage.completion_tokens for o in outcomes),
        failures=tuple((o.paper.arxiv_id, o.failure) for o in outcomes if o.failure is not None),
        skipped_for_budget=sum(1 for o in outcomes if o.skipped == "budget"),
        auth_error=auth_errors[0] if auth_errors else None,
        skipped_for_auth=sum(1 for o in outcomes if o.auth_error or o.skipped == "stopped"),
    )


@contextlib.contextmanager
def _pdf_client(config: Config, given: PoliteClient | None, *, needed: bool) -> Iterator[PoliteClient | None]:
    """The caller's client, or one made from ``config.arxiv`` (and closed) when PDFs are needed."""
    if given is not None or not needed:
        yield given
        return
    client = make_polite_client(config.arxiv)
    try:
        yield client
    finally:
        client.http.close()


@contextlib.contextmanager
def _progress_bar(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr when ``enabled`` (a terminal, not CI); otherwise nothing."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("Summarizing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("summaries", total=total)
        yield lambda: bar.advance(task)  # called from the collecting thread only


def _title(paper: Paper) -> str:
    title = " ".join(paper.title.split())
    return title if len(title) <= 60 else title[:57] + "..."
