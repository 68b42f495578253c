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


# --- arxivbot init --check: a hand-edited scaffold re-linted against the template ---------------------------------

WORKFLOW_PATH = ".github/workflows/arxivbot.yml"
# The workflow as `arxivbot init` wrote it before the security linters (what an older scaffold holds).
OLD_WORKFLOW = """\
name: arXiv Bot Daily Update
on:
  workflow_dispatch:
permissions:
  contents: write
jobs:
  digest:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Run arxivbot
        env:
          DASHSCOPE_API_KEY: ${{ secrets.DASHSCOPE_API_KEY }}
        run: arxivbot run --config config.json
"""


def check(repo: Path) -> Finished:
    return arxivbot("init", "--check", str(repo))


def findings_of(result: Finished) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith((".github/", ".gitignore"))]


def edit_workflow(repo: Path, old: str, new: str) -> None:
    path = repo / WORKFLOW_PATH
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_passes_a_fresh_scaffold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_repository(tmp_path / "digest")

    result = check(tmp_path / "digest")

    assert result.returncode == 0, result.stdout + result.stderr
    assert findings_of(result) == [] and "clean" in result.stdout
    monkeypatch.chdir(tmp_path / "digest")  # DIR defaults to the current folder
    assert arxivbot("init", "--check").returncode == 0


def test_check_flags_every_weakness_of_the_old_scaffold_with_its_fix(tmp_path: Path) -> None:
    init_repository(tmp_path)
    (tmp_path / WORKFLOW_PATH).write_text(OLD_WORKFLOW, encoding="utf-8")

    result = check(tmp_path)

    assert result.returncode == 1
    found = findings_of(result)
    assert found == [line for line in result.stdout.splitlines() if line.strip()]  # nothing else on stdout
    assert len(found) == 4, found
    permissions, checkout_pin, checkout_token, python_pin = found
    assert permissions.startswith(f"{WORKFLOW_PATH}:4: ") and "contents: write to every job" in permissions
    assert "fix: set `permissions: {}` at the top level" in permissions
    assert checkout_pin.startswith(f"{WORKFLOW_PATH}:10: ") and "actions/checkout@v4 is not pinned" in checkout_pin
    # The fix names the template's own pin: the same action at a full commit SHA, its version in a comment.
    assert re.search(r"fix: uses: actions/checkout@[0-9a-f]{40} # v\d+\.\d+\.\d+$", checkout_pin)
    assert checkout_token.startswith(f"{WORKFLOW_PATH}:10: ") and "persist-credentials: false" in checkout_token
    assert python_pin.startswith(f"{WORKFLOW_PATH}:11: ") and "fix: uses: actions/setup-python@" in python_pin
    assert checkout_pin in (PROJECT / "docs" / "deploy.md").read_text(encoding="utf-8")  # the documented example
    assert "1 problem" not in result.stderr and "4 problems" in result.stderr
    assert "Traceback" not in result.stderr


# (text in the template, what a user put instead, the finding, the text on the line it names)
BREAKAGES = {
    "an unpinned action": (
        "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97",
        "actions/setup-python@main",
        "actions/setup-python@main is not pinned",
        "uses: actions/setup-python@main",
    ),
    "a broadened job permission": (
        "      contents: write # commit",
        "      contents: write\n      actions: write # commit",
        'job "digest" is granted actions: write; the template grants it no actions permission',
        "permissions:",
    ),
    "write access for the whole workflow": (
        "permissions: {}",
        "permissions:\n  contents: write",
        "permissions at the workflow level grant contents: write to every job",
        "permissions:",
    ),
    "no top-level permissions": (
        "permissions: {}\n",
        "",
        "no top-level permissions: every job gets the repository's default token",
        "name: arXiv Bot Daily Update",
    ),
    "a removed persist-credentials": (
        "        with:\n          persist-credentials: false\n",
        "",
        "actions/checkout leaves the token in .git/config",
        "uses: actions/checkout@",
    ),
    "a secret moved to job level": (
        "    timeout-minutes: 60\n",
        "    timeout-minutes: 60\n    env:\n      DASHSCOPE_API_KEY: ${{ secrets.DASHSCOPE_API_KEY }}\n",
        'env DASHSCOPE_API_KEY hands secrets.DASHSCOPE_API_KEY to every step of job "digest"',
        "DASHSCOPE_API_KEY: ${{ secrets.DASHSCOPE_API_KEY }}",
    ),
    "the token at workflow level": (
        "  STATE_BRANCH: arxivbot-state\n",
        "  STATE_BRANCH: arxivbot-state\n  GH_TOKEN: ${{ github.token }}\n",
        "env GH_TOKEN hands github.token to every step of the workflow",
        "GH_TOKEN: ${{ github.token }}",
    ),
    "an expression in a script": (
        "run: arxivbot run --config config.json",
        "run: arxivbot run --config config.json --date ${{ github.event.inputs.day }}",
        'step "Run arxivbot": a ${{ … }} expression inside run:',
        "run: arxivbot run --config config.json --date",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_check_flags_one_broken_setting_as_one_line(tmp_path: Path, breakage: tuple[str, str, str, str]) -> None:
    old, new, expected, on_line = breakage
    init_repository(tmp_path)
    edit_workflow(tmp_path, old, new)

    result = check(tmp_path)

    assert result.returncode == 1, result.stdout
    (finding,) = findings_of(result)
    assert expected in finding and "; fix: " in finding
    line = int(finding.split(":")[1])
    assert on_line in (tmp_path / WORKFLOW_PATH).read_text(encoding="utf-8").splitlines()[line - 1]


def test_check_flags_write_all(tmp_path: Path) -> None:
    init_repository(tmp_path)
    edit_workflow(
        tmp_path, "    permissions:\n      pages: write", "    permissions: write-all\n    x-was:\n      pages: write"
    )

    (finding,) = findings_of(check(tmp_path))

    assert 'job "pages" is granted write-all' in finding and "pages: write, id-token: write" in finding


def test_check_looks_after_dependabot_and_the_gitignore(tmp_path: Path) -> None:
    init_repository(tmp_path)
    dependabot = tmp_path / ".github" / "dependabot.yml"
    dependabot.write_text(
        dependabot.read_text(encoding="utf-8").replace("package-ecosystem: pip", "package-ecosystem: npm"),
        encoding="utf-8",
    )
    gitignore = tmp_path / ".gitignore"
    gitignore.write_text(gitignore.read_text(encoding="utf-8").replace("/data/\n", ""), encoding="utf-8")

    result = check(tmp_path)

    assert result.returncode == 1
    assert findings_of(result) == [
        ".github/dependabot.yml: no pip entry: nothing proposes updates to arxivbot in requirements.txt; "
        "fix: add an updates: entry with package-ecosystem: pip (see a fresh `arxivbot init`)",
        ".gitignore: data/ is not ignored: the database could be committed to the digest's branch; "
        "fix: add the line /data/",
    ]
    dependabot.unlink()
    assert "dependabot.yml: missing" in check(tmp_path).stdout


def test_check_reports_broken_yaml_with_its_line(tmp_path: Path) -> None:
    init_repository(tmp_path)
    edit_workflow(tmp_path, "jobs:\n", "jobs: [\n")

    result = check(tmp_path)

    assert result.returncode == 1
    (finding,) = findings_of(result)
    assert "not valid YAML" in finding and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("init", "--check", "missing-folder"), "no such folder"),
        (("init", "--check", "."), "no .github/workflows/arxivbot.yml"),
        (("init", "--check", "--force", "."), "--check writes nothing"),
    ],
)
def test_check_usage_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    monkeypatch.chdir(tmp_path)

    result = arxivbot(*args)

    assert result.returncode == 2
    (error,) = result.stderr.strip().splitlines()
    assert error.startswith("arxivbot: error:") and message in error
