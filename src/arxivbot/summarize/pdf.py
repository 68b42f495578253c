"""Paper PDFs: downloaded once (politely, through the arXiv client) and cached on disk; text extracted locally.

A PDF is cached under its versioned id, so a new version is fetched again but the same version never
is. arXiv sometimes answers a PDF URL with an HTML page (a PDF still being generated, a block page);
those bytes are refused, not cached.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pypdf import PdfReader

from arxivbot.arxiv.client import PoliteClient
from arxivbot.errors import FetchError, OutputError, SummaryError
from arxivbot.files import write_atomic
from arxivbot.models import Paper

log = logging.getLogger(__name__)

# The PDF header must appear within the first 1024 bytes (PDF 1.7, §7.5.2 implementation note).
_HEADER_WINDOW = 1024
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def pdf_cache_path(cache_dir: Path, paper: Paper) -> Path:
    """``<cache>/2512.20276v1.pdf``; old-style ids (``astro-ph/0601001``) get ``_`` for the slash."""
    return cache_dir / f"{paper.versioned_id.replace('/', '_')}.pdf"


def pdf_url_for(pdf_url: str, paper: Paper) -> str:
    return f"{pdf_url.rstrip('/')}/{paper.versioned_id}"


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:_HEADER_WINDOW]


def fetch_pdf(client: PoliteClient, pdf_url: str, paper: Paper, cache_dir: Path) -> Path:
    """The path of the paper's PDF in the cache, downloading it first if it is not there yet.

    ``pdf_url`` is ``arxiv.pdf_url``: a URL prefix, ``https://`` or ``file://`` (a local folder of
    ``<versioned id>.pdf`` files, for offline runs and demos, served by the client's file transport).
    Raises :class:`SummaryError` when the PDF cannot be had.
    """
    path = pdf_cache_path(cache_dir, paper)
    if path.is_file() and looks_like_pdf(path.read_bytes()[:_HEADER_WINDOW]):
        return path
    source = pdf_url_for(pdf_url, paper)
    data = _download(client, source)
    if not looks_like_pdf(data):
        raise SummaryError(f"{source}: the answer is not a PDF (arXiv may still be generating it); try again later")
    try:
        write_atomic(path, data)
    except OutputError as err:
        raise SummaryError(f"cannot cache the PDF of {paper.versioned_id}: {err}; check storage.pdf_cache") from None
    log.debug("cached %s (%d bytes)", path, len(data))
    return path


def _download(client: PoliteClient, url: str) -> bytes:
    try:
        return client.get(url, cap=client.limits.pdf).content
    except FetchError as err:
        raise SummaryError(f"PDF download failed: {err}") from None


def extract_text(path: Path, max_chars: int) -> str:
    """The PDF's text, whitespace tidied, cut to ``max_chars`` characters.

    Pages are read only until the budget is filled. A damaged, encrypted or image-only PDF raises
    :class:`SummaryError`.
    """
    pages: list[str] = []
    collected = 0
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise SummaryError(f"{path.name}: the PDF is encrypted; its text cannot be extracted")
        for page in reader.pages:
            text = _tidy(page.extract_text() or "")
            if text:
                pages.append(text)
                collected += len(text) + 2
            if collected >= max_chars:
                break
    except SummaryError:
        raise
    # pypdf parses untrusted bytes and can fail with many exception types (PdfReadError, KeyError,
    # ValueError, RecursionError, ...); any of them means "this PDF cannot be read", not a bug here.
    except Exception as err:
        raise SummaryError(f"{path.name}: the PDF cannot be read ({type(err).__name__}: {str(err)[:200]})") from None
    text = "\n\n".join(pages)[:max_chars].strip()
    if not text:
        raise SummaryError(
            f"{path.name}: no text could be extracted (a scanned PDF?); "
            'set ai_summary.input to "abstract" or "pdf-upload"'
        )
    return text


def _tidy(text: str) -> str:
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()
