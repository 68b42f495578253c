"""What a release rests on: one version everywhere (pyproject.toml, the installed metadata, `arxivbot --version`,
the changelog's newest release), a changelog in the Keep a Changelog shape that records this wave's commands and
exit codes, a CONTRIBUTING that names only real scripts, tests and benchmarks, and pre-commit running what CI's
lint step runs. (The release itself is rehearsed by .ci/release-check: build, twine check, a fresh venv.)"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import yaml

import arxivbot
from arxivbot.cli import main
from tests.clirunner import run_arxivbot

PROJECT = Path(__file__).resolve().parent.parent
CHANGELOG = (PROJECT / "CHANGELOG.md").read_text(encoding="utf-8")
CONTRIBUTING = (PROJECT / "CONTRIBUTING.md").read_text(encoding="utf-8")
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)
KEEP_A_CHANGELOG_SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def pyproject_version() -> str:
    text = (PROJECT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^\[project\]\n(?:.*\n)*?version = "([^"]+)"$', text, re.MULTILINE)
    assert found
    return found[1]


def test_one_version_everywhere() -> None:
    declared = pyproject_version()

    assert re.fullmatch(r"\d+\.\d+\.\d+", declared)  # semantic versioning, no suffix
    assert version("arxivbot") == arxivbot.__version__ == declared  # reinstall (pip install -e .) after a bump
    result = run_arxivbot("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"arxivbot, version {declared}"
    assert RELEASE.findall(CHANGELOG)[0][0] == declared  # the newest release in the changelog is this one


def test_the_changelog_has_the_keep_a_changelog_shape() -> None:
    headings = re.findall(r"^## (.+)$", CHANGELOG, re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    releases = RELEASE.findall(CHANGELOG)
    assert [f"[{number}] - {day}" for number, day in releases] == headings[1:]
    numbers = [tuple(int(part) for part in number.split(".")) for number, _ in releases]
    days = [day for _, day in releases]
    assert numbers == sorted(numbers, reverse=True) and days == sorted(days, reverse=True) and numbers[-1] == (0, 1, 0)
    assert set(re.findall(r"^### (.+)$", CHANGELOG, re.MULTILINE)) <= KEEP_A_CHANGELOG_SECTIONS
    for name in ["Unreleased", *(number for number, _ in releases)]:  # every heading links to its diff
        assert re.search(rf"^\[{re.escape(name)}\]: https://github\.com/arxivbot/arxivbot/", CHANGELOG, re.MULTILINE)


def test_the_changelog_records_every_command_and_exit_code() -> None:
    for command in main.commands:
        assert f"`arxivbot {command}" in CHANGELOG, f"CHANGELOG.md never mentions arxivbot {command}"
    # Commands of issue 11 (relevance from the user's library), listed before they are merged:
    for command in ("like", "dislike", "unlike", "library"):
        assert f"`arxivbot {command}" in CHANGELOG, command
    for code in (3, 4):  # the exit codes this wave added
        assert f"exit code {code}**" in CHANGELOG.lower(), code


def test_contributing_names_only_real_scripts_tests_and_benchmarks() -> None:
    paths = set(re.findall(r"(?<![\w/.])((?:\.ci|bench|tests|src/arxivbot)/[\w./-]+\w)", CONTRIBUTING))
    assert {".ci/run", ".ci/lint", ".ci/security-linters", ".ci/release-check"} <= paths
    assert len([p for p in paths if p.startswith("bench/")]) == len(list((PROJECT / "bench").glob("bench_*.py")))
    for path in sorted(paths):
        assert (PROJECT / path).exists(), f"CONTRIBUTING.md names {path}, which does not exist"
    for node in re.findall(r"(tests/[\w/]+\.py)::(\w+)", CONTRIBUTING):
        assert f"def {node[1]}(" in (PROJECT / node[0]).read_text(encoding="utf-8"), node


def test_pre_commit_runs_what_ci_lints() -> None:
    config = yaml.safe_load((PROJECT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    ruff = next(repo for repo in config["repos"] if repo["repo"] == "https://github.com/astral-sh/ruff-pre-commit")
    assert re.fullmatch(r"v\d+\.\d+\.\d+", ruff["rev"])  # pinned to a release
    lint = (PROJECT / ".ci" / "lint").read_text(encoding="utf-8")
    assert '"$bin/ruff" check src tests bench' in lint and '"$bin/ruff" format --check src tests bench' in lint
    assert hooks["ruff-check"]["files"] == hooks["ruff-format"]["files"] == "^(src|tests|bench)/"
    assert '"$bin/mypy" --strict src' in lint and hooks["mypy"]["entry"] == ".venv/bin/mypy --strict src"
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    for script in ("security-linters", "lint", "release-check"):
        assert f"bash .ci/{script} .venv ||" in ci, script  # run, and the tests still run when it fails
