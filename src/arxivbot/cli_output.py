"""What the CLI prints about a run: the ``--dry-run`` table, the run in a few sentences, deliveries.

Kept apart from :mod:`arxivbot.cli` (the commands) so each stays short; nothing here parses options.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from arxivbot.models import RunReport

__all__ = ["describe_outputs", "interactive", "print_deliveries", "print_ranking", "print_report"]


def interactive() -> bool:
    """A person is watching: show progress bars. CI logs stay quiet."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def print_ranking(report: RunReport) -> None:
    """The --dry-run table: rank, score, id, category, title, and why each paper is there."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"arxivbot dry run for {report.day}: {report.selected} of "
        f"{report.fetched} announcements selected (nothing written)"
    )
    for column in ("#", "Score", "ArXiv ID", "Category", "Title", "Why"):
        table.add_column(column, overflow="fold")
    for rank, scored in enumerate(report.ranking, start=1):
        table.add_row(
            str(rank),
            f"{scored.score:.1f}",
            scored.paper.versioned_id,
            scored.category,
            scored.paper.title,
            scored.reason,
        )
    Console(width=None if interactive() else 160).print(table)


def print_report(report: RunReport) -> None:
    """The run in a few sentences; a failed run ends with its one ``arxivbot: error:`` line."""
    if report.status == "empty":
        click.echo(f"No announcements for {report.day} (weekend or arXiv holiday): outputs left as they were.")
        print_deliveries(report)
        return
    click.echo(
        f"Digest for {report.day}: {report.selected} papers selected from {report.fetched} announced "
        f"({report.new_papers} new to the database"
        + (f", {report.backfilled} caught up through the API" if report.backfilled else "")
        + ")."
    )
    if report.llm_calls or report.cache_hits or report.summary_failures:
        click.echo(
            f"Summaries: {report.summarized} ({report.llm_calls} LLM calls, {report.cache_hits} cache hits, "
            f"{report.prompt_tokens + report.completion_tokens} tokens: {report.prompt_tokens} prompt + "
            f"{report.completion_tokens} completion; {report.summary_failures} failed)."
        )
    failure = report.message if report.status == "failed" else ""
    for warning in report.warnings:
        if not failure or not warning.endswith(failure):
            click.echo(f"warning: {warning}", err=True)
    if failure:
        click.echo(f"arxivbot: error: {failure}", err=True)
        print_deliveries(report, warnings=False)
        return
    click.echo(describe_outputs(report.outputs))
    print_deliveries(report, warnings=False)


def print_deliveries(report: RunReport, *, warnings: bool = True) -> None:
    """One line per e-mail or chat delivery; failures as warnings (exit code 3: retried next run)."""
    for delivery in report.deliveries:
        if delivery.channel == "files":
            continue
        if delivery.ok:
            click.echo(f"{delivery.channel}: {delivery.message}")
        elif warnings:
            click.echo(f"warning: {delivery.channel}: {delivery.message}", err=True)
    if report.undelivered:
        click.echo("Undelivered digests stay due: the next run (or `arxivbot deliver`) retries them.", err=True)


def describe_outputs(paths: Sequence[str]) -> str:
    """``Wrote README.md and 12 files in public/`` rather than a wall of absolute paths."""
    if not paths:
        return "Outputs unchanged (the digest is the same as last time)."
    here = Path.cwd()
    shown = [os.path.relpath(path, here) if Path(path).is_absolute() else path for path in paths]
    return "Wrote " + ", ".join(shown[:3]) + (f" and {len(shown) - 3} more files" if len(shown) > 3 else "") + "."
