"""A fitted :class:`~arxivbot.rank.text_model.TextModel` as bytes for the store, in a data-only format.

The database is committed to a branch and copied around, so a cached model is untrusted input: it is
read without pickle, checked in full, and anything unexpected is refused with :class:`ModelBlobError`
(the scorer then fits again). The blob is an ``.npz`` archive (``np.savez_compressed``) read with
``allow_pickle=False``:

- ``coef``, ``idf`` (float32, one per vocabulary term); ``library_data`` (float32),
  ``library_indices`` and ``library_indptr`` (int32 or int64): the library's tf-idf rows as CSR,
  of shape (library papers × terms); ``library_weights`` (float64, one per library paper);
  ``background_scores`` (float64);
- ``meta``: UTF-8 JSON bytes (uint8) with ``format``, ``method`` (:data:`METHOD_VERSION`), the
  ``recipe``, the ``intercept``, ``standardise`` (4 numbers), ``terms`` (the vocabulary, one term per
  column, in column order) and the library's ``titles``.

The vectorizer is rebuilt from the recipe, the terms and ``idf``: it gives the very vectors of the
fitted one (tests/rank/test_model_blob.py checks it bit for bit).
"""

from __future__ import annotations

import io
import json
import math
import typing
import zipfile
from dataclasses import asdict, fields
from typing import Any

import numpy as np

from arxivbot.rank.text_model import METHOD_VERSION, Recipe, TextModel, make_vectorizer

FORMAT = 1
MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # far above any real library's model; a zip bomb stops here
_FLOAT32, _FLOAT64, _UINT8 = np.dtype("<f4"), np.dtype("<f8"), np.dtype("u1")
_INDEX_TYPES = (np.dtype("<i4"), np.dtype("<i8"))
_ARRAYS = {
    "coef": (_FLOAT32,),
    "idf": (_FLOAT32,),
    "library_data": (_FLOAT32,),
    "library_indices": _INDEX_TYPES,
    "library_indptr": _INDEX_TYPES,
    "library_weights": (_FLOAT64,),
    "background_scores": (_FLOAT64,),
    "meta": (_UINT8,),
}


class ModelBlobError(ValueError):
    """A cached model that is not one this version wrote: truncated, tampered with, or another format."""


def encode_model(model: TextModel) -> bytes:
    """``model`` as an ``.npz`` archive of plain arrays (see the module's docstring)."""
    vectorizer = model.vectorizer
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    meta = {
        "format": FORMAT,
        "method": METHOD_VERSION,
        "recipe": asdict(model.recipe),
        "intercept": float(model.intercept),
        "standardise": [float(value) for value in model.standardise],
        "terms": terms,
        "titles": list(model.library_titles),
    }
    library = model.library_vectors.tocsr()
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        coef=np.asarray(model.coef, dtype=_FLOAT32),
        idf=np.asarray(vectorizer.idf_, dtype=_FLOAT32),
        library_data=np.asarray(library.data, dtype=_FLOAT32),
        library_indices=library.indices,
        library_indptr=library.indptr,
        library_weights=np.asarray(model.library_weights, dtype=_FLOAT64),
        background_scores=np.asarray(model.background_scores, dtype=_FLOAT64),
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=_UINT8),  # ASCII: any str encodes
    )
    return buffer.getvalue()


def decode_model(blob: bytes, recipe: Recipe | None = None) -> TextModel:
    """The model :func:`encode_model` wrote into ``blob``; with ``recipe``, only a model of that recipe.

    Raises :class:`ModelBlobError` (with a short reason in our own words) for anything else.
    """
    try:
        arrays = _read_arrays(blob)
        return _build_model(arrays, _read_meta(arrays.pop("meta")), recipe)
    except ModelBlobError:
        raise
    except Exception as err:  # whatever a broken archive makes numpy, zipfile, json or scipy raise
        raise ModelBlobError(f"unreadable ({type(err).__name__})") from err


def _read_arrays(blob: bytes) -> dict[str, np.ndarray]:
    if not blob.startswith(b"PK\x03\x04"):
        raise ModelBlobError("not an .npz archive")
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise ModelBlobError("too large once unpacked")
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        if set(npz.files) != set(_ARRAYS):
            raise ModelBlobError("not the expected arrays")
        arrays = {name: _plain_array(npz, name) for name in _ARRAYS}
    for name, dtypes in _ARRAYS.items():
        if arrays[name].ndim != 1 or arrays[name].dtype not in dtypes:
            raise ModelBlobError(f"{name}: not a 1-D array of {' or '.join(map(str, dtypes))}")
    return arrays


def _plain_array(npz: Any, name: str) -> np.ndarray:
    try:
        array: np.ndarray = npz[name]
    except ValueError as err:  # allow_pickle=False refuses an object array before reading it
        raise ModelBlobError(f"{name}: not plain data (object arrays are never unpickled)") from err
    return array


def _read_meta(raw: np.ndarray) -> dict[str, Any]:
    meta = json.loads(raw.tobytes().decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("method") != METHOD_VERSION:
        raise ModelBlobError("another format or method version")
    for name in ("terms", "titles"):
        if not isinstance(meta.get(name), list) or not all(isinstance(text, str) for text in meta[name]):
            raise ModelBlobError(f"{name}: not a list of strings")
    return meta


def _build_model(arrays: dict[str, np.ndarray], meta: dict[str, Any], expected: Recipe | None) -> TextModel:
    from scipy import sparse

    recipe = _recipe(meta.get("recipe"))
    if expected is not None and recipe != expected:
        raise ModelBlobError("fitted with another recipe")
    terms, titles = meta["terms"], tuple(meta["titles"])
    count = len(terms)
    if not count or len(set(terms)) != count:
        raise ModelBlobError("terms: empty or repeated")
    if not (len(arrays["coef"]) == len(arrays["idf"]) == count and len(arrays["library_weights"]) == len(titles)):
        raise ModelBlobError("coef, idf, terms, titles and library_weights disagree in length")
    try:
        library = sparse.csr_matrix(
            (arrays["library_data"], arrays["library_indices"], arrays["library_indptr"]), shape=(len(titles), count)
        )
        library.check_format(full_check=True)  # every index in range, indptr increasing: safe to multiply
    except ValueError as err:
        raise ModelBlobError("library rows: not a valid sparse matrix of the library × terms") from err
    vectorizer = make_vectorizer(recipe, terms)
    vectorizer.idf_ = arrays["idf"]
    return TextModel(
        recipe=recipe,
        vectorizer=vectorizer,
        coef=arrays["coef"],
        intercept=_number(meta.get("intercept")),
        library_vectors=library,
        library_titles=titles,
        library_weights=arrays["library_weights"],
        background_scores=arrays["background_scores"],
        standardise=_standardise(meta.get("standardise")),
    )


def _recipe(data: object) -> Recipe:
    """A :class:`Recipe` from JSON, each field of its declared type (an int is taken for a float)."""
    names = [spec.name for spec in fields(Recipe)]
    if not isinstance(data, dict) or sorted(data) != sorted(names):
        raise ModelBlobError("recipe: not the expected fields")
    hints = typing.get_type_hints(Recipe)
    values: dict[str, Any] = {}
    for name in names:
        value, hint = data[name], hints[name]
        if isinstance(value, int) and not isinstance(value, bool) and hint is float:
            value = float(value)
        if isinstance(value, bool) != (hint is bool) or not isinstance(value, hint):
            raise ModelBlobError(f"recipe: {name} of the wrong type")
        values[name] = value
    return Recipe(**values)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelBlobError("a number expected")
    return float(value)


def _standardise(value: object) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) != 4:
        raise ModelBlobError("standardise: four numbers expected")
    m_mean, m_sd, n_mean, n_sd = (_number(number) for number in value)
    if m_sd <= 0 or n_sd <= 0:
        raise ModelBlobError("standardise: spreads must be positive")
    return m_mean, m_sd, n_mean, n_sd


__all__ = ["ModelBlobError", "decode_model", "encode_model"]
