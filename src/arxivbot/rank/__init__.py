"""Ranking: which of the day's announcements a digest shows, in what order, and why.

- :mod:`~arxivbot.rank.scorer`: the Scorer seam (fit, score a batch, explain) and the weighted
  :class:`~arxivbot.rank.scorer.Combiner`;
- :mod:`~arxivbot.rank.keywords`: the keyword scorer (matching rules in :mod:`arxivbot.matching`);
- :mod:`~arxivbot.rank.select`: selection (announce types, already shown, relevance, exclusions,
  ``min_score``, dedup, cut), pure, no I/O.

:func:`build_ranker` turns the configuration into the ranker a run uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arxivbot.matching import KeywordMatcher
from arxivbot.rank.keywords import KeywordScorer, PaperScore, score_paper
from arxivbot.rank.scorer import Combined, Combiner, Evidence, Rating, Scorer, Weighted
from arxivbot.rank.select import (
    DEDUP_METHODS,
    SelectionRules,
    display_category,
    normalised_link,
    normalised_title,
    select_papers,
)

if TYPE_CHECKING:
    from arxivbot.config import Config

__all__ = [
    "DEDUP_METHODS",
    "Combined",
    "Combiner",
    "Evidence",
    "KeywordMatcher",
    "KeywordScorer",
    "PaperScore",
    "Rating",
    "Scorer",
    "SelectionRules",
    "Weighted",
    "build_matcher",
    "build_ranker",
    "display_category",
    "normalised_link",
    "normalised_title",
    "score_paper",
    "select_papers",
]


def build_ranker(config: Config) -> Combiner:
    """The scorers the configuration asks for, combined with their weights (today: the keywords)."""
    return Combiner([Weighted(SelectionRules.from_config(config).keyword_scorer())])


def build_matcher(rules: SelectionRules) -> KeywordMatcher:
    """Compile the rules' keywords once; the matcher is then applied to every paper of the run."""
    return rules.keyword_scorer().matcher
