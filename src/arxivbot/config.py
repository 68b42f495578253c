"""The configuration model: load, validate once, fill defaults, resolve paths.

The reference ``config.json`` (SPEC §2.1) loads unchanged; arxivbot's own keys (SPEC §4) are
optional sections with defaults. Validation happens once, at load, and every problem becomes one
``key.path: what is wrong, got X`` line inside a :class:`~arxivbot.errors.ConfigError`
(:mod:`arxivbot.config_errors`). An unknown key is one of those problems, with the nearest known key
suggested: a typo must never quietly publish something else. ``"allow_unknown_keys": true`` turns
them into warnings, for a config written for a newer arxivbot. A config that names no interest (no
keywords, no library) is refused by the commands that rank (:func:`require_interest`). Relative paths
resolve against the folder of the config file.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from arxivbot.config_errors import config_error, describe, dotted, render_errors, without_keys
from arxivbot.deliver.settings import DeliveryConfig
from arxivbot.errors import ConfigError
from arxivbot.models import RetentionPolicy

log = logging.getLogger(__name__)

DEFAULT_CONFIG_NAME = "config.json"
DASHSCOPE_BASE_URL = "https://dashscope.aliyuncs.com/compatible-mode/v1"
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


# --- value types with messages a user can act on -------------------------------------------------


def _positive_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PydanticCustomError("positive_int", "must be a positive integer")
    return value


def _non_negative_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PydanticCustomError("non_negative_int", "must be a whole number of 0 or more")
    return value


def _non_negative_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PydanticCustomError("non_negative_number", "must be a number of 0 or more")
    return float(value)


def _positive_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise PydanticCustomError("positive_number", "must be a number above 0")
    return float(value)


def _strict_bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError("strict_bool", "must be true or false")
    return value


def _category(value: Any) -> Any:
    if not isinstance(value, str) or not _CATEGORY.match(value):
        raise PydanticCustomError("category", "must be an arXiv category such as cs.AI or astro-ph.CO")
    return value


def _non_empty_text(value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("non_empty_text", "must be a non-empty string")
    return value.strip()


AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
DedupMethod = Literal["id", "title", "link"]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
NonNegativeInt = Annotated[int, BeforeValidator(_non_negative_int)]
NonNegativeFloat = Annotated[float, BeforeValidator(_non_negative_number)]
PositiveFloat = Annotated[float, BeforeValidator(_positive_number)]
StrictBool = Annotated[bool, BeforeValidator(_strict_bool)]
Category = Annotated[str, BeforeValidator(_category)]
Keyword = Annotated[str, BeforeValidator(_non_empty_text)]


def _resolve_path(value: Any, info: ValidationInfo) -> Any:
    """Resolve a relative path against the config file's folder (passed as validation context)."""
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise PydanticCustomError("path", "must be a file or folder path")
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path


class _Section(BaseModel):
    # Unknown keys are refused, each with the nearest known key suggested (``render_errors``); the
    # top-level ``allow_unknown_keys`` makes ``config_from_dict`` drop them with a warning instead.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# --- sections ------------------------------------------------------------------------------------


class AISummaryConfig(_Section):
    enabled: StrictBool = False
    api_key_env: Keyword = "DASHSCOPE_API_KEY"
    base_url: Keyword = DASHSCOPE_BASE_URL
    model: Keyword = "qwen-long"
    prompt_file: Path | None = None
    max_papers_to_summarize: NonNegativeInt = 5
    max_workers: PositiveInt = 5
    # "pdf-upload" (DashScope file-extract), "pdf-text" (local pypdf) or "abstract"; None = automatic
    input: Literal["pdf-upload", "pdf-text", "abstract"] | None = None
    pdf_text_max_chars: PositiveInt = 60_000
    timeout_seconds: NonNegativeFloat = 120.0
    max_retries: NonNegativeInt = 4
    max_tokens_per_run: PositiveInt | None = None
    temperature: NonNegativeFloat | None = None

    _resolve_prompt = field_validator("prompt_file", mode="before")(
        lambda value, info: None if value is None else _resolve_path(value, info)
    )

    @property
    def input_mode(self) -> str:
        """The effective input mode: DashScope reads uploaded PDFs; anything else gets text."""
        if self.input is not None:
            return self.input
        return "pdf-upload" if "dashscope" in self.base_url else "pdf-text"


class ArxivConfig(_Section):
    rss_url: Keyword = "https://rss.arxiv.org/rss"
    api_url: Keyword = "https://export.arxiv.org/api/query"
    pdf_url: Keyword = "https://arxiv.org/pdf"
    announce_types: list[AnnounceType] = Field(default_factory=lambda: list[AnnounceType](["new"]))
    request_delay_seconds: NonNegativeFloat = 3.0
    timeout_seconds: NonNegativeFloat = 30.0
    max_retries: NonNegativeInt = 4
    api_page_size: PositiveInt = 200
    contact: str | None = None  # an e-mail for the User-Agent, as arXiv's API terms ask
    # Caps on one answer, read as it streams in: past them the fetch fails instead of filling memory.
    max_feed_mb: PositiveFloat = 25.0  # the busiest real multi-category daily feed is a few MB
    max_api_mb: PositiveFloat = 50.0  # one API page; 200 entries are well under 1 MB
    max_pdf_mb: PositiveFloat = 100.0  # arXiv's own submission limit is 50 MB

    @field_validator("rss_url", "api_url", "pdf_url", mode="after")
    @classmethod
    def _normalise_source(cls, value: str, info: ValidationInfo) -> str:
        """An http(s) URL stays one; a local path or ``file://`` URL becomes ``file://localhost/<abs path>``.

        Local sources (offline use, demos, tests) are read by the ``file://`` transport
        (:mod:`arxivbot.arxiv.files`), so the fetchers only ever see URLs. A relative path, also one
        written as ``file://sample-feed.xml``, resolves against the config's folder.
        """
        scheme = _URL_SCHEME.match(value)
        if scheme is None:
            return _file_url(value, info)
        name = scheme.group(1).lower()
        if name in ("http", "https"):
            return value.rstrip("/")
        if name == "file":
            location = unquote(value[scheme.end() :])
            if location.startswith("localhost/"):  # file://localhost/abs/path names /abs/path
                location = location[len("localhost") :]
            return _file_url(location, info)
        raise PydanticCustomError("source_url", "must be an http(s):// URL, a file:// URL or a local path")


def _file_url(location: str, info: ValidationInfo) -> str:
    """``file://localhost/abs/path``: RFC 8089's spelling with a host, which httpx takes as absolute."""
    # abspath, not resolve(): ".." in the config is the user's own choice, and symlinks stay as they are.
    uri = Path(os.path.abspath(_resolve_path(location, info))).as_uri()
    return "file://localhost" + uri[len("file://") :]


class MatchingConfig(_Section):
    mode: Literal["word", "substring"] = "word"
    title_bonus: NonNegativeFloat = 0.5
    weights: dict[str, NonNegativeFloat] = Field(default_factory=dict)


class StorageConfig(_Section):
    database: Path = Path("data/arxivbot.db")
    pdf_cache: Path = Path("data/pdfs")
    # How long a run waits for another run on the same database to finish (docs/guide.md, "Operations").
    lock_timeout_seconds: NonNegativeFloat = 300.0

    _resolve = field_validator("database", "pdf_cache", mode="before")(_resolve_path)


class RetentionConfig(_Section):
    """How long papers keep their full record; see docs/configuration.md, "Retention"."""

    full_days: NonNegativeInt = 7
    compact: StrictBool = True
    vacuum: StrictBool = True


class OutputConfig(_Section):
    readme: Path = Path("README.md")
    site_dir: Path = Path("public")
    readme_template: Path = Path("README.template.md")
    # The digest's own repository, for its "Deploy with Vercel" button; None: found from the environment.
    repository_url: str | None = None

    _resolve = field_validator("readme", "site_dir", "readme_template", mode="before")(_resolve_path)

    @field_validator("repository_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/]+/\S+$", value):
            raise PydanticCustomError("repository_url", "must be the repository's https:// address")
        return value.rstrip("/") if value else value


class FeedsConfig(_Section):
    base_url: str = ""
    max_items: PositiveInt = 100
    max_days: PositiveInt = 30
    title: str = "arXiv digest"


class ServerConfig(_Section):
    update_token_env: str | None = None
    schedule: str = "12:00"
    timezone: str = "UTC"
    run_on_startup: StrictBool = True
    host: str = "127.0.0.1"
    port: PositiveInt = 8000
    # Slow or hostile clients (docs/deploy.md, "Slow clients and limits"): arxivbot/connection_guard.py.
    read_timeout_seconds: PositiveFloat = 5.0
    max_connections: PositiveInt = 500

    @field_validator("schedule")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise PydanticCustomError("clock", "must be a time of day as HH:MM")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone", "must be an IANA time zone such as UTC or Asia/Shanghai") from None
        return value


class Config(_Section):
    """The whole, validated configuration. Reference keys at the top level, our own in sections."""

    categories: list[Category] = Field(default_factory=lambda: ["cs.AI", "cs.LG", "cs.CL", "cs.CV"])
    keywords: list[Keyword] = Field(default_factory=list)
    exclude_keywords: list[Keyword] = Field(default_factory=list)
    max_papers: PositiveInt = 50
    days_back: NonNegativeInt = 7
    min_score: NonNegativeFloat = 0.0
    enable_deduplication: StrictBool = True
    deduplication_methods: list[DedupMethod] = Field(default_factory=lambda: list[DedupMethod](["id", "title", "link"]))
    ai_summary: AISummaryConfig = Field(default_factory=AISummaryConfig)
    arxiv: ArxivConfig = Field(default_factory=ArxivConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    feeds: FeedsConfig = Field(default_factory=FeedsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    # true: unknown keys are warnings (a config written for a newer arxivbot), not errors.
    allow_unknown_keys: StrictBool = False

    # Where the config file lives; relative paths were resolved against it.
    config_dir: Path = Path(".")
    # The unknown keys dropped with a warning because ``allow_unknown_keys`` is true.
    _ignored_keys: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("categories")
    @classmethod
    def _at_least_one_category(cls, value: list[str]) -> list[str]:
        if not value:
            raise PydanticCustomError("categories", "must list at least one arXiv category")
        return list(dict.fromkeys(value))  # a category listed twice is fetched once

    def retention_policy(self) -> RetentionPolicy:
        """The retention policy in force: full records are never kept for less than ``days_back``
        days, because each digest ranks the full records of that window."""
        return RetentionPolicy(
            full_days=max(self.retention.full_days, self.days_back),
            compact=self.retention.compact,
            vacuum=self.retention.vacuum,
        )

    def unknown_keys(self) -> list[str]:
        """Dotted paths of the unknown keys that were ignored (only ``allow_unknown_keys`` lets one in)."""
        return sorted(self._ignored_keys)

    def public_dict(self) -> dict[str, Any]:
        """The effective configuration as JSON-ready data. It holds no secrets: only env var names.

        Unknown keys are never in it: they were refused or dropped at load, and one may be a key
        pasted where its env var name belongs (``"api_key": "sk-…"``).
        """
        return self.model_dump(mode="json", exclude={"config_dir": True})


_SECTIONS = ("ai_summary", "arxiv", "matching", "storage", "retention", "output", "feeds", "server", "delivery")

NO_INTEREST = (
    "keywords is empty and no library is configured: add keywords, or a library (see docs/configuration.md#library)"
)


def has_interest(config: Config) -> bool:
    """Whether the config says which papers matter. Without it every announcement would be published.

    One source of interest today: keywords. The library (issue 11) becomes the second one here.
    """
    return bool(config.keywords)


def require_interest(config: Config) -> None:
    """Refuse (exit 2) to rank for a config that names no interest: commands that publish call this.

    Not part of loading: ``backfill`` and ``status`` work without keywords.
    """
    if not has_interest(config):
        raise ConfigError(NO_INTEREST, (NO_INTEREST,))


# --- loading -------------------------------------------------------------------------------------


def load_config(path: str | Path = DEFAULT_CONFIG_NAME) -> Config:
    """Read, parse and validate a config file. Raises :class:`ConfigError` naming the file or key."""
    config_path = Path(path).expanduser()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{config_path}: config file not found (pass --config PATH, or run `arxivbot init` to create one)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{config_path}: cannot read config file ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{config_path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    return config_from_dict(data, base_dir=config_path.resolve().parent, source=str(config_path))


def config_from_dict(data: Any, *, base_dir: Path, source: str = "config") -> Config:
    """Validate already-parsed config data; ``base_dir`` anchors relative paths."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a JSON object, got {describe(data)}")
    # Missing sections are validated as empty objects so their default paths resolve too.
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS if name not in data}
    data = {**data, **sections, "config_dir": base_dir}
    context = {"base_dir": base_dir}
    ignored: list[str] = []
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as err:
        unknown = [e for e in err.errors() if e["type"] == "extra_forbidden"]
        if len(unknown) < err.error_count() or data.get("allow_unknown_keys") is not True:
            raise config_error(source, render_errors(err, Config)) from None
        # Only unknown keys, and the user allows them: drop them, say so, and validate what is left.
        for line in render_errors(err, Config):
            log.warning("%s: %s (ignored: allow_unknown_keys is true)", source, line)
        ignored = [dotted(e["loc"]) for e in unknown]
        config = Config.model_validate(without_keys(data, [e["loc"] for e in unknown]), context=context)
    config._ignored_keys = tuple(ignored)
    return config
