"""The ``arxivbot`` command line: thin commands over the library.

Each command parses its arguments, calls one library function, and turns an
:class:`~arxivbot.errors.ArxivbotError` into a one-line message (one line per problem of a bad config)
and its exit code (0 success, 1 the run failed, 2 bad configuration or usage, 3 published but some
deliveries failed, 4 another run holds the database's lock). No tracebacks, unless ``-v`` asks.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from arxivbot.cli_output import interactive, print_ranking, print_report
from arxivbot.errors import ArxivbotError, UsageError
from arxivbot.models import EXIT_UNDELIVERED

if TYPE_CHECKING:
    from arxivbot.config import Config
    from arxivbot.runtime import Runtime

log = logging.getLogger("arxivbot")
F = TypeVar("F", bound=Callable[..., Any])
# arxivbot.config.DEFAULT_CONFIG_NAME, spelled here so that `--help` never imports pydantic (a test
# checks they agree): each command imports what it needs when it runs.
DEFAULT_CONFIG_NAME = "config.json"


# --- shared options and error handling -------------------------------------------------------------


def setup_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    root = logging.getLogger("arxivbot")
    root.handlers.clear()
    if interactive():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, show_time=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("arxivbot: %(levelname)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    for noisy in ("httpx", "httpcore", "openai", "apscheduler"):  # their INFO lines would bury ours
        logging.getLogger(noisy).setLevel(logging.WARNING)


def common_options(command: F) -> F:
    """``--config``, ``-v`` and ``-q`` for every command that reads a configuration."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_CONFIG_NAME,
        show_default=True,
        help="The configuration file (JSON).",
    )
    @click.option("-v", "--verbose", count=True, help="More detail (-v debug; shows tracebacks on errors).")
    @click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
    @functools.wraps(command)
    def wrapper(*args: Any, config_path: Path, verbose: int, quiet: bool, **kwargs: Any) -> Any:
        verbosity = -1 if quiet else verbose
        setup_logging(verbosity)
        try:
            from arxivbot.config import load_config

            config = load_config(config_path)
            return command(*args, config=config, **kwargs)
        except ArxivbotError as err:
            if verbosity > 0:
                log.exception("failed")
            _fail(str(err), err.exit_code)
        except click.ClickException:  # usage errors: click prints them and exits 2
            raise
        except KeyboardInterrupt:
            _fail("interrupted; outputs left as they were", 130)
        except Exception as err:  # a bug: one line for the user, the traceback with -v
            if verbosity > 0:
                log.exception("internal error")
            _fail(f"internal error: {type(err).__name__}: {err} (run with -v for details)", 1)

    return wrapper  # type: ignore[return-value]


def _fail(message: str, code: int) -> None:
    """The error, one ``arxivbot: error:`` line per problem (a bad config can have several), and exit."""
    for line in message.splitlines() or [""]:
        click.echo(f"arxivbot: error: {line}", err=True)
    sys.exit(code)


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"must be a date as YYYY-MM-DD, got {value!r}") from None


# --- commands ----------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="arxivbot", prog_name="arxivbot")  # read only when asked
def main() -> None:
    """arxivbot: your daily arXiv digest, ranked by your keywords and summarized by an LLM.

    Run `arxivbot run` each weekday (GitHub Actions or cron), or `arxivbot serve` for a web service.
    """


def _runtime(config: Config) -> AbstractContextManager[Runtime]:
    """The runtime of a command: real clients, real clocks, progress bars on a terminal.

    A program embedding the CLI may replace parts of it through click's context object, a dict of
    :func:`~arxivbot.runtime.open_runtime` arguments: the tests run
    ``CliRunner().invoke(main, args, obj={"sleep": fake_sleep})`` to prove retries without waiting.
    """
    from arxivbot.runtime import open_runtime

    overrides = click.get_current_context().obj or {}
    return open_runtime(config, progress=interactive(), **overrides)


@main.command()
@common_options
@click.option("--dry-run", is_flag=True, help="Fetch and print the ranking; write nothing (no database, no outputs).")
@click.option(
    "--date",
    "day",
    callback=_parse_day,
    metavar="YYYY-MM-DD",
    help="Label the digest with this day (default: the day arXiv announced).",
)
@click.option("--no-backfill", is_flag=True, help="Do not catch up on missed days through the arXiv API.")
@click.option("--resummarize", is_flag=True, help="Ask the LLM again even when a summary is cached.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON instead of sentences.")
def run(config: Config, dry_run: bool, day: date | None, no_backfill: bool, resummarize: bool, as_json: bool) -> None:
    """Run one cycle: fetch, select, rank, store, summarize and publish the digest."""
    from arxivbot import pipeline

    with _runtime(config) as runtime:
        if dry_run:
            report = pipeline.preview_cycle(config, runtime, day=day)
        else:
            report = pipeline.run_cycle(config, runtime, day=day, backfill=not no_backfill, resummarize=resummarize)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    elif dry_run:
        print_ranking(report)
    else:
        print_report(report)
    if report.exit_code:
        sys.exit(report.exit_code)


@main.command()
@common_options
@click.option("--since", required=True, callback=_parse_day, metavar="YYYY-MM-DD", help="First day to fetch.")
@click.option("--until", callback=_parse_day, metavar="YYYY-MM-DD", help="Last day to fetch (default: today).")
def backfill(config: Config, since: date, until: date | None) -> None:
    """Fetch past days from the arXiv API into the database (politely, one request every few seconds)."""
    from arxivbot import pipeline

    last = until or datetime.now(timezone.utc).date()  # arXiv's days, like the rest of arxivbot, are UTC
    if since > last:
        raise click.BadParameter(f"--since {since} is after --until {last}")
    with _runtime(config) as runtime:
        report = pipeline.run_backfill(config, runtime, since=since, until=last)
    click.echo(f"Backfilled {since} to {last}: {report.fetched} papers fetched, {report.new_papers} new.")


@main.command()
@common_options
@click.option(
    "--date",
    "day",
    callback=_parse_day,
    metavar="YYYY-MM-DD",
    help="Send the digest of this day only (default: the newest digest and every one still due).",
)
@click.option("--channel", metavar="NAME", help="Only this channel: email, slack, discord:1 or a configured name.")
@click.option("--force", is_flag=True, help="Send even to channels that already delivered the digest.")
@click.option("--test", "test_message", is_flag=True, help="Send a short test message to every channel instead.")
def deliver(config: Config, day: date | None, channel: str | None, force: bool, test_message: bool) -> None:
    """Send digests by e-mail and chat by hand: what is due, one day's again, or a test message.

    Exits 3 when a channel failed (its digest stays due; the next run retries it).
    """
    from arxivbot.deliver.outbox import deliver_by_hand, send_test_messages

    if test_message and (day is not None or force):
        raise UsageError("--test sends a test message to each channel; it takes no --date or --force")
    with _runtime(config) as runtime:
        if test_message:
            deliveries = send_test_messages(config, runtime, channel=channel)
        else:
            deliveries = deliver_by_hand(config, runtime, day=day, channel=channel, force=force)
    if not deliveries:
        click.echo("Nothing to send: the digest lists no paper (set send_empty to send empty digests too).")
    for delivery in deliveries:
        if delivery.ok:
            click.echo(f"{delivery.channel}: {delivery.message}")
        else:
            click.echo(f"arxivbot: error: {delivery.channel}: {delivery.message}", err=True)
    if any(not delivery.ok for delivery in deliveries):
        sys.exit(EXIT_UNDELIVERED)


@main.command()
@common_options
@click.option("--host", default=None, help="Interface to listen on (default: server.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: server.port, 8000).")
def serve(config: Config, host: str | None, port: int | None) -> None:
    """Serve the feeds, page, JSON, /health and a protected /update, with a daily schedule."""
    from arxivbot.serve import serve as serve_forever

    serve_forever(config, host=host, port=port)


@main.command()
@common_options
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1), help="How many runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON (each as `run --json` prints it).")
def status(config: Config, limit: int, as_json: bool) -> None:
    """Show the last runs recorded in the database: outcome, day, counts and message, newest first."""
    from arxivbot.status import describe_run, run_status

    found = run_status(config, limit)
    if as_json:
        click.echo(json.dumps(found.to_dict(), ensure_ascii=False, indent=2))
        return
    if not found.runs:
        click.echo(f"No runs recorded in {found.database} yet: `arxivbot run` records one.")
        return
    click.echo(
        f"Last runs in {found.database}, newest first" + (" (a run is in progress):" if found.in_progress else ":")
    )
    for run in found.runs:
        click.echo(describe_run(run, in_progress=found.in_progress))


@main.command()
@click.argument(
    "directory", metavar="[DIR]", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist in DIR.")
@click.option("--sample", is_flag=True, help="Read the bundled sample feed instead of arXiv (try it offline, no key).")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: re-lint the digest repository in DIR (default .) against the current template; "
    "one line per problem with its fix, exit 1 if any.",
)
def init(directory: Path, force: bool, sample: bool, check: bool) -> None:
    """Create a digest repository in DIR (default: the current folder): config, README template, prompt, workflow."""
    if check:
        if force or sample:
            _fail("--check writes nothing; use it without --force and --sample", 2)
        check_scaffold(directory)
        return
    from arxivbot.scaffold import init_repository, next_steps

    try:
        written = init_repository(directory, force=force, sample=sample)
    except ArxivbotError as err:
        _fail(str(err), err.exit_code)
    where = "the current folder" if directory == Path(".") else str(directory)
    click.echo(f"Created a digest repository in {where}:")
    for path in written:
        click.echo(f"  {path.relative_to(directory)}")
    click.echo(next_steps(directory, sample=sample))


def check_scaffold(directory: Path) -> None:
    """``init --check``: print each finding (one line, with its fix) and exit 1 if there is any."""
    from arxivbot.scaffold_check import check_repository, describe

    try:
        findings = check_repository(directory)
    except ArxivbotError as err:
        _fail(str(err), err.exit_code)
        return
    for finding in findings:
        click.echo(str(finding))
    click.echo(describe(findings, directory), err=bool(findings))
    if findings:
        sys.exit(1)


def _verdict_command(verdict: str | None, help_text: str) -> Callable[..., None]:
    @common_options
    @click.argument("arxiv_ids", metavar="ID...", nargs=-1, required=True)
    def command(config: Config, arxiv_ids: tuple[str, ...]) -> None:
        from arxivbot.library import record_verdicts

        count = record_verdicts(config, arxiv_ids, verdict)
        if verdict is None:
            click.echo(f"Forgot the verdict on {count} of {len(arxiv_ids)} paper(s).")
        else:
            click.echo(f"Recorded {count} paper(s) as {verdict}d; the next run learns from them.")

    command.__doc__ = help_text
    return command


main.command("like")(
    _verdict_command(
        "like", "Add papers (arXiv ids or abs URLs) to your library: ranking learns to find more like them."
    )
)
main.command("dislike")(
    _verdict_command(
        "dislike", "Mark papers (arXiv ids or abs URLs) as not for you: ranking learns to push such papers down."
    )
)
main.command("unlike")(_verdict_command(None, "Forget your like or dislike of papers (arXiv ids or abs URLs)."))


@main.command("library")
@common_options
@click.option("--newest", default=10, show_default=True, help="How many of the newest library papers to list.")
def library_command(config: Config, newest: int) -> None:
    """Load your library as a run would, and show what it holds: papers per source, the newest ones."""
    from arxivbot.library import newest as newest_items
    from arxivbot.library import read_library

    with _runtime(config) as runtime:
        library = read_library(config, runtime)
    counts = ", ".join(f"{count} {source}" for source, count in library.counts().items())
    click.echo(f"Library: {len(library)} paper(s) ({counts}); {len(library.disliked)} disliked.")
    if not library.items:
        click.echo(
            "Nothing to learn from yet: set library.bibtex, library.arxiv_ids or library.zotero, or `arxivbot like ID`."
        )
    for item in newest_items(library.items, newest):
        added = item.added.date().isoformat() if item.added else "----------"
        ident = item.arxiv_id or item.doi or item.key
        click.echo(f"  {added}  [{item.source}] {ident}: {item.title}")
    for warning in library.warnings:
        click.echo(f"warning: {warning}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
