"""The page's own static files (stylesheet, script, the vendored MiniSearch), shipped as package data.

They are published under ``static/`` beside the pages, so every host (GitHub Pages, Vercel,
``arxivbot serve``) serves them from the page's own origin: no CDN, no external request, and a strict
Content-Security-Policy (``script-src 'self'``) holds. Pages link them with ``?v=<fingerprint>`` so a
new release of arxivbot is fetched at once, whatever the host's caching.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

# Path in the site → file in the package's ``publish/static`` folder.
STATIC_FILES = {
    "static/arxivbot.css": "arxivbot.css",
    "static/arxivbot.js": "arxivbot.js",
    "static/vendor/minisearch.js": "vendor/minisearch.js",
    "static/vendor/minisearch.LICENSE.txt": "vendor/minisearch.LICENSE.txt",
}
TEMPLATES = ("base.html.j2", "day.html.j2", "not_found.html.j2", "paper.html.j2")


@cache
def static_files() -> dict[str, bytes]:
    """Every static file as ``{path in the site: bytes}``."""
    folder = files("arxivbot.publish").joinpath("static")
    return {site_path: folder.joinpath(name).read_bytes() for site_path, name in STATIC_FILES.items()}


@cache
def fingerprint() -> str:
    """A short hash of the static files and the templates: changes whenever a page would look different.

    Part of every page's key (``archive.page_key``), so upgrading arxivbot re-renders the archive once.
    """
    digest = hashlib.sha256()
    for path, body in sorted(static_files().items()):
        digest.update(path.encode() + b"\0" + body)
    templates = files("arxivbot.publish").joinpath("templates")
    for name in TEMPLATES:
        digest.update(name.encode() + b"\0" + templates.joinpath(name).read_bytes())
    return digest.hexdigest()[:12]
