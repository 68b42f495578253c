"""Ranking: which of the day's announcements a digest shows, in what order, and why.

- :mod:`~arxivbot.rank.scorer`: the Scorer seam (fit, score a batch, explain) and the weighted
  :class:`~arxivbot.rank.scorer.Combiner`;
- :mod:`~arxivbot.rank.keywords`: the keyword scorer (matching rules in :mod:`arxivbot.matching`);
- :mod:`~arxivbot.rank.learned` and :mod:`~arxivbot.rank.text_model`: the library scorer, tf-idf + a
  linear model learned from the user's library (scikit-learn, loaded only when there is a library);
- :mod:`~arxivbot.rank.embeddings`: the optional embedding scorers, with a fallback to tf-idf;
- :mod:`~arxivbot.rank.judge`: the optional LLM judge of the top candidates;
- :mod:`~arxivbot.rank.select`: selection (announce types, already shown, relevance, exclusions,
  ``min_score``, dedup, cut), pure, no I/O.

:func:`build_ranker` turns the configuration (and the library, when there is one) into the ranker a
run uses.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from arxivbot.errors import ConfigError
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
    from arxivbot.library import Library
    from arxivbot.store import Store

log = logging.getLogger(__name__)

EMPTY_LIBRARY_NO_KEYWORDS = (
    "library: the configured library holds no paper (check library.bibtex, library.arxiv_ids and "
    "library.zotero, or `arxivbot like ID`), and there are no keywords to rank by either: "
    "add papers to the library or set keywords"
)

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
    "library_scorer",
    "normalised_link",
    "normalised_title",
    "score_paper",
    "select_papers",
]


def build_ranker(
    config: Config,
    library: Library | None = None,
    *,
    store: Store | None = None,
    save: bool = True,
    llm: Any = None,
) -> Combiner:
    """The scorers the configuration asks for, combined with their weights; call ``fit`` before use.

    Without a library (none configured, no likes), the keywords alone, exactly as before. With one,
    the library scorer (``ranking.method``) weighted by ``ranking.library_weight``, plus the keywords
    (and exclusions) weighted by ``ranking.keyword_weight`` when any are configured, plus the LLM judge
    when ``ranking.interests`` is set and ``llm`` is a client. A configured library that loaded no
    paper falls back to the keywords with a warning, or raises :class:`ConfigError` without keywords.
    ``store`` caches fitted models and vectors (``save=False``: read the caches, write nothing).
    """
    rules = SelectionRules.from_config(config)
    if library is None or not library.items:
        if library is not None and library.configured:
            if not config.keywords:
                raise ConfigError(EMPTY_LIBRARY_NO_KEYWORDS)
            log.warning("The library is empty: ranking by keywords only (check the library section)")
        return Combiner([Weighted(rules.keyword_scorer())])
    ranking = config.ranking
    learned = library_scorer(config, store=store, save=save)
    parts = [Weighted(learned, ranking.library_weight)]
    if config.keywords or config.exclude_keywords:  # first, so reasons read "keywords: …; like: …"
        parts.insert(0, Weighted(rules.keyword_scorer(quiet=True), ranking.keyword_weight))
    if ranking.interests and llm is not None and ranking.judge_top_n > 0:
        from arxivbot.rank.judge import JudgedRanker, LlmJudge

        judge = LlmJudge(
            llm,
            config.ai_summary.model,
            ranking.interests,
            store=store,
            save=save,
            batch_size=ranking.judge_batch_size,
            max_tokens=config.ai_summary.max_tokens_per_run,
            nearest_titles=_nearest_titles(learned),
        )
        return JudgedRanker(parts, judge, weight=ranking.judge_weight, top_n=ranking.judge_top_n)
    return Combiner(parts)


def library_scorer(
    config: Config, *, store: Store | None = None, save: bool = True, embedding_client: Any = None
) -> Scorer:
    """The learned scorer ``ranking.method`` names; an embedding scorer falls back to tf-idf when it fails."""
    from arxivbot.rank.learned import LibraryScorer

    default = LibraryScorer(store=store, save=save)
    method = config.ranking.method
    if method == "tfidf":
        return default
    from arxivbot.rank.embeddings import (
        ApiEncoder,
        CachedEncoder,
        EmbeddingError,
        EmbeddingScorer,
        Fallback,
        LocalEncoder,
    )

    what = f"ranking.method {method!r}"
    try:
        if method == "embeddings":
            encoder: Any = ApiEncoder(config.ranking.embeddings, client=embedding_client)
        elif config.ranking.local_model is None:
            raise EmbeddingError(
                "ranking.local_model is not set (a folder with a model2vec or sentence-transformers model)"
            )
        else:
            encoder = LocalEncoder(config.ranking.local_model)
    except EmbeddingError as err:
        log.warning("%s unavailable (%s); ranking with the default tf-idf scorer", what, err)
        return default
    return Fallback(EmbeddingScorer(CachedEncoder(encoder, store, save=save)), default, what=what)


def _nearest_titles(scorer: Scorer) -> Any:
    """For the judge: the library titles nearest to a batch of papers (tf-idf scorer only)."""
    model_of = getattr(scorer, "model", None)
    if model_of is None and not hasattr(scorer, "recipe"):
        return None

    def nearest(papers: Any) -> list[str]:
        model = getattr(scorer, "model", None)
        if model is None:
            return []
        return list(dict.fromkeys(title for title in (model.nearest_title(p) for p in papers) if title))[:8]

    return nearest


def build_matcher(rules: SelectionRules) -> KeywordMatcher:
    """Compile the rules' keywords once; the matcher is then applied to every paper of the run."""
    return rules.keyword_scorer().matcher
