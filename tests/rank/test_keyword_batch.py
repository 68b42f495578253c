"""Word-mode ratings of many papers at once give each paper's own rating, to the last bit."""

from __future__ import annotations

import random

import pytest

from arxivbot import keyword_batch
from arxivbot.matching import KeywordMatcher

FRAGMENTS = [
    "LLMs", "RL-based", "real-world", "particularly", "systems", "pipelining", "decoding", "decoded",
    "state-space", "state", "space", "State  Spaces", "KV-cache", "kv cache", "C++17", "C++", "naïve",
    "studies", "surveys", "A/B  tests", "A/B test", "MoE’s", "fp8", "—", ",", ".", "(", ")", "e.g.",
    "Schrödinger", "x", "the", "\u00a0", "-", "SSM", "rlhf", "mixture of experts", "mixture-of-experts",
    "experts", "efficiency", "efficient", "Efficiently",
]  # fmt: skip
KEYWORD_SETS = [
    (["LLM", "RL", "SSM", "MoE", "FP8", "System", "Pipeline", "Decode", "Decoding", "State Space", "kv cache",
      "C++", "ve", "study", "dinger", "mixture of experts"], ["survey", "A/B test"]),
    (["Efficient", "Efficiency", "state", "State Space", "space"], ["rlhf"]),
    (["LLM"], []),
]  # fmt: skip


def random_texts(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        title = " ".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 6)))
        abstract = rng.choice(["", " "]).join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 40)))
        texts.append((title, abstract))
    return texts


@pytest.mark.parametrize(("keywords", "excludes"), KEYWORD_SETS)
def test_a_batch_rates_each_paper_as_it_is_rated_alone(keywords: list[str], excludes: list[str]) -> None:
    matcher = KeywordMatcher(keywords, excludes, title_bonus=0.3)
    texts = [*random_texts(3000, seed=len(keywords)), ("", ""), ("LLM", ""), ("", "LLM")]
    assert keyword_batch.can_batch(matcher)
    # Chunks of a few papers: matches at every chunk boundary map back to the right paper.
    assert keyword_batch.rate_batch(matcher, texts, chunk=7) == [matcher.rate(t, a) for t, a in texts]
    assert keyword_batch.rate_batch(matcher, texts) == [matcher.rate(t, a) for t, a in texts]


def test_many_papers_are_rated_in_one_batch_with_the_same_results() -> None:
    matcher = KeywordMatcher(*KEYWORD_SETS[0])
    texts = random_texts(keyword_batch.BATCH_MIN, seed=5)
    assert matcher.rate_many(texts) == [matcher.rate(t, a) for t, a in texts]


@pytest.mark.parametrize(
    "matcher",
    [
        KeywordMatcher(["LLM", "RL"], weights={"RL": 2.0}),  # weights differ: summed per paper
        KeywordMatcher(["naïve", "LLM"]),  # a keyword outside ASCII: the Unicode tokeniser
        KeywordMatcher(["LLM"], mode="substring"),
        KeywordMatcher([]),
    ],
)
def test_configurations_a_batch_does_not_cover_are_rated_paper_by_paper(matcher: KeywordMatcher) -> None:
    assert not keyword_batch.can_batch(matcher)
    texts = random_texts(200, seed=3)
    assert matcher.rate_many(texts) == [matcher.rate(t, a) for t, a in texts]
    with pytest.raises(ValueError, match="can_batch"):
        keyword_batch.rate_batch(matcher, texts)
