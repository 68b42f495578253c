"""Library papers named by arXiv id: metadata through the arXiv API's ``id_list``, cached in SQLite.

Ids are asked in batches of at most 100 per request, through the run's :class:`PoliteClient` (so the
3-second pacing spans these requests and every other arXiv request of the run). Every id is asked
once: the answer is cached, also when arXiv does not know the id (the API silently drops unknown and
withdrawn ids), and such ids are listed in one warning each run. A failed request costs nothing but
the papers of that batch, which are asked again next run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from arxivbot.arxiv.api import parse_api_page
from arxivbot.errors import ArxivbotError, ConfigError
from arxivbot.models import Paper, split_arxiv_id

if TYPE_CHECKING:
    from arxivbot.arxiv.client import PoliteClient
    from arxivbot.store import Store

log = logging.getLogger(__name__)

BATCH = 100  # ids per API request: arXiv's own advice for id_list queries


@dataclass
class Metadata:
    """What is known about a set of ids: the papers, the ids arXiv does not know, what could not be asked."""

    papers: dict[str, Paper] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    requests: int = 0
    warnings: list[str] = field(default_factory=list)


def read_ids_file(path: Path) -> tuple[list[str], list[str]]:
    """The ids listed in ``path`` (one per line; URLs and versions accepted; ``#`` starts a comment),
    and a warning per line that is not an id."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"library.arxiv_ids_file: {path}: file not found (one arXiv id per line)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"library.arxiv_ids_file: {path}: cannot be read ({err})") from None
    ids: list[str] = []
    warnings: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            ids.append(split_arxiv_id(text)[0])
        except ValueError:
            warnings.append(f"{path}: line {number} is not an arXiv id ({text[:60]!r}): skipped")
    return list(dict.fromkeys(ids)), warnings


def fetch_metadata(
    arxiv_ids: Iterable[str], *, store: Store | None, client: PoliteClient, api_url: str, save: bool = True
) -> Metadata:
    """Metadata of ``arxiv_ids``: from the cache, else from the arXiv API (cached when ``save``)."""
    ids = list(dict.fromkeys(arxiv_ids))
    result = Metadata()
    cached = store.arxiv_metadata(ids) if store is not None else {}
    for arxiv_id, paper in cached.items():
        if paper is None:
            result.missing.append(arxiv_id)
        else:
            result.papers[arxiv_id] = paper
    asked = [arxiv_id for arxiv_id in ids if arxiv_id not in cached]
    for start in range(0, len(asked), BATCH):
        batch = asked[start : start + BATCH]
        try:
            found = _ask(client, api_url, batch)
        except ArxivbotError as err:
            result.unreachable.extend(batch)
            result.warnings.append(
                f"arXiv metadata of {len(batch)} library paper(s) not fetched, retried next run: {err}"
            )
            continue
        result.requests += 1
        missing = [arxiv_id for arxiv_id in batch if arxiv_id not in found]
        result.papers.update(found)
        result.missing.extend(missing)
        if store is not None and save:
            store.save_arxiv_metadata(found.values(), missing)
    if result.missing:
        result.warnings.append(
            f"arXiv does not know {len(result.missing)} library id(s) (unknown or withdrawn; check them): "
            + ", ".join(sorted(result.missing))
        )
    for warning in result.warnings:
        log.warning("%s", warning)
    return result


def _ask(client: PoliteClient, api_url: str, batch: Sequence[str]) -> dict[str, Paper]:
    body = client.get(api_url, params={"id_list": ",".join(batch), "max_results": len(batch)}).content
    wanted = set(batch)
    return {paper.arxiv_id: paper for paper in parse_api_page(body).papers if paper.arxiv_id in wanted}
