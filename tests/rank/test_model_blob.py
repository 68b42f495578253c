"""The fitted model's cache format: data only, read back to the very same scores and reasons, and a
blob that is not one arxivbot wrote (a pickle, a truncated or tampered archive) is ignored with one
warning and fitted again; it never runs code and never raises."""

from __future__ import annotations

import io
import json
import logging
import pickle
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arxivbot.rank import Evidence
from arxivbot.rank import text_model as text_model_module
from arxivbot.rank.learned import LibraryScorer
from arxivbot.rank.model_blob import ModelBlobError, decode_model, encode_model
from arxivbot.rank.text_model import ARXIV_SANITY, DEFAULT_RECIPE, Recipe, fingerprint, fit_text_model
from arxivbot.relevance import gather_evidence, rank_announcements
from arxivbot.store import open_store
from tests.corpus import make_day
from tests.rank.test_learned import configure, library_of

DAY = date(2025, 3, 4)
NOW = datetime(2025, 3, 4, tzinfo=timezone.utc)
RECIPES = [
    DEFAULT_RECIPE,
    ARXIV_SANITY,
    Recipe(nearest="zotero"),
    Recipe(classifier="lr", nearest="zotero", C=2, ngram_max=1, stop_words=None),
]


@pytest.fixture
def evidence() -> Evidence:
    evidence = gather_evidence(library_of("serving"), make_day(DAY, {"serving": 5, "astro": 20, "vision": 10}))
    # Text outside ASCII reads back as it was, in titles and in the vocabulary.
    first = replace(evidence.library[0], title="Schrödinger-naïve KV cache 量子 serving")
    return replace(evidence, library=(first, *evidence.library[1:]))


def papers_of(evidence: Evidence) -> list[Any]:
    return [*evidence.library, *evidence.background]


@pytest.mark.parametrize("recipe", RECIPES, ids=["default", "arxiv-sanity", "zotero-fused", "lr-unigrams"])
def test_a_model_read_back_gives_bit_identical_vectors_scores_and_reasons(
    tmp_path: Path, evidence: Evidence, recipe: Recipe
) -> None:
    papers = papers_of(evidence)
    with open_store(tmp_path / "m.db") as store:
        fitted = LibraryScorer(recipe, store=store, now=lambda: NOW)
        fitted.fit(evidence)
        cached = LibraryScorer(recipe, store=store, now=lambda: NOW)
        cached.fit(evidence)

    assert (fitted.cached, cached.cached) == (False, True)
    assert fitted.model is not None and cached.model is not None
    before, after = fitted.model.vectors(papers), cached.model.vectors(papers)
    for part in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(before, part), getattr(after, part))
    assert np.array_equal(fitted.model.raw_scores(papers), cached.model.raw_scores(papers))
    first, second = fitted.score(papers), cached.score(papers)
    assert [r.score for r in first] == [r.score for r in second]
    assert [fitted.explain(p, r) for p, r in zip(papers, first, strict=True)] == [
        cached.explain(p, r) for p, r in zip(papers, second, strict=True)
    ]
    assert cached.model.recipe == recipe and cached.model.library_titles == fitted.model.library_titles


def test_an_unchanged_library_is_fitted_once_across_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fits = count_fits(monkeypatch)
    library = library_of("serving")
    config = configure(tmp_path)
    with open_store(tmp_path / "m.db") as store, caplog.at_level(logging.WARNING, logger="arxivbot"):
        for topics in ({"serving": 4, "astro": 20}, {"vision": 15, "serving": 2}, {"biology": 12}):
            rank_announcements(config, make_day(DAY, topics), set(), library=library, store=store)
        assert len(fits) == 1  # three days, one library: one fit, then the cache
        rank_announcements(config, make_day(DAY, {"astro": 9}), set(), library=library_of("serving", 9), store=store)
    assert len(fits) == 2 and caplog.text == ""  # a changed library is fitted again, without a warning


class CreatesAFile:
    """A pickle whose loading creates ``path``: what a hostile database could hold."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Path]]:
        return Path.touch, (self.path,)


def npz_with_an_object_array(path: Path) -> bytes:
    """Every array the format has, ``meta`` a pickled object: only ``allow_pickle=False`` stops it."""
    arrays = {name: np.zeros(0, np.float32) for name in ("coef", "idf", "library_data")}
    arrays |= {name: np.zeros(0, np.int32) for name in ("library_indices", "library_indptr")}
    arrays |= {name: np.zeros(0) for name in ("library_weights", "background_scores")}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays, meta=np.array([CreatesAFile(path)], dtype=object))
    return buffer.getvalue()


def unpickle_npz(blob: bytes) -> object:
    return np.load(io.BytesIO(blob), allow_pickle=True)["meta"]


# name → (the hostile blob, creating a file at a path; how an unsafe reader would load it)
HOSTILE: dict[str, tuple[Callable[[Path], bytes], Callable[[bytes], object]]] = {
    "pickle, zlib-compressed like tfidf-1's cache": (
        lambda path: zlib.compress(pickle.dumps(CreatesAFile(path))),
        lambda blob: pickle.loads(zlib.decompress(blob)),
    ),
    "plain pickle": (lambda path: pickle.dumps(CreatesAFile(path)), pickle.loads),
    "npz holding an object array": (npz_with_an_object_array, unpickle_npz),
}


@pytest.mark.parametrize(("make_blob", "unsafe_load"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_pickle_in_the_cache_is_never_unpickled_and_the_model_is_fitted_again(
    tmp_path: Path,
    evidence: Evidence,
    caplog: pytest.LogCaptureFixture,
    make_blob: Callable[[Path], bytes],
    unsafe_load: Callable[[bytes], object],
) -> None:
    proof = tmp_path / "proof"
    unsafe_load(make_blob(proof))
    assert proof.exists()  # the payload is live: unpickled, it creates its file

    target = tmp_path / "created-by-the-cache"
    assert_refitted_with_one_warning(tmp_path, evidence, caplog, make_blob(target))
    assert not target.exists()


def rewrite(change: Callable[[dict[str, Any], dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    """A tampering of a real blob: ``change(arrays, meta)`` edits them in place before repacking."""

    def tamper(blob: bytes) -> bytes:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays["meta"].tobytes())
        change(arrays, meta)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    return tamper


CORRUPT: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda blob: b"",
    "truncated": lambda blob: blob[: len(blob) // 2],
    "bytes flipped": lambda blob: blob[:100] + bytes(b ^ 0xFF for b in blob[100:200]) + blob[200:],
    "coef one short": rewrite(lambda a, m: a.update(coef=a["coef"][:-1])),
    "coef as float64": rewrite(lambda a, m: a.update(coef=a["coef"].astype(np.float64))),
    "a 2-D idf": rewrite(lambda a, m: a.update(idf=a["idf"].reshape(1, -1))),
    "an index out of range": rewrite(lambda a, m: a.update(library_indices=a["library_indices"] + 10**6)),
    "an extra array": rewrite(lambda a, m: a.update(extra=np.zeros(3))),
    "a missing array": rewrite(lambda a, m: a.pop("background_scores")),
    "a repeated term": rewrite(lambda a, m: m["terms"].__setitem__(1, m["terms"][0])),
    "a title too many": rewrite(lambda a, m: m["titles"].append("one more")),
    "a recipe field of the wrong type": rewrite(lambda a, m: m["recipe"].update(ngram_max="2")),
    "another recipe": rewrite(lambda a, m: m["recipe"].update(ngram_max=0)),
    "an older method": rewrite(lambda a, m: m.update(method="tfidf-1")),
    "a zero spread": rewrite(lambda a, m: m.update(standardise=[0, 0, 0, 1])),
    "meta not JSON": rewrite(lambda a, m: m.clear()),
}


@pytest.mark.parametrize("corrupt", CORRUPT.values(), ids=CORRUPT.keys())
def test_a_damaged_model_is_ignored_with_one_warning_and_fitted_again(
    tmp_path: Path, evidence: Evidence, caplog: pytest.LogCaptureFixture, corrupt: Callable[[bytes], bytes]
) -> None:
    good = encode_model(fit_text_model(DEFAULT_RECIPE, evidence.library, evidence.disliked, evidence.background))
    assert_refitted_with_one_warning(tmp_path, evidence, caplog, corrupt(good))


def test_decode_model_raises_only_its_own_error() -> None:
    for blob in (b"PK\x03\x04garbage", b"\x93NUMPY", zlib.compress(b"x")):
        with pytest.raises(ModelBlobError):
            decode_model(blob)


def assert_refitted_with_one_warning(
    tmp_path: Path, evidence: Evidence, caplog: pytest.LogCaptureFixture, blob: bytes
) -> None:
    """``blob`` cached under the library's key is ignored: one warning line, a fresh fit whose scores
    are a clean fit's, and a sound model cached in its place."""
    papers = papers_of(evidence)
    clean = LibraryScorer(now=lambda: NOW)
    clean.fit(evidence)
    with open_store(tmp_path / "m.db") as store:
        store.save_fitted_model(fingerprint(DEFAULT_RECIPE, evidence.library, evidence.disliked), "tfidf", blob, NOW)
        scorer = LibraryScorer(store=store, now=lambda: NOW)
        with caplog.at_level(logging.INFO, logger="arxivbot"):
            scorer.fit(evidence)
        again = LibraryScorer(store=store, now=lambda: NOW)
        again.fit(evidence)

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()
    assert warnings[0].getMessage().startswith("Cached library model ignored: ")
    assert "Traceback" not in caplog.text and warnings[0].exc_info is None
    assert (scorer.cached, again.cached) == (False, True)
    assert [r.score for r in scorer.score(papers)] == [r.score for r in clean.score(papers)]


def count_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every call of the real ``fit_text_model``, recorded (the fit itself still runs)."""
    calls: list[int] = []
    real = text_model_module.fit_text_model

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(text_model_module, "fit_text_model", counted)
    return calls
