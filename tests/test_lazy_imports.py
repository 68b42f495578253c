"""Heavy libraries load only when a command uses them (issue 15): checked by what a fresh process imported.

Each check runs the real CLI in a new interpreter and lists ``sys.modules`` afterwards; no timing is
asserted (speed lives in bench/).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from arxivbot import cli, config

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_FEED = PROJECT / "examples" / "offline" / "sample-feed.xml"
# Summaries (openai, pypdf, markdown-it), retries (tenacity), the certificates a TLS context loads
# (certifi), the service (uvicorn, starlette, apscheduler) and the dry-run table (rich.table).
NEVER_FOR_A_LOCAL_RUN = ("openai", "pypdf", "markdown_it", "tenacity", "certifi", "uvicorn", "apscheduler")


def modules_after(args: list[str], cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after ``arxivbot <args>``."""
    code = (
        "import sys\n"
        "from arxivbot.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True)
    return set(finished.stdout.split())


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_help_loads_neither_pydantic_nor_any_client(tmp_path: Path) -> None:
    loaded = top_level(modules_after(["--help"], tmp_path))

    assert {"click", "arxivbot"} <= loaded
    assert not loaded & {"pydantic", "httpx", "lxml", "sqlite3", "jinja2", "feedgen", *NEVER_FOR_A_LOCAL_RUN}


def test_a_run_of_a_local_feed_without_summaries_loads_no_llm_client_and_no_certificates(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "categories": ["cs.AI", "cs.LG"],
                "keywords": ["LLM", "agents"],
                "ai_summary": {"enabled": False},
                "arxiv": {"rss_url": SAMPLE_FEED.as_uri()},
            }
        ),
        encoding="utf-8",
    )

    loaded = modules_after(["run", "-q", "--config", "config.json", "--no-backfill"], tmp_path)

    assert (tmp_path / "README.md").is_file()  # it did run
    assert not top_level(loaded) & set(NEVER_FOR_A_LOCAL_RUN)
    assert "arxivbot.summarize.llm" not in loaded and "arxivbot.backfill" not in loaded
    # No e-mail or chat channel configured: none of their senders, templates or formats is loaded.
    assert not {"smtplib", "arxivbot.deliver.email", "arxivbot.deliver.render_email", "arxivbot.deliver.chat"} & loaded


def test_the_cli_default_config_name_is_the_config_modules() -> None:
    assert cli.DEFAULT_CONFIG_NAME == config.DEFAULT_CONFIG_NAME
