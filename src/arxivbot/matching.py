"""Keyword matching: which configured keywords a paper's title and abstract mention.

Two modes (the rules, with examples, are in ``docs/matching.md``):

- ``"substring"`` is the reference system's rule, reproduced exactly: a keyword matches when its
  lowercase form occurs anywhere in ``title + " " + abstract``. Keywords count as listed, so one
  listed twice in different case counts twice.
- ``"word"`` (the default) matches whole words: acronyms and names (``LLM``, ``RL``, ``MoE``,
  ``FP8``) as a whole word or its plural; ordinary words with their simple inflections
  (``Pipeline`` → ``pipelines``, ``pipelined``, ``pipelining``); multi-word keywords as phrases
  whose words are separated by spaces or hyphens. A keyword listed twice in different case counts
  once.

Everything that can be prepared is prepared once, when the :class:`KeywordMatcher` is built. In word
mode every form of every keyword goes into one Aho-Corasick automaton (the Rust ``aho-corasick``
crate, through ``ahocorasick_rs``), which finds all of them in one pass over a paper's text, lowered
and with everything but letters and digits turned into spaces; a form counts where it is a whole word.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import NamedTuple

import ahocorasick_rs

from arxivbot import keyword_batch
from arxivbot.keyword_forms import (
    ascii_word_text,
    prepare_term,
    words_of,
)
from arxivbot.keyword_list import distinct_keywords, keyword_weights, log_overlaps

logger = logging.getLogger(__name__)

MODES = ("word", "substring")

_PROVES_NOTHING = -1  # a word a phrase needs, which proves nothing by itself
_PATTERN = itemgetter(0)  # of an automaton's match (pattern index, start, end)


class KeywordScan(NamedTuple):
    """Which keywords a paper mentions: all of them, those in its title, and whether it is excluded."""

    matched: tuple[str, ...]
    in_title: tuple[str, ...]
    excluded: bool


class KeywordMatcher:
    """Keywords, exclude keywords and weights, compiled once for a run and applied to every paper."""

    def __init__(
        self,
        keywords: Sequence[str],
        exclude_keywords: Sequence[str] = (),
        *,
        mode: str = "word",
        weights: Mapping[str, float] | None = None,
        title_bonus: float = 0.5,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f'matching mode must be "word" or "substring", got {mode!r}')  # config validated it
        self.mode = mode
        self.title_bonus = float(title_bonus)
        listed = tuple(keywords)
        # The keywords that are counted, in listing order: as listed (substring), or once each (word).
        self.keywords: tuple[str, ...] = listed if mode == "substring" else distinct_keywords(listed)
        self.exclude_keywords = tuple(exclude_keywords)
        self._weights = keyword_weights(self.keywords, weights or {})
        self._weight_at = tuple(self._weights[k] for k in self.keywords)
        if mode == "substring":
            self._prepare_substrings()
        else:
            self._prepare_words()

    def weight(self, keyword: str) -> float:
        """The weight of one counted keyword (1.0 unless ``matching.weights`` says otherwise)."""
        return self._weights[keyword]

    def scan(self, title: str, abstract: str) -> KeywordScan:
        """Which keywords occur in the title and abstract, and whether an exclude keyword does."""
        found, in_title, excluded = self._find(title, abstract)
        return KeywordScan(self._named(found), self._named(in_title), excluded)

    def score(self, scan: KeywordScan) -> float:
        """``weight`` for every matched keyword, plus ``weight × title_bonus`` for those in the title."""
        weight = self._weights.__getitem__
        return self._total(map(weight, scan.matched), map(weight, scan.in_title))

    def rate(self, title: str, abstract: str) -> tuple[float, bool, bool]:
        """``score(scan(title, abstract))``, whether any keyword matched, and whether an exclude keyword did.

        The same numbers as :meth:`scan` and :meth:`score`, without naming the keywords: what a run
        needs for each of thousands of papers, when only the few it keeps need their keywords named.
        """
        found, in_title, excluded = self._find(title, abstract)
        weight = self._weight_at.__getitem__
        return self._total(map(weight, found), map(weight, in_title)), bool(found), excluded

    def rate_many(self, texts: Iterable[tuple[str, str]]) -> list[tuple[float, bool, bool]]:
        """:meth:`rate` of each ``(title, abstract)``, cheaper per paper: thousands at once (keyword_batch),
        or a paper whose words prove single-word keywords only is rated with C-level set operations."""
        if self.mode == "substring" or self._scanner is None:
            return [self.rate(title, abstract) for title, abstract in texts]
        texts = list(texts)
        if len(texts) >= keyword_batch.BATCH_MIN and keyword_batch.can_batch(self):  # thousands: all at once
            return keyword_batch.rate_batch(self, texts)
        scan = self._scanner.find_matches_as_indexes
        code_at = self._code_at.__getitem__
        form_at = self._scanned.__getitem__
        plain = self._plain_patterns.issuperset
        excluding = self._excluding
        check_ascii = self._unicode_keywords
        rated: list[tuple[float, bool, bool]] = []
        for title, abstract in texts:
            if check_ascii and not (title.isascii() and abstract.isascii()):
                rated.append(self.rate(title, abstract))
                continue
            title_patterns = set(map(_PATTERN, scan(ascii_word_text(title), overlapping=True)))
            patterns = title_patterns.union(map(_PATTERN, scan(ascii_word_text(abstract), overlapping=True)))
            if plain(patterns):  # each word proves one term: no phrase to confirm
                found = set(map(code_at, patterns))
                in_title = set(map(code_at, title_patterns))
                found.discard(_PROVES_NOTHING)
                in_title.discard(_PROVES_NOTHING)
                excluded = not excluding.isdisjoint(found)
                if excluded:
                    found -= excluding
                    in_title -= excluding
            else:
                present = set(map(form_at, patterns))
                found, in_title, excluded = self._find_words(
                    title, abstract, scanned=(present, present.intersection(map(form_at, title_patterns)))
                )
            rated.append((self._score_of(found, in_title), bool(found), excluded))
        return rated

    def _score_of(self, found: Collection[int], in_title: Collection[int]) -> float:
        if self._uniform_weight is None:
            weight = self._weight_at.__getitem__
            return self._total(map(weight, found), map(weight, in_title))
        # n × w is exactly the fsum of n weights w: the same number as _total, to the last bit.
        return round(self._uniform_weight * len(found) + self.title_bonus * (self._uniform_weight * len(in_title)), 9)

    def _find(self, title: str, abstract: str) -> tuple[Collection[int], Collection[int], bool]:
        """Positions (in ``self.keywords``) of the keywords found, of those in the title, and exclusion."""
        if self.mode == "substring":
            return self._find_substrings(title, abstract)
        return self._find_words(title, abstract)

    def _total(self, weights: Iterable[float], title_weights: Iterable[float]) -> float:
        # fsum is exact, so the total does not depend on the order keywords were found in.
        total = math.fsum(weights) + self.title_bonus * math.fsum(title_weights)
        return round(total, 9)  # so 0.1 + 0.2 compares and prints as 0.3

    def _named(self, positions: Iterable[int]) -> tuple[str, ...]:
        return tuple(map(self.keywords.__getitem__, sorted(positions)))

    # --- substring mode: the reference rule ------------------------------------------------------

    def _prepare_substrings(self) -> None:
        positions: dict[str, list[int]] = {}
        for position, keyword in enumerate(self.keywords):
            positions.setdefault(keyword.lower(), []).append(position)
        # Each distinct lowercase keyword is one pattern; a duplicate shares its result. The exclude
        # keywords follow the keywords in the automaton; everything it finds anywhere counts.
        self._needles = tuple((needle, tuple(at)) for needle, at in positions.items())
        self._exclude_needles = tuple(dict.fromkeys(k.lower() for k in self.exclude_keywords))
        patterns = [needle for needle, _ in self._needles] + list(self._exclude_needles)
        self._needle_scanner = (
            ahocorasick_rs.AhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.DFA)
            if all(patterns) and patterns
            else None
        )

    def _find_substrings(self, title: str, abstract: str) -> tuple[list[int], list[int], bool]:
        title_text = title.lower()
        text = title_text + " " + abstract.lower()
        if self._needle_scanner is None:  # no keywords, or an empty one (which occurs everywhere)
            return self._find_substrings_one_by_one(title_text, text)
        matches = self._needle_scanner.find_matches_as_indexes(text, overlapping=True)
        found = {m[0] for m in matches}
        in_title_found = {m[0] for m in matches if m[2] <= len(title_text)}
        matched: list[int] = []
        in_title: list[int] = []
        for index in sorted(found):
            if index >= len(self._needles):
                continue
            positions = self._needles[index][1]
            matched.extend(positions)
            if index in in_title_found:
                in_title.extend(positions)
        excluded = any(index >= len(self._needles) for index in found)
        return matched, in_title, excluded

    def _find_substrings_one_by_one(self, title_text: str, text: str) -> tuple[list[int], list[int], bool]:
        matched: list[int] = []
        in_title: list[int] = []
        for needle, positions in self._needles:
            if needle in text:
                matched.extend(positions)
                if needle in title_text:
                    in_title.extend(positions)
        excluded = any(needle in text for needle in self._exclude_needles)
        return matched, in_title, excluded

    # --- word mode -------------------------------------------------------------------------------

    def _prepare_words(self) -> None:
        # Terms 0..n-1 are the counted keywords, the rest the exclude keywords.
        self._terms = tuple(prepare_term(k) for k in self.keywords + self.exclude_keywords)
        self._excluding = frozenset(range(len(self.keywords), len(self._terms)))
        # One dict from each word worth looking for to the terms it proves (single words) and the
        # terms it triggers a check for (phrases, literals). The other words a phrase needs are
        # keys too, proving nothing: one set intersection per text then says which are present.
        proves: dict[str, set[int]] = {}
        triggers: dict[str, set[int]] = {}
        for term_id, term in enumerate(self._terms):
            for form in term.forms:
                (proves if term.pattern is None else triggers).setdefault(form, set()).add(term_id)
            for word in term.required:
                proves.setdefault(word, set())
        # What a word proves is one int, so a paper's words turn into term ids with one C-level
        # set(map(...)): the term id itself (nearly always), _PROVES_NOTHING, or a negative code
        # standing for several terms (a word that is a form of two keywords, like "decoding").
        # Keys are str for the regular-expression tokeniser, and bytes for the fast ASCII one.
        self._proof: dict[str | bytes, int] = {}
        self._triggers: dict[str | bytes, frozenset[int]] = {}
        self._groups: dict[int, frozenset[int]] = {}
        for word in sorted(proves.keys() | triggers.keys()):
            ids = frozenset(proves.get(word, ()))
            if len(ids) == 1:
                code = next(iter(ids))
            elif not ids:
                code = _PROVES_NOTHING
            else:
                code = next((c for c, group in self._groups.items() if group == ids), -2 - len(self._groups))
                self._groups[code] = ids
            for key in (word, word.encode("ascii")) if word.isascii() else (word,):
                self._proof[key] = code
                if word in triggers:
                    self._triggers[key] = frozenset(triggers[word])
        self._codes = frozenset(self._groups) | {_PROVES_NOTHING}
        # Separate sets per key type keep the lookup tables small.
        self._str_forms = frozenset(k for k in self._proof if isinstance(k, str))
        # The ASCII forms, each between spaces: in the text of ``ascii_word_text`` they match whole words
        # only. Overlapping matches, so that "llm rl" holds both " llm " and " rl ".
        self._scanned = tuple(sorted(k for k in self._proof if isinstance(k, bytes)))
        self._scanner = (
            ahocorasick_rs.BytesAhoCorasick(
                [b" " + form + b" " for form in self._scanned], implementation=ahocorasick_rs.Implementation.DFA
            )
            if self._scanned
            else None
        )
        # For rate_many: each pattern's term id, and the patterns that prove one term and trigger nothing.
        self._code_at = tuple(self._proof[form] for form in self._scanned)
        # A word a phrase needs proves nothing alone: without the phrase's trigger it changes nothing.
        self._plain_patterns = frozenset(
            index
            for index, form in enumerate(self._scanned)
            if self._code_at[index] in (_PROVES_NOTHING, *range(len(self._terms))) and form not in self._triggers
        )
        self._trigger_forms = frozenset(self._triggers)
        # Text outside ASCII needs the slower tokeniser only when a keyword is outside ASCII too.
        self._unicode_keywords = any(not k.isascii() for k in self.keywords + self.exclude_keywords)
        self._checks = tuple(
            (frozenset(w.encode("ascii") if w.isascii() else w for w in t.required), t.required, t.pattern)
            for t in self._terms
        )
        self._always = frozenset(i for i, t in enumerate(self._terms) if not t.forms)
        # With one weight for every keyword (the usual case) a score is a count of keywords.
        weights = set(self._weight_at)
        self._uniform_weight = weights.pop() if len(weights) == 1 else None
        log_overlaps(self.keywords)

    def _find_words(
        self, title: str, abstract: str, *, scanned: tuple[set[bytes], set[bytes]] | None = None
    ) -> tuple[set[int], set[int], bool]:
        # The per-paper path: one automaton pass over the title and one over the abstract (unless
        # ``scanned`` gives the ASCII forms they hold, and those of the title), and term ids gathered
        # with C-level set operations.
        present: set[bytes] | frozenset[str]
        present_in_title: set[bytes] | frozenset[str]
        as_bytes = scanned is not None or not self._unicode_keywords or (title.isascii() and abstract.isascii())
        if scanned is not None:
            present, present_in_title = scanned
        elif as_bytes:
            present, present_in_title = self._scan(title, abstract)
        else:
            title_words = words_of(title)
            present = self._str_forms.intersection(title_words + words_of(abstract))
            present_in_title = self._str_forms.intersection(title_words)
        found = self._term_ids(present)
        in_title = self._term_ids(present_in_title)
        if self._always or not self._trigger_forms.isdisjoint(present):
            self._check_patterns(
                title,
                abstract,
                present=present,
                present_in_title=present_in_title,
                as_bytes=as_bytes,
                found=found,
                in_title=in_title,
            )
        excluded = not self._excluding.isdisjoint(found)
        if self._excluding:
            found -= self._excluding
            in_title -= self._excluding
        return found, in_title, excluded

    def _scan(self, title: str, abstract: str) -> tuple[set[bytes], set[bytes]]:
        """The ASCII forms present in title + abstract, and those in the title."""
        if self._scanner is None:
            return set(), set()
        scan = self._scanner.find_matches_as_indexes
        forms = self._scanned.__getitem__
        in_title = set(map(forms, map(_PATTERN, scan(ascii_word_text(title), overlapping=True))))
        return in_title.union(map(forms, map(_PATTERN, scan(ascii_word_text(abstract), overlapping=True)))), in_title

    def _term_ids(self, words: set[bytes] | frozenset[str]) -> set[int]:
        ids = set(map(self._proof.__getitem__, words))
        if not self._codes.isdisjoint(ids):
            ids.discard(_PROVES_NOTHING)
            for code in ids & self._groups.keys():
                ids.discard(code)
                ids.update(self._groups[code])
        return ids

    def _check_patterns(
        self,
        title: str,
        abstract: str,
        *,
        present: set[bytes] | frozenset[str],
        present_in_title: set[bytes] | frozenset[str],
        as_bytes: bool,
        found: set[int],
        in_title: set[int],
    ) -> None:
        """Confirm the phrases and literals whose words are all present, on the lowercased title or abstract."""
        to_check = self._always.union(*map(self._triggers.__getitem__, present & self._trigger_forms))
        for term_id in to_check - found:
            required_bytes, required, pattern = self._checks[term_id]
            needed = required_bytes if as_bytes else required
            if pattern is None or not needed <= present:
                continue
            if needed <= present_in_title and pattern.search(title.lower()):
                found.add(term_id)
                in_title.add(term_id)
            elif pattern.search(abstract.lower()):
                found.add(term_id)


__all__ = ["MODES", "KeywordMatcher", "KeywordScan"]
