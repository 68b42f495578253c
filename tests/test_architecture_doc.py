"""docs/architecture.md stays true: the paths, modules and names it gives exist, its tables' names are in their
modules, its exception tree, exit codes and store tables are the code's, and its worked example (a new chat
service) really delivers a digest to a local server."""

from __future__ import annotations

import importlib
import json
import re
import sqlite3
import types
from pathlib import Path
from typing import Any

import pytest

import arxivbot.errors
from arxivbot.deliver.channel import Channel
from arxivbot.deliver.chat import ChatService, WebhookChannel
from arxivbot.deliver.outbox import MessageChannel, deliver_due
from arxivbot.retry import RetryPolicy
from arxivbot.store import open_store
from tests.deliver.conftest import LONG_SUMMARY, NOW, Sleeps, seeded_config
from tests.localserver import LocalServer, Scripted
from tests.publish.seeding import DAY2, EVIL_TITLE

PROJECT = Path(__file__).resolve().parent.parent
DOC = PROJECT / "docs" / "architecture.md"
TEXT = DOC.read_text(encoding="utf-8")
STAGES = ("fetch", "parse", "store", "rank", "summarize", "render", "publish", "deliver", "serve")


def resolve(dotted: str) -> Any:
    """The object a dotted name stands for: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            assert hasattr(found, attribute), f"docs/architecture.md names {dotted}, but {attribute} is not there"
            found = getattr(found, attribute)
        return found
    raise AssertionError(f"docs/architecture.md names {dotted}, which is no module")


def section(title: str) -> str:
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end != -1 else len(TEXT)]


def code_blocks(text: str, language: str = "") -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)


# --- what the doc names exists -------------------------------------------------------------------------------


def test_every_path_it_gives_exists() -> None:
    paths = {path.rstrip(".") for path in re.findall(r"src/arxivbot/[\w./-]*", TEXT)}
    assert len(paths) > 50
    missing = sorted(path for path in paths if not (PROJECT / path).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_dotted_name_it_gives_resolves() -> None:
    names = set(re.findall(r"`(arxivbot(?:\.\w+)+)", TEXT))
    assert len(names) > 30
    for name in sorted(names):
        resolve(name)


def table_rows() -> list[tuple[str, list[str]]]:
    """(module, names in the last column) of every table row whose module column links into the package."""
    rows = []
    for line in TEXT.splitlines():
        link = re.search(r"\]\(\.\./src/(arxivbot/[\w/]*?)(?:\.py|/)\)", line)
        if line.startswith("| ") and link:
            last_cell = line.rstrip(" |").rsplit(" | ", 1)[-1]
            rows.append((link[1].replace("/", "."), re.findall(r"`([\w.]+)`", last_cell)))
    return rows


def test_the_names_in_its_tables_are_in_their_modules() -> None:
    rows = table_rows()
    assert len(rows) > 50 and sum(len(names) for _, names in rows) > 100
    for module, names in rows:
        for name in names:
            resolve(f"{module}.{name}")


def test_every_package_of_arxivbot_is_on_the_map() -> None:
    # A package added later (issue 11's library/ and its scorers) must be drawn here too, where the
    # placeholder stands, or this fails.
    packages = sorted(p.parent.name for p in (PROJECT / "src" / "arxivbot").glob("*/__init__.py"))
    assert {"arxiv", "deliver", "publish", "rank", "store", "summarize", "web"} <= set(packages)
    for package in packages:
        assert f"src/arxivbot/{package}/" in TEXT, f"docs/architecture.md does not map src/arxivbot/{package}/"


def test_the_diagram_shows_every_stage_in_order() -> None:
    (diagram,) = code_blocks(TEXT, "mermaid")
    assert diagram.startswith("flowchart LR\n")
    nodes = [re.search(rf"^    {stage}\[", diagram, re.MULTILINE) for stage in STAGES]
    assert all(nodes), [stage for stage, node in zip(STAGES, nodes, strict=True) if not node]
    pipeline = section("The pipeline")
    assert " → ".join(STAGES) not in pipeline  # the stages are the diagram's, and each has its row:
    for stage in STAGES:
        assert f"\n| {stage} | [" in pipeline, stage


# --- errors, exit codes, tables: the code's ------------------------------------------------------------------


def test_the_exception_tree_is_the_one_in_errors_py() -> None:
    tree = next(block for block in code_blocks(section("Errors and exit codes")) if "ArxivbotError" in block)
    docstring = arxivbot.errors.__doc__ or ""
    assert all(line.strip() in docstring for line in tree.splitlines())
    drawn: dict[str, tuple[int, str | None]] = {}  # class -> (depth, parent)
    stack: list[str] = []
    for line in tree.splitlines():
        name = re.search(r"(\w+Error|ArxivErrorFeed)\b", line)
        assert name, line
        depth = len(line[: name.start()]) // 4
        stack[depth:] = [name[1]]
        drawn[name[1]] = (depth, stack[depth - 1] if depth else None)
        code = re.search(r"exit code (\d)", line)
        cls = getattr(arxivbot.errors, name[1])
        assert cls.exit_code == (int(code[1]) if code else cls.__mro__[1].exit_code), name[1]
    defined = {
        name: cls
        for name, cls in vars(arxivbot.errors).items()
        if isinstance(cls, type) and issubclass(cls, arxivbot.errors.ArxivbotError)
    }
    assert set(drawn) == set(defined)
    for name, (_, parent) in drawn.items():
        assert parent is None or defined[name].__bases__ == (defined[parent],), name


def test_the_exit_codes_are_the_models_constants() -> None:
    rows = re.findall(r"^\| (\d) \| .* \| `(arxivbot\.models\.EXIT_\w+)` \|$", TEXT, re.MULTILINE)
    assert [int(code) for code, _ in rows] == [0, 1, 2, 3, 4]
    for code, constant in rows:
        assert resolve(constant) == int(code), constant


def test_the_store_tables_are_the_migrations_tables(tmp_path: Path) -> None:
    open_store(tmp_path / "arxivbot.db").close()
    with sqlite3.connect(tmp_path / "arxivbot.db") as db:
        created = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    created -= {"_migrations", "sqlite_sequence"}
    documented = set()
    schema = {path.name[:4] for path in (PROJECT / "src" / "arxivbot" / "store" / "schema").glob("*.sql")}
    for line in section("The store").splitlines():
        if line.startswith("| `"):
            table_cell, _, migrations = line.split(" | ")[:3]
            documented |= set(re.findall(r"`(\w+)`", table_cell))
            assert set(migrations.split(", ")) <= schema, line
    assert documented == created


# --- the worked example: a new chat service in under 50 lines ----------------------------------------------


def worked_example() -> str:
    (code,) = code_blocks(section("The seams"), "python")
    return code


def test_the_worked_example_is_as_short_as_it_says() -> None:
    lines = worked_example().splitlines()
    said = re.search(r"As `deliver/mattermost.py` that is (\d+) lines", TEXT)
    assert said and int(said[1]) == len(lines) < 50


def load_example() -> types.ModuleType:
    module = types.ModuleType("mattermost_example")
    exec(compile(worked_example(), str(DOC), "exec"), module.__dict__)  # the doc's own code, run as written
    return module


def test_the_worked_example_delivers_a_digest_exactly_once(
    tmp_path: Path, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example()
    local_server.route("/hooks/xxx-generatedkey", Scripted(200, b"ok"), method="POST")
    monkeypatch.setenv("MATTERMOST_WEBHOOK_URL", local_server.url + "/hooks/xxx-generatedkey")
    # Registered as the doc's step 1 would; "generic" stands in for the kind the settings do not know yet.
    hook = {"kind": "generic", "name": "mattermost", "url_env": "MATTERMOST_WEBHOOK_URL"}
    config = seeded_config(tmp_path, {"webhooks": [hook]}, papers=30, summary=LONG_SUMMARY * 4)
    service = example.MattermostService(config.delivery.webhooks[0], "mattermost", "delivery.webhooks[0]")
    channel = WebhookChannel("mattermost", service, policy=RetryPolicy(max_retries=0, sleep=Sleeps()), timeout=5)
    assert isinstance(service, ChatService) and isinstance(channel, Channel) and isinstance(channel, MessageChannel)

    with open_store(config.storage.database) as store:
        (delivery,) = deliver_due([channel], store, config, day=DAY2, now=NOW)
        posts = [json.loads(request.body) for request in local_server.requests_to("/hooks/xxx-generatedkey")]
        (again,) = deliver_due([channel], store, config, day=DAY2, now=NOW)

    assert delivery.ok and delivery.message == f"posted {len(posts)} messages to 127.0.0.1"
    assert len(posts) > 1  # a long digest in several posts, and never sent twice:
    assert again.message.startswith("already sent") and len(local_server.requests_to("/hooks/xxx-generatedkey")) == len(
        posts
    )
    texts = [post["text"] for post in posts]
    assert all(post["username"] == "arxivbot" and len(post["text"]) <= 16_383 for post in posts)
    assert texts[0].startswith("**arXiv digest 2025-12-23: 30 papers** · [the page](https://example.org/arxiv/)\n")
    assert sum(text.count("](https://arxiv.org/abs/") for text in texts) == 30  # every paper, once
    assert "<script>" in EVIL_TITLE and not any("<script>" in text for text in texts)  # escaped, inert
    (test_post,) = service.test_messages(NOW)
    assert "arxivbot test message" in test_post["text"]
