"""The rank stage of a run: the user's library, the evidence a ranker fits on, the ranking.

``arxivbot run``, ``arxivbot run --dry-run`` and ``bench/bench_relevance.py`` all rank through
:func:`rank_announcements`: the library (when there is one) → :class:`~arxivbot.rank.Evidence` (library
and likes, dislikes, background) → :func:`~arxivbot.rank.build_ranker` → fit → select.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from arxivbot.config import Config
from arxivbot.errors import LLMAuthError
from arxivbot.library import Library, load_library
from arxivbot.models import Announcement, Paper, RunReport, ScoredPaper
from arxivbot.rank import Combiner, Evidence, SelectionRules, build_ranker, select_papers
from arxivbot.runtime import Runtime
from arxivbot.store import Store

__all__ = [
    "RankedDay",
    "gather_evidence",
    "judge_client",
    "library_of",
    "rank_announcements",
    "rank_day",
    "recent_history",
    "with_judge_figures",
]

# The most background papers a library model is fitted against: about a week of a busy set of
# categories; more costs fitting time and memory and adds little (the newest are kept).
BACKGROUND_CAP = 6000


@dataclass(frozen=True)
class RankedDay:
    """What the rank stage of a run gives back: the ranking, the LLM judge (for the run's token
    figures) when one ran, and the warnings the library, the judge and the scorers gave."""

    ranking: list[ScoredPaper]
    judge: object
    warnings: tuple[str, ...]


def rank_day(
    config: Config, store: Store, runtime: Runtime, candidates: Sequence[Announcement], day: date
) -> RankedDay:
    """The rank stage of ``arxivbot run``: load the library (saving what it fetched), open the judge's
    LLM client when the judge is on, rank ``candidates`` against the papers listed before ``day``."""
    warnings: list[str] = []
    library = library_of(config, store, runtime, save=True)
    if library is not None:
        warnings.extend(library.warnings)
    history = recent_history(config, store, day) if library is not None else []
    with judge_client(config, runtime, library, warnings) as llm:
        ranking, ranker = rank_announcements(
            config, candidates, store.digested_before(day), library=library, history=history, store=store, llm=llm
        )
    judge = getattr(ranker, "judge", None)
    warnings.extend(getattr(judge, "warnings", ()))
    warnings.extend(w for part in ranker.parts if (w := getattr(part.scorer, "warning", "")))
    return RankedDay(ranking, judge, tuple(warnings))


def rank_announcements(
    config: Config,
    announcements: Sequence[Announcement],
    already_listed: set[str],
    *,
    library: Library | None = None,
    history: Sequence[Announcement] = (),
    store: Store | None = None,
    save: bool = True,
    llm: object = None,
) -> tuple[list[ScoredPaper], Combiner]:
    """Build the ranker (keywords; the library scorer when there is a library), fit it, select.

    The one code path of ``arxivbot run``, ``--dry-run`` and ``bench/bench_relevance.py``.
    """
    ranker = build_ranker(config, library, store=store, save=save, llm=llm)
    ranker.fit(gather_evidence(library, announcements, history))
    ranking = select_papers(
        announcements, SelectionRules.from_config(config), ranker=ranker, exclude_ids=already_listed
    )
    return ranking, ranker


def gather_evidence(
    library: Library | None, candidates: Sequence[Announcement], history: Sequence[Announcement] = ()
) -> Evidence:
    """The library (likes included), the dislikes, and the background: the window's candidates (the
    day's own announcements) and ``history`` (the ``ranking.background_days`` before it, none by
    default), the library's papers left out."""
    positives = library.papers if library is not None else ()
    negatives = library.disliked_papers if library is not None else ()
    own = {p.arxiv_id for p in positives}
    background: dict[str, Paper] = {}
    for announcement in [*reversed(candidates), *reversed(history)]:  # newest first, candidates always in
        paper = announcement.paper
        if paper.arxiv_id not in own and paper.arxiv_id not in background:
            background[paper.arxiv_id] = paper
            if len(background) >= BACKGROUND_CAP:
                break
    return Evidence(library=positives, disliked=negatives, background=tuple(background.values()))


def library_of(config: Config, store: Store, runtime: Runtime, *, save: bool) -> Library | None:
    """The user's library when there is one (configured, or liked papers), else None: keywords only."""
    if not config.library.configured and "like" not in store.feedback().values():
        return None
    return load_library(config, store, runtime, save=save)


def recent_history(config: Config, store: Store, day: date) -> list[Announcement]:
    days = config.ranking.background_days
    return store.announcements_between(day - timedelta(days=days), day) if days else []


@contextlib.contextmanager
def judge_client(config: Config, runtime: Runtime, library: Library | None, warnings: list[str]) -> Iterator[object]:
    """The LLM client for the judge: only with a library, ``ranking.interests`` and summaries on."""
    ai = config.ai_summary
    if library is None or not library.items or not config.ranking.interests or not ai.enabled:
        yield None
        return
    if runtime.llm is not None:
        yield runtime.llm
        return
    from arxivbot.summarize.llm import make_llm_client  # the LLM client only when the judge runs

    try:
        client = make_llm_client(ai)
    except LLMAuthError as err:
        warnings.append(f"LLM judge off: {err}")
        yield None
        return
    try:
        yield client
    finally:
        client.close()


def with_judge_figures(report: RunReport, judge: object) -> RunReport:
    """The LLM judge's calls and tokens count with the summaries' in the run's figures."""
    if judge is None:
        return report
    return replace(
        report,
        llm_calls=report.llm_calls + getattr(judge, "calls", 0),
        prompt_tokens=report.prompt_tokens + getattr(judge, "prompt_tokens", 0),
        completion_tokens=report.completion_tokens + getattr(judge, "completion_tokens", 0),
    )
