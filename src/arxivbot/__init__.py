"""arxivbot: a personal arXiv radar.

Fetches the day's arXiv announcements, keeps and ranks what matches your interests, remembers
everything in SQLite, summarizes the best papers with an LLM, and publishes a README digest,
RSS/Atom feeds, a web page and JSON.
"""

from __future__ import annotations

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/arxivbot/arxivbot"
USER_AGENT = f"arxivbot/{__version__} (+{PROJECT_URL})"

__all__ = ["PROJECT_URL", "USER_AGENT", "__version__"]
