"""``arxivbot init --check``: re-lint a digest repository against the current scaffold template.

The workflow that ``arxivbot init`` writes runs with the user's LLM key and write access to the
repository, so the settings that keep those safe must survive hand edits. This check reads the
repository's ``.github/workflows/arxivbot.yml`` (YAML, safe loader) and flags, one line each with the fix:

- a ``uses:`` that is not pinned to a full commit SHA (a tag or branch can be moved to other code);
- permissions broader than the template's: write access at the workflow level, or a job granted a
  scope, or a level, that the template does not give it;
- an ``actions/checkout`` without ``persist-credentials: false`` (the token left in ``.git/config``);
- a secret (or the job's token) in a workflow- or job-level ``env:``, where every step sees it;
- a ``${{ … }}`` expression inside ``run:`` (pasted into the script before the shell reads it).

It also checks the other scaffolded files that matter: ``.github/dependabot.yml`` still updates the
actions and the pip requirement, and ``.gitignore`` still keeps ``data/`` (the database) out of the
branch. Configuration, templates and prompt are the user's to change and are not compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from arxivbot.errors import UsageError

WORKFLOW = ".github/workflows/arxivbot.yml"
DEPENDABOT = ".github/dependabot.yml"
GITIGNORE = ".gitignore"
_TEMPLATE_WORKFLOW = "scaffold/workflow.yml"
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
_TEMPLATE_PIN = re.compile(r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*(\S+)")
_LEVELS = {"none": 0, "read": 1, "write": 2}
_CREDENTIALS = re.compile(r"\$\{\{[^}]*\b(secrets\.\w+|secrets\[|github\.token|toJSON\(secrets\))")


@dataclass(frozen=True)
class Finding:
    """One thing that differs from the template in a way that matters, and how to put it right."""

    path: str  # relative to the repository
    line: int | None
    problem: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.problem}; fix: {self.fix}"


def check_repository(target: Path) -> list[Finding]:
    """Every finding for the digest repository in ``target``, in file order; empty when it is clean.

    Raises :class:`UsageError` when ``target`` is no digest repository (no workflow to check).
    """
    if not target.is_dir():
        raise UsageError(f"{target}: no such folder; give the digest repository's folder (default: .)")
    workflow = target / WORKFLOW
    if not workflow.is_file():
        raise UsageError(
            f"{target}: has no {WORKFLOW}, so it is no digest repository made by arxivbot init; "
            "run the check in that repository's folder, or create one with: arxivbot init DIR"
        )
    findings = check_workflow(workflow.read_text(encoding="utf-8"))
    findings += check_dependabot(target / DEPENDABOT)
    findings += check_gitignore(target / GITIGNORE)
    return findings


# --- the workflow -----------------------------------------------------------------------------------------


def check_workflow(text: str, template_text: str | None = None) -> list[Finding]:
    """The findings in the workflow ``text``, measured against the template (by default the packaged one)."""
    if template_text is None:
        template_text = resources.files("arxivbot").joinpath(_TEMPLATE_WORKFLOW).read_text(encoding="utf-8")
    return sorted(_workflow_findings(text, template_text), key=lambda finding: finding.line or 0)


def _workflow_findings(text: str, template_text: str) -> Iterator[Finding]:
    try:
        workflow = _load_yaml(text)
    except _yaml_error() as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        line = mark.line + 1 if mark is not None else None
        yield Finding(WORKFLOW, line, f"not valid YAML ({problem})", "correct the syntax on that line")
        return
    if not isinstance(workflow, _Mapping) or not isinstance(workflow.get("jobs"), Mapping):
        yield Finding(WORKFLOW, None, "not a workflow (no jobs: mapping)", "restore it from a fresh `arxivbot init`")
        return
    template = _load_yaml(template_text)
    pins = {
        m.group(1).lower(): f"{m.group(1)}@{m.group(2)} # {m.group(3)}" for m in _TEMPLATE_PIN.finditer(template_text)
    }
    yield from _workflow_permissions(workflow)
    yield from _credentials_in_env(workflow, "the workflow")
    for name, job in workflow["jobs"].items():
        if isinstance(job, _Mapping):
            yield from _check_job(str(name), job, template["jobs"].get(name), pins)


def _workflow_permissions(workflow: _Mapping) -> Iterator[Finding]:
    if "permissions" not in workflow:
        yield Finding(
            WORKFLOW,
            workflow.line,
            "no top-level permissions: every job gets the repository's default token, which may be write-all",
            "add `permissions: {}` at the top level; each job grants what it needs",
        )
        return
    line = workflow.key_lines.get("permissions")
    if workflow["permissions"] == "write-all":
        yield Finding(
            WORKFLOW,
            line,
            "permissions: write-all at the workflow level gives every job write access to everything",
            "set `permissions: {}` at the top level; each job grants what it needs",
        )
    for scope, level in _scopes(workflow["permissions"]).items():
        if level == "write":
            yield Finding(
                WORKFLOW,
                line,
                f"permissions at the workflow level grant {scope}: write to every job",
                f"set `permissions: {{}}` at the top level and grant {scope}: write only in the job that needs it",
            )


def _check_job(name: str, job: _Mapping, template_job: Any, pins: dict[str, str]) -> Iterator[Finding]:
    yield from _job_permissions(name, job, template_job)
    yield from _credentials_in_env(job, f'job "{name}"')
    if "uses" in job:  # a reusable workflow
        yield from _pinned(f'job "{name}"', str(job["uses"]), job.key_lines.get("uses"), pins)
    steps = job.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else [], start=1):
        if not isinstance(step, _Mapping):
            continue
        label = f'job "{name}", step "{step.get("name") or str(step.get("uses", index)).split("@")[0]}"'
        if "uses" in step:
            uses = str(step["uses"])
            yield from _pinned(label, uses, step.key_lines.get("uses"), pins)
            if uses.split("@")[0].lower() == "actions/checkout":
                yield from _checkout_credentials(label, step)
        run = step.get("run")
        if isinstance(run, str) and "${{" in run:
            yield Finding(
                WORKFLOW,
                step.key_lines.get("run"),
                f"{label}: a ${{{{ … }}}} expression inside run: is pasted into the script before bash reads it",
                'pass the value through the step\'s env: and use "$NAME" in the script',
            )


def _job_permissions(name: str, job: _Mapping, template_job: Any) -> Iterator[Finding]:
    if "permissions" not in job:
        return  # it then has the workflow's, checked above
    allowed = _scopes(template_job.get("permissions", {})) if isinstance(template_job, Mapping) else {}
    if job["permissions"] == "write-all":
        wanted = ", ".join(f"{scope}: {level}" for scope, level in allowed.items()) or "{}"
        yield Finding(
            WORKFLOW,
            job.key_lines.get("permissions"),
            f'job "{name}" is granted write-all, write access to everything',
            f"grant only what the template does: permissions: {wanted}",
        )
    for scope, level in _scopes(job["permissions"]).items():
        if _LEVELS[level] > _LEVELS[allowed.get(scope, "none")]:
            template_has = f"{scope}: {allowed[scope]}" if scope in allowed else f"no {scope} permission"
            yield Finding(
                WORKFLOW,
                job.key_lines.get("permissions"),
                f'job "{name}" is granted {scope}: {level}; the template grants it {template_has}',
                f"lower it to {scope}: {allowed[scope]}" if scope in allowed else f"remove {scope}: {level}",
            )


def _pinned(label: str, uses: str, line: int | None, pins: dict[str, str]) -> Iterator[Finding]:
    if uses.startswith("./") or uses.startswith("docker://"):
        return  # code of this repository, or an image (pinned by digest if at all)
    action, _, ref = uses.partition("@")
    if _COMMIT_SHA.fullmatch(ref):
        return
    suggestion = pins.get(action.lower())
    yield Finding(
        WORKFLOW,
        line,
        f"{label}: {uses} is not pinned to a commit; a tag or branch can be moved to other code",
        f"uses: {suggestion}"
        if suggestion
        else f"pin {action} to the full commit SHA of a release, version in a comment",
    )


def _checkout_credentials(label: str, step: _Mapping) -> Iterator[Finding]:
    options = step.get("with")
    persist = options.get("persist-credentials") if isinstance(options, Mapping) else None
    if persist is False or str(persist).lower() == "false":
        return
    yield Finding(
        WORKFLOW,
        step.key_lines.get("uses"),
        f"{label}: actions/checkout leaves the token in .git/config, readable by every later step",
        "add `with: persist-credentials: false` (the git steps that push get the token through their env:)",
    )


def _credentials_in_env(owner: _Mapping, label: str) -> Iterator[Finding]:
    env = owner.get("env")
    if not isinstance(env, _Mapping):
        return
    for key, value in env.items():
        found = _CREDENTIALS.search(str(value))
        if found:
            yield Finding(
                WORKFLOW,
                env.key_lines.get(str(key)),
                f"{label}: env {key} hands {found.group(1).rstrip('[(')} to every step of {label.split(',')[0]}",
                f"move {key} to the env: of the step that uses it",
            )


def _scopes(permissions: Any) -> dict[str, str]:
    """``permissions:`` as ``{scope: level}``; the shorthands (read-all, write-all) are handled by the callers."""
    if isinstance(permissions, Mapping):
        return {str(scope): str(level) for scope, level in permissions.items() if str(level) in _LEVELS}
    return {}


# --- the other scaffolded files -------------------------------------------------------------------------------


def check_dependabot(path: Path) -> Iterator[Finding]:
    """Dependabot still proposes updates to the pinned actions and to the pip requirement."""
    if not path.is_file():
        yield Finding(
            DEPENDABOT,
            None,
            "missing: nothing proposes updates to the pinned actions and to arxivbot",
            "copy .github/dependabot.yml from a fresh `arxivbot init` folder",
        )
        return
    try:
        config = _load_yaml(path.read_text(encoding="utf-8"))
    except _yaml_error() as err:
        yield Finding(
            DEPENDABOT, None, f"not valid YAML ({err})", "correct it, or copy it from a fresh `arxivbot init`"
        )
        return
    updates = config.get("updates") if isinstance(config, Mapping) else None
    ecosystems = {str(u.get("package-ecosystem")) for u in updates or [] if isinstance(u, Mapping)}
    for ecosystem, what in (("github-actions", "the pinned actions"), ("pip", "arxivbot in requirements.txt")):
        if ecosystem not in ecosystems:
            yield Finding(
                DEPENDABOT,
                None,
                f"no {ecosystem} entry: nothing proposes updates to {what}",
                f"add an updates: entry with package-ecosystem: {ecosystem} (see a fresh `arxivbot init`)",
            )


def check_gitignore(path: Path) -> Iterator[Finding]:
    """``data/`` (the database, kept on the state branch) stays out of the digest's branch."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    if not {line.strip() for line in lines} & {"/data/", "data/", "/data", "data"}:
        yield Finding(
            GITIGNORE,
            None,
            "data/ is not ignored: the database could be committed to the digest's branch",
            "add the line /data/",
        )


# --- YAML with line numbers -------------------------------------------------------------------------------------


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers where it, and each of its keys, stood in the file."""

    line: int | None = None
    key_lines: dict[str, int]


def _load_yaml(text: str) -> Any:
    import yaml  # a runtime dependency, imported only when a check runs

    class LineLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Mapping:
        mapping = _Mapping(loader.construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            str(key.value): key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)
        }
        return mapping

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    document = yaml.load(text, Loader=LineLoader)  # nosec B506  # a SafeLoader subclass: no Python objects
    if isinstance(document, _Mapping) and True in document:
        # YAML 1.1 reads the bare key `on` as the boolean true; GitHub reads it as "on".
        document["on"] = document.pop(True)
    return document


def _yaml_error() -> type[Exception]:
    import yaml

    return yaml.YAMLError


def describe(findings: list[Finding], target: Path) -> str:
    """The closing line the CLI prints after the findings."""
    if not findings:
        return (
            f"{target}: clean: actions pinned to commits, least permissions, no persisted credentials, "
            "secrets only in the steps that use them"
        )
    return (
        f"{target}: {len(findings)} problem{'s' if len(findings) != 1 else ''} (exit 1); see docs/deploy.md, Security"
    )


__all__ = ["Finding", "check_dependabot", "check_gitignore", "check_repository", "check_workflow", "describe"]
