"""arxivbot: a personal arXiv radar.

Fetches the day's arXiv announcements, keeps and ranks what matches your interests, remembers
everything in SQLite, summarizes the best papers with an LLM, and publishes a README digest,
RSS/Atom feeds, a web page and JSON.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _installed_version() -> str:
    """The version pip installed (pyproject.toml's ``version``): one number for the CLI, the feeds, the agent."""
    try:
        return version("arxivbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


__version__ = _installed_version()
PROJECT_URL = "https://github.com/arxivbot/arxivbot"
USER_AGENT = f"arxivbot/{__version__} (+{PROJECT_URL})"

__all__ = ["PROJECT_URL", "USER_AGENT", "__version__"]
