"""`arxivbot init`: the digest repository it writes, and that repository running for real (offline)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from arxivbot.config import load_config
from arxivbot.errors import UsageError
from arxivbot.publish.readme import BUILTIN_TEMPLATE, PLACEHOLDERS
from arxivbot.scaffold import SCAFFOLD_FILES, init_repository
from arxivbot.summarize.prompt import default_prompt
from tests.clirunner import Finished, run_arxivbot
from tests.llmserver import LLMServer
from tests.localserver import LocalServer, Scripted

PROJECT = Path(__file__).resolve().parent.parent
EXPECTED_FILES = {
    "config.json",
    "README.md",
    "README.template.md",
    "ai_summary_prompt.txt",
    "requirements.txt",
    ".github/workflows/arxivbot.yml",
    ".github/dependabot.yml",
    ".gitignore",
    "vercel.json",
    "api/index.py",
}
KEY = "sk-scaffold-test-5e0c9a7d"


def arxivbot(*args: str, env: dict[str, str] | None = None) -> Finished:
    """The real CLI, in-process (the installed command runs end to end in tests/test_deploy.py)."""
    return run_arxivbot(*args, env=env)


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def readme_titles(readme: str) -> list[str]:
    return re.findall(r"^### \d+\. \[(.+)\]\(https://arxiv\.org/abs/", readme, flags=re.MULTILINE)


# --- what init writes ---------------------------------------------------------------------------------------


def test_init_writes_the_digest_repository(tmp_path: Path) -> None:
    result = arxivbot("init", str(tmp_path / "my-digest"))

    assert result.returncode == 0, result.stderr
    repo = tmp_path / "my-digest"
    assert files_under(repo) == EXPECTED_FILES
    assert {name for name, _ in SCAFFOLD_FILES} == EXPECTED_FILES
    assert ".github/workflows/arxivbot.yml" in result.stdout and "DASHSCOPE_API_KEY" in result.stdout
    # The prompt is the built-in default, ready to edit.
    assert (repo / "ai_summary_prompt.txt").read_text(encoding="utf-8") == default_prompt()


def test_the_config_is_the_reference_one_and_loads_cleanly(tmp_path: Path) -> None:
    init_repository(tmp_path)

    config = load_config(tmp_path / "config.json")

    assert config.unknown_keys() == []
    assert config.categories == ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
    assert (config.max_papers, config.days_back, config.min_score) == (30, 7, 2.5)
    assert config.exclude_keywords == ["survey", "review", "tutorial"]
    ai = config.ai_summary
    assert ai.enabled and ai.api_key_env == "DASHSCOPE_API_KEY" and ai.model == "qwen-long"
    assert "dashscope.aliyuncs.com" in ai.base_url and ai.input_mode == "pdf-upload"
    assert (ai.max_papers_to_summarize, ai.max_workers) == (15, 3)
    assert ai.prompt_file == tmp_path / "ai_summary_prompt.txt"  # the scaffolded, editable prompt
    assert config.output.readme_template == tmp_path / "README.template.md"
    assert config.arxiv.rss_url == "https://rss.arxiv.org/rss"  # the real arXiv
    assert "data/" in (tmp_path / ".gitignore").read_text(encoding="utf-8").split("\n")[1]  # never in main


def test_the_readme_template_keeps_the_reference_shape() -> None:
    template = (PROJECT / "src" / "arxivbot" / "scaffold" / "README.template.md").read_text(encoding="utf-8")

    def headings(text: str) -> list[str]:
        return [line.split(" [")[0] for line in text.splitlines() if line.startswith("#")]

    assert headings(template) == headings(BUILTIN_TEMPLATE)
    used = set(re.findall(r"\{\{([A-Z_]+)\}\}", template))
    assert used == set(PLACEHOLDERS) - {"SCHEDULE"}  # the schedule is the workflow's, written out
    assert template.rstrip().endswith("*Generated automatically by arXiv Bot*")


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"categories": ["math.CO"]}', encoding="utf-8")

    result = arxivbot("init", str(tmp_path))

    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("arxivbot: error:")]
    assert len(errors) == 1 and "config.json" in errors[0] and "--force" in errors[0]
    assert "Traceback" not in result.stderr
    assert files_under(tmp_path) == {"config.json"}  # nothing else written either
    assert "math.CO" in (tmp_path / "config.json").read_text(encoding="utf-8")


def test_init_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")

    written = init_repository(tmp_path, force=True)

    assert tmp_path / "config.json" in written
    assert load_config(tmp_path / "config.json").max_papers == 30
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"  # files init does not own are left alone


def test_init_into_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        init_repository(target)


def test_the_packaged_sample_feed_is_the_example_one() -> None:
    packaged = PROJECT / "src" / "arxivbot" / "data" / "sample-feed.xml"
    assert packaged.read_bytes() == (PROJECT / "examples" / "offline" / "sample-feed.xml").read_bytes()


# --- the scaffolded repository, run for real ------------------------------------------------------------------


def test_sample_repository_runs_offline(tmp_path: Path) -> None:
    repo = tmp_path / "demo"
    assert arxivbot("init", str(repo), "--sample").returncode == 0

    result = arxivbot("run", "--config", str(repo / "config.json"))

    assert result.returncode == 0, result.stderr
    readme = (repo / "README.md").read_text(encoding="utf-8")
    titles = readme_titles(readme)
    assert titles and not any("Survey" in title for title in titles)  # excluded keyword
    assert "every weekday at 06:30 UTC" in readme  # the scaffolded template was used
    assert "{{" not in readme
    site = files_under(repo / "public")
    assert {"index.html", "papers.json", "rss.xml", "atom.xml", "rss/cs.AI.xml", "atom/cs.LG.xml"} <= site
    papers = json.loads((repo / "public" / "papers.json").read_text(encoding="utf-8"))
    assert [p["title"] for p in papers["papers"]] == titles
    # The database is checkpointed when the run ends: the file alone is the whole state (it is committed
    # to the state branch as it is).
    assert (repo / "data" / "arxivbot.db").is_file()
    assert not (repo / "data" / "arxivbot.db-wal").exists()


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with LLMServer(api_key=KEY) as server:
        yield server


def test_reference_repository_summarizes_with_the_scaffolded_prompt(
    tmp_path: Path, local_server: LocalServer, llm: LLMServer
) -> None:
    init_repository(tmp_path)
    sample = (PROJECT / "examples" / "offline" / "sample-feed.xml").read_bytes()
    local_server.route("/rss/cs.AI+cs.CL+cs.DC+cs.LG", Scripted(200, sample, {"Content-Type": "application/rss+xml"}))
    config = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    # Only the endpoints change: arXiv and the LLM are local servers; the abstract stands in for the PDF.
    config["days_back"] = 0
    config["arxiv"] = {"rss_url": local_server.url + "/rss", "request_delay_seconds": 0}
    config["ai_summary"].update(base_url=llm.base_url, input="abstract")
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    prompt = tmp_path / "ai_summary_prompt.txt"
    prompt.write_text("请用三句话总结这篇论文。MARKER-FROM-THE-SCAFFOLDED-PROMPT", encoding="utf-8")

    result = arxivbot("run", "--config", str(tmp_path / "config.json"), env={"DASHSCOPE_API_KEY": KEY})

    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    summarized = min(len(readme_titles(readme)), 15)
    assert summarized > 0 and readme.count("🤖 AI Summary (by qwen-long)") == summarized
    requests = llm.chat_requests
    assert len(requests) == summarized
    assert all("MARKER-FROM-THE-SCAFFOLDED-PROMPT" in json.dumps(r.json, ensure_ascii=False) for r in requests)
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in requests)
    assert KEY not in readme and KEY not in result.stdout + result.stderr
