"""arxivbot: a personal arXiv radar.

Fetches the day's arXiv announcements, keeps and ranks what matches your interests, remembers
everything in SQLite, summarizes the best papers with an LLM, and publishes a README digest,
RSS/Atom feeds, a web page and JSON.
"""

from __future__ import annotations

from functools import cache

PROJECT_URL = "https://github.com/arxivbot/arxivbot"

__all__ = ["PROJECT_URL", "USER_AGENT", "__version__"]


@cache
def _installed_version() -> str:
    """The version pip installed (pyproject.toml's ``version``): one number for the CLI, the feeds, the agent.

    Read on first use, not at import: importlib.metadata costs ~30 ms, which ``arxivbot --help`` and
    every command that never shows the version would pay.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("arxivbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    """``__version__`` and ``USER_AGENT``, computed on first use (PEP 562)."""
    if name == "__version__":
        return _installed_version()
    if name == "USER_AGENT":
        return f"arxivbot/{_installed_version()} (+{PROJECT_URL})"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
