"""The configuration's building blocks: value types whose messages a user can act on, path
resolution against the config file's folder, and the base of every section.

:mod:`arxivbot.config` composes the sections; :mod:`arxivbot.config_relevance` holds the sections of
learned ranking (``library``, ``ranking``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")


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
    # Unknown keys are refused, each with the nearest known key suggested (``config_errors.render_errors``);
    # the top-level ``allow_unknown_keys`` makes ``config_from_dict`` drop them with a warning instead.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
