"""Select and rank a day's announcements: pure functions over records, no I/O.

The steps, in order (``docs/matching.md`` explains each with examples):

1. keep the configured announce types (``arxiv.announce_types``, default ``new``);
2. drop papers already shown in an earlier digest (``exclude_ids``);
3. keep papers that mention a keyword and no exclude keyword (:mod:`arxivbot.matching`);
4. score them: per keyword, its weight, plus ``weight × title_bonus`` when it is in the title;
5. drop scores below ``min_score``;
6. sort: score (highest first), then announcement day (newest first), then arXiv id, then
   version (newest first), then the order the announcements came in; so ties are deterministic;
7. drop duplicates by id without version, normalised title and/or link, keeping the first in that
   order (the best-scored copy);
8. cut to ``max_papers``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from arxivbot.errors import ConfigError
from arxivbot.matching import MODES, KeywordMatcher
from arxivbot.models import Announcement, Paper, ScoredPaper, keyword_reason, split_arxiv_id

if TYPE_CHECKING:
    from arxivbot.config import Config

logger = logging.getLogger(__name__)

DEDUP_METHODS = ("id", "title", "link")
_WORD = re.compile(r"[^\W_]+")

__all__ = [
    "DEDUP_METHODS",
    "KeywordMatcher",
    "PaperScore",
    "SelectionRules",
    "build_matcher",
    "display_category",
    "score_paper",
    "select_papers",
]


@dataclass(frozen=True)
class SelectionRules:
    """Everything selection and ranking depend on, read once from the config."""

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
        if self.mode not in MODES:
            raise ConfigError(f'matching.mode: must be "word" or "substring", got {self.mode!r}')
        if self.max_papers <= 0:
            raise ConfigError(f"max_papers: must be a positive integer, got {self.max_papers!r}")
        unknown = [m for m in self.dedup_methods if m not in DEDUP_METHODS]
        if unknown:
            raise ConfigError(f"deduplication_methods: must be among id, title, link, got {unknown[0]!r}")

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


class PaperScore(NamedTuple):
    """A paper's score and the keywords behind it (listing order)."""

    score: float
    matched: tuple[str, ...]
    in_title: tuple[str, ...]


def build_matcher(rules: SelectionRules) -> KeywordMatcher:
    """Compile the rules' keywords once; the matcher is then applied to every paper of the run."""
    return KeywordMatcher(
        rules.keywords,
        rules.exclude_keywords,
        mode=rules.mode,
        weights=rules.weights,
        title_bonus=rules.title_bonus,
    )


def score_paper(paper: Paper, matcher: KeywordMatcher) -> PaperScore:
    """Score one paper: ``weight`` per keyword in title + abstract, ``weight × title_bonus`` more if in the title.

    Exclude keywords do not change the score; :func:`select_papers` applies them.
    """
    scan = matcher.scan(paper.title, paper.abstract)
    return PaperScore(matcher.score(scan), scan.matched, scan.in_title)


# A paper that passed the filters, as its sort key: (-score, -day, id, -version, arrival position).
# Only plain values: thousands of these stay cheap for the garbage collector, and the position is
# unique, so no two keys compare equal.
_Candidate = tuple[float, int, str, int, int]


def select_papers(
    announcements: Iterable[Announcement],
    rules: SelectionRules,
    *,
    exclude_ids: Collection[str] = (),
) -> list[ScoredPaper]:
    """The day's ranking: matching announcements, scored, sorted, deduplicated, cut to ``max_papers``."""
    matcher = build_matcher(rules)
    announcements = list(announcements)
    wanted_types = frozenset(t.lower() for t in rules.announce_types)
    already_shown = frozenset(_bare_id(i) for i in exclude_ids)
    filter_by_keywords = bool(matcher.keywords)
    if not filter_by_keywords:
        logger.warning("no keywords configured: every announcement is kept, with score 0")

    other_type = shown = unmatched = excluded = low = 0
    candidates: list[_Candidate] = []
    for position, announcement in enumerate(announcements):
        paper = announcement.paper
        if announcement.announce_type.lower() not in wanted_types:
            other_type += 1
            continue
        if paper.arxiv_id in already_shown:
            shown += 1
            continue
        score, matched, is_excluded = matcher.rate(paper.title, paper.abstract)
        if is_excluded:
            excluded += 1
        elif filter_by_keywords and not matched:
            unmatched += 1
        elif score < rules.min_score:
            low += 1
        else:
            candidates.append((-score, -announcement.announced.toordinal(), paper.arxiv_id, -paper.version, position))

    candidates.sort()
    ranking, duplicates = _first_distinct(candidates, announcements, matcher, rules)
    logger.info(
        "selected %d of %d announcements (%d other announce types, %d already in a digest, "
        "%d without keywords, %d excluded, %d below min_score, %d duplicates skipped)",
        len(ranking),
        len(announcements),
        other_type,
        shown,
        unmatched,
        excluded,
        low,
        duplicates,
    )
    return ranking


def _first_distinct(
    candidates: list[_Candidate], announcements: list[Announcement], matcher: KeywordMatcher, rules: SelectionRules
) -> tuple[list[ScoredPaper], int]:
    """Walk the sorted candidates, skipping duplicates of earlier ones, until ``max_papers`` are kept.

    Only the papers walked past are keyed and have their keywords named, so a ranking of 100,000
    announcements normalises a few dozen titles, not all of them.
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
        scan = matcher.scan(paper.title, paper.abstract)
        ranking.append(
            ScoredPaper(
                announcement=announcement,
                score=-negative_score,
                category=display_category(paper, rules.categories),
                reasons=(keyword_reason(-negative_score, scan.matched, scan.in_title),),
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
