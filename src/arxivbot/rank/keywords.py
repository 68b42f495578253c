"""The keyword scorer: the configured keywords, their weights and the title bonus, behind the Scorer seam.

Matching itself (word and substring modes) lives in :mod:`arxivbot.matching`; this adapts it to
:class:`~arxivbot.rank.scorer.Scorer`: a paper is relevant when a keyword matches (or when no keyword
is configured, so that every paper stays a candidate), and excluded when an exclude keyword does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from arxivbot.matching import KeywordMatcher
from arxivbot.models import KEYWORD_SCORER, Paper, Reason, keyword_reason
from arxivbot.rank.scorer import Evidence, Rating

log = logging.getLogger(__name__)


class KeywordScorer:
    """Score = per keyword in title + abstract, its weight; plus ``weight × title_bonus`` in the title."""

    name = KEYWORD_SCORER

    def __init__(
        self,
        keywords: Sequence[str],
        exclude_keywords: Sequence[str] = (),
        *,
        mode: str = "word",
        weights: Mapping[str, float] | None = None,
        title_bonus: float = 0.5,
        quiet: bool = False,
    ) -> None:
        self.matcher = KeywordMatcher(
            keywords, exclude_keywords, mode=mode, weights=weights or {}, title_bonus=title_bonus
        )
        if not self.matcher.keywords and not quiet:  # quiet: another scorer (the library) ranks
            log.warning("no keywords configured: every announcement is kept, with score 0")

    @property
    def has_keywords(self) -> bool:
        return bool(self.matcher.keywords)

    def fit(self, evidence: Evidence) -> None:
        """Keywords need no learning."""

    def score(self, papers: Sequence[Paper]) -> list[Rating]:
        verdicts = self.matcher.rate_many([(paper.title, paper.abstract) for paper in papers])
        if not self.matcher.keywords:  # no keywords: every paper stays a candidate, at 0
            verdicts = [(score, True, excluded) for score, _, excluded in verdicts]
        # Ratings are values, and a day's papers share a few dozen of them: each is built once.
        shared = {verdict: Rating(*verdict) for verdict in set(verdicts)}
        return list(map(shared.__getitem__, verdicts))

    def explain(self, paper: Paper, rating: Rating) -> Reason:
        scan = self.matcher.scan(paper.title, paper.abstract)
        return keyword_reason(rating.score, scan.matched, scan.in_title)


class PaperScore(NamedTuple):
    """A paper's keyword score and the keywords behind it (listing order)."""

    score: float
    matched: tuple[str, ...]
    in_title: tuple[str, ...]


def score_paper(paper: Paper, matcher: KeywordMatcher) -> PaperScore:
    """Score one paper: ``weight`` per keyword in title + abstract, ``weight × title_bonus`` more if in the title.

    Exclude keywords do not change the score; selection applies them.
    """
    scan = matcher.scan(paper.title, paper.abstract)
    return PaperScore(matcher.score(scan), scan.matched, scan.in_title)
