"""The Scorer seam: a combiner sums weighted scorers, keeps each reason, and selection obeys it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from arxivbot.models import Announcement, Paper, Reason
from arxivbot.rank import Combiner, Evidence, KeywordScorer, Rating, Scorer, SelectionRules, Weighted, select_papers

DAY = date(2026, 5, 5)


def paper(arxiv_id: str, title: str, abstract: str = "An abstract.") -> Paper:
    return Paper(arxiv_id, 1, title, ("A. Author",), abstract, ("cs.LG",), f"https://arxiv.org/abs/{arxiv_id}")


def announce(p: Paper) -> Announcement:
    return Announcement(p, "new", DAY)


class TitleLengthScorer:
    """A scorer that finds every paper relevant and likes long titles; remembers what it was fitted on."""

    name = "length"

    def __init__(self) -> None:
        self.fitted_on: Evidence | None = None
        self.explained: list[str] = []

    def fit(self, evidence: Evidence) -> None:
        self.fitted_on = evidence

    def score(self, papers: Sequence[Paper]) -> list[Rating]:
        return [Rating(float(len(p.title.split()))) for p in papers]

    def explain(self, paper: Paper, rating: Rating) -> Reason:
        self.explained.append(paper.arxiv_id)
        return Reason(self.name, rating.score, f"{rating.score:.0f} title words")


def test_a_custom_scorer_fits_the_protocol() -> None:
    assert isinstance(TitleLengthScorer(), Scorer)
    assert isinstance(KeywordScorer(["LLM"]), Scorer)


def test_the_combiner_sums_weighted_scores_and_keeps_each_scorer_s_own_reason() -> None:
    length = TitleLengthScorer()
    ranker = Combiner([Weighted(KeywordScorer(["LLM"]), 2.0), Weighted(length, 0.5)])
    evidence = Evidence(background=(paper("1", "x"),))
    ranker.fit(evidence)
    assert length.fitted_on is evidence

    rules = SelectionRules(keywords=("LLM",), max_papers=10)
    ranking = select_papers(
        [announce(paper("2512.00001", "LLM serving at scale")), announce(paper("2512.00002", "Biology"))],
        rules,
        ranker=ranker,
    )

    # 2 × keywords (1.0 + 0.5 title bonus) + 0.5 × 4 title words = 5.0; Biology: 0 + 0.5 × 1 = 0.5
    assert [(s.paper.arxiv_id, s.score) for s in ranking] == [("2512.00001", 5.0), ("2512.00002", 0.5)]
    first = ranking[0]
    assert first.scores == {"keywords": 1.5, "length": 4.0}
    assert first.reason == "keywords: LLM; 4 title words"
    assert first.matched_keywords == ("LLM",) and first.title_keywords == ("LLM",)
    # Biology matched no keyword but the length scorer finds everything relevant: a hybrid keeps it.
    assert ranking[1].reason == "1 title words"


def test_only_the_kept_papers_are_explained() -> None:
    length = TitleLengthScorer()
    ranker = Combiner([Weighted(length)])
    papers = [announce(paper(f"2512.{i:05d}", "word " * i)) for i in range(1, 40)]
    ranking = select_papers(papers, SelectionRules(keywords=(), max_papers=3), ranker=ranker)
    assert [s.paper.arxiv_id for s in ranking] == ["2512.00039", "2512.00038", "2512.00037"]
    assert length.explained == ["2512.00039", "2512.00038", "2512.00037"]


def test_an_exclusion_by_any_scorer_wins_over_every_other_score() -> None:
    ranker = Combiner([Weighted(KeywordScorer([], ["survey"])), Weighted(TitleLengthScorer(), 10.0)])
    ranking = select_papers(
        [announce(paper("2512.00001", "A long survey of many things")), announce(paper("2512.00002", "Short"))],
        SelectionRules(keywords=()),
        ranker=ranker,
    )
    assert [s.paper.arxiv_id for s in ranking] == ["2512.00002"]


def test_min_score_applies_to_the_combined_score() -> None:
    ranker = Combiner([Weighted(TitleLengthScorer(), 0.5)])
    ranking = select_papers(
        [announce(paper("2512.00001", "one two three four")), announce(paper("2512.00002", "one two"))],
        SelectionRules(keywords=(), min_score=1.5),
        ranker=ranker,
    )
    assert [(s.paper.arxiv_id, s.score) for s in ranking] == [("2512.00001", 2.0)]
