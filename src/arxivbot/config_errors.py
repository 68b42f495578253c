"""Configuration problems as lines a user can act on: ``key.path: what is wrong, got X``.

pydantic's validation errors become one line each (simonw/llm's ``render_errors`` is the model). An
unknown key gets the nearest known key of its section instead of its value — the value is never
repeated, it may be a secret pasted in the wrong place: ``keywrods: unknown key; did you mean
`keywords`?``, or ``database: unknown key; did you mean `storage.database`?``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from copy import deepcopy
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from arxivbot.errors import ConfigError

__all__ = ["config_error", "describe", "dotted", "render_errors", "without_keys"]


def config_error(source: str, problems: Sequence[str]) -> ConfigError:
    """One line per problem, each naming the file: ``config.json: max_papers: must be …``."""
    return ConfigError("\n".join(f"{source}: {problem}" for problem in problems), tuple(problems))


def without_keys(data: dict[str, Any], locations: Sequence[tuple[int | str, ...]]) -> dict[str, Any]:
    """A copy of ``data`` without the keys at ``locations`` (pydantic error locations)."""
    copy = deepcopy(data)
    for location in locations:
        node: Any = copy
        for part in location[:-1]:
            # A part that is not there is a union member's name in pydantic's location: the node stays.
            in_dict = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
            if in_dict or in_list:
                node = node[part]
        if isinstance(node, dict):
            node.pop(location[-1], None)
    return copy


def render_errors(err: ValidationError, root: type[BaseModel]) -> list[str]:
    """One ``key.path: what is wrong, got X`` line per validation error.

    An unknown key gets the nearest known key instead of its value, which is never repeated: it may
    be a secret pasted in the wrong place.
    """
    lines = []
    for error in err.errors():
        location = dotted(error["loc"])
        if error["type"] == "extra_forbidden":
            lines.append(f"{location}: unknown key; {_suggestion(root, error['loc'])}")
            continue
        message = _friendly_message(error)
        got = "" if error["type"] == "missing" else f", got {describe(error.get('input'))}"
        lines.append(f"{location}: {message}{got}")
    return lines


def _suggestion(root: type[BaseModel], location: tuple[int | str, ...]) -> str:
    """``did you mean `keywords`?``: the nearest key of the same section, else the same name elsewhere."""
    key = str(location[-1])
    section = _keys_of_section(root, location[:-1])
    by_lower = {name.lower(): name for name in section}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    prefix = ".".join(str(part) for part in location[:-1] if isinstance(part, str))
    if close:
        return f"did you mean `{prefix + '.' if prefix else ''}{by_lower[close[0]]}`?"
    elsewhere = [path for path in _all_keys(root, "") if path.rsplit(".", 1)[-1].lower() == key.lower()]
    if elsewhere:
        return f"did you mean `{elsewhere[0]}`?"
    return "check its spelling against docs/configuration.md"


def _keys_of_section(root: type[BaseModel], location: tuple[int | str, ...]) -> list[str]:
    """The known keys of the section at ``location`` (list indexes and union tags are passed over)."""
    models: list[type[BaseModel]] = [root]
    for part in location:
        if isinstance(part, int):
            continue
        inner = [
            m for model in models if part in model.model_fields for m in _models_in(model.model_fields[part].annotation)
        ]
        models = inner or models
    return sorted({name for model in models for name in model.model_fields if name != "config_dir"})


def _all_keys(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        if name == "config_dir":
            continue
        yield prefix + name
        for inner in _models_in(field.annotation):
            yield from _all_keys(inner, f"{prefix}{name}.")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The config models inside a field's type: ``Section``, ``list[Section]``, ``Section | None``…"""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def dotted(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "literal[")):  # pydantic's internal validator names
            continue
        else:
            path += f".{part}" if path else part
    return path or "config"


_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "path_type": "must be a file or folder path",
}


def _friendly_message(error: Any) -> str:
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]]
    message: str = error["msg"]
    if message.startswith("Input should be"):
        message = "must be" + message[len("Input should be") :]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message[:1].lower() + message[1:]


def describe(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
