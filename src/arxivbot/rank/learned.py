"""The library scorer: how much a paper looks like the user's library, learned once per run.

Fitted on :class:`~arxivbot.rank.scorer.Evidence`: the library and likes are the positives; dislikes
and the background are the negatives. The background is the window's candidates (the day's own
announcements), plus ``ranking.background_days`` earlier days when that is set (0 by default: the
research behind issue 11 measured the day alone best). The fitted model is cached in the store under
a hash of the library's content (and dislikes) and the method's version, so an unchanged library
costs nothing next run; a cached model older than :data:`MODEL_MAX_AGE` is fitted again, so the
background follows the field (bench/bench_relevance.py's ``ours-next-day``: a model from the day
before ranks as well as a fresh one).

Its score is **the share of the background the paper outranks**, in [0, 1]: the classifier's margin
(any real number, mostly negative) is placed among the margins of the papers it was fitted against,
so 0.97 means the model ranks the paper above 97 % of them. It is never negative, so ``min_score: 0``
never empties a library-only digest, and ``ranking.library_weight`` (10 by default) puts it on the
scale of a few keyword hits. Every paper is relevant to it: with a library, every announcement is a
candidate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from arxivbot.models import LIBRARY_SCORER, Paper, Reason
from arxivbot.rank.scorer import Evidence, Rating

if TYPE_CHECKING:
    from arxivbot.rank.text_model import Recipe, TextModel
    from arxivbot.store import Store

log = logging.getLogger(__name__)

MODEL_MAX_AGE = timedelta(days=7)
_TITLE_CHARS = 90  # a "like: …" title longer than this is shortened


class LibraryScorer:
    """tf-idf + a linear model, library against the field (:mod:`arxivbot.rank.text_model`)."""

    name = LIBRARY_SCORER

    def __init__(
        self,
        recipe: Recipe | None = None,
        *,
        store: Store | None = None,
        save: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        from arxivbot.rank.text_model import DEFAULT_RECIPE

        self.recipe = recipe or DEFAULT_RECIPE
        self.store = store
        self.save = save
        self.now = now
        self.model: TextModel | None = None
        self.cached = False  # the last fit came from the cache

    def fit(self, evidence: Evidence) -> None:
        from arxivbot.rank.model_blob import encode_model
        from arxivbot.rank.text_model import fingerprint, fit_text_model

        if not evidence.library:
            raise ValueError("the library scorer needs at least one library paper")
        key = fingerprint(self.recipe, evidence.library, evidence.disliked)
        self.model = self._cached_model(key)
        if self.model is not None:
            self.cached = True
            log.info("Library model loaded from the cache (%d library papers)", len(evidence.library))
            return
        self.model = fit_text_model(self.recipe, evidence.library, evidence.disliked, evidence.background)
        self.cached = False
        log.info(
            "Library model fitted: %d library papers against %d others",
            len(evidence.library),
            len(evidence.disliked) + len(evidence.background),
        )
        if self.store is not None and self.save:
            self.store.save_fitted_model(key, "tfidf", encode_model(self.model), self.now())

    def _cached_model(self, key: str) -> TextModel | None:
        """The model cached under ``key`` if it is recent and reads back as a valid model; a blob that
        does not (truncated, tampered with, another format) costs one warning and a fresh fit."""
        from arxivbot.rank.model_blob import ModelBlobError, decode_model

        cached = self.store.load_fitted_model(key) if self.store is not None else None
        if cached is None or self.now() - cached[1] > MODEL_MAX_AGE:
            return None
        try:
            return decode_model(cached[0], self.recipe)
        except ModelBlobError as err:
            log.warning("Cached library model ignored: %s; fitting it again", err)
            return None

    def raw_scores(self, papers: Sequence[Paper]) -> Any:
        """The model's own scores (for the bench and the judge's pre-ranking)."""
        return self._fitted().raw_scores(list(papers))

    def score(self, papers: Sequence[Paper]) -> list[Rating]:
        model = self._fitted()
        shares = model.share_outranked(model.raw_scores(list(papers)))
        return [Rating(float(share)) for share in shares]

    def explain(self, paper: Paper, rating: Rating) -> Reason:
        title, top = self._fitted().explain(paper)
        terms = tuple(top)
        text = f"like: {_shorten(title)}" if title else ""
        if terms:
            text += f" ({', '.join(terms)})"
        in_title = tuple(t for t in terms if t in paper.title.lower())
        return Reason(self.name, round(rating.score, 4), text.strip(), terms, in_title)

    def _fitted(self) -> TextModel:
        if self.model is None:
            raise RuntimeError("LibraryScorer.score called before fit")
        return self.model


def _shorten(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 1].rstrip() + "…"
