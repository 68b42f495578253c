"""The user's library: the papers they already keep, which learned ranking learns from.

Sources (``library`` in the config; docs/configuration.md): BibTeX exports (:mod:`.bibtex`), arXiv ids
(:mod:`.arxiv_ids`), a Zotero library (:mod:`.zotero`), and the papers liked with ``arxivbot like``.
Disliked papers are the negatives. :func:`load_library` reads them all into one :class:`Library`,
newest first, each paper once; the store keeps the last loaded state (``arxivbot library`` shows it).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from arxivbot.library.arxiv_ids import fetch_metadata, read_ids_file
from arxivbot.library.bibtex import read_bibtex_files
from arxivbot.library.zotero import ZoteroFactory, sync_zotero
from arxivbot.models import LIBRARY_SOURCES, LibraryItem, Paper

if TYPE_CHECKING:
    from arxivbot.config import Config
    from arxivbot.runtime import Runtime
    from arxivbot.store import Store

log = logging.getLogger(__name__)

__all__ = ["Library", "load_library", "newest", "read_library", "record_verdicts"]

_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Library:
    """The library as one run sees it: positives (newest first), negatives, and what went wrong."""

    items: tuple[LibraryItem, ...] = ()  # BibTeX, arXiv ids, Zotero and likes; each paper once
    disliked: tuple[LibraryItem, ...] = ()
    warnings: tuple[str, ...] = ()
    configured: bool = False  # a library source is configured (it may still have loaded nothing)

    @property
    def papers(self) -> tuple[Paper, ...]:
        return tuple(item.as_paper() for item in self.items)

    @property
    def disliked_papers(self) -> tuple[Paper, ...]:
        return tuple(item.as_paper() for item in self.disliked)

    def counts(self) -> dict[str, int]:
        """Items per source, every source listed."""
        found = Counter(item.source for item in self.items)
        return {source: found.get(source, 0) for source in LIBRARY_SOURCES}

    def __len__(self) -> int:
        return len(self.items)


def load_library(
    config: Config,
    store: Store,
    runtime: Runtime,
    *,
    save: bool = True,
    zotero_factory: ZoteroFactory | None = None,
) -> Library:
    """Read every configured source and the feedback into one :class:`Library`.

    Missing abstracts of papers with an arXiv id are fetched from the arXiv API (cached). ``save=False``
    (a dry run on a read-only database) changes nothing in the store. Raises
    :class:`~arxivbot.errors.ConfigError` for a missing or non-BibTeX file.
    """
    settings = config.library
    warnings: list[str] = []
    by_source: dict[str, list[LibraryItem]] = {}

    files = read_bibtex_files(settings.bibtex)
    bibtex = [item for file in files for item in file.items]
    warnings += [warning for file in files for warning in file.warnings]
    ids = list(settings.arxiv_ids)
    if settings.arxiv_ids_file is not None:
        listed, bad_lines = read_ids_file(settings.arxiv_ids_file)
        ids += listed
        warnings += bad_lines
        for warning in bad_lines:
            log.warning("%s", warning)
    if settings.zotero.enabled:  # synced first: its items without an abstract need metadata too
        sync = sync_zotero(settings.zotero, store, client_factory=zotero_factory, save=save)
        if sync.warning:
            warnings.append(sync.warning)
    zotero = store.library_items("zotero") if settings.zotero.enabled else []
    feedback = store.feedback()
    liked = [arxiv_id for arxiv_id, verdict in feedback.items() if verdict == "like"]
    disliked = [arxiv_id for arxiv_id, verdict in feedback.items() if verdict == "dislike"]

    # One metadata lookup for every id that needs one: listed ids, BibTeX and Zotero items without an
    # abstract, and feedback on papers the database no longer has in full.
    needs = list(dict.fromkeys(ids))
    needs += [item.arxiv_id for item in [*bibtex, *zotero] if item.arxiv_id and not item.abstract]
    stored = {arxiv_id: store.get_paper(arxiv_id) for arxiv_id in [*liked, *disliked]}
    needs += [arxiv_id for arxiv_id, paper in stored.items() if paper is None]
    metadata = fetch_metadata(
        dict.fromkeys(needs), store=store, client=runtime.arxiv(config), api_url=config.arxiv.api_url, save=save
    )
    warnings += metadata.warnings
    known = {**metadata.papers, **{k: v for k, v in stored.items() if v is not None}}

    by_source["bibtex"] = [_with_abstract(item, known) for item in bibtex]
    by_source["arxiv"] = [_from_paper("arxiv", known[i]) for i in dict.fromkeys(ids) if i in known]
    if save:
        store.replace_library_items("bibtex", by_source["bibtex"])
        store.replace_library_items("arxiv", by_source["arxiv"])
        # the stored items keep their first-seen day: "newest" means newest to the library
        by_source["bibtex"] = store.library_items("bibtex")
        by_source["arxiv"] = store.library_items("arxiv")
    by_source["zotero"] = [_with_abstract(item, known) for item in zotero]
    by_source["like"] = [_from_paper("like", known[i]) for i in liked if i in known]

    items = _distinct([*by_source["like"], *by_source["zotero"], *by_source["bibtex"], *by_source["arxiv"]])
    negatives = [_from_paper("like", known[i]) for i in disliked if i in known]
    return Library(
        items=tuple(sorted(items, key=lambda item: item.added or _OLDEST, reverse=True)),
        disliked=tuple(replace(item, source="dislike") for item in negatives),
        warnings=tuple(warnings),
        configured=settings.configured,
    )


def _with_abstract(item: LibraryItem, known: dict[str, Paper]) -> LibraryItem:
    if item.abstract or not item.arxiv_id or item.arxiv_id not in known:
        return item
    return replace(item, abstract=known[item.arxiv_id].abstract)


def _from_paper(source: str, paper: Paper) -> LibraryItem:
    return LibraryItem(
        source=source,
        key=paper.arxiv_id,
        title=paper.title,
        abstract=paper.abstract,
        arxiv_id=paper.arxiv_id,
        doi=paper.doi,
        added=paper.published,
        origin="arXiv",
    )


def _distinct(items: Sequence[LibraryItem]) -> list[LibraryItem]:
    """Each paper once (by arXiv id, DOI or title), the first source listed winning."""
    from arxivbot.rank.select import normalised_title

    seen: set[tuple[str, str]] = set()
    kept = []
    for item in items:
        keys = {("title", normalised_title(item.title))}
        if item.arxiv_id:
            keys.add(("arxiv", item.arxiv_id))
        if item.doi:
            keys.add(("doi", item.doi.lower()))
        if keys & seen:
            continue
        seen |= keys
        kept.append(item)
    return kept


def newest(items: Iterable[LibraryItem], count: int) -> list[LibraryItem]:
    return sorted(items, key=lambda item: item.added or _OLDEST, reverse=True)[:count]


def read_library(config: Config, runtime: Runtime) -> Library:
    """``arxivbot library``: load the library as a run would (fetching and caching what is missing).

    Under the database's run lock, like ``arxivbot run``: loading writes the library's tables.
    """
    with _locked_store(config) as store:
        return load_library(config, store, runtime)


def record_verdicts(config: Config, arxiv_ids: Sequence[str], verdict: str | None) -> int:
    """``arxivbot like/dislike/unlike``: record ``verdict`` ('like', 'dislike'; None forgets) on papers.

    Returns how many papers were recorded (or forgotten). Raises ConfigError for a malformed id.
    """
    with _locked_store(config) as store:
        if verdict is None:
            return store.remove_feedback(arxiv_ids)
        return store.record_feedback(arxiv_ids, verdict)


@contextmanager
def _locked_store(config: Config) -> Iterator[Store]:
    """The database under its run lock (waiting up to ``storage.lock_timeout_seconds`` for a run)."""
    from arxivbot.runlock import run_lock
    from arxivbot.store import open_store

    database = config.storage.database
    with run_lock(database, config.storage.lock_timeout_seconds), open_store(database) as store:
        yield store
