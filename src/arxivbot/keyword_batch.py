"""Word-mode ratings of many papers at once: one automaton pass over all their text, counted with numpy.

Rating a paper one at a time costs a few microseconds of Python around a few microseconds of automaton
scan. For a large batch (a backfill, a re-ranking of the archive) this module removes the Python part:
the titles and abstracts of thousands of papers are lowered into one buffer, each text between spaces
exactly as :func:`~arxivbot.keyword_forms.ascii_word_text` makes it (the encoding writes one byte per
character, so offsets in the buffer are offsets in the text), scanned once, and every match is mapped
back to its paper and text with ``searchsorted``. Term ids, phrase checks, exclusions and scores then
come from array operations; only the few papers where a phrase's words all occur run its regular
expression. The numbers are those of :meth:`KeywordMatcher.rate`, to the last bit (a test compares).

Only for the common configuration: ASCII keywords, one weight for all keywords. Otherwise
:meth:`KeywordMatcher.rate_many` rates paper by paper.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from arxivbot.keyword_forms import ascii_word_text

if TYPE_CHECKING:
    from ahocorasick_rs import BytesAhoCorasick

    from arxivbot.matching import KeywordMatcher

# Below this many papers, numpy's import costs more than the batch saves (a day is ~3,000 papers).
BATCH_MIN = 20_000
_CHUNK = 4096  # papers per buffer: a few megabytes at a time, not the whole corpus at once
_PROVES_NOTHING = -1
_PATTERN, _START = itemgetter(0), itemgetter(1)  # of an automaton's match (pattern index, start, end)


def can_batch(matcher: KeywordMatcher) -> bool:
    """Whether :func:`rate_batch` applies to this matcher's configuration."""
    return (
        matcher.mode == "word"
        and matcher._scanner is not None
        and not matcher._unicode_keywords
        and not matcher._always
        and matcher._uniform_weight is not None
    )


def rate_batch(
    matcher: KeywordMatcher, texts: Sequence[tuple[str, str]], *, chunk: int = _CHUNK
) -> list[tuple[float, bool, bool]]:
    """:meth:`KeywordMatcher.rate` of each ``(title, abstract)``; ``can_batch(matcher)`` must hold."""
    import numpy as np

    if not can_batch(matcher):
        raise ValueError("rate_batch needs a matcher can_batch accepts: rate_many chooses")
    scanner, weight = matcher._scanner, matcher._uniform_weight
    if scanner is None or weight is None:  # as can_batch checked
        raise ValueError("rate_batch needs a matcher can_batch accepts: rate_many chooses")
    count = len(texts)
    papers, patterns, in_title = _matches(scanner, texts, chunk)
    # Each match's term ids: a pattern proves one term, nothing, or (a group code) several terms.
    table = _term_table(matcher)
    term_rows = table[patterns]
    width = table.shape[1]
    term = term_rows.ravel()
    keep = term >= 0
    term_paper = np.repeat(papers, width)[keep]
    term_title = np.repeat(in_title, width)[keep]
    term = term[keep]
    phrase_paper, phrase_term, phrase_title = _confirm_phrases(
        matcher, texts, papers, patterns, in_title, term_paper, term
    )
    term_paper = np.concatenate([term_paper, phrase_paper])
    term = np.concatenate([term, phrase_term])
    term_title = np.concatenate([term_title, phrase_title])

    # One row per paper, one column per term: which terms each paper holds (a few megabytes).
    found = np.zeros((count, len(matcher._terms)), dtype=bool)
    found[term_paper, term] = True
    titled = np.zeros_like(found)
    titled[term_paper[term_title], term[term_title]] = True
    excluding = sorted(matcher._excluding)
    counted = sorted(set(range(len(matcher._terms))) - matcher._excluding)
    excluded = cast(list[bool], found[:, excluding].any(axis=1).tolist())
    matched_count = found[:, counted].sum(axis=1)
    title_count = titled[:, counted].sum(axis=1)
    scores = _scores(weight, matcher.title_bonus, len(matcher._terms), matched_count, title_count)
    return list(zip(scores, (matched_count > 0).tolist(), excluded, strict=True))


def _matches(scanner: BytesAhoCorasick, texts: Sequence[tuple[str, str]], chunk: int) -> tuple[Any, Any, Any]:
    """Every match of the automaton: its paper, its pattern, and whether it is in the title.

    The automaton releases the GIL while it scans, so chunks are scanned on worker threads while
    this one lowers the next chunk and maps the previous one's matches back to papers (a few chunks in
    flight, in order: the result is the same as scanning one after the other).
    """
    import numpy as np

    workers = max(1, min(2, os.cpu_count() or 1))
    found_papers, found_patterns, found_in_title = [], [], []
    in_flight: deque[tuple[int, Any, Future[list[tuple[int, int, int]]]]] = deque()

    def collect() -> None:
        first, starts, scanned = in_flight.popleft()
        matches = scanned.result()
        pattern = np.fromiter(map(_PATTERN, matches), dtype=np.int64, count=len(matches))
        start = np.fromiter(map(_START, matches), dtype=np.int64, count=len(matches))
        piece = np.searchsorted(starts, start + 1, side="right") - 1  # the match's word starts at +1
        found_papers.append(piece // 2 + first)
        found_patterns.append(pattern)
        found_in_title.append(piece % 2 == 0)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="arxivbot-keywords") as pool:
        for first in range(0, len(texts), chunk):
            pieces = [text for pair in texts[first : first + chunk] for text in pair]
            # " title  abstract  title ..." with one space either side of each text: the texts of
            # ascii_word_text back to back. A form's match (" form ") never spans two texts.
            buffer = ascii_word_text("  ".join(pieces))
            lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
            starts = np.concatenate([[1], np.cumsum(lengths + 2)[:-1] + 1])
            in_flight.append((first, starts, pool.submit(scanner.find_matches_as_indexes, buffer, overlapping=True)))
            if len(in_flight) > workers:
                collect()
        while in_flight:
            collect()
    return np.concatenate(found_papers), np.concatenate(found_patterns), np.concatenate(found_in_title)


def _term_table(matcher: KeywordMatcher) -> Any:
    """Pattern index → the term ids it proves, one row per pattern, padded with -1."""
    import numpy as np

    rows: list[tuple[int, ...]] = []
    for code in matcher._code_at:
        if code == _PROVES_NOTHING:
            rows.append(())
        elif code >= 0:
            rows.append((code,))
        else:
            rows.append(tuple(sorted(matcher._groups[code])))
    table = np.full((len(rows), max(1, *map(len, rows))), -1, dtype=np.int64)
    for index, row in enumerate(rows):
        table[index, : len(row)] = row
    return table


def _confirm_phrases(
    matcher: KeywordMatcher,
    texts: Sequence[tuple[str, str]],
    papers: Any,
    patterns: Any,
    in_title: Any,
    term_paper: Any,
    term: Any,
) -> tuple[Any, Any, Any]:
    """Phrases and literals found: checked, as the per-paper path does, where all their words occur."""
    import numpy as np

    count = len(texts)
    index_of: dict[str | bytes, int] = {form: index for index, form in enumerate(matcher._scanned)}
    confirmed_paper: list[int] = []
    confirmed_term: list[int] = []
    confirmed_title: list[bool] = []
    for term_id, (required, _, pattern) in enumerate(matcher._checks):
        if pattern is None:
            continue
        triggers = [
            index_of[form] for form, ids in matcher._triggers.items() if isinstance(form, bytes) and term_id in ids
        ]
        candidate = np.zeros(count, dtype=bool)
        candidate[papers[np.isin(patterns, triggers)]] = True
        all_in_title = np.ones(count, dtype=bool)
        for word in required:
            present = np.zeros(count, dtype=bool)
            present[papers[patterns == index_of[word]]] = True
            candidate &= present
            titled = np.zeros(count, dtype=bool)
            titled[papers[(patterns == index_of[word]) & in_title]] = True
            all_in_title &= titled
        candidate[term_paper[term == term_id]] = False  # proved already (as a single word)
        for paper in np.flatnonzero(candidate).tolist():
            title, abstract = texts[paper]
            if all_in_title[paper] and pattern.search(title.lower()):
                confirmed_title.append(True)
            elif pattern.search(abstract.lower()):
                confirmed_title.append(False)
            else:
                continue
            confirmed_paper.append(paper)
            confirmed_term.append(term_id)
    return (
        np.array(confirmed_paper, dtype=np.int64),
        np.array(confirmed_term, dtype=np.int64),
        np.array(confirmed_title, dtype=bool),
    )


def _scores(weight: float, title_bonus: float, terms: int, matched_count: Any, title_count: Any) -> list[float]:
    """``KeywordMatcher._score_of`` for every paper (one weight for all keywords), to the last bit."""
    # Counts are below the number of terms: one score per possible pair, then one lookup per paper.
    side = terms + 1
    values = [
        round(weight * matched + title_bonus * (weight * titled), 9)
        for matched in range(side)
        for titled in range(side)
    ]
    return list(map(values.__getitem__, (matched_count * side + title_count).tolist()))


__all__ = ["BATCH_MIN", "can_batch", "rate_batch"]
