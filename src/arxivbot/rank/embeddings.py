"""Embedding scorers, switched on with ``ranking.method``: ``"embeddings"`` (an OpenAI-compatible
``/v1/embeddings`` endpoint, ``ranking.embeddings``) or ``"local"`` (a model2vec or
sentence-transformers model in a folder, ``ranking.local_model``; never downloaded during a run).

Each text is embedded once: vectors are cached in the store per text and model. The scorer fits a
logistic regression on the vectors, library against the field, and scores like the tf-idf scorer
(the share of the field a paper outranks). An endpoint that fails or answers vectors of the wrong
size hands over to the default scorer with a warning (:class:`Fallback`): the digest is always
published.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from arxivbot.errors import ArxivbotError
from arxivbot.models import LIBRARY_SCORER, Paper, Reason
from arxivbot.rank.scorer import Evidence, Rating, Scorer

if TYPE_CHECKING:
    from arxivbot.config_relevance import EmbeddingsConfig
    from arxivbot.store import Store

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class EmbeddingError(ArxivbotError):
    """The embedding model failed or answered something unusable."""


class Encoder(Protocol):
    name: str  # the cache key's model part: "api:<base_url>:<model>" or "local:<folder>"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32."""


class ApiEncoder:
    """``POST /v1/embeddings`` through the OpenAI SDK, in batches."""

    def __init__(self, settings: EmbeddingsConfig, client: Any = None) -> None:
        import openai

        self.model = settings.model
        self.batch_size = settings.batch_size
        self.name = f"api:{settings.base_url}:{settings.model}"
        if client is None:
            key = os.environ.get(settings.api_key_env, "").strip()
            if not key:
                raise EmbeddingError(
                    f"no embedding API key: set {settings.api_key_env}, or set ranking.method to tfidf"
                )
            client = openai.OpenAI(
                api_key=key, base_url=settings.base_url, timeout=settings.timeout_seconds or None, max_retries=2
            )
        self.client = client

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            try:
                answer = self.client.embeddings.create(model=self.model, input=batch)
            except Exception as err:  # the SDK's errors, the network's
                raise EmbeddingError(f"the embedding endpoint failed: {type(err).__name__}: {err}") from None
            data = sorted(answer.data, key=lambda item: item.index)
            if len(data) != len(batch):
                raise EmbeddingError(f"the embedding endpoint answered {len(data)} vectors for {len(batch)} texts")
            rows.extend(list(item.embedding) for item in data)
        return _matrix(rows)


class LocalEncoder:
    """A model in a local folder: model2vec (static, fast) or sentence-transformers, whichever loads it."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise EmbeddingError(f"ranking.local_model: {folder} is not a folder with a model in it")
        self.name = f"local:{folder.resolve()}"
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a folder is read, nothing is downloaded
        self.model = _load_local(folder)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts)), dtype=np.float32)


def _load_local(folder: Path) -> Any:
    """model2vec first (a static model: fast, no torch), then sentence-transformers."""
    problems: list[str] = []
    try:
        from model2vec import StaticModel
    except ImportError:
        problems.append("model2vec is not installed")
    else:
        try:
            return StaticModel.from_pretrained(str(folder))
        except Exception as err:  # not a model2vec folder: maybe a sentence-transformers one
            problems.append(f"model2vec: {err}")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        problems.append("sentence-transformers is not installed")
    else:
        try:
            return SentenceTransformer(str(folder), device="cpu")
        except Exception as err:
            problems.append(f"sentence-transformers: {err}")
    raise EmbeddingError(
        f"ranking.local_model: cannot load {folder} ({'; '.join(problems)}); "
        "pip install 'arxivbot[local-embeddings]' and point it at a model2vec or sentence-transformers folder"
    )


class CachedEncoder:
    """Vectors from the store when a text was embedded before; the rest from the encoder, then stored."""

    def __init__(self, encoder: Encoder, store: Store | None, *, save: bool = True) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.store = store
        self.save = save
        self.dimensions: int | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        hashes = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
        cached = self.store.embeddings(self.name, hashes) if self.store is not None else {}
        missing = list(dict.fromkeys(h for h in hashes if h not in cached))
        if missing:
            by_hash = dict(zip(hashes, texts, strict=True))
            fresh = self.encoder.encode([by_hash[h] for h in missing])
            new = {
                h: (int(row.shape[0]), row.astype(np.float32).tobytes()) for h, row in zip(missing, fresh, strict=True)
            }
            self._check({dims for dims, _ in new.values()} | {dims for dims, _ in cached.values()})
            if self.store is not None and self.save:
                self.store.save_embeddings(self.name, new)
            cached = {**cached, **new}
        self._check({dims for dims, _ in cached.values()})
        return (
            np.vstack([np.frombuffer(cached[h][1], dtype=np.float32) for h in hashes]) if hashes else np.zeros((0, 0))
        )

    def _check(self, sizes: set[int]) -> None:
        if self.dimensions is not None:
            sizes = sizes | {self.dimensions}
        if len(sizes) > 1 or 0 in sizes:
            raise EmbeddingError(f"the embedding model answered vectors of different sizes ({sorted(sizes)})")
        if sizes:
            self.dimensions = next(iter(sizes))


class EmbeddingScorer:
    """A logistic regression on embeddings, library against the field; the score is the share outranked."""

    name = LIBRARY_SCORER

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.coef: np.ndarray | None = None
        self.library: np.ndarray = np.zeros((0, 0))
        self.titles: tuple[str, ...] = ()
        self.reference: np.ndarray = np.zeros(0)

    def fit(self, evidence: Evidence) -> None:
        from sklearn.linear_model import LogisticRegression

        library_ids = {p.arxiv_id for p in evidence.library}
        rest = [p for p in [*evidence.disliked, *evidence.background] if p.arxiv_id not in library_ids]
        vectors = self._vectors([*evidence.library, *rest])
        labels = np.r_[np.ones(len(evidence.library)), np.zeros(len(rest))]
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(vectors, labels)
        self.coef = np.r_[model.coef_.ravel(), model.intercept_]
        self.library = vectors[: len(evidence.library)]
        self.titles = tuple(p.title for p in evidence.library)
        self.reference = np.sort(self._raw(vectors[len(evidence.library) :]))

    def score(self, papers: Sequence[Paper]) -> list[Rating]:
        raw = self._raw(self._vectors(papers))
        reference = np.sort(np.concatenate([self.reference, raw]))
        shares = np.searchsorted(reference, raw, side="left") / max(len(reference) - 1, 1)
        return [Rating(float(share)) for share in shares]

    def explain(self, paper: Paper, rating: Rating) -> Reason:
        similarity = self.library @ self._vectors([paper])[0]
        title = self.titles[int(np.argmax(similarity))] if self.titles else ""
        return Reason(self.name, round(rating.score, 4), f"like: {title}" if title else "")

    def _vectors(self, papers: Sequence[Paper]) -> np.ndarray:
        vectors = self.encoder.encode([f"{p.title}. {p.abstract}" for p in papers])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def _raw(self, vectors: np.ndarray) -> np.ndarray:
        if self.coef is None:
            raise RuntimeError("EmbeddingScorer.score called before fit")
        if vectors.shape[1] + 1 != self.coef.shape[0]:
            raise EmbeddingError(
                f"vectors of {vectors.shape[1]} dimensions, the model was fitted on {self.coef.shape[0] - 1}"
            )
        margins: np.ndarray = vectors @ self.coef[:-1] + self.coef[-1]
        return margins


class Fallback:
    """Run ``primary``; when it fails (at fit or at score), warn once and use ``fallback`` instead."""

    def __init__(self, primary: Scorer, fallback: Scorer, *, what: str) -> None:
        self.primary: Scorer | None = primary
        self.fallback = fallback
        self.name = primary.name
        self.what = what
        self.warning = ""
        self._evidence: Evidence | None = None
        self._fallback_fitted = False

    def fit(self, evidence: Evidence) -> None:
        self._evidence = evidence
        self._try(lambda scorer: scorer.fit(evidence))

    def score(self, papers: Sequence[Paper]) -> list[Rating]:
        return self._try(lambda scorer: scorer.score(papers))

    def explain(self, paper: Paper, rating: Rating) -> Reason:
        return self._try(lambda scorer: scorer.explain(paper, rating))

    def _try(self, call: Callable[[Scorer], _T]) -> _T:
        if self.primary is not None:
            try:
                return call(self.primary)
            except (ArxivbotError, ValueError, RuntimeError) as err:
                self.warning = f"{self.what} failed ({err}); ranked with the default tf-idf scorer instead"
                log.warning("%s", self.warning)
                self.primary = None
        if not self._fallback_fitted and self._evidence is not None:
            self.fallback.fit(self._evidence)
            self._fallback_fitted = True
        return call(self.fallback)


def _matrix(rows: list[list[float]]) -> np.ndarray:
    sizes = {len(row) for row in rows}
    if len(sizes) > 1 or 0 in sizes:
        raise EmbeddingError(f"the embedding endpoint answered vectors of different sizes ({sorted(sizes)})")
    return np.asarray(rows, dtype=np.float32)
