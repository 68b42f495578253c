"""Vercel entry point: the digest that the GitHub Action committed, served read-only.

Vercel loads the ASGI app ``app`` from this file. ``vercel.json`` sends every path here and bundles
``public/`` and ``config.json`` with the function. On a cold start the app reads the published files
once. It writes nothing (the disk is read-only), opens no database, never contacts arXiv and runs no
schedule: the feeds it serves are exactly the ones the Action built and committed.

``ARXIVBOT_SITE_DIR`` overrides where the site is read from. By default that is ``output.site_dir`` of
``config.json`` when the file is present, otherwise ``public/`` next to this folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

try:
    import arxivbot  # noqa: F401  (installed from requirements.txt)
except ImportError:  # deployed from arxivbot's own repository: the package is in src/
    sys.path.insert(0, str(ROOT / "src"))

from arxivbot.config import Config, load_config  # noqa: E402
from arxivbot.serve import create_static_app  # noqa: E402


def published_site() -> tuple[Path, Config | None]:
    """Where the published files are, and the configuration that produced them (when present)."""
    config_file = ROOT / "config.json"
    config = load_config(config_file) if config_file.is_file() else None
    override = os.environ.get("ARXIVBOT_SITE_DIR")
    if override:
        return Path(override), config
    return (config.output.site_dir if config is not None else ROOT / "public"), config


app = create_static_app(*published_site())
