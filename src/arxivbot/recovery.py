"""What a run clears away first: the traces of a run that was killed or crashed.

A run killed mid-way (kill -9, an out-of-memory kill, a runner that lost power) leaves its row in
``runs`` saying ``running`` for ever, and may leave the temporary file of an atomic write beside an
output (``.README.md.x1y2z3a4.tmp``, ``public/rss/.cs.AI.xml.….tmp``) that a workflow would commit.
Both are cleared here, at the start of the next run, while it holds the run lock
(:mod:`arxivbot.runlock`): under the lock no other run can be going, so every ``running`` row is one
that will never finish, and no temporary file is being written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from arxivbot.config import Config
from arxivbot.errors import OutputError
from arxivbot.files import remove_leftover_temp_files
from arxivbot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recovered:
    """What the previous, unfinished runs left behind and this run cleared."""

    aborted_runs: tuple[int, ...] = ()
    removed_files: tuple[Path, ...] = ()


def recover_unfinished_runs(config: Config, store: Store, now: datetime) -> Recovered:
    """Mark unfinished runs ``aborted`` and delete leftover temporary files. Hold the run lock."""
    aborted = store.abort_unfinished_runs(now)
    for run_id in aborted:
        log.warning("Run %d never finished (killed or crashed): marked aborted", run_id)
    removed = _remove_temp_files(config)
    if removed:
        log.info("Removed %d temporary file(s) an interrupted run left behind", len(removed))
    return Recovered(tuple(aborted), tuple(removed))


def _remove_temp_files(config: Config) -> list[Path]:
    """The folders this run writes to: the README's (its own name only), the site, the PDF cache."""
    readme = config.output.readme
    places = [
        (readme.parent, readme.name, False),
        (config.output.site_dir, None, True),
        (config.storage.pdf_cache, None, True),
    ]
    removed: list[Path] = []
    for folder, target, recursive in places:
        try:
            removed += remove_leftover_temp_files(folder, target=target, recursive=recursive)
        except OutputError as err:  # a leftover file is untidy, not a reason to stop the run
            log.warning("%s", err)
    return removed
