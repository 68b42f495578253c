"""Typed, frozen records that travel between the pipeline stages.

XML and JSON are turned into these at the boundary (``arxiv.rss``, ``arxiv.api``, ``store``);
nothing downstream handles raw dicts. Datetimes are timezone-aware (UTC unless arXiv said otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

# New-style ids (2512.20276, 0704.0001) and old-style ids (astro-ph/0601001, math.GT/0309136),
# each optionally followed by a version suffix.
_ARXIV_ID = re.compile(r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?$")


def split_arxiv_id(text: str) -> tuple[str, int]:
    """Split ``2512.20276v2`` (or a URL / ``oai:`` identifier ending in one) into ``("2512.20276", 2)``.

    A missing version is reported as 1. Raises ``ValueError`` when no arXiv id ends ``text``.
    """
    candidate = text.strip().rstrip("/")
    for prefix in ("oai:arXiv.org:", "arXiv:", "arxiv:"):
        if candidate.startswith(prefix):
            candidate = candidate[len(prefix) :]
    for marker in ("/abs/", "/pdf/"):
        if marker in candidate:
            candidate = candidate.split(marker, 1)[1]
    if candidate.endswith(".pdf"):
        candidate = candidate[: -len(".pdf")]
    match = _ARXIV_ID.match(candidate)
    if not match:
        raise ValueError(f"not an arXiv identifier: {text!r}")
    return match["id"], int(match["version"] or 1)


@dataclass(frozen=True, slots=True)
class Paper:
    """One arXiv paper, as last seen (metadata of its newest known version)."""

    arxiv_id: str  # without version: "2512.20276" or "astro-ph/0601001"
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]  # as arXiv lists them; the primary one first when known
    link: str  # https://arxiv.org/abs/<id>
    primary_category: str | None = None
    published: datetime | None = None  # first version's submission (API) or announcement (RSS)
    updated: datetime | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"


@dataclass(frozen=True, slots=True)
class Announcement:
    """A paper as announced on one day: the unit the daily digest is built from."""

    paper: Paper
    announce_type: str  # new, cross, replace, replace-cross (API backfill: "new")
    announced: date
    source: str = "rss"  # "rss" or "api"


@dataclass(frozen=True, slots=True)
class Listing:
    """One parsed daily feed: possibly empty (weekends, holidays), never a failure."""

    announcements: tuple[Announcement, ...]
    announced: date | None  # the channel's announcement date, when the feed states it
    skipped_items: int = 0  # malformed items that were logged and dropped


@dataclass(frozen=True, slots=True)
class Reason:
    """What one scorer said about one paper: its own score (before weighting) and why, in a few words.

    Scorers (``rank``) produce these; the store keeps them as they are; every output shows ``text``.
    """

    scorer: str  # which scorer: "keywords", "library", "llm", ...
    score: float  # the scorer's own score, before the combiner's weight
    text: str = ""  # short and human-readable: "keywords: LLM, RL", "like: <a library title>"
    terms: tuple[str, ...] = ()  # the words that drove the score (keyword hits, top terms)
    title_terms: tuple[str, ...] = ()  # the subset of ``terms`` found in the title


KEYWORD_SCORER = "keywords"
LIBRARY_SCORER = "library"
JUDGE_SCORER = "judge"

LIBRARY_SOURCES = ("bibtex", "arxiv", "zotero", "like")


@dataclass(frozen=True, slots=True)
class LibraryItem:
    """One paper of the user's library, from wherever they keep it (BibTeX, arXiv ids, Zotero, a like).

    Not necessarily an arXiv paper: a journal article from a BibTeX export counts as much.
    """

    source: str  # one of LIBRARY_SOURCES
    key: str  # the BibTeX entry key, the arXiv id, the Zotero item key
    title: str
    abstract: str = ""
    arxiv_id: str | None = None  # without version, when known
    doi: str | None = None
    keywords: tuple[str, ...] = ()
    added: datetime | None = None  # when the user added it, when known
    version: int | None = None  # the Zotero item's version
    origin: str = ""  # the file it came from, or "zotero:user/<id>"

    def as_paper(self) -> Paper:
        """The item as a :class:`Paper` for the scorers (which read title and abstract)."""
        arxiv_id = self.arxiv_id or f"{self.source}:{self.key}"
        link = (
            f"https://arxiv.org/abs/{self.arxiv_id}"
            if self.arxiv_id
            else (f"https://doi.org/{self.doi}" if self.doi else "")
        )
        return Paper(arxiv_id, 1, self.title, (), self.abstract, (), link, published=self.added, doi=self.doi)


@dataclass(frozen=True, slots=True)
class Judgement:
    """The LLM judge's verdict on one paper version against one interests statement."""

    arxiv_id: str
    version: int
    statement_hash: str
    model: str
    score: float  # 0 (unrelated) to 10 (exactly the stated interests)
    reason: str = ""


def keyword_reason(score: float, matched: tuple[str, ...], in_title: tuple[str, ...]) -> Reason:
    """The keyword scorer's reason: ``keywords: LLM, RL`` (empty text when nothing matched)."""
    text = "keywords: " + ", ".join(matched) if matched else ""
    return Reason(KEYWORD_SCORER, score, text, tuple(matched), tuple(in_title))


@dataclass(frozen=True, slots=True)
class ScoredPaper:
    """An announcement that passed selection, with its combined score and each scorer's reason."""

    announcement: Announcement
    score: float  # the combined score the ranking is sorted by
    category: str  # displayed category: the paper's first category among the configured ones
    reasons: tuple[Reason, ...] = ()

    @property
    def paper(self) -> Paper:
        return self.announcement.paper

    @property
    def reason(self) -> str:
        """Every scorer's reason in one line: ``keywords: LLM, RL; like: Attention Is All You Need``."""
        return "; ".join(r.text for r in self.reasons if r.text)

    @property
    def scores(self) -> dict[str, float]:
        """One number per scorer that ran (its own score, before weighting)."""
        return {r.scorer: r.score for r in self.reasons}

    @property
    def matched_keywords(self) -> tuple[str, ...]:
        """The configured keywords found in title + abstract (the keyword scorer's terms)."""
        return next((r.terms for r in self.reasons if r.scorer == KEYWORD_SCORER), ())

    @property
    def title_keywords(self) -> tuple[str, ...]:
        """The subset of :attr:`matched_keywords` also found in the title."""
        return next((r.title_terms for r in self.reasons if r.scorer == KEYWORD_SCORER), ())


@dataclass(frozen=True, slots=True)
class Summary:
    """An LLM summary, cached per paper version, model, prompt and input mode."""

    arxiv_id: str
    version: int
    model: str
    prompt_hash: str
    input_mode: str
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DigestEntry:
    rank: int
    scored: ScoredPaper
    summary: Summary | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """One day's published digest, as stored and rendered."""

    day: date
    generated_at: datetime
    entries: tuple[DigestEntry, ...]
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    announced: int | None = None  # announcements the entries were selected from (None: not recorded)


@dataclass(frozen=True, slots=True)
class DigestHead:
    """What the archive needs of a stored digest without loading it: its day, size and revision.

    ``revision`` changes whenever anything the digest's pages show changes (the store keeps it).
    """

    day: date
    papers: int
    revision: str


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A paper as it appears in the feeds, which keep history across days."""

    day: date
    scored: ScoredPaper
    summary: Summary | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one channel (the published files, an inbox, a chat room, …) fared with a run's digest."""

    channel: str
    ok: bool
    message: str = ""  # what went wrong and how to fix it; a short note on success
    written: tuple[str, ...] = ()  # files written (the files channel)


DELIVERY_STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """What the store remembers of one digest's delivery to one message channel (e-mail, a chat).

    ``pending`` is written before anything is sent, so a run that dies half-way leaves the digest due
    (retried by the next run) rather than forgotten. A digest split into several messages records how
    many of them went out, and a retry resumes after those.
    """

    day: date  # the digest's day
    channel: str  # the channel's stable name: "email", "slack", "discord:1" or a configured name
    status: str  # pending, sent or failed
    attempts: int
    parts_sent: int  # messages of a split digest already sent
    parts_total: int
    last_error: str  # one line naming the channel, server and fix; never a secret
    first_attempt_at: datetime
    last_attempt_at: datetime
    sent_at: datetime | None = None


# Exit codes of ``arxivbot run`` (docs/guide.md, "Operations"):
EXIT_OK = 0  # done (also an empty arXiv day)
EXIT_FAILED = 1  # the run failed; what was published before is intact
EXIT_USAGE = 2  # bad configuration or usage
EXIT_UNDELIVERED = 3  # published, but some deliveries failed; they are retried next run
EXIT_LOCKED = 4  # another run holds the database's lock (errors.LockedError); nothing was done


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run did: the one report the CLI prints, ``runs`` stores and ``/health`` serves.

    ``kind`` is ``run``, ``backfill`` or ``dry-run``; ``status`` is ``running``, ``ok``, ``empty`` (no
    announcements), ``failed``, ``aborted`` (it never finished: killed or crashed, as the next run found
    it) or ``preview`` (a dry run: ``ranking`` holds what would be published).
    """

    run_id: int | None
    status: str
    day: date | None
    started_at: datetime
    finished_at: datetime | None
    kind: str = "run"
    fetched: int = 0
    new_papers: int = 0
    selected: int = 0
    summarized: int = 0
    summary_failures: int = 0
    llm_calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    backfilled: int = 0
    message: str = ""
    outputs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    ranking: tuple[ScoredPaper, ...] = ()  # the selected papers, best first (printed by --dry-run)

    @property
    def undelivered(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if not d.ok)

    @property
    def exit_code(self) -> int:
        """0 done, 1 failed (or aborted), 3 published but some deliveries failed (retried next run)."""
        if self.status in ("failed", "aborted"):
            return EXIT_FAILED
        return EXIT_UNDELIVERED if self.undelivered else EXIT_OK

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: what ``arxivbot run --json`` prints and ``/health`` serves (no ranking)."""
        return {
            "id": self.run_id,
            "kind": self.kind,
            "status": self.status,
            "day": self.day.isoformat() if self.day else None,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "exit_code": self.exit_code,
            "counts": {
                "fetched": self.fetched,
                "new_papers": self.new_papers,
                "backfilled": self.backfilled,
                "selected": self.selected,
                "summarized": self.summarized,
                "summary_failures": self.summary_failures,
                "llm_calls": self.llm_calls,
                "cache_hits": self.cache_hits,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            },
            "deliveries": [{"channel": d.channel, "ok": d.ok, "message": d.message} for d in self.deliveries],
            "outputs": list(self.outputs),
            "warnings": list(self.warnings),
            "message": self.message,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


@dataclass(frozen=True, slots=True)
class HttpValidators:
    """What a conditional GET needs, plus the day the cached response announced."""

    etag: str | None
    last_modified: str | None
    announced: date | None


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long papers keep their full record (``docs/configuration.md``, section ``retention``).

    ``full_days`` is the effective window: build it with ``Config.retention_policy()``, which never
    makes it shorter than ``days_back`` (digests rank from full records of that window).
    """

    full_days: int = 7
    compact: bool = True  # past the window, papers no one kept shrink to a compact record
    vacuum: bool = True  # give the freed space back to the file system


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one application of the retention policy did."""

    cutoff: date | None  # announcements before this day were considered; None when compaction is off
    compacted_papers: int = 0  # papers whose full record became a compact one
    compacted_announcements: int = 0
    converted: bool = False  # the file was switched to incremental auto-vacuum (a one-time VACUUM)
    bytes_before: int = 0  # the database's size in pages × page size
    bytes_after: int = 0
