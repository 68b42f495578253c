"""The configuration of learned relevance: where the user's library is (``library``) and how the
learned score and the keyword score make one ranking (``ranking``). See docs/configuration.md.

No section here imports anything heavy: scikit-learn, pyzotero and embedding models load only when a
run has a library to learn from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from arxivbot.config_types import Keyword, NonNegativeFloat, NonNegativeInt, PositiveInt, _resolve_path, _Section
from arxivbot.models import split_arxiv_id


def _arxiv_id(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("arxiv_id", "must be an arXiv identifier such as 2512.20276")
    try:
        arxiv_id, _version = split_arxiv_id(value)
    except ValueError:
        raise PydanticCustomError("arxiv_id", "must be an arXiv identifier such as 2512.20276") from None
    return arxiv_id


ArxivId = Annotated[str, BeforeValidator(_arxiv_id)]


class ZoteroConfig(_Section):
    """A Zotero library read through the Zotero web API (pyzotero); off while ``library_id`` is null."""

    library_id: str | None = None
    library_type: Literal["user", "group"] = "user"
    api_key_env: Keyword = "ZOTERO_API_KEY"
    collections: list[Keyword] = Field(default_factory=list)
    api_url: Keyword = "https://api.zotero.org"

    @field_validator("library_id", mode="before")
    @classmethod
    def _library_id(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
            raise PydanticCustomError(
                "zotero_id", "must be the numeric Zotero user or group id (see zotero.org/settings/keys)"
            )
        return str(value).strip()

    @property
    def enabled(self) -> bool:
        return self.library_id is not None


class LibraryConfig(_Section):
    """The papers the user already keeps: the positives learned ranking trains on."""

    bibtex: list[Path] = Field(default_factory=list)
    arxiv_ids: list[ArxivId] = Field(default_factory=list)
    arxiv_ids_file: Path | None = None
    zotero: ZoteroConfig = Field(default_factory=ZoteroConfig)

    _resolve_bibtex = field_validator("bibtex", mode="before")(
        lambda value, info: [_resolve_path(item, info) for item in value] if isinstance(value, list) else value
    )
    _resolve_ids_file = field_validator("arxiv_ids_file", mode="before")(
        lambda value, info: None if value is None else _resolve_path(value, info)
    )

    @field_validator("arxiv_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # an id listed twice (with two versions) is one paper

    @property
    def configured(self) -> bool:
        """Some source of library papers is configured (it may still turn out empty)."""
        return bool(self.bibtex or self.arxiv_ids or self.arxiv_ids_file or self.zotero.enabled)


class EmbeddingsConfig(_Section):
    """An OpenAI-compatible ``/v1/embeddings`` endpoint, for ``ranking.method: "embeddings"``."""

    base_url: Keyword = "https://api.openai.com/v1"
    model: Keyword = "text-embedding-3-small"
    api_key_env: Keyword = "OPENAI_API_KEY"
    batch_size: PositiveInt = 64
    timeout_seconds: NonNegativeFloat = 60.0


class RankingConfig(_Section):
    """How the learned score and the keyword score combine, and which learned scorer runs."""

    library_weight: NonNegativeFloat = 10.0
    keyword_weight: NonNegativeFloat = 1.0
    method: Literal["tfidf", "embeddings", "local"] = "tfidf"
    # 0: the negatives are the day's own announcements (and the dislikes), as the research measured
    # best; adding the previous 7 days cost recall@30 (0.654 → 0.616 on bench/bench_relevance.py).
    background_days: NonNegativeInt = 0
    local_model: Path | None = None
    embeddings: EmbeddingsConfig = Field(default_factory=EmbeddingsConfig)
    interests: str | None = None
    judge_top_n: NonNegativeInt = 50
    judge_batch_size: PositiveInt = 10
    judge_weight: NonNegativeFloat = 1.0

    _resolve_model = field_validator("local_model", mode="before")(
        lambda value, info: None if value is None else _resolve_path(value, info)
    )

    @field_validator("interests", mode="before")
    @classmethod
    def _statement(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise PydanticCustomError("interests", "must be a few sentences of text, or null")
        return value.strip() or None
