"""The library scorer and the ranker built around it: learning from a library, the score's scale,
reasons, the model cache, and how it combines with keywords (or falls back to them)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.errors import ConfigError
from arxivbot.library import Library
from arxivbot.models import LibraryItem, Paper
from arxivbot.rank import Evidence
from arxivbot.rank.learned import LibraryScorer
from arxivbot.relevance import gather_evidence, rank_announcements
from arxivbot.store import open_store
from tests.corpus import TOPICS, make_day, make_paper, topic_of

DAY = date(2025, 3, 4)


def library_of(topic: str, count: int = 8) -> Library:
    items = tuple(
        LibraryItem("bibtex", f"k{n}", p.title, p.abstract, arxiv_id=f"2401.{n:05d}")
        for n, p in enumerate((make_paper(f"2401.{n:05d}", topic, 50 + n) for n in range(count)), start=1)
    )
    return Library(items=items, configured=True)


def configure(tmp_path: Path, **data: Any) -> Config:
    return config_from_dict({"max_papers": 10, **data}, base_dir=tmp_path)


def test_a_library_pulls_its_topic_to_the_top_of_a_mixed_day(tmp_path: Path) -> None:
    day = make_day(DAY, {"serving": 10, "astro": 40, "biology": 40, "vision": 40})

    ranking, _ = rank_announcements(configure(tmp_path), day, set(), library=library_of("serving"))

    assert [topic_of(s.paper) for s in ranking] == ["serving"] * 10
    scores = [s.score for s in ranking]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 10  # strictly ordered
    assert all(0 <= s.scores["library"] <= 1 for s in ranking)  # the share of the field outranked
    assert ranking[0].score == pytest.approx(10 * ranking[0].scores["library"], abs=1e-3)  # library_weight 10


def test_every_paper_gets_a_reason_naming_a_library_paper_and_the_terms(tmp_path: Path) -> None:
    library = library_of("serving")
    day = make_day(DAY, {"serving": 5, "astro": 20})

    ranking, _ = rank_announcements(configure(tmp_path, max_papers=3), day, set(), library=library)

    titles = {item.title for item in library.items}
    serving_words = set(TOPICS["serving"].split())
    for scored in ranking:
        reason = next(r for r in scored.reasons if r.scorer == "library")
        like = reason.text.partition(" (")[0]
        assert like.removeprefix("like: ") in titles
        assert 1 <= len(reason.terms) <= 3 and all(term.split()[0] in serving_words for term in reason.terms)
        assert scored.reason == reason.text  # no keywords: the library's reason is the whole reason


def test_min_score_zero_never_empties_a_library_digest(tmp_path: Path) -> None:
    # A library unlike anything announced: every classifier margin is negative, no paper is dropped.
    day = make_day(DAY, {"astro": 15, "biology": 15})
    ranking, _ = rank_announcements(configure(tmp_path, min_score=0), day, set(), library=library_of("serving"))
    assert len(ranking) == 10
    high_bar, _ = rank_announcements(configure(tmp_path, min_score=9.5), day, set(), library=library_of("serving"))
    assert 0 < len(high_bar) <= 2  # min_score applies to the combined score: the top 5 % of the field


def test_keywords_and_the_library_combine_and_exclusions_still_apply(tmp_path: Path) -> None:
    day = make_day(DAY, {"serving": 6, "astro": 30, "vision": 30})
    config = configure(
        tmp_path,
        keywords=["galaxy"],
        exclude_keywords=["speculative"],
        ranking={"library_weight": 10, "keyword_weight": 1},
        max_papers=66,
    )

    ranking, ranker = rank_announcements(config, day, set(), library=library_of("serving"))

    assert ranker.names == ("keywords", "library")
    assert all("speculative" not in (s.paper.title + s.paper.abstract).lower() for s in ranking)
    topics = {topic_of(s.paper) for s in ranking}
    assert topics == {"serving", "astro", "vision"}  # with a library, every paper is a candidate
    for scored in ranking:
        # (each scorer's own score is shown rounded to 4 decimals)
        assert scored.score == pytest.approx(scored.scores["library"] * 10 + scored.scores["keywords"], abs=1e-3)
    astro = next(s for s in ranking if topic_of(s.paper) == "astro" and s.scores["keywords"] > 0)
    assert astro.reason.startswith("keywords: galaxy; like: ")


def test_without_a_library_ranking_is_exactly_the_keywords(tmp_path: Path) -> None:
    day = make_day(DAY, {"serving": 6, "astro": 6})
    config = configure(tmp_path, keywords=["galaxy", "kv cache"])
    plain, ranker = rank_announcements(config, day, set())
    from arxivbot.rank import SelectionRules, select_papers

    assert ranker.names == ("keywords",)
    assert [(s.paper.arxiv_id, s.score, s.reason) for s in plain] == [
        (s.paper.arxiv_id, s.score, s.reason) for s in select_papers(day, SelectionRules.from_config(config))
    ]


def test_an_empty_library_falls_back_to_keywords_or_stops_without_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    day = make_day(DAY, {"serving": 3, "astro": 3})
    empty = Library(configured=True)
    with caplog.at_level(logging.WARNING, logger="arxivbot"):
        ranking, ranker = rank_announcements(configure(tmp_path, keywords=["galaxy"]), day, set(), library=empty)
    assert ranker.names == ("keywords",) and {topic_of(s.paper) for s in ranking} == {"astro"}
    assert "The library is empty: ranking by keywords only" in caplog.text

    with pytest.raises(ConfigError) as error:
        rank_announcements(configure(tmp_path), day, set(), library=empty)
    assert error.value.exit_code == 2 and "set keywords" in str(error.value)


def test_the_fitted_model_is_cached_by_the_library_s_content(tmp_path: Path) -> None:
    day = make_day(DAY, {"serving": 5, "astro": 20})
    library = library_of("serving")
    evidence = gather_evidence(library, day)
    papers = [a.paper for a in day]
    now = datetime(2025, 3, 4, tzinfo=timezone.utc)
    with open_store(tmp_path / "m.db") as store:
        first = LibraryScorer(store=store, now=lambda: now)
        first.fit(evidence)
        second = LibraryScorer(store=store, now=lambda: now + timedelta(days=1))
        second.fit(gather_evidence(library, make_day(DAY, {"vision": 9})))  # another day, same library
        assert (first.cached, second.cached) == (False, True)
        assert [r.score for r in first.score(papers)] == [r.score for r in second.score(papers)]

        changed = LibraryScorer(store=store, now=lambda: now)
        changed.fit(
            Evidence(library=(*evidence.library, make_paper("2402.00001", "vision", 1)), background=evidence.background)
        )
        stale = LibraryScorer(store=store, now=lambda: now + timedelta(days=8))
        stale.fit(evidence)  # a week later the background is fitted again
        assert (changed.cached, stale.cached) == (False, False)


def test_dislikes_push_their_kind_down(tmp_path: Path) -> None:
    day = make_day(DAY, {"serving": 10, "vision": 10, "astro": 20})
    mixed = Library(
        items=library_of("serving", 4).items
        + tuple(
            LibraryItem("bibtex", f"v{n}", p.title, p.abstract)
            for n, p in ((n, make_paper(f"2402.{n:05d}", "vision", n)) for n in range(4))
        ),
        disliked=tuple(
            LibraryItem("dislike", f"d{n}", p.title, p.abstract, arxiv_id=f"2403.{n:05d}")
            for n, p in ((n, make_paper(f"2403.{n:05d}", "vision", 90 + n)) for n in range(12))
        ),
        configured=True,
    )
    ranking, _ = rank_announcements(configure(tmp_path), day, set(), library=mixed)
    assert [topic_of(s.paper) for s in ranking[:8]].count("serving") >= 6


def paper_ids(papers: list[Paper]) -> list[str]:
    return [p.arxiv_id for p in papers]
