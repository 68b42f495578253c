"""BibTeX exports (Zotero, Mendeley, JabRef, Google Scholar, BibDesk) → library items.

Parsed with bibtexparser (v2), LaTeX decoded (``{\\"u}ber`` → "über", ``\\emph{x}`` → "x"). What is read
of an entry: ``title``, ``abstract``, ``keywords``, the arXiv id (``eprint`` with ``archivePrefix``
arXiv, an arxiv.org ``url``, an arXiv DOI ``10.48550/arXiv.…``, or Google Scholar's
``journal = {arXiv preprint arXiv:…}``), the ``doi``, and when the entry was added
(``date-added``, ``timestamp``, else its ``year``).

A malformed entry is skipped with a warning naming the file, the entry key and its line; a file with
no BibTeX entry at all (a PDF, a JSON file, a Word document) is a configuration error naming it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from arxivbot.errors import ConfigError
from arxivbot.models import LibraryItem, split_arxiv_id

if TYPE_CHECKING:
    from bibtexparser.model import Entry

log = logging.getLogger(__name__)

_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*[{(]\s*([^,\s{}()]*)")
_ARXIV_IN_TEXT = re.compile(
    r"arxiv(?:\.org)?[:\s./]*(?:abs/|pdf/)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})", re.I
)
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(\d{4}\.\d{4,5})", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")
_NOT_ENTRIES = frozenset({"comment", "string", "preamble"})


@dataclass(frozen=True, slots=True)
class BibtexFile:
    """The usable entries of one file and the warnings about the others."""

    path: Path
    items: tuple[LibraryItem, ...]
    warnings: tuple[str, ...] = ()


def read_bibtex_files(paths: Sequence[Path]) -> list[BibtexFile]:
    """Every configured file, parsed; :class:`ConfigError` for a missing or non-BibTeX file."""
    return [read_bibtex_file(path) for path in paths]


def read_bibtex_file(path: Path) -> BibtexFile:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"library.bibtex: {path}: file not found (export your library as BibTeX there)") from None
    except OSError as err:
        raise ConfigError(f"library.bibtex: {path}: cannot be read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # old exports; a binary file fails the BibTeX check below
    return parse_bibtex(text, path)


def parse_bibtex(text: str, path: Path) -> BibtexFile:
    """Parse BibTeX ``text`` read from ``path`` (named in warnings and errors)."""
    from bibtexparser.entrypoint import parse_string
    from bibtexparser.middlewares import LatexDecodingMiddleware

    content = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("%"))
    if "\x00" in text or (content.strip() and not _ENTRY_START.search(content)):
        raise ConfigError(
            f"library.bibtex: {path} is not a BibTeX file (no @article{{…}}-style entry in it); "
            "export your library as BibTeX (.bib) and point library.bibtex at that file"
        )
    # bibtexparser logs its own account of each broken block; ours names the file, key and line.
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    library = parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    warnings = [_failed_block_warning(path, block) for block in library.failed_blocks]
    items: list[LibraryItem] = []
    for entry in library.entries:
        item = _item(entry, path)
        if item is None:
            warnings.append(f"{path}: entry '{entry.key}' (line {(entry.start_line or 0) + 1}) has no title: skipped")
        else:
            items.append(item)
    for warning in warnings:
        log.warning("%s", warning)
    return BibtexFile(path, tuple(items), tuple(warnings))


def _failed_block_warning(path: Path, block: object) -> str:
    raw = str(getattr(block, "raw", ""))
    line = int(getattr(block, "start_line", 0)) + 1
    match = _ENTRY_START.search(raw)
    key = match.group(2) if match and match.group(2) else "?"
    if type(block).__name__ == "DuplicateBlockKeyBlock":
        why = "its key is used by an earlier entry"
    else:
        why = "it is malformed (check its braces, quotes and commas)"
    return f"{path}: entry '{key}' (line {line}) skipped: {why}"


def _item(entry: Entry, path: Path) -> LibraryItem | None:
    if entry.entry_type.lower() in _NOT_ENTRIES:
        return None
    fields = {key.lower(): _clean(str(field.value)) for key, field in entry.fields_dict.items()}
    title = fields.get("title", "")
    if not title:
        return None
    return LibraryItem(
        source="bibtex",
        key=entry.key,
        title=title,
        abstract=fields.get("abstract", ""),
        arxiv_id=arxiv_id_of(fields),
        doi=_doi(fields.get("doi", "")),
        keywords=tuple(k.strip() for k in re.split(r"[,;]", fields.get("keywords", "")) if k.strip()),
        added=_added(fields),
        origin=str(path),
    )


def arxiv_id_of(fields: dict[str, str]) -> str | None:
    """The entry's arXiv id (without version), wherever the exporting tool put it."""
    eprint = fields.get("eprint", "")
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    candidates = [eprint] if eprint and prefix in ("arxiv", "") else []
    if doi := _ARXIV_DOI.search(fields.get("doi", "")):
        candidates.append(doi.group(1))
    for name in ("url", "journal", "note", "howpublished", "eprint", "archiveprefix"):
        if found := _ARXIV_IN_TEXT.search(fields.get(name, "")):
            candidates.append(found.group(1))
    for candidate in candidates:
        try:
            return split_arxiv_id(candidate)[0]
        except ValueError:
            continue
    return None


def _doi(text: str) -> str | None:
    text = text.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    return text or None


def _added(fields: dict[str, str]) -> datetime | None:
    for name in ("date-added", "timestamp", "added-at", "dateadded"):
        if value := fields.get(name):
            try:
                moment = datetime.fromisoformat(value.replace(" +0000", "+00:00").strip())
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if year := _YEAR.search(fields.get("year", "") or fields.get("date", "")):
        return datetime(int(year.group(1)), 1, 1, tzinfo=timezone.utc)
    return None


def _clean(text: str) -> str:
    """One line, LaTeX grouping braces gone (the decoder leaves some around protected words)."""
    return " ".join(text.replace("{", "").replace("}", "").split())
