"""The real CLI against a local HTTP server playing arXiv's daily RSS.

Most tests run ``arxivbot`` in-process (``tests/clirunner.py``: click's CliRunner, stdout/stderr/exit code
as a subprocess would give them). A few run the installed command in a subprocess, end to end: a
successful run, a failing run (exit code and its one-line error) and ``python -m arxivbot --version``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from markdown_it import MarkdownIt

from tests.clirunner import Finished, run_arxivbot
from tests.faketime import FakeTime
from tests.localserver import LocalServer, Scripted

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_FEED = (PROJECT / "examples" / "offline" / "sample-feed.xml").read_bytes()
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
FEED_PATH = "/rss/cs.AI+cs.CL+cs.DC+cs.LG"
EMPTY_FEED = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
  <channel>
    <title>cs.AI, cs.CL, cs.DC, cs.LG updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs.AI+cs.CL+cs.DC+cs.LG</link>
    <description>cs.AI, cs.CL, cs.DC, cs.LG updates on the arXiv.org e-print archive.</description>
    <lastBuildDate>Sat, 27 Dec 2025 05:00:00 +0000</lastBuildDate>
    <pubDate>Sat, 27 Dec 2025 00:00:00 -0500</pubDate>
  </channel>
</rss>
"""


def write_config(folder: Path, rss_url: str, **extra: object) -> Path:
    config = {
        "categories": ["cs.AI", "cs.CL", "cs.DC", "cs.LG"],
        "keywords": ["LLM", "Inference", "Sparse", "Framework", "Efficient", "Distributed", "SSM", "RL"],
        "exclude_keywords": ["survey"],
        "max_papers": 30,
        "days_back": 0,
        "arxiv": {"rss_url": rss_url, "max_retries": 2, "request_delay_seconds": 0, "timeout_seconds": 5},
        **extra,
    }
    path = folder / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def arxivbot(*args: str, cwd: Path | None = None, sleep: Callable[[float], None] | None = None) -> Finished:
    """``arxivbot *args``, in-process; ``sleep`` stands in for the real waits (retries, pacing)."""
    return run_arxivbot(*args, cwd=cwd, sleep=sleep)


def installed_arxivbot(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m arxivbot *args`` in a subprocess: the installed package, end to end."""
    env = {k: v for k, v in os.environ.items() if k not in ("DASHSCOPE_API_KEY", "OPENAI_API_KEY")}
    env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "arxivbot", *args], capture_output=True, text=True, env=env, timeout=120
    )


def readme_entries(readme: str) -> list[str]:
    """The titles of the papers in a README digest, parsed back from its '### N. [title](link)' headings."""
    tokens = MarkdownIt("commonmark").parse(readme)
    titles = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h3" and re.match(r"\d+\. \[", tokens[i + 1].content):
            titles.append(tokens[i + 1].content)
    return titles


def assert_one_line_error(result: Finished | subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("arxivbot: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def arxiv(local_server: LocalServer) -> LocalServer:
    local_server.route(FEED_PATH, Scripted(200, SAMPLE_FEED, RSS))
    return local_server


def test_run_publishes_the_digest_and_remembers_every_announcement(arxiv: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss")

    result = installed_arxivbot("run", "--config", str(config))  # end to end: a real process

    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    titles = readme_entries(readme)
    # LLM + Inference in the title, Sparse in the abstract: 3 keywords + 2 title bonuses.
    assert titles[0].startswith("1. [Speculative Decoding for Long-Context LLM Inference]")
    scores = [float(line.split()[-1]) for line in readme.splitlines() if line.startswith("**Score**")]
    assert scores[0] == 4.0 and scores == sorted(scores, reverse=True) and len(scores) == len(titles)
    assert not any("Survey" in t for t in titles)  # excluded keyword
    assert not any("Ethics" in t for t in titles)  # no keyword at all
    assert f"- **Total Papers Found**: {len(titles)}" in readme
    db = sqlite3.connect(tmp_path / "data" / "arxivbot.db")
    assert db.execute("SELECT COUNT(*) FROM papers").fetchone()[0] == 12  # every announced paper, not only matches
    assert db.execute("SELECT status FROM runs").fetchall() == [("ok",)]
    assert db.execute("SELECT COUNT(*) FROM digest_entries").fetchone()[0] == len(titles)
    assert (tmp_path / "public" / "rss.xml").is_file()
    request = arxiv.requests_to(FEED_PATH)[0]
    assert request.headers["user-agent"].startswith("arxivbot/")
    assert "Digest for 2025-12-24" in result.stdout


def test_readme_makes_hostile_arxiv_text_inert(arxiv: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss", keywords=["Planning"])
    assert arxivbot("run", "--config", str(config)).returncode == 0

    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    page = lxml.html.fromstring(MarkdownIt("commonmark").render(readme))  # raw HTML passes through

    assert "<script>alert(1)</script> Robust Planning" in page.text_content()  # shown, as text
    assert page.xpath("//script | //b | //*[@onerror]") == []
    assert [a for a in page.xpath("//a/@href") if not a.startswith("https://")] == []


def test_a_rerun_the_same_day_gives_the_same_digest(local_server: LocalServer, tmp_path: Path) -> None:
    # The second request is answered 304 when the client sends back the ETag of the first.
    def conditional(request: object) -> bytes:
        return SAMPLE_FEED

    local_server.route(
        FEED_PATH,
        Scripted(200, conditional, {**RSS, "ETag": '"day-1"'}),
        Scripted(304, b"", {"ETag": '"day-1"'}),
    )
    config = write_config(tmp_path, local_server.url + "/rss")

    first = arxivbot("run", "--config", str(config))
    readme_1 = (tmp_path / "README.md").read_text(encoding="utf-8")
    second = arxivbot("run", "--config", str(config))
    readme_2 = (tmp_path / "README.md").read_text(encoding="utf-8")

    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert local_server.requests_to(FEED_PATH)[1].headers.get("if-none-match") == '"day-1"'
    assert readme_entries(readme_1) == readme_entries(readme_2) != []
    strip = lambda text: [line for line in text.splitlines() if "Last Updated" not in line]  # noqa: E731
    assert strip(readme_1) == strip(readme_2)


def test_a_paper_in_an_earlier_digest_is_not_listed_again(local_server: LocalServer, tmp_path: Path) -> None:
    day_2 = SAMPLE_FEED.replace(b"Wed, 24 Dec 2025", b"Thu, 25 Dec 2025")
    local_server.route(FEED_PATH, Scripted(200, SAMPLE_FEED, RSS), Scripted(200, day_2, RSS))
    config = write_config(tmp_path, local_server.url + "/rss")

    assert arxivbot("run", "--config", str(config)).returncode == 0
    assert readme_entries((tmp_path / "README.md").read_text(encoding="utf-8"))
    second = arxivbot("run", "--config", str(config))

    assert second.returncode == 0, second.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme_entries(readme) == []
    assert "- **Total Papers Found**: 0" in readme


def test_retries_a_busy_arxiv_then_succeeds(local_server: LocalServer, tmp_path: Path) -> None:
    local_server.route(FEED_PATH, Scripted(503, b"busy", {"Retry-After": "0"}), Scripted(200, SAMPLE_FEED, RSS))
    config = write_config(tmp_path, local_server.url + "/rss")
    fake = FakeTime()

    result = arxivbot("run", "--config", str(config), sleep=fake.sleep)

    assert result.returncode == 0, result.stderr
    assert len(local_server.requests_to(FEED_PATH)) == 2
    assert fake.sleeps, "the retry waited (with the runtime's sleep)"
    assert "HTTP 503" in result.stderr  # the retry is reported
    assert (tmp_path / "README.md").is_file()


def _publish_once(local_server: LocalServer, tmp_path: Path, then: Scripted) -> tuple[Path, dict[Path, bytes]]:
    """A first successful run, then ``then`` for the next run; returns the config and published files."""
    local_server.route(FEED_PATH, Scripted(200, SAMPLE_FEED, RSS), then)
    config = write_config(tmp_path, local_server.url + "/rss")
    assert arxivbot("run", "--config", str(config)).returncode == 0
    published = {p: p.read_bytes() for p in [tmp_path / "README.md", *(tmp_path / "public").rglob("*")] if p.is_file()}
    assert len(published) > 3
    return config, published


def _unchanged(published: dict[Path, bytes]) -> bool:
    return all(path.read_bytes() == content for path, content in published.items())


def test_an_empty_day_exits_0_and_leaves_outputs_untouched(local_server: LocalServer, tmp_path: Path) -> None:
    config, published = _publish_once(local_server, tmp_path, Scripted(200, EMPTY_FEED, RSS))

    result = arxivbot("run", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert "No announcements" in result.stdout
    assert _unchanged(published)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Scripted(
                200, b"<!DOCTYPE html><html><body>Service unavailable</body></html>", {"Content-Type": "text/html"}
            ),
            "not an RSS feed",
        ),
        (Scripted(200, SAMPLE_FEED[: len(SAMPLE_FEED) // 2], RSS), "XML"),
        (Scripted(500, b"oops"), "HTTP 500"),
    ],
    ids=["html-error-page", "truncated-xml", "server-error-forever"],
)
def test_a_bad_response_fails_the_run_and_keeps_what_was_published(
    local_server: LocalServer, tmp_path: Path, answer: Scripted, expected: str
) -> None:
    config, published = _publish_once(local_server, tmp_path, answer)

    result = arxivbot("run", "--config", str(config), sleep=FakeTime().sleep)  # 500s are retried: no real waits

    error = assert_one_line_error(result, 1)
    assert expected in error
    assert _unchanged(published)
    db = sqlite3.connect(tmp_path / "data" / "arxivbot.db")
    assert db.execute("SELECT status FROM runs ORDER BY id").fetchall() == [("ok",), ("failed",)]


def test_connection_refused_fails_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # End to end, in a real process; no retries, so no real back-off (connection errors are retried in
    # tests/arxiv/test_client.py::test_connection_errors_are_retried).
    config = write_config(tmp_path, f"http://127.0.0.1:{port}/rss")
    data = json.loads(config.read_text(encoding="utf-8"))
    data["arxiv"]["max_retries"] = 0
    config.write_text(json.dumps(data), encoding="utf-8")

    result = installed_arxivbot("run", "--config", str(config))

    error = assert_one_line_error(result, 1)
    assert "connection failed" in error and str(port) in error
    assert not (tmp_path / "README.md").exists()


def test_dry_run_prints_the_ranking_and_writes_nothing(arxiv: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss")

    result = arxivbot("run", "--config", str(config), "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "ActionFlow" in result.stdout and "2512.20276v1" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_date_labels_the_digest(arxiv: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss")
    result = arxivbot("run", "--config", str(config), "--date", "2025-12-26")
    assert result.returncode == 0, result.stderr
    db = sqlite3.connect(tmp_path / "data" / "arxivbot.db")
    assert db.execute("SELECT day FROM digests").fetchall() == [("2025-12-26",)]


# --- configuration and usage errors: exit 2, one line naming the problem ------------------------------------


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/rss", max_papers="thirty")
    error = assert_one_line_error(arxivbot("run", "--config", str(config)), 2)
    assert 'max_papers: must be a positive integer, got "thirty"' in error


def test_several_bad_values_are_all_reported_one_line_each(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/rss", min_score=-1, matching={"mode": "fuzzy"})

    result = arxivbot("run", "--config", str(config))

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"arxivbot: error: {config}: min_score: must be a number of 0 or more, got -1",
        f"arxivbot: error: {config}: matching.mode: must be 'word' or 'substring', got \"fuzzy\"",
    ]


def test_missing_config_file(tmp_path: Path) -> None:
    error = assert_one_line_error(arxivbot("run", "--config", str(tmp_path / "nope.json")), 2)
    assert "nope.json" in error and "not found" in error


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "categories": ["cs.AI"],\n  "keywords": [LLM]\n}\n', encoding="utf-8")
    error = assert_one_line_error(arxivbot("run", "--config", str(path)), 2)
    assert "config.json" in error and "line 3" in error


def test_a_typo_in_a_key_stops_the_run_and_suggests_the_key(arxiv: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss")
    data = json.loads(config.read_text(encoding="utf-8"))
    data["keywrods"] = data.pop("keywords")  # without the check: no keywords, every paper published
    config.write_text(json.dumps(data), encoding="utf-8")

    result = arxivbot("run", "--config", str(config))

    error = assert_one_line_error(result, 2)
    assert error == f"arxivbot: error: {config}: keywrods: unknown key; did you mean `keywords`?"
    assert not (tmp_path / "README.md").exists() and not (tmp_path / "data").exists()
    assert arxiv.requests == []  # refused before anything was fetched


def test_allow_unknown_keys_turns_them_into_warnings(arxiv: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss", max_paper=10, allow_unknown_keys=True)
    result = arxivbot("run", "--config", str(config), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "max_paper: unknown key; did you mean `max_papers`? (ignored: allow_unknown_keys is true)" in result.stderr


def test_no_keywords_and_no_library_stops_the_run(arxiv: LocalServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss", keywords=[])

    for args in (["run"], ["run", "--dry-run"], ["serve", "--port", "0"]):
        error = assert_one_line_error(arxivbot(*args, "--config", str(config)), 2)
        assert error == (
            "arxivbot: error: keywords is empty and no library is configured: add keywords, or a library "
            "(see docs/configuration.md#library)"
        )
    assert not (tmp_path / "README.md").exists()
    assert arxiv.requests == []


def test_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/rss")
    result = arxivbot("run", "--config", str(config), "--date", "24/12/2025")
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr and "Traceback" not in result.stderr


def test_default_config_is_config_json_in_the_current_folder(arxiv: LocalServer, tmp_path: Path) -> None:
    write_config(tmp_path, arxiv.url + "/rss")
    result = arxivbot("run", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


# --- help and version ---------------------------------------------------------------------------------------


def test_version() -> None:
    from arxivbot import __version__

    result = installed_arxivbot("--version")  # `python -m arxivbot`, end to end
    assert result.returncode == 0 and __version__ in result.stdout


@pytest.mark.parametrize("command", ["run", "backfill", "serve", "init"])
def test_every_command_has_help(command: str) -> None:
    from click.testing import CliRunner

    from arxivbot.cli import main

    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert len(result.output.split("Options:")[0].strip().splitlines()) >= 2  # usage line + description


# --- catching up through the API ----------------------------------------------------------------------------

API_PAGE = (PROJECT / "tests" / "fixtures" / "api_announced_mon_may04_2entries.xml").read_bytes()
ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}


def test_backfill_fetches_a_window_once(local_server: LocalServer, tmp_path: Path) -> None:
    local_server.route("/api/query", Scripted(200, API_PAGE, ATOM))
    config = write_config(tmp_path, local_server.url + "/rss", categories=["cs.AI", "cs.LG"])
    data = json.loads(config.read_text(encoding="utf-8"))
    data["arxiv"]["api_url"] = local_server.url + "/api/query"
    config.write_text(json.dumps(data), encoding="utf-8")

    first = arxivbot("backfill", "--config", str(config), "--since", "2026-05-04", "--until", "2026-05-04")
    second = arxivbot("backfill", "--config", str(config), "--since", "2026-05-04", "--until", "2026-05-04")

    assert first.returncode == 0, first.stderr
    assert "2 papers fetched, 2 new" in first.stdout
    assert second.returncode == 0 and "0 papers fetched" in second.stdout
    assert len(local_server.requests_to("/api/query")) == 1  # a covered window is never fetched again
    db = sqlite3.connect(tmp_path / "data" / "arxivbot.db")
    assert db.execute("SELECT announced, source FROM announcements WHERE arxiv_id='2605.00901'").fetchall() == [
        ("2026-05-04", "api")
    ]
    assert db.execute("SELECT kind, status FROM runs").fetchall() == [("backfill", "ok"), ("backfill", "ok")]


def test_backfill_rejects_a_reversed_window(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/rss")
    result = arxivbot("backfill", "--config", str(config), "--since", "2026-05-05", "--until", "2026-05-01")
    assert result.returncode == 2 and "after --until" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("flag", [[], ["--no-backfill"]], ids=["catch-up", "no-backfill"])
def test_run_catches_up_unless_told_not_to(arxiv: LocalServer, tmp_path: Path, flag: list[str]) -> None:
    arxiv.route("/api/query", Scripted(200, API_PAGE, ATOM))
    config = write_config(tmp_path, arxiv.url + "/rss", days_back=3)
    data = json.loads(config.read_text(encoding="utf-8"))
    data["arxiv"]["api_url"] = arxiv.url + "/api/query"
    config.write_text(json.dumps(data), encoding="utf-8")

    result = arxivbot("run", "--config", str(config), *flag)

    assert result.returncode == 0, result.stderr
    assert bool(arxiv.requests_to("/api/query")) == (flag == [])
