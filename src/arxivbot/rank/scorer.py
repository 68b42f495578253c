"""The Scorer seam: how a ranking learns what the user cares about and says why a paper made it.

A scorer is an estimator, in scikit-learn's shape: built from the config, **fitted** once per run on
what it needs (:class:`Evidence`: the user's library, their likes and dislikes, recent history), then
it **scores** a whole batch of papers at once and **explains** the few that are kept. Scoring and
explaining are separate because a run scores thousands of papers but publishes a few dozen: a reason
("keywords: LLM, RL", "like: <a library title>") can cost far more than a score.

The :class:`Combiner` sums the weighted scores of several scorers (keywords, a learned model, an LLM
judge) into the one number the ranking is sorted by, and keeps each scorer's own :class:`Reason`.
Nothing upstream knows which scorers ran; everything downstream reads ``score``, ``scores`` and
``reason`` of a :class:`~arxivbot.models.ScoredPaper`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from arxivbot.models import Paper, Reason


@dataclass(frozen=True, slots=True)
class Evidence:
    """What scorers may fit on. Each scorer takes what it needs and ignores the rest."""

    library: tuple[Paper, ...] = ()  # papers the user keeps (BibTeX, arXiv ids, Zotero) and liked
    disliked: tuple[Paper, ...] = ()  # papers the user said are not for them
    background: tuple[Paper, ...] = ()  # what arXiv announced lately: the unlabelled rest of the field


@dataclass(frozen=True, slots=True)
class Rating:
    """One scorer's verdict on one paper."""

    score: float
    relevant: bool = True  # this scorer would show the paper (a keyword matched; a model ranks everything)
    excluded: bool = False  # the paper must not be shown, whatever other scorers say (exclude keywords)


@runtime_checkable
class Scorer(Protocol):
    """Fit on the evidence, score a batch, explain one paper."""

    name: str  # the key of this scorer in ``scores`` ("keywords", "library", …)

    def fit(self, evidence: Evidence) -> None:
        """Learn from the evidence; called once per run, before :meth:`score`."""

    def score(self, papers: Sequence[Paper]) -> list[Rating]:
        """One rating per paper, in the same order."""

    def explain(self, paper: Paper, rating: Rating) -> Reason:
        """Why ``paper`` got ``rating``, in a few words (called only for the papers a digest keeps)."""


@dataclass(frozen=True, slots=True)
class Weighted:
    scorer: Scorer
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Combined:
    """The combiner's verdict on one paper, with each scorer's own rating kept for the explanation."""

    score: float
    relevant: bool
    excluded: bool
    parts: tuple[Rating, ...]


class Combiner:
    """The weighted sum of several scorers: the final score, relevance and exclusion of each paper.

    A paper is a candidate when no scorer excludes it and at least one finds it relevant; its score is
    ``Σ weight × score``. Exact summation (``math.fsum``) keeps the total independent of the order.
    """

    def __init__(self, parts: Sequence[Weighted]) -> None:
        if not parts:
            raise ValueError("a ranking needs at least one scorer")
        self.parts = tuple(parts)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(part.scorer.name for part in self.parts)

    def fit(self, evidence: Evidence) -> None:
        for part in self.parts:
            part.scorer.fit(evidence)

    def score(self, papers: Sequence[Paper]) -> list[Combined]:
        columns = [part.scorer.score(papers) for part in self.parts]
        if len(self.parts) == 1 and self.parts[0].weight == 1.0:  # the common case: no arithmetic
            # One Combined per distinct Rating object: a scorer that shares equal ratings saves the copies.
            distinct = {id(r): r for r in columns[0]}
            combined = {key: Combined(r.score, r.relevant, r.excluded, (r,)) for key, r in distinct.items()}
            return list(map(combined.__getitem__, map(id, columns[0])))
        weights = [part.weight for part in self.parts]
        return [_combine(ratings, weights) for ratings in zip(*columns, strict=True)]

    def explain(self, paper: Paper, combined: Combined) -> tuple[Reason, ...]:
        """Every scorer's reason for ``paper`` (with its own score, before weighting)."""
        return tuple(
            part.scorer.explain(paper, rating) for part, rating in zip(self.parts, combined.parts, strict=True)
        )


def _combine(ratings: Sequence[Rating], weights: Sequence[float]) -> Combined:
    total = math.fsum(weight * rating.score for rating, weight in zip(ratings, weights, strict=True))
    return Combined(
        score=round(total, 9),
        relevant=any(rating.relevant for rating in ratings),
        excluded=any(rating.excluded for rating in ratings),
        parts=tuple(ratings),
    )
