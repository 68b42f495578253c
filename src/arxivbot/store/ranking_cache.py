"""What learned ranking remembers so it is cheap: fitted models, embedding vectors, LLM judgements.

A fitted model is keyed by a hash of what it was fitted on and the method's version, so an unchanged
library costs nothing next run; only the newest few models are kept. Vectors are keyed by the text
they embed and the model, judgements by paper version, interests statement and model: each is paid
for once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from arxivbot.models import Judgement
from arxivbot.store.connection import Database
from arxivbot.store.rows import iso, parse_datetime, utc_now

MODELS_KEPT = 3  # per method: a library edited back and forth does not refit every time


class RankingCacheStore(Database):
    # --- fitted models ---

    def load_fitted_model(self, model_key: str) -> tuple[bytes, datetime] | None:
        """The serialized model fitted under ``model_key`` and when it was fitted, if it is cached."""
        row = self._db.execute("SELECT model, fitted_at FROM fitted_models WHERE model_key=?", (model_key,)).fetchone()
        if row is None:
            return None
        fitted_at = parse_datetime(row["fitted_at"]) or utc_now()
        return bytes(row["model"]), fitted_at

    def save_fitted_model(self, model_key: str, method: str, model: bytes, fitted_at: datetime | None = None) -> None:
        """Cache ``model`` (fitted at ``fitted_at``, default now); older models of the same method
        beyond the newest few are dropped."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO fitted_models (model_key, method, fitted_at, model) VALUES (?,?,?,?)",
                (model_key, method, iso(fitted_at or utc_now()), model),
            )
            db.execute(
                """DELETE FROM fitted_models WHERE method=? AND model_key NOT IN (
                       SELECT model_key FROM fitted_models WHERE method=?
                       ORDER BY fitted_at DESC, rowid DESC LIMIT ?)""",
                (method, method, MODELS_KEPT),
            )

    # --- embedding vectors ---

    def embeddings(self, model: str, text_hashes: Iterable[str]) -> dict[str, tuple[int, bytes]]:
        """Cached vectors: text hash → (dimensions, float32 bytes)."""
        query = "SELECT text_hash, dimensions, vector FROM embeddings WHERE text_hash IN ({ids}) AND model=?"
        return {
            row["text_hash"]: (int(row["dimensions"]), bytes(row["vector"]))
            for row in self._rows_for_ids(query, text_hashes, model)
        }

    def save_embeddings(self, model: str, vectors: Mapping[str, tuple[int, bytes]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embeddings (model, text_hash, dimensions, vector) VALUES (?,?,?,?)",
                [(model, text_hash, dims, blob) for text_hash, (dims, blob) in vectors.items()],
            )

    # --- LLM judgements ---

    def judgements(self, statement_hash: str, model: str, papers: Iterable[tuple[str, int]]) -> dict[str, Judgement]:
        """Cached verdicts for ``(arxiv_id, version)`` pairs: arxiv_id → judgement."""
        wanted = dict(papers)
        query = (
            "SELECT arxiv_id, version, score, reason FROM judgements "
            "WHERE arxiv_id IN ({ids}) AND statement_hash=? AND model=?"
        )
        found = {}
        for row in self._rows_for_ids(query, wanted, statement_hash, model):
            if wanted.get(row["arxiv_id"]) == row["version"]:
                found[row["arxiv_id"]] = Judgement(
                    row["arxiv_id"], row["version"], statement_hash, model, float(row["score"]), row["reason"]
                )
        return found

    def save_judgements(self, judgements: Iterable[Judgement]) -> None:
        now = iso(utc_now())
        with self.transaction() as db:
            db.executemany(
                """INSERT OR REPLACE INTO judgements
                   (arxiv_id, version, statement_hash, model, score, reason, created_at) VALUES (?,?,?,?,?,?,?)""",
                [(j.arxiv_id, j.version, j.statement_hash, j.model, j.score, j.reason, now) for j in judgements],
            )
