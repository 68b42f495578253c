"""``arxivbot init``: a digest repository, ready to push to GitHub.

The scaffold is a folder that becomes a GitHub repository whose README is the daily digest:

- ``config.json``: the reference configuration (SPEC §2.1), with AI summaries through DashScope;
- ``README.template.md``: the digest's layout, the reference shape, editable;
- ``ai_summary_prompt.txt``: the default summary prompt, editable;
- ``requirements.txt``: the one line that says which arxivbot the Action and Vercel install;
- ``.github/workflows/arxivbot.yml``: the weekday workflow (runs, commits, keeps the database), with
  every action pinned to a commit and each job holding only the permissions it needs;
- ``.github/dependabot.yml``: keeps those pins, and the arxivbot in ``requirements.txt``, current;
- ``vercel.json`` and ``api/index.py``: the optional read-only deployment of ``public/``;
- ``.gitignore`` and a ``README.md`` with the three steps to go live.

The templates are package data under ``arxivbot/scaffold/``. A dot-name such as ``.github`` is not
reliably packaged by setuptools, so those are stored under plain names and renamed on the way out.
With ``sample=True`` the configuration reads the bundled sample feed instead of arXiv, and
summaries are off, so the folder can be tried offline at once.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from arxivbot.errors import OutputError, UsageError
from arxivbot.files import write_atomic

# (path in the new repository, package resource it is copied from)
SCAFFOLD_FILES: tuple[tuple[str, str], ...] = (
    ("config.json", "scaffold/config.json"),
    ("README.md", "scaffold/README.md"),
    ("README.template.md", "scaffold/README.template.md"),
    ("ai_summary_prompt.txt", "data/ai_summary_prompt.txt"),
    ("requirements.txt", "scaffold/requirements.txt"),
    (".github/workflows/arxivbot.yml", "scaffold/workflow.yml"),
    (".github/dependabot.yml", "scaffold/dependabot.yml"),
    (".gitignore", "scaffold/gitignore"),
    ("vercel.json", "scaffold/vercel.json"),
    ("api/index.py", "scaffold/api_index.py"),
)
SAMPLE_FEED = ("sample-feed.xml", "data/sample-feed.xml")


def init_repository(target: Path, *, force: bool = False, sample: bool = False) -> list[Path]:
    """Write a digest repository into ``target`` (created if needed); return the files written.

    Existing files are never overwritten unless ``force``: a :class:`UsageError` names them and
    nothing is written. ``sample`` points the configuration at the bundled sample feed.
    """
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder; choose a new or empty folder")
    files = scaffold_files(sample=sample)
    existing = [name for name in files if (target / name).exists()]
    if existing and not force:
        raise UsageError(
            f"{target}: {', '.join(existing)} already exist; pass --force to overwrite them, or choose a new folder"
        )
    written = []
    for name, data in files.items():
        path = target / name
        try:
            write_atomic(path, data)
        except OutputError as err:
            raise OutputError(f"cannot create the digest repository: {err}") from None
        written.append(path)
    return written


def scaffold_files(*, sample: bool = False) -> dict[str, bytes]:
    """Every file of a new digest repository, as ``{relative path: bytes}``."""
    files = {name: _resource(source) for name, source in SCAFFOLD_FILES}
    if sample:
        name, source = SAMPLE_FEED
        files["config.json"] = sample_config(files["config.json"], feed=name)
        files[name] = _resource(source)
    return files


def sample_config(reference: bytes, *, feed: str) -> bytes:
    """The reference configuration, reading ``feed`` (a file beside it) instead of arXiv.

    No catch-up through the arXiv API and no summaries: a run needs no network and no key.
    """
    config = json.loads(reference)
    config["days_back"] = 0
    config["ai_summary"] = {**config["ai_summary"], "enabled": False}
    config["arxiv"] = {"rss_url": feed}
    return (json.dumps(config, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def next_steps(target: Path, *, sample: bool = False) -> str:
    """What to do after ``init``, printed by the CLI."""
    if sample:
        return (
            f"Try it offline now:  arxivbot run --config {target / 'config.json'}\n"
            f"The digest lands in {target / 'README.md'}, the feeds and page in {target / 'public'}.\n"
            'To follow arXiv for real, delete the "arxiv" section from config.json, set "days_back" to 7,\n'
            "and turn ai_summary back on; then follow the three steps in README.md."
        )
    return (
        f"Next: follow the three steps in {target / 'README.md'}:\n"
        "  1. push the folder to a new GitHub repository;\n"
        "  2. add your API key as the repository secret DASHSCOPE_API_KEY (or set ai_summary.enabled to false);\n"
        '  3. in the Actions tab, run "arXiv Bot Daily Update".'
    )


def _resource(name: str) -> bytes:
    return resources.files("arxivbot").joinpath(name).read_bytes()


__all__ = ["SAMPLE_FEED", "SCAFFOLD_FILES", "init_repository", "next_steps", "sample_config", "scaffold_files"]
