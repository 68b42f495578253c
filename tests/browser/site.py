"""The archive the browser tests read: five digest days over two months in one real store.

Days are stored the way the pipeline stores them (``tests/publish/seeding.py``); among the papers are
a hostile title and summary, an old-style id, a long abstract, a wide summary table and papers in
each category, with and without summaries and keywords.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from arxivbot.config import Config
from arxivbot.store import open_store
from tests.publish.seeding import EVIL_SUMMARY, EVIL_TITLE, make_config, make_paper, seed_day

TOKEN_ENV = "ARXIVBOT_BROWSER_TEST_TOKEN"
TOKEN = "browser-test-t0ken"

OLDEST = date(2025, 11, 27)
SECOND = date(2025, 11, 28)
EVIL_DAY = date(2025, 12, 1)
FOURTH = date(2025, 12, 2)
LATEST = date(2025, 12, 3)
DAYS = (LATEST, FOURTH, EVIL_DAY, SECOND, OLDEST)  # newest first
NO_DIGEST = date(2025, 11, 29)  # a Saturday: no announcements, no page

SPECULATIVE = "2511.00042"  # the paper on the oldest day that the search finds
OLD_STYLE = "hep-th/9901001"
LONG_ABSTRACT = "2512.00100"
EVIL = "2512.00666"
LIKED = "2512.03001"

WIDE_TABLE = (
    "## Results\n\n| "
    + " | ".join(f"metric{n}" for n in range(14))
    + " |\n|"
    + "---|" * 14
    + "\n| "
    + (" | ".join(f"{n}.0" for n in range(14)) + " |")
)


def build_archive(folder: Path) -> Config:
    config = make_config(folder, server={"update_token_env": TOKEN_ENV})
    with open_store(config.storage.database) as store:
        seed_day(
            store,
            OLDEST,
            [
                make_paper(
                    SPECULATIVE,
                    title="Speculative Decoding with Tiny Draft Models",
                    categories=("cs.CL",),
                    authors=("Grace Hopper",),
                ),
                make_paper(OLD_STYLE, title="Branes Revisited for LLM Inference", categories=("cs.LG",)),
            ],
            summaries={SPECULATIVE: "## Main contributions\n\nA **draft model** proposes tokens."},
            matched={SPECULATIVE: ("Inference",)},
        )
        seed_day(store, SECOND, [make_paper("2511.00100"), make_paper("2511.00101", categories=("cs.CL",))])
        seed_day(
            store,
            EVIL_DAY,
            [
                make_paper(EVIL, title=EVIL_TITLE, categories=("cs.LG",)),
                make_paper(
                    LONG_ABSTRACT,
                    title="A Very Long Abstract about LLM Serving",
                    abstract=("We study LLM serving at scale. " * 60)
                    + "Unbroken: "
                    + "x" * 180
                    + " https://example.org/"
                    + "a/" * 60,
                ),
            ],
            summaries={EVIL: EVIL_SUMMARY, LONG_ABSTRACT: WIDE_TABLE},
        )
        seed_day(store, FOURTH, [make_paper("2512.02001", categories=("cs.CL",)), make_paper("2512.02002")])
        seed_day(
            store,
            LATEST,
            [
                make_paper(LIKED, title="Sparse Attention for LLM Inference", categories=("cs.AI",)),
                make_paper("2512.03002", title="Parsing Dialogue Acts", categories=("cs.CL",)),
                make_paper("2512.03003", title="Learning Rate Warmup Revisited", categories=("cs.LG",)),
            ],
            summaries={LIKED: "## Main contributions\n\nSparse **attention** halves the cost."},
            matched={LIKED: ("LLM", "Inference"), "2512.03002": (), "2512.03003": ("Inference",)},
            keywords=("LLM", "Inference"),
        )
    return config
