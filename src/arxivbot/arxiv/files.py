"""Offline sources as HTTP: an httpx transport that answers ``file://`` URLs from the local disk.

``arxiv.rss_url``, ``arxiv.api_url`` and ``arxiv.pdf_url`` may name local files or folders (offline
demos, tests, a mirror of saved answers). The config turns each into an absolute ``file://`` URL and
:func:`~arxivbot.arxiv.client.make_http_client` mounts :class:`FileTransport` for that scheme, so the
fetchers build their URLs and send their GETs exactly as they do for arXiv, and read HTTP answers:

* **a file**: 200 with its bytes, a Content-Type guessed from its suffix, ``Last-Modified`` and an
  ``ETag`` made of its mtime and size. A conditional GET (``If-None-Match``, else
  ``If-Modified-Since``) that still matches gets 304 Not Modified, as from arXiv.
* **a name saved with a suffix**: ``<folder>/cs.AI+cs.LG`` is answered by ``cs.AI+cs.LG.xml`` and
  ``<folder>/2501.00001v1`` by ``2501.00001v1.pdf`` when the bare name does not exist.
* **a path through a file**: ``sample-feed.xml/cs.AI+cs.LG`` is answered by ``sample-feed.xml``. A
  saved feed answers for whatever categories are asked, so the daily feed's URL is built the same
  way for a file and for arXiv.
* anything else, a folder included: **404**. The query string is ignored (a saved API answer is one
  answer, whatever page is asked for).

httpx takes a URL without a host (``file:///abs/path``) as relative, so these URLs carry one:
``file://localhost/abs/path`` (RFC 8089); :func:`with_host` turns the one spelling into the other.

A request never reaches outside what its URL names: httpx resolves literal ``..`` segments before a
request is made, and a percent-encoded one (``%2e%2e``, ``..%2f``) is refused with 403.
"""

from __future__ import annotations

import mimetypes
import os
from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import httpx

SAVED_SUFFIXES = (".xml", ".pdf")  # how a browser or curl -O saves a feed, an API answer, a PDF
_LOCAL_HOSTS = frozenset({"", "localhost"})
_TYPES = mimetypes.MimeTypes()  # Python's own table, not the machine's: the same answer everywhere


class FileTransport(httpx.BaseTransport):
    """Serve ``file://`` GET and HEAD requests from the local file system, with HTTP semantics."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in ("GET", "HEAD"):
            return _plain(405, f"{request.method} is not supported for file:// URLs", Allow="GET, HEAD")
        url = request.url
        if url.host not in _LOCAL_HOSTS:
            return _plain(400, f"file://{url.host}/…: file:// URLs name files on this machine only")
        if ".." in url.path.split("/") or "\x00" in url.path:
            return _plain(403, f"{url.path}: a path that climbs out with '..' is refused")
        requested = Path(url.path)
        found = locate(requested)
        if found is None:
            what = "is a folder, not a file" if requested.is_dir() else "no such file"
            return _plain(404, f"{requested}: {what}")
        try:
            stat = found.stat()
            body = b"" if request.method == "HEAD" else found.read_bytes()
        except PermissionError:
            return _plain(403, f"{found}: permission denied")
        except OSError as err:
            return _plain(500, f"{found}: cannot be read ({err.strerror or type(err).__name__})")
        validators = {"ETag": _etag(stat), "Last-Modified": formatdate(stat.st_mtime, usegmt=True)}
        if _not_modified(request.headers, validators["ETag"], stat.st_mtime):
            return httpx.Response(304, headers=validators)
        headers = {**validators, "Content-Type": _content_type(found), "Content-Length": str(stat.st_size)}
        return httpx.Response(200, headers=headers, content=body)


def locate(path: Path) -> Path | None:
    """The file that answers for ``path`` (see the module docstring), or None."""
    if path.is_file():
        return path
    if path.exists() or not path.name:
        return None  # a folder (or the root) is not an answer
    for suffix in SAVED_SUFFIXES:
        saved = path.with_name(path.name + suffix)
        if saved.is_file():
            return saved
    for parent in path.parents:
        if parent.is_file():
            return parent
        if parent.exists():
            break  # a real folder: what is below it is simply missing
    return None


def with_host(url: str) -> str:
    """``file:///abs/path`` → ``file://localhost/abs/path``; any other URL unchanged."""
    return "file://localhost/" + url[len("file:///") :] if url.startswith("file:///") else url


def _etag(stat: os.stat_result) -> str:
    # Changes whenever the file is rewritten (mtime) or resized, like a server's strong validator.
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def _not_modified(headers: httpx.Headers, etag: str, mtime: float) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when sent; otherwise If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as a server would
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return int(mtime) <= since.timestamp()


def _content_type(path: Path) -> str:
    guessed, _encoding = _TYPES.guess_type(path.name, strict=False)
    return guessed or "application/octet-stream"


def _plain(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, text=message + "\n", headers=headers)


__all__ = ["SAVED_SUFFIXES", "FileTransport", "locate", "with_host"]
