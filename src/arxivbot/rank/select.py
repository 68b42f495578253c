"""Select and rank a day's announcements: pure functions over records, no I/O.

The steps, in order (``docs/matching.md`` explains each with examples):

1. keep the configured announce types (``arxiv.announce_types``, default ``new``);
2. drop papers already shown in an earlier digest (``exclude_ids``);
3. score the rest in one batch with the ranker (:mod:`arxivbot.rank.scorer`: the keyword scorer, and
   whatever else is configured); keep papers that no scorer excludes and at least one finds relevant
   (with keywords alone: papers that mention a keyword and no exclude keyword);
4. the score is the ranker's weighted sum (keywords alone: per keyword, its weight, plus
   ``weight × title_bonus`` when it is in the title);
5. drop scores below ``min_score``;
6. sort: score (highest first), then announcement day (newest first), then arXiv id, then
   version (newest first), then the order the announcements came in; so ties are deterministic;
7. drop duplicates by id without version, normalised title and/or link, keeping the first in that
   order (the best-scored copy);
8. cut to ``max_papers``, and ask the ranker why each kept paper is there (its reasons).
"""

from __future__ import annotations

import functools
import gc
import heapq
import logging
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from arxivbot.models import Announcement, Paper, ScoredPaper, split_arxiv_id
from arxivbot.rank.keywords import KeywordScorer
from arxivbot.rank.scorer import Combined, Combiner, Weighted

if TYPE_CHECKING:
    from arxivbot.config import Config

logger = logging.getLogger(__name__)

DEDUP_METHODS = ("id", "title", "link")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SelectionRules:
    """Everything selection and ranking depend on, read once from the (already validated) config."""

    keywords: tuple[str, ...]
    exclude_keywords: tuple[str, ...] = ()
    mode: str = "word"
    title_bonus: float = 0.5
    weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    announce_types: tuple[str, ...] = ("new",)
    min_score: float = 0.0
    max_papers: int = 50
    dedup_methods: tuple[str, ...] = DEDUP_METHODS  # empty when deduplication is disabled
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists from callers, but keep the record immutable.
        for name in ("keywords", "exclude_keywords", "announce_types", "dedup_methods", "categories"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))

    @classmethod
    def from_config(cls, config: Config) -> SelectionRules:
        return cls(
            keywords=tuple(config.keywords),
            exclude_keywords=tuple(config.exclude_keywords),
            mode=config.matching.mode,
            title_bonus=config.matching.title_bonus,
            weights=dict(config.matching.weights),
            announce_types=tuple(config.arxiv.announce_types),
            min_score=config.min_score,
            max_papers=config.max_papers,
            dedup_methods=tuple(config.deduplication_methods) if config.enable_deduplication else (),
            categories=tuple(config.categories),
        )

    def keyword_scorer(self, *, quiet: bool = False) -> KeywordScorer:
        """The rules' keywords, exclusions, weights and title bonus, compiled once for a run."""
        return KeywordScorer(
            self.keywords,
            self.exclude_keywords,
            mode=self.mode,
            weights=self.weights,
            title_bonus=self.title_bonus,
            quiet=quiet,
        )


# A paper that passed the filters, as its sort key: (-score, -day, id, -version, arrival position).
# Only plain values: thousands of these stay cheap for the garbage collector, and the position is
# unique, so no two keys compare equal.
_Candidate = tuple[float, int, str, int, int]


F = TypeVar("F", bound=Callable[..., Any])


def cycle_collection_paused(function: F) -> F:
    """Run ``function`` with Python's cycle collector paused.

    Selection keeps a few records per paper until the ranking is done; the collector would walk all of
    them, and every announcement, again and again as they pile up (a quarter of the time of ranking
    100,000 papers, bench/bench_pipeline.py), though none of them can form a cycle. Reference counting
    frees everything as usual, and the collector resumes as it was.
    """

    @functools.wraps(function)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused  # type: ignore[return-value]


@cycle_collection_paused
def select_papers(
    announcements: Iterable[Announcement],
    rules: SelectionRules,
    *,
    ranker: Combiner | None = None,
    exclude_ids: Collection[str] = (),
) -> list[ScoredPaper]:
    """The day's ranking: candidates scored by ``ranker``, sorted, deduplicated, cut to ``max_papers``.

    ``ranker`` must be fitted already; by default it is the rules' keyword scorer alone.
    """
    if ranker is None:
        ranker = Combiner([Weighted(rules.keyword_scorer())])
    announcements = list(announcements)
    wanted_types = frozenset(t.lower() for t in rules.announce_types)
    already_shown = frozenset(_bare_id(i) for i in exclude_ids)

    other_type = shown = 0
    positions: list[int] = []
    for position, announcement in enumerate(announcements):
        if announcement.announce_type.lower() not in wanted_types:
            other_type += 1
        elif announcement.paper.arxiv_id in already_shown:
            shown += 1
        else:
            positions.append(position)

    ratings = ranker.score([announcements[position].paper for position in positions])
    irrelevant = excluded = low = 0
    candidates: list[_Candidate] = []
    for position, rating in zip(positions, ratings, strict=True):
        if rating.excluded:
            excluded += 1
        elif not rating.relevant:
            irrelevant += 1
        elif rating.score < rules.min_score:
            low += 1
        else:
            announcement = announcements[position]
            paper = announcement.paper
            candidates.append(
                (-rating.score, -announcement.announced.toordinal(), paper.arxiv_id, -paper.version, position)
            )

    rating_at = dict(zip(positions, ratings, strict=True))
    ranking, duplicates = _first_distinct(_best_first(candidates), announcements, rating_at, ranker, rules)
    logger.info(
        "selected %d of %d announcements (%d other announce types, %d already in a digest, "
        "%d not relevant to any scorer, %d excluded, %d below min_score, %d duplicates skipped)",
        len(ranking),
        len(announcements),
        other_type,
        shown,
        irrelevant,
        excluded,
        low,
        duplicates,
    )
    return ranking


def _best_first(candidates: list[_Candidate]) -> Iterator[_Candidate]:
    """``sorted(candidates)``, lazily (the list is consumed): a ranking keeps ``max_papers`` of up to
    100,000 candidates, so it pops them off a heap as the walk needs them instead of sorting them all.
    Candidates are distinct (each holds its position), so the order is exactly the sorted one."""
    heapq.heapify(candidates)
    while candidates:
        yield heapq.heappop(candidates)


def _first_distinct(
    candidates: Iterable[_Candidate],
    announcements: list[Announcement],
    rating_at: Mapping[int, Combined],
    ranker: Combiner,
    rules: SelectionRules,
) -> tuple[list[ScoredPaper], int]:
    """Walk the sorted candidates, skipping duplicates of earlier ones, until ``max_papers`` are kept.

    Only the papers walked past are keyed and explained, so a ranking of 100,000 announcements
    normalises a few dozen titles and asks for a few dozen reasons, not all of them.
    """
    keyers = [(method, _DEDUP_KEYS[method]) for method in rules.dedup_methods]
    seen: set[tuple[str, str]] = set()
    ranking: list[ScoredPaper] = []
    duplicates = 0
    for negative_score, *_, position in candidates:
        if len(ranking) == rules.max_papers:
            break
        announcement = announcements[position]
        paper = announcement.paper
        keys = [(method, key) for method, keyer in keyers if (key := keyer(paper))]
        if any(k in seen for k in keys):
            duplicates += 1
            continue
        seen.update(keys)
        ranking.append(
            ScoredPaper(
                announcement=announcement,
                score=-negative_score,
                category=display_category(paper, rules.categories),
                reasons=ranker.explain(paper, rating_at[position]),
            )
        )
    return ranking, duplicates


def display_category(paper: Paper, configured: Iterable[str]) -> str:
    """The paper's first category that is among the configured ones, else its primary (or first) one.

    A configured archive without a subject class (``astro-ph``, ``math``) covers its subject
    classes (``astro-ph.CO``), as arXiv's feed for it does.
    """
    configured = tuple(configured)
    for category in paper.categories:
        for wanted in configured:
            if category == wanted or ("." not in wanted and category.startswith(wanted + ".")):
                return category
    return paper.primary_category or (paper.categories[0] if paper.categories else "")


# --- duplicate keys ------------------------------------------------------------------------------


def _bare_id(arxiv_id: str) -> str:
    """``2512.20276v2``, ``arXiv:2512.20276`` or an abs URL → ``2512.20276``."""
    try:
        return split_arxiv_id(arxiv_id)[0]
    except ValueError:
        return arxiv_id.strip()


def normalised_title(title: str) -> str:
    """Case, accents' composition, punctuation and spacing removed: ``"Foo:  a BAR-baz"`` → ``"foo a bar baz"``."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", title).casefold()))


def normalised_link(link: str) -> str:
    """Scheme, ``www.``, case and a trailing slash removed: http and https links to a page are one link."""
    text = link.strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.removeprefix("www.")
    return text.rstrip("/")


_DEDUP_KEYS: dict[str, Callable[[Paper], str]] = {
    "id": lambda paper: _bare_id(paper.arxiv_id),
    "title": lambda paper: normalised_title(paper.title),
    "link": lambda paper: normalised_link(paper.link),
}
