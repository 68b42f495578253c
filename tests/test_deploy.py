"""The three ways to deploy: the GitHub Actions workflow (its shell commands really run, against a local git
remote), the Docker image's files (its health check and command really run), and the read-only Vercel app."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import feedparser
import pytest
import yaml
from starlette.testclient import TestClient

from arxivbot import PROJECT_URL
from arxivbot.scaffold import init_repository
from arxivbot.serve import create_static_app
from tests.localserver import LocalServer

PROJECT = Path(__file__).resolve().parent.parent
WORKFLOW = PROJECT / "src" / "arxivbot" / "scaffold" / "workflow.yml"
BIN = Path(sys.executable).parent  # python, pip and arxivbot of the environment running the tests

needs_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("git", "bash", "gzip", "gunzip")), reason="needs git, bash and gzip"
)


def load_workflow() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean true; GitHub reads it as "on".
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def digest_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load_workflow()["jobs"]["digest"]["steps"]
    return steps


def step_named(prefix: str) -> dict[str, Any]:
    matches = [s for s in digest_steps() if s.get("name", "").startswith(prefix)]
    assert len(matches) == 1, prefix
    return matches[0]


# --- the workflow file ----------------------------------------------------------------------------------------


def test_workflow_triggers_on_weekdays_by_hand_and_on_config_changes() -> None:
    triggers = load_workflow()["on"]

    (schedule,) = triggers["schedule"]
    minute, hour, day, month, weekdays = schedule["cron"].split()
    assert (day, month, weekdays) == ("*", "*", "1-5")  # Monday to Friday: arXiv's feeds are empty on weekends
    assert 5 <= int(hour) <= 11  # after arXiv's RSS refresh (~05:00 UTC), the same morning in Europe
    assert "workflow_dispatch" in triggers
    assert sorted(triggers["push"]["paths"]) == ["README.template.md", "ai_summary_prompt.txt", "config.json"]
    assert triggers["push"]["branches"] == ["main", "master"]

    # The digest's own README says when it runs and what the manual trigger is called: they must agree.
    template = (PROJECT / "src" / "arxivbot" / "scaffold" / "README.template.md").read_text(encoding="utf-8")
    assert f"every weekday at {int(hour):02d}:{int(minute):02d} UTC" in template
    assert f'Selecting "{load_workflow()["name"]}"' in template


def test_workflow_permissions_are_the_least_it_needs() -> None:
    workflow = load_workflow()

    assert workflow["permissions"] == {}  # nothing by default: each job says what it needs
    assert workflow["jobs"]["digest"]["permissions"] == {"contents": "write"}  # the one job that pushes
    assert workflow["concurrency"]["cancel-in-progress"] is False  # never kill a run halfway through a push
    pages = workflow["jobs"]["pages"]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert pages["needs"] == "digest"
    assert pages["if"] == "${{ vars.ARXIVBOT_PAGES == 'true' }}"  # optional, off until the user opts in
    assert [s["uses"].split("@")[0] for s in pages["steps"]] == ["actions/deploy-pages"]


def test_workflow_steps_install_run_commit_and_keep_the_database() -> None:
    steps = digest_steps()
    actions = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert actions == ["actions/checkout", "actions/setup-python", "actions/upload-pages-artifact"]

    assert (
        "pip install" in step_named("Install arxivbot")["run"]
        and "-r requirements.txt" in step_named("Install arxivbot")["run"]
    )
    run = step_named("Run arxivbot")
    assert run["run"].strip() == "arxivbot run --config config.json"
    assert run["env"] == {name: f"${{{{ secrets.{name} }}}}" for name in RUN_SECRETS}  # keys only from secrets
    names = [s.get("name", s.get("uses")) for s in steps]
    assert names.index("Run arxivbot") < names.index("Commit the digest when it changed")
    assert "git diff --cached --quiet" in step_named("Commit the digest")["run"]  # commits only on change
    save = step_named("Save the database")
    assert save["if"] == "${{ !cancelled() && steps.restore.outcome == 'success' }}"


# The secrets the run step gets: each variable a config.json names by default (the LLM key's default, the
# names docs/configuration.md gives the delivery channels, the Zotero key), from the secret of the same name.
RUN_SECRETS = (
    "DASHSCOPE_API_KEY",
    "SMTP_PASSWORD",
    "SLACK_WEBHOOK_URL",
    "DISCORD_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
    "FEISHU_WEBHOOK_URL",
    "FEISHU_SECRET",
    "DIGEST_WEBHOOK_URL",
    "ZOTERO_API_KEY",
)


def test_the_run_step_gets_the_secrets_config_json_names_by_default() -> None:
    from arxivbot.config import AISummaryConfig

    assert RUN_SECRETS[0] == AISummaryConfig().api_key_env
    reference = (PROJECT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in RUN_SECRETS[1:-1]:  # each delivery secret is the name the configuration reference uses
        assert f'"{name}"' in reference, name
    scaffold_readme = (PROJECT / "src" / "arxivbot" / "scaffold" / "README.md").read_text(encoding="utf-8")
    deploy = (PROJECT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in RUN_SECRETS:  # and the user is told which secret to add for what
        assert f"`{name}`" in scaffold_readme and f"`{name}`" in deploy, name


@needs_tools
def test_a_secret_not_added_is_empty_and_arxivbot_reads_it_as_not_set(tmp_path: Path) -> None:
    # On GitHub, ${{ secrets.X }} of a secret nobody added is "": every configured channel must say which
    # variable is missing (exit code 3, the digest published), never try to log in or post with "".
    from tests.clirunner import run_arxivbot

    run_env = {name: _expression(value) for name, value in step_named("Run arxivbot")["env"].items()}
    assert run_env == dict.fromkeys(RUN_SECRETS, "")
    shutil.copy(PROJECT / "examples" / "offline" / "sample-feed.xml", tmp_path / "sample-feed.xml")
    hooks = [
        {"kind": "slack", "url_env": "SLACK_WEBHOOK_URL"},
        {"kind": "discord", "url_env": "DISCORD_WEBHOOK_URL"},
        {"kind": "telegram", "bot_token_env": "TELEGRAM_BOT_TOKEN", "chat_id": "@lab"},
        {"kind": "feishu", "url_env": "FEISHU_WEBHOOK_URL", "secret_env": "FEISHU_SECRET"},
        {"kind": "generic", "url_env": "DIGEST_WEBHOOK_URL"},
    ]
    mail = {"smtp_host": "127.0.0.1", "smtp_port": 9, "username": "me@example.org", "password_env": "SMTP_PASSWORD"}
    config = {
        "categories": ["cs.AI", "cs.LG"],
        "keywords": ["LLM", "Inference"],
        "days_back": 0,
        "ai_summary": {"enabled": True},
        "arxiv": {"rss_url": "sample-feed.xml"},
        "delivery": {"email": {**mail, "recipients": ["me@example.org"]}, "webhooks": hooks, "max_retries": 0},
    }
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")

    result = run_arxivbot("run", "--config", str(tmp_path / "config.json"), env=run_env)

    assert result.returncode == 3, result.stderr
    assert (tmp_path / "README.md").is_file() and (tmp_path / "public" / "index.html").is_file()
    assert "No API key: set DASHSCOPE_API_KEY, or set ai_summary.enabled to false" in result.stderr
    for name in ("SMTP_PASSWORD", "SLACK_WEBHOOK_URL", "DISCORD_WEBHOOK_URL", "TELEGRAM_BOT_TOKEN", "FEISHU_SECRET"):
        assert f"is not set: put it in the environment variable {name} " in result.stderr, name
    assert "is not set: put it in the environment variable DIGEST_WEBHOOK_URL " in result.stderr


PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment() -> None:
    lines = [line for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]

    assert len(lines) == 4
    for line in lines:
        assert PINNED.match(line), f"not pinned to a full commit SHA with a # vX.Y.Z comment: {line.strip()}"


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in load_workflow()["jobs"].items() for step in job["steps"]]


def test_credentials_reach_only_the_steps_that_use_them() -> None:
    workflow = load_workflow()
    checkouts = [step for _, step in all_steps() if step.get("uses", "").startswith("actions/checkout@")]

    # The token is never left in .git/config for `arxivbot run` and its dependencies to read.
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)
    # No secret, and not the token, at the workflow or job level: only in the env of the steps below.
    assert "secrets." not in json.dumps(workflow.get("env", {})) + json.dumps(
        [job.get("env", {}) for job in workflow["jobs"].values()]
    )
    with_token = [s["name"] for _, s in all_steps() if "github.token" in json.dumps(s.get("env", {}))]
    assert with_token == [
        "Restore the database from the state branch",
        "Commit the digest when it changed",
        "Save the database to the state branch",
    ]
    with_secrets = [s["name"] for _, s in all_steps() if "secrets." in json.dumps(s)]
    assert with_secrets == ["Run arxivbot"]


def test_no_expression_is_spliced_into_a_shell_script() -> None:
    # ${{ }} inside `run:` is pasted into the script before bash sees it (script injection); values go
    # through `env:` instead.
    workflow = load_workflow()
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")


def test_requirements_install_arxivbot_from_its_repository() -> None:
    text = (PROJECT / "src" / "arxivbot" / "scaffold" / "requirements.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    # "arxivbot" is not on PyPI yet: a bare name would install nothing, or someone else's package.
    assert lines == [f"arxivbot @ git+{PROJECT_URL}"]


# --- the workflow's shell commands, really run -----------------------------------------------------------------


KNOWN_CONDITIONS: dict[str, Callable[[dict[str, str], bool], bool]] = {
    # condition -> f(step outcomes so far, whether every earlier step succeeded)
    "${{ !cancelled() && steps.restore.outcome == 'success' }}": lambda outcomes, ok: outcomes["restore"] == "success",
    "${{ vars.ARXIVBOT_PAGES == 'true' }}": lambda outcomes, ok: False,  # no repository variable in the test
}


@dataclass
class JobRun:
    outcomes: dict[str, str] = field(default_factory=dict)  # step name (or id) -> success | failure | skipped
    output: str = ""

    @property
    def succeeded(self) -> bool:
        return "failure" not in self.outcomes.values()


INSTALL_STEP = "Install arxivbot"


def run_digest_job(workdir: Path, runner_temp: Path, env: dict[str, str], *, installed: bool = False) -> JobRun:
    """Run the digest job's `run:` steps in ``workdir`` as GitHub would: bash -eo pipefail, in order, with
    each step's `if:`. The `uses:` steps are stood in for: checkout by the clone the caller made,
    setup-python by this Python on PATH; the Pages upload never runs (its condition is false here).
    ``installed``: the install step already ran for real in this environment (the module's first run), so
    it is stood in for too, like setup-python; running pip again would prove nothing new."""
    job = JobRun()
    all_ok = True
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "DASHSCOPE", "OPENAI"))},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_REF_NAME": "main",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_SERVER_URL": "https://github.com",
        "RUNNER_TEMP": str(runner_temp),
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **{k: str(v) for k, v in load_workflow()["env"].items()},
        **env,
    }
    for index, step in enumerate(digest_steps()):
        key = step.get("id") or step.get("name") or step["uses"]
        condition = step.get("if")
        if condition is not None:
            assert condition in KNOWN_CONDITIONS, f"teach the test the condition {condition!r}"
            should_run = KNOWN_CONDITIONS[condition](job.outcomes, all_ok)
        else:
            should_run = all_ok
        if "uses" in step or not should_run or (installed and key == INSTALL_STEP):
            job.outcomes[key] = "skipped" if not should_run else "success"
            continue
        step_env = {**base_env, **{k: _expression(v) for k, v in step.get("env", {}).items()}}
        script = runner_temp / f"step{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workdir,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        job.output += f"--- {key} (exit {result.returncode})\n{result.stdout}{result.stderr}"
        job.outcomes[key] = "success" if result.returncode == 0 else "failure"
        all_ok = all_ok and result.returncode == 0
    return job


FAKE_TOKEN = "ghs_FakeWorkflowToken0123456789abcdef"  # what ${{ github.token }} gives the job


def _expression(value: str) -> str:
    # The expressions in step env: the job's token, and secrets (none here, as in a fork without them).
    value = re.sub(r"\$\{\{\s*github\.token\s*\}\}", FAKE_TOKEN, str(value))
    return re.sub(r"\$\{\{\s*secrets\.\w+\s*\}\}", "", value)


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "you",
            "GIT_AUTHOR_EMAIL": "you@example.org",
            "GIT_COMMITTER_NAME": "you",
            "GIT_COMMITTER_EMAIL": "you@example.org",
            "GIT_TEMPLATE_DIR": "",  # no sample hooks in every repository: fewer files to write and delete
        },
    )
    return result.stdout


@dataclass
class DigestRepo:
    """A digest repository made by `arxivbot init`, pushed to a local bare 'GitHub', cloned per run."""

    root: Path
    origin: Path
    runs: int = 0

    def fresh_clone(self) -> Path:
        """What actions/checkout gives every run: a new clone, nothing left from the last run."""
        self.runs += 1
        clone = self.root / f"runner{self.runs}"
        git("clone", "--quiet", "--depth=1", self.origin.as_uri(), str(clone), cwd=self.root)
        return clone

    def run(self, prepare: Callable[[Path], None] | None = None) -> tuple[Path, JobRun]:
        clone = self.fresh_clone()
        if prepare is not None:
            prepare(clone)
        temp = self.root / f"temp{self.runs}"
        temp.mkdir()
        return clone, run_digest_job(clone, temp, {}, installed=self.runs > 1)

    def copy_to(self, root: Path) -> DigestRepo:
        """The same origin (its branches and history) in ``root``: a test may push to it and run it again."""
        root.mkdir()
        origin = root / self.origin.name
        shutil.copytree(self.origin, origin)
        return DigestRepo(root, origin, self.runs)

    def file_on(self, branch: str, path: str) -> bytes:
        return subprocess.run(
            ["git", "show", f"{branch}:{path}"], cwd=self.origin, capture_output=True, check=True
        ).stdout


def new_digest_repo(root: Path) -> DigestRepo:
    source = root / "my-digest"
    init_repository(source, sample=True)
    # The two substitutions a test needs: the day's feed comes from a file (the sample feed), and arxivbot is
    # the one installed here (the install step then finds it present; no index is reachable).
    (source / "requirements.txt").write_text("arxivbot\n", encoding="utf-8")
    git("init", "--quiet", "-b", "main", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "--quiet", "-m", "arxivbot digest", cwd=source)
    origin = root / "origin.git"
    git("clone", "--quiet", "--bare", str(source), str(origin), cwd=root)
    return DigestRepo(root, origin)


@dataclass
class FirstRun:
    """A digest repository after the workflow's first run."""

    repo: DigestRepo
    job: JobRun
    checkout: Path  # the first runner's checkout, shared by the tests: read it, or take an own_checkout()

    def own_checkout(self) -> Path:
        """A copy of the first runner's checkout that pushes to this test's origin."""
        clone = self.repo.root / self.checkout.name
        shutil.copytree(self.checkout, clone, symlinks=True)
        git("remote", "set-url", "origin", self.repo.origin.as_uri(), cwd=clone)
        return clone


@pytest.fixture(scope="module")
def first_run_once(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """The first run, every step for real (install included), done once for the module; see ``first_run``."""
    repo = new_digest_repo(tmp_path_factory.mktemp("first-run"))
    checkout, job = repo.run()
    git("gc", "--quiet", cwd=repo.origin)  # one pack instead of a file per object, for every copy
    return FirstRun(repo, job, checkout)


@pytest.fixture
def first_run(first_run_once: FirstRun, tmp_path: Path) -> FirstRun:
    """The first run with a copy of its origin for one test: the test may push to it and run on."""
    if not first_run_once.job.succeeded:  # every test starts from a successful first run
        return first_run_once
    return FirstRun(first_run_once.repo.copy_to(tmp_path / "repo"), first_run_once.job, first_run_once.checkout)


def next_day_feed(clone: Path) -> None:
    """arXiv's feed of the next day, announcing the same papers again (as replacements would be)."""
    feed = clone / "sample-feed.xml"
    feed.write_bytes(feed.read_bytes().replace(b"Wed, 24 Dec 2025", b"Thu, 25 Dec 2025"))


def readme_titles(readme: bytes) -> list[str]:
    return re.findall(r"^### \d+\. \[(.+)\]\(", readme.decode("utf-8"), flags=re.MULTILINE)


@needs_tools
def test_the_workflow_publishes_then_remembers_across_fresh_runners(first_run: FirstRun) -> None:
    digest_repo, clone, first = first_run.repo, first_run.checkout, first_run.job

    assert first.succeeded, first.output
    assert first.outcomes[INSTALL_STEP] == "success"  # pip really ran the scaffolded requirements.txt
    assert first.outcomes["restore"] == "success" and "No arxivbot-state branch yet" in first.output
    readme = digest_repo.file_on("main", "README.md")
    assert len(readme_titles(readme)) >= 3  # the digest, committed and pushed
    assert b"every weekday at 06:30 UTC" in readme  # rendered from the scaffolded README.template.md
    feed = feedparser.parse(digest_repo.file_on("main", "public/rss.xml"))
    assert len(feed.entries) == len(readme_titles(readme))
    assert "data/" not in git("ls-tree", "-r", "--name-only", "main", cwd=digest_repo.origin)  # not in main
    # The state branch: one commit holding the compressed database, checkpointed (nothing left in a WAL).
    assert git("ls-tree", "--name-only", "arxivbot-state", cwd=digest_repo.origin).split() == ["arxivbot.db.gz"]
    assert not (clone / "data" / "arxivbot.db-wal").exists()
    # The token went to the git steps' command lines only: never printed, never written into the checkout.
    basic = base64.b64encode(f"x-access-token:{FAKE_TOKEN}".encode()).decode()
    assert FAKE_TOKEN not in first.output and basic not in first.output
    assert not [p for p in (clone / ".git").rglob("*") if p.is_file() and basic.encode() in p.read_bytes()]
    assert FAKE_TOKEN not in (clone / ".git" / "config").read_text(encoding="utf-8")

    # The next morning, a new runner: the database comes back from the state branch, so the papers of the
    # first digest are not listed as new again (they would be with a fresh database).
    _, second = digest_repo.run(prepare=next_day_feed)

    assert second.succeeded, second.output
    assert "Restored data/arxivbot.db" in second.output
    assert readme_titles(digest_repo.file_on("main", "README.md")) == []
    assert git("rev-list", "--count", "arxivbot-state", cwd=digest_repo.origin).strip() == "1"  # replaced, no history
    log = git("log", "--format=%an|%s", "main", cwd=digest_repo.origin).splitlines()
    assert log[0].startswith("github-actions[bot]|arXiv digest ")


@needs_tools
def test_an_unchanged_digest_makes_no_commit(first_run: FirstRun) -> None:
    digest_repo, clone, first = first_run.repo, first_run.own_checkout(), first_run.job
    assert first.succeeded, first.output
    commits = git("rev-list", "--count", "main", cwd=digest_repo.origin)

    # Re-run the commit step alone in the same checkout: README and public/ are as committed.
    job = run_digest_job_steps(clone, digest_repo.root / "temp-again", ["Commit the digest when it changed"])

    assert job.succeeded, job.output
    assert "unchanged: nothing to commit" in job.output
    assert git("rev-list", "--count", "main", cwd=digest_repo.origin) == commits


@needs_tools
def test_a_failed_restore_never_replaces_the_saved_database(first_run: FirstRun) -> None:
    digest_repo, first = first_run.repo, first_run.job
    assert first.succeeded, first.output
    saved = digest_repo.file_on("arxivbot-state", "arxivbot.db.gz")

    clone = digest_repo.fresh_clone()
    git("remote", "set-url", "origin", str(digest_repo.root / "unreachable.git"), cwd=clone)  # GitHub is down
    temp = digest_repo.root / "temp-down"
    temp.mkdir()
    job = run_digest_job(clone, temp, {}, installed=True)

    assert job.outcomes["restore"] == "failure"
    assert "cannot read the arxivbot-state branch" in job.output
    assert job.outcomes["Run arxivbot"] == "skipped"
    assert job.outcomes["Save the database to the state branch"] == "skipped"
    assert digest_repo.file_on("arxivbot-state", "arxivbot.db.gz") == saved


@needs_tools
def test_a_failed_run_still_saves_what_it_paid_for_but_commits_nothing(first_run: FirstRun) -> None:
    digest_repo, first = first_run.repo, first_run.job
    assert first.succeeded, first.output
    main_before = git("rev-parse", "main", cwd=digest_repo.origin)

    clone = digest_repo.fresh_clone()
    config = json.loads((clone / "config.json").read_text(encoding="utf-8"))
    config["arxiv"]["rss_url"] = "missing-feed.xml"  # arXiv unreachable, as far as this run can tell
    (clone / "config.json").write_text(json.dumps(config), encoding="utf-8")
    temp = digest_repo.root / "temp-fail"
    temp.mkdir()
    job = run_digest_job(clone, temp, {}, installed=True)

    assert job.outcomes["Run arxivbot"] == "failure"
    assert job.outcomes["Commit the digest when it changed"] == "skipped"
    assert job.outcomes["Save the database to the state branch"] == "success"
    assert git("rev-parse", "main", cwd=digest_repo.origin) == main_before
    assert "after run 4242" in git("log", "-1", "--format=%s", "arxivbot-state", cwd=digest_repo.origin)


@needs_tools
@pytest.mark.parametrize("origin_is_the_github_server", [True, False])
def test_the_token_is_sent_to_the_github_server_only(
    first_run: FirstRun, local_server: LocalServer, origin_is_the_github_server: bool
) -> None:
    # A local HTTP server plays GitHub (it records the request and answers 404: the step then fails,
    # which does not matter here); the restore step reads the state branch from it.
    clone = first_run.repo.fresh_clone()
    git("remote", "set-url", "origin", f"{local_server.url}/you/my-digest.git", cwd=clone)
    server_url = local_server.url if origin_is_the_github_server else "https://github.com"

    job = run_digest_job_steps(
        clone, first_run.repo.root / "temp-http", ["Restore the database from the state branch"], server_url=server_url
    )

    assert local_server.requests, job.output
    sent = {request.headers.get("authorization") for request in local_server.requests}
    if origin_is_the_github_server:
        assert sent == {"basic " + base64.b64encode(f"x-access-token:{FAKE_TOKEN}".encode()).decode()}
    else:  # a remote that is not the GitHub server (a fork's mirror, a redirect) never sees it
        assert sent == {None}
    assert FAKE_TOKEN not in (clone / ".git" / "config").read_text(encoding="utf-8")


def run_digest_job_steps(
    workdir: Path, temp: Path, names: list[str], *, server_url: str = "https://github.com"
) -> JobRun:
    """Run only the named `run:` steps (for re-running one step in a checkout)."""
    temp.mkdir(exist_ok=True)
    job = JobRun()
    for step in digest_steps():
        if step.get("name") in names:
            script = temp / "step.sh"
            script.write_text(step["run"], encoding="utf-8")
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=workdir,
                env={
                    **os.environ,
                    **{k: _expression(v) for k, v in step.get("env", {}).items()},
                    **{k: str(v) for k, v in load_workflow()["env"].items()},
                    "GITHUB_REF_NAME": "main",
                    "GITHUB_SERVER_URL": server_url,
                    "RUNNER_TEMP": str(temp),
                    "GIT_TERMINAL_PROMPT": "0",
                },
                capture_output=True,
                text=True,
                timeout=60,
            )
            job.output += result.stdout + result.stderr
            job.outcomes[step["name"]] = "success" if result.returncode == 0 else "failure"
    assert job.outcomes, names
    return job


# --- Docker ------------------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (PROJECT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_dockerfile_runs_serve_as_a_non_root_user_with_a_health_check() -> None:
    instructions = dockerfile_instructions()
    kinds = [kind for kind, _ in instructions]

    # The base image by digest (a rebuild gets the image that was tested), its tag kept for the reader.
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", instructions[0][1]), instructions[0]
    user = [arg for kind, arg in instructions if kind == "USER"]
    # Numeric, so the runtime can tell it is not root without the image's /etc/passwd.
    assert user and re.fullmatch(r"[1-9]\d*(:\d+)?", user[-1]), user
    assert kinds.index("USER") < kinds.index("CMD")  # the service itself never runs as root
    assert ("EXPOSE", "8000") in instructions
    assert ("VOLUME", '["/data"]') in instructions
    cmd = json.loads(dict(instructions)["CMD"])
    assert cmd == ["arxivbot", "serve", "--config", "/data/config.json", "--host", "0.0.0.0", "--port", "8000"]
    healthcheck = dict(instructions)["HEALTHCHECK"]
    assert "http://127.0.0.1:8000/health" in healthcheck and "curl" not in healthcheck  # slim has no curl


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _health_command(port: int) -> list[str]:
    healthcheck = dict(dockerfile_instructions())["HEALTHCHECK"]
    command = json.loads(healthcheck.split("CMD", 1)[1].strip())
    return [sys.executable if part == "python" else part.replace(":8000/", f":{port}/") for part in command]


def test_the_image_command_serves_and_its_health_check_sees_it(tmp_path: Path) -> None:
    data = tmp_path / "data"  # what the image's /data volume holds
    init_repository(data, sample=True)
    config = json.loads((data / "config.json").read_text(encoding="utf-8"))
    config["server"] = {"run_on_startup": False}
    (data / "config.json").write_text(json.dumps(config), encoding="utf-8")
    port = _free_port()
    cmd = json.loads(dict(dockerfile_instructions())["CMD"])
    cmd = [
        str(BIN / "arxivbot"),
        *[
            str(data / "config.json")
            if part == "/data/config.json"
            else "127.0.0.1"
            if part == "0.0.0.0"
            else str(port)
            if part == "8000"
            else part
            for part in cmd[1:]
        ],
    ]

    health = _health_command(port)
    assert subprocess.run(health, capture_output=True, timeout=30).returncode != 0  # nothing listening yet
    server = subprocess.Popen(
        cmd, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "CI": "true"}
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(health, capture_output=True, timeout=30).returncode != 0:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()


def test_compose_keeps_the_database_in_a_named_volume() -> None:
    compose = yaml.safe_load((PROJECT / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["arxivbot"]

    assert service["build"] == "."
    assert "8000:8000" in service["ports"]
    volumes = service["volumes"]
    named = [v.split(":")[0] for v in volumes if v.split(":")[1] == "/data"]
    assert named and named[0] in compose["volumes"]  # a named volume, not a folder that vanishes with the container
    assert any(v.startswith("./config.json:/data/config.json") for v in volumes)
    # Keys come from the host's environment, never written into the file.
    assert all(value.startswith("${") for value in service["environment"].values())


# --- Vercel: the committed public/ files, read-only ---------------------------------------------------------------

WRITES = ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.chmod", "os.truncate", "os.symlink")
_audit_log: list[tuple[str, tuple[Any, ...]]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _audit_log is None:
        return
    if event in WRITES or event in ("socket.connect", "socket.getaddrinfo", "sqlite3.connect"):
        _audit_log.append((event, args))
    elif event == "open":
        _path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing:
            _audit_log.append((event, args))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one records only inside `audited()`


@contextmanager
def audited() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Record every file write, database open and network connection made in the block."""
    global _audit_log
    _audit_log = []
    try:
        yield _audit_log
    finally:
        _audit_log = None


@pytest.fixture(scope="module")
def published_digest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digest repository after one real run: what the GitHub Action commits. Made once for the module;
    the tests only read it (the first one checks that nothing is written)."""
    repo = tmp_path_factory.mktemp("published") / "my-digest"
    init_repository(repo, sample=True)
    result = subprocess.run(
        [str(BIN / "arxivbot"), "run", "--config", str(repo / "config.json")],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shutil.rmtree(repo / "data")  # the database is not in the repository Vercel deploys
    return repo


def import_entry_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"vercel_entry_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_vercel_serves_the_committed_site_without_writing_or_fetching(
    published_digest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = published_digest
    before = snapshot(repo)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as on Vercel's read-only disk

    with audited() as events:
        entry = import_entry_module(repo / "api" / "index.py")  # the cold start
        with TestClient(entry.app) as client:
            answers = {
                path: client.get(path)
                for path in ("/", "/rss", "/atom.xml", "/rss/cs.AI", "/atom/cs.LG.xml", "/papers.json", "/health")
            }
            etag = answers["/rss"].headers["etag"]
            revalidated = client.get("/rss", headers={"If-None-Match": etag})
            missing = [client.get(path).status_code for path in ("/rss/cs.XX", "/config", "/nope")]
            update = client.post("/update")

    assert events == []  # no file written, no database opened, no connection made
    assert snapshot(repo) == before
    assert all(answer.status_code == 200 for answer in answers.values()), {p: a.status_code for p, a in answers.items()}
    published = json.loads((repo / "public" / "papers.json").read_text(encoding="utf-8"))
    assert answers["/papers.json"].json() == published  # exactly the committed bytes
    assert answers["/rss"].content == (repo / "public" / "rss.xml").read_bytes()
    assert answers["/"].headers["content-security-policy"].startswith("default-src 'none'")
    assert revalidated.status_code == 304
    assert missing == [404, 404, 404] and update.status_code in (404, 405)
    health = answers["/health"].json()
    assert health["mode"] == "static" and health["digest"]["day"] == published["day"]
    assert health["digest"]["paper_count"] == published["paper_count"] > 0
    assert answers["/rss"].headers["last-modified"]  # from the digest's generation time, not file times


def test_vercel_entry_of_this_repository_reads_the_site_dir_override(
    published_digest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = published_digest
    monkeypatch.setenv("ARXIVBOT_SITE_DIR", str(repo / "public"))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)

    entry = import_entry_module(PROJECT / "api" / "index.py")

    with TestClient(entry.app) as client:
        assert client.get("/atom").content == (repo / "public" / "atom.xml").read_bytes()
        assert client.get("/rss/cs.DC.xml").status_code == 200  # categories found in the files


def test_a_missing_site_answers_503_on_health_and_404_elsewhere(tmp_path: Path) -> None:
    with TestClient(create_static_app(tmp_path / "public")) as client:
        health = client.get("/health")
        assert health.status_code == 503 and "arxivbot run" in health.json()["error"]
        assert client.get("/").status_code == 404 and client.get("/rss").status_code == 404


def test_vercel_json_sends_every_path_to_the_entry_module_with_the_site_bundled() -> None:
    config = json.loads((PROJECT / "vercel.json").read_text(encoding="utf-8"))

    (entry,) = config["functions"]
    assert (PROJECT / entry).is_file()
    assert "public/**" in config["functions"][entry]["includeFiles"]
    assert config["rewrites"] == [{"source": "/(.*)", "destination": "/" + entry.removesuffix(".py")}]
    assert config["git"]["deploymentEnabled"] == {"arxivbot-state": False}  # the database branch is no site


def test_the_scaffold_ships_the_same_vercel_files_as_this_repository() -> None:
    scaffold = PROJECT / "src" / "arxivbot" / "scaffold"
    assert (scaffold / "vercel.json").read_bytes() == (PROJECT / "vercel.json").read_bytes()
    assert (scaffold / "api_index.py").read_bytes() == (PROJECT / "api" / "index.py").read_bytes()


def test_the_documented_image_command_is_the_real_one() -> None:
    cmd = json.loads(dict(dockerfile_instructions())["CMD"])
    guide = (PROJECT / "docs" / "deploy.md").read_text(encoding="utf-8")
    documented = [
        shlex.split(line.strip("` "))
        for line in guide.splitlines()
        if line.strip("` ").startswith("arxivbot serve --config /data/config.json")
    ]
    assert cmd in documented
