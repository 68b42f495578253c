"""The library through the real CLI: a run ranked by it (reasons and scores in papers.json), the bad
inputs the issue lists, like/dislike/unlike, `arxivbot library`, and nothing heavy loaded without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arxivbot.rank import EMPTY_LIBRARY_NO_KEYWORDS
from tests.clirunner import run_arxivbot
from tests.library.arxivapi import API_PATH, asked_ids, serve_id_lists
from tests.localserver import LocalServer, Scripted
from tests.test_cli import FEED_PATH, PROJECT, RSS, SAMPLE_FEED, write_config

SAMPLE_LIBRARY = PROJECT / "examples" / "offline" / "library.bib"


@pytest.fixture
def arxiv(local_server: LocalServer) -> LocalServer:
    local_server.route(FEED_PATH, Scripted(200, SAMPLE_FEED, RSS))
    return local_server


def test_a_run_ranked_by_the_library_explains_each_paper(tmp_path: Path, arxiv: LocalServer) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss", keywords=[], library={"bibtex": [str(SAMPLE_LIBRARY)]})

    result = run_arxivbot("run", "--config", str(config))

    assert result.returncode == 0, result.stderr
    exported = json.loads((tmp_path / "public" / "papers.json").read_text(encoding="utf-8"))
    papers = exported["papers"]
    assert len(papers) == 9  # every "new" announcement is a candidate, except the excluded survey
    assert papers[0]["title"] == "Speculative Decoding for Long-Context LLM Inference"
    assert papers[0]["reason"].startswith("like: Fast Inference from Transformers via Speculative Decoding (")
    assert all(set(p["scores"]) == {"library", "keywords"} and 0 <= p["scores"]["library"] <= 1 for p in papers)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "like: Fast Inference from Transformers via Speculative Decoding" in readme
    assert "<script>" not in (tmp_path / "public" / "index.html").read_text(encoding="utf-8").split("<body", 1)[1]


def test_a_file_that_is_not_bibtex_exits_2_naming_it_and_publishes_nothing(tmp_path: Path, arxiv: LocalServer) -> None:
    notes = tmp_path / "papers.pdf"
    notes.write_bytes(b"%PDF-1.5\n\x00\x00 not a bibliography")
    config = write_config(tmp_path, arxiv.url + "/rss", library={"bibtex": [str(notes)]})

    result = run_arxivbot("run", "--config", str(config))

    assert result.returncode == 2
    assert f"{notes} is not a BibTeX file" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "README.md").exists()


def test_an_empty_library_without_keywords_exits_2_saying_what_to_configure(tmp_path: Path, arxiv: LocalServer) -> None:
    empty = tmp_path / "empty.bib"
    empty.write_text("% nothing exported yet\n", encoding="utf-8")
    config = write_config(tmp_path, arxiv.url + "/rss", keywords=[], library={"bibtex": [str(empty)]})

    result = run_arxivbot("run", "--config", str(config))

    assert result.returncode == 2 and EMPTY_LIBRARY_NO_KEYWORDS in result.stderr


def test_like_dislike_unlike_and_the_library_command(tmp_path: Path, arxiv: LocalServer) -> None:
    config = write_config(
        tmp_path,
        arxiv.url + "/rss",
        library={"bibtex": [str(SAMPLE_LIBRARY)]},
        arxiv={"rss_url": arxiv.url + "/rss", "api_url": arxiv.url + API_PATH, "request_delay_seconds": 0},
    )
    assert run_arxivbot("run", "--config", str(config)).returncode == 0
    serve_id_lists(arxiv, [])  # arXiv knows none of the ids it might be asked about

    liked = run_arxivbot("like", "--config", str(config), "2512.20377", "https://arxiv.org/abs/2512.20388v1")
    disliked = run_arxivbot("dislike", "--config", str(config), "2512.20391")
    assert (liked.returncode, disliked.returncode) == (0, 0)
    assert "Recorded 2 paper(s) as liked" in liked.stdout

    shown = run_arxivbot("library", "--config", str(config), "--newest", "3")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Library: 6 paper(s) (4 bibtex, 0 arxiv, 0 zotero, 2 like); 1 disliked.")
    assert len([line for line in shown.stdout.splitlines() if line.startswith("  ")]) == 3
    assert asked_ids(arxiv) == []  # the liked papers were in the database: no arXiv request

    forgot = run_arxivbot("unlike", "--config", str(config), "2512.20391", "2512.20377")
    assert "Forgot the verdict on 2 of 2 paper(s)." in forgot.stdout
    bad = run_arxivbot("like", "--config", str(config), "not-an-id")
    assert bad.returncode == 2 and "not an arXiv identifier: 'not-an-id'" in bad.stderr


def test_help_and_a_keyword_only_run_never_load_scikit_learn(tmp_path: Path, arxiv: LocalServer) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss")
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from arxivbot.cli import main\n"
        "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
        "assert 'sklearn' not in sys.modules and 'numpy' not in sys.modules, 'loaded by --help'\n"
        f"result = CliRunner().invoke(main, ['run', '--config', {str(config)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'sklearn' not in sys.modules and 'bibtexparser' not in sys.modules, 'loaded by a keyword run'\n"
    )
    env = {**os.environ, "CI": "true"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_dry_run_ranks_by_the_library_and_writes_nothing(tmp_path: Path, arxiv: LocalServer) -> None:
    config = write_config(
        tmp_path,
        arxiv.url + "/rss",
        keywords=[],
        library={"bibtex": [str(SAMPLE_LIBRARY)]},
        storage={"database": "db/a.db"},
    )

    result = run_arxivbot("run", "--config", str(config), "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "like: Fast Inference from Transformers via" in result.stdout  # the "Why" column
    assert not (tmp_path / "db").exists() and not (tmp_path / "README.md").exists()
