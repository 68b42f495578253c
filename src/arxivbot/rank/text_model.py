"""The learned model of "papers like the ones in my library": tf-idf over title + abstract and a
linear classifier, library against the rest of the field (scikit-learn, imported here only).

A :class:`Recipe` names every choice (n-grams, stop words, the classifier, how titles count), so the
bench runs the plain arxiv-sanity recipe and ours through the same code. A fitted
:class:`TextModel` is plain data (arrays, a vocabulary, titles): the pipeline caches it in the store,
keyed by a hash of what it was fitted on and :data:`METHOD_VERSION`, in the data-only format of
:mod:`arxivbot.rank.model_blob` (never a pickle: the database travels, and unpickling runs code).

Why a paper scored high is read off the model: the library paper nearest to it in tf-idf space
("like: …") and the terms whose weight × frequency added most to its score.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from arxivbot.models import Paper

# Bump when fitting, scoring or the cached format changes: cached models of an older version are not
# reused (tfidf-1 models were pickles: they are never read again, only refitted).
METHOD_VERSION = "tfidf-2"
# arxiv-sanity's: words, no bare numbers (a tokenizer's pattern, not a secret: hence the nosec)
TOKEN_PATTERN = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"  # nosec B105
_BACKGROUND_SAMPLE = 2000  # background scores kept to turn a raw score into a share of the field


@dataclass(frozen=True)
class Recipe:
    """Every choice of the learned scorer (the defaults are the product's method)."""

    ngram_max: int = 2
    min_df: int = 1
    max_df: float = 1.0
    max_features: int | None = None
    stop_words: str | None = "english"
    sublinear_tf: bool = True
    title_twice: bool = True  # the title is repeated before the abstract: a title word counts more
    classifier: str = "svc"  # "svc" (LinearSVC) or "lr" (logistic regression)
    C: float = 1.0
    balanced: bool = True  # class weights inversely proportional to class sizes
    nearest: str = "none"  # "none", or "zotero": add the recency-weighted mean cosine to the library
    nearest_weight: float = 1.0  # its weight, both parts standardised on the background

    def key(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(asdict(self).items()))


# The plain arxiv-sanity recipe: tf-idf 1-2 grams, LinearSVC, library against the background.
ARXIV_SANITY = Recipe(title_twice=False)
DEFAULT_RECIPE = Recipe()


def paper_text(paper: Paper, recipe: Recipe) -> str:
    title = " ".join(paper.title.split())
    text = f"{title}. {' '.join(paper.abstract.split())}"
    return f"{title}. {text}" if recipe.title_twice else text


def fingerprint(recipe: Recipe, positives: Sequence[Paper], negatives: Sequence[Paper]) -> str:
    """The cache key of a model: the method, the recipe and the library's content (and dislikes)."""
    digest = hashlib.sha256(f"{METHOD_VERSION}|{recipe.key()}".encode())
    for label, papers in (("+", positives), ("-", negatives)):
        for paper in papers:
            digest.update(f"{label}{paper.arxiv_id}\x00{paper.title}\x00{paper.abstract}\x01".encode())
    return digest.hexdigest()


@dataclass
class TextModel:
    """A fitted model: vectorizer, linear weights, the library's vectors and titles, and a sample of
    the background's raw scores (to express a score as the share of the field it outranks)."""

    recipe: Recipe
    vectorizer: Any
    coef: np.ndarray
    intercept: float
    library_vectors: Any  # sparse, l2-normalised rows
    library_titles: tuple[str, ...]
    library_weights: np.ndarray  # recency weights (zotero-arxiv-daily's), newest first
    background_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # mean and spread of the margin and of the nearest-library similarity over the background, so a
    # fused score means the same on every batch (a rank fusion would not)
    standardise: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)

    # --- scoring ---

    def vectors(self, papers: Sequence[Paper]) -> Any:
        return self.vectorizer.transform([paper_text(p, self.recipe) for p in papers])

    def raw_scores(self, papers: Sequence[Paper], vectors: Any = None) -> np.ndarray:
        """The model's own scores (any real number; higher is more like the library)."""
        if not papers:
            return np.zeros(0)
        x = self.vectors(papers) if vectors is None else vectors
        margin = np.asarray(x @ self.coef).ravel() + self.intercept
        if self.recipe.nearest == "none":
            return margin
        m_mean, m_sd, n_mean, n_sd = self.standardise
        nearest = self.similarity(x) @ self.library_weights
        fused: np.ndarray = (margin - m_mean) / m_sd + self.recipe.nearest_weight * (nearest - n_mean) / n_sd
        return fused

    def similarity(self, vectors: Any) -> np.ndarray:
        """Cosine similarity of each row to each library paper (papers × library)."""
        return np.asarray((vectors @ self.library_vectors.T).todense())

    def share_outranked(self, raw: np.ndarray) -> np.ndarray:
        """Each raw score as the share of the field it beats, in [0, 1].

        The reference is the background sample kept at fit time plus the batch itself, so scores of
        one batch stay strictly ordered even above every background paper.
        """
        if raw.size == 0:
            return raw
        reference = np.sort(np.concatenate([self.background_scores, raw]))
        below = np.searchsorted(reference, raw, side="left")
        return below / max(len(reference) - 1, 1)

    # --- explaining ---

    def explain(self, paper: Paper, count: int = 3) -> tuple[str, list[str]]:
        """The library paper most similar to ``paper``, and the terms that added most to its score
        (weight × tf-idf), best first; a term inside a kept longer one is left out."""
        x = self.vectors([paper])
        title = ""
        if self.library_titles:
            title = self.library_titles[int(np.argmax(self.similarity(x)[0]))]
        return title, self._top_terms(paper, x, count)

    def nearest_title(self, paper: Paper) -> str:
        return self.explain(paper, 0)[0]

    def _top_terms(self, paper: Paper, x: Any, count: int) -> list[str]:
        if count == 0:
            return []
        row = x.tocoo()
        contributions = row.data * self.coef[row.col]
        # The paper's own n-grams name its columns: no walk over the whole vocabulary.
        vocabulary = self.vectorizer.vocabulary_
        analyse = self.vectorizer.build_analyzer()
        names = {
            index: term
            for term in analyse(paper_text(paper, self.recipe))
            if (index := vocabulary.get(term)) is not None
        }
        terms: list[str] = []
        for position in np.argsort(-contributions):
            if contributions[position] <= 0 or len(terms) == count:
                break
            term = names.get(int(row.col[position]), "")
            if term and not any(term in kept or kept in term for kept in terms):  # "language model" covers "language"
                terms.append(term)
        return terms


def fit_text_model(
    recipe: Recipe, positives: Sequence[Paper], negatives: Sequence[Paper], background: Sequence[Paper]
) -> TextModel:
    """Fit on the library (``positives``, newest first) against ``negatives`` + ``background``.

    The vocabulary and idf come from all of them; the background's scores are kept as the reference
    for :meth:`TextModel.share_outranked`.
    """
    from scipy import sparse

    library_ids = {p.arxiv_id for p in positives}
    rest = [p for p in [*negatives, *background] if p.arxiv_id not in library_ids]
    vectorizer = make_vectorizer(recipe)
    x = vectorizer.fit_transform([paper_text(p, recipe) for p in [*positives, *rest]])
    x_library, x_rest = x[: len(positives)], x[len(positives) :]
    labels = np.r_[np.ones(len(positives)), np.zeros(len(rest))]
    classifier = _classifier(recipe)
    classifier.fit(sparse.vstack([x_library, x_rest]).tocsr(), labels)
    model = TextModel(
        recipe=recipe,
        vectorizer=vectorizer,
        coef=np.asarray(classifier.coef_, dtype=np.float32).ravel(),
        intercept=float(np.ravel(classifier.intercept_)[0]),
        library_vectors=x_library.tocsr(),
        library_titles=tuple(p.title for p in positives),
        library_weights=recency_weights(len(positives)),
    )
    if recipe.nearest != "none" and rest:
        margin = np.asarray(x_rest @ model.coef).ravel() + model.intercept
        nearest = model.similarity(x_rest) @ model.library_weights
        model.standardise = (float(margin.mean()), _spread(margin), float(nearest.mean()), _spread(nearest))
    sample = model.raw_scores(rest, x_rest) if rest else np.zeros(0)
    if sample.size > _BACKGROUND_SAMPLE:  # evenly spaced quantiles are all the reference needs
        sample = np.quantile(sample, np.linspace(0, 1, _BACKGROUND_SAMPLE))
    model.background_scores = np.sort(sample).astype(np.float64)
    return model


def make_vectorizer(recipe: Recipe, terms: Sequence[str] | None = None) -> Any:
    """The recipe's tf-idf vectorizer: unfitted, or over a fixed vocabulary (``terms``, one per column)
    when a cached model is rebuilt (its ``idf_`` is then set by the caller)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        strip_accents="unicode",
        lowercase=True,
        stop_words=recipe.stop_words,
        token_pattern=TOKEN_PATTERN,
        ngram_range=(1, recipe.ngram_max),
        min_df=recipe.min_df,
        max_df=recipe.max_df,
        max_features=recipe.max_features,
        sublinear_tf=recipe.sublinear_tf,
        dtype=np.float32,
        vocabulary=None if terms is None else list(terms),
    )


def recency_weights(count: int) -> np.ndarray:
    """zotero-arxiv-daily's weights over newest-first items: 1 / (1 + log10(rank + 1)), summing to 1."""
    if count == 0:
        return np.zeros(0)
    weights = 1.0 / (1.0 + np.log10(np.arange(count) + 1.0))
    normalised: np.ndarray = weights / weights.sum()
    return normalised


def _classifier(recipe: Recipe) -> Any:
    weight = "balanced" if recipe.balanced else None
    if recipe.classifier == "lr":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=recipe.C, class_weight=weight, max_iter=2000, solver="liblinear", random_state=0)
    from sklearn.svm import LinearSVC

    # A fixed random_state: liblinear shuffles, and a digest must not change between two identical runs.
    return LinearSVC(C=recipe.C, class_weight=weight, max_iter=10000, tol=1e-4, random_state=0)


def _spread(values: np.ndarray) -> float:
    spread = float(values.std())
    return spread if spread > 0 else 1.0


__all__ = [
    "ARXIV_SANITY",
    "DEFAULT_RECIPE",
    "METHOD_VERSION",
    "Recipe",
    "TextModel",
    "fingerprint",
    "fit_text_model",
    "make_vectorizer",
    "recency_weights",
]
