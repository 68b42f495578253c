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

Everything that can be prepared is prepared once, when the :class:`KeywordMatcher` is built: a run
then tokenises each title and abstract once and looks every token up in one dict of word forms,
instead of searching the text once per keyword.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from arxivbot.errors import ConfigError

logger = logging.getLogger(__name__)

MODES = ("word", "substring")

# A word is a run of letters and digits in any script; everything else separates words, so
# "RL-based" holds the word "rl" and "real-world" does not.
_WORD = re.compile(r"[^\W_]+")
# Speed: a title or abstract is lowercased and split on non-alphanumerics by one encode, one
# bytes.translate and one split, all in C (five times faster than the regular expression, with the
# same words, as bytes). The few characters outside ASCII go through `_ascii_words`
# below: a letter or digit becomes DEL (0x7f, which the table keeps inside words, so "naïve" stays
# one word that matches no ASCII keyword), anything else becomes a space ("LLM’s", "state–space").
# NUL is kept as a word too: it separates a title from its abstract when both are split at once.
_WORD_DEL = 0x7F
_ASCII_TABLE = bytes(
    ord(chr(c).lower()) if chr(c).isalnum() or c in (_WORD_DEL, 0) else ord(" ") for c in range(128)
) + bytes(range(128, 256))
_ASCII_WORDS_ERRORS = "arxivbot.ascii-words"


def _ascii_words(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(chr(_WORD_DEL) if c.isalnum() else " " for c in chunk), error.end


codecs.register_error(_ASCII_WORDS_ERRORS, _ascii_words)

_PROVES_NOTHING = -1  # a word a phrase needs, which proves nothing by itself
# What may separate the words of a phrase: whitespace and the hyphen/dash family.
_PHRASE_GAP = r"[\s\-\u2010-\u2015]+"
_AFTER_WORD = r"(?![^\W_])"  # not followed by a letter or digit
_VOWELS = frozenset("aeiou")
_NO_DOUBLING = frozenset("aeiouwxy")  # final letters that are never doubled (plan → planned, not fix → fixxed)
_KEYWORD_SEPARATORS = frozenset(" \t\n-\u2010\u2011\u2012\u2013\u2014\u2015")


def words_of(text: str) -> list[str]:
    """The lowercase words of ``text``, in order: ``"RL-based, real-world"`` → ``["rl", "based", "real", "world"]``."""
    return _WORD.findall(text.lower())


def _ascii_words_of(text: str) -> list[bytes]:
    """The words of :func:`words_of` as bytes, except that words with non-ASCII letters are mangled."""
    return text.encode("ascii", _ASCII_WORDS_ERRORS).translate(_ASCII_TABLE).split()


def is_name(word: str) -> bool:
    """An acronym or a name: all capitals (``LLM``, ``R``), a digit (``FP8``) or an inner capital (``MoE``).

    Names match as a whole word or their plural only; they have no other inflections.
    """
    return word.isupper() or any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:])


def word_forms(word: str) -> frozenset[str]:
    """The lowercase forms a single-word keyword matches in word mode.

    Names (see :func:`is_name`) match themselves and their plural. Ordinary words match their
    simple inflections: -s/-es, -ed/-d, -ing (dropping a final e, or doubling a final consonant:
    plan → planning), -ly (-le → -ly, -ic → -ically), and y → -ies/-ied/-ily. Derivations
    (efficient → efficiency, parallel → parallelism) and -er/-est (compute → computer,
    transform → transformer) are deliberately not forms of a word.
    """
    w = word.lower()
    if is_name(word):
        return frozenset((w, w + "s"))
    forms = {w, w + "s", w + "es", w + "ed", w + "ing", w + "ly"}
    if w.endswith("e"):
        forms |= {w + "d", w[:-1] + "ing"}
        if w.endswith("le"):
            forms.add(w[:-1] + "y")  # scalable → scalably
    if len(w) >= 2 and w.endswith("y") and w[-2] not in _VOWELS:
        forms |= {w[:-1] + "ies", w[:-1] + "ied", w[:-1] + "ily"}
    if w.endswith("ic"):
        forms.add(w + "ally")  # dynamic → dynamically
    if len(w) >= 3 and w[-1] not in _NO_DOUBLING and w[-2] in _VOWELS and w[-3] not in _VOWELS:
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}  # plan → planned, planning
    return frozenset(forms)


@dataclass(frozen=True)
class _Term:
    """One keyword (or exclude keyword) prepared for word mode.

    A text holding one of ``forms`` matches a single-word term. For phrases and literals the forms
    only trigger a check: every word in ``required`` must be there too, then ``pattern`` must match
    the lowercased text.
    """

    keyword: str
    forms: frozenset[str]
    pattern: re.Pattern[str] | None = None
    required: frozenset[str] = frozenset()


def _anchored(head: str, rest: str) -> re.Pattern[str]:
    """A pattern for lowercased text that starts with the literal ``head`` at the start of a word.

    The literal comes first and the word-start check right after it (a look-behind), so the regex
    engine can jump between occurrences of ``head`` instead of trying every position: 30x faster.
    """
    literal = re.escape(head)
    return re.compile(literal + rf"(?<![^\W_]{literal})" + rest + _AFTER_WORD)


def _prepare_term(keyword: str) -> _Term:
    spelled = _WORD.findall(keyword)
    words = [w.lower() for w in spelled]
    kind = keyword_kind(keyword)
    if kind in ("word", "name"):
        return _Term(keyword, word_forms(spelled[0]))
    if kind == "phrase":
        # Every word as written, separated by spaces or hyphens; the last one may inflect.
        leading = words[:-1]
        last_forms = word_forms(spelled[-1])
        alternatives = "|".join(re.escape(f) for f in sorted(last_forms, key=len, reverse=True))
        rest = "".join(_PHRASE_GAP + re.escape(w) for w in leading[1:]) + _PHRASE_GAP + f"(?:{alternatives})"
        return _Term(keyword, last_forms, _anchored(leading[0], rest), frozenset(leading))
    # A literal: symbols that are part of the keyword (C++, A/B testing, GPT-4.5) must appear as
    # written; runs of whitespace are flexible. Its longest word triggers the check.
    head, *chunks = keyword.lower().split()
    rest = "".join(r"\s+" + re.escape(chunk) for chunk in chunks)
    trigger = frozenset((max(words, key=len),)) if words else frozenset()
    return _Term(keyword, trigger, _anchored(head, rest), frozenset(words))


def _identity(keyword: str) -> str:
    """What makes two keywords the same in word mode: their words, ignoring case and separators."""
    if keyword_kind(keyword) == "literal":
        return " ".join(keyword.lower().split())
    return " ".join(words_of(keyword))


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
            raise ConfigError(f'matching.mode: must be "word" or "substring", got {mode!r}')
        self.mode = mode
        self.title_bonus = float(title_bonus)
        listed = tuple(keywords)
        # The keywords that are counted, in listing order: as listed (substring), or once each (word).
        self.keywords: tuple[str, ...] = listed if mode == "substring" else _distinct_keywords(listed)
        self.exclude_keywords = tuple(exclude_keywords)
        self._weights = _keyword_weights(self.keywords, weights or {})
        if mode == "substring":
            self._prepare_substrings()
        else:
            self._prepare_words()

    def weight(self, keyword: str) -> float:
        """The weight of one counted keyword (1.0 unless ``matching.weights`` says otherwise)."""
        return self._weights[keyword]

    def scan(self, title: str, abstract: str) -> KeywordScan:
        """Which keywords occur in the title and abstract, and whether an exclude keyword does."""
        if self.mode == "substring":
            return self._scan_substrings(title, abstract)
        return self._scan_words(title, abstract)

    def score(self, scan: KeywordScan) -> float:
        """``weight`` for every matched keyword, plus ``weight × title_bonus`` for those in the title."""
        weight = self._weights.__getitem__
        total = sum(map(weight, scan.matched)) + self.title_bonus * sum(map(weight, scan.in_title))
        return round(total, 9)  # so 0.1 + 0.2 compares and prints as 0.3

    # --- substring mode: the reference rule ------------------------------------------------------

    def _prepare_substrings(self) -> None:
        positions: dict[str, list[int]] = {}
        for position, keyword in enumerate(self.keywords):
            positions.setdefault(keyword.lower(), []).append(position)
        # Each distinct lowercase keyword is searched once; a duplicate shares its result.
        self._needles = tuple((needle, tuple(at)) for needle, at in positions.items())
        self._exclude_needles = tuple(dict.fromkeys(k.lower() for k in self.exclude_keywords))

    def _scan_substrings(self, title: str, abstract: str) -> KeywordScan:
        title_text = title.lower()
        text = title_text + " " + abstract.lower()
        matched: list[int] = []
        in_title: list[int] = []
        for needle, positions in self._needles:
            if needle in text:
                matched.extend(positions)
                if needle in title_text:
                    in_title.extend(positions)
        excluded = any(needle in text for needle in self._exclude_needles)
        return KeywordScan(self._named(matched), self._named(in_title), excluded)

    # --- word mode -------------------------------------------------------------------------------

    def _prepare_words(self) -> None:
        # Terms 0..n-1 are the counted keywords, the rest the exclude keywords.
        self._terms = tuple(_prepare_term(k) for k in self.keywords + self.exclude_keywords)
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
        self._byte_forms = frozenset(k for k in self._proof if isinstance(k, bytes))
        self._str_forms = frozenset(k for k in self._proof if isinstance(k, str))
        self._trigger_forms = frozenset(self._triggers)
        # Text outside ASCII needs the slower tokeniser only when a keyword is outside ASCII too.
        self._unicode_keywords = any(not k.isascii() for k in self.keywords + self.exclude_keywords)
        self._checks = tuple(
            (frozenset(w.encode("ascii") if w.isascii() else w for w in t.required), t.required, t.pattern)
            for t in self._terms
        )
        self._always = frozenset(i for i, t in enumerate(self._terms) if not t.forms)
        _log_overlaps(self.keywords)

    def _scan_words(self, title: str, abstract: str) -> KeywordScan:
        # The per-paper hot path. Title and abstract are tokenised together, around a NUL
        # sentinel word, and term ids are gathered with C-level set operations rather than Python
        # loops over the words found.
        words: list[bytes] | list[str]
        forms: frozenset[bytes] | frozenset[str]
        as_bytes = not self._unicode_keywords or (title.isascii() and abstract.isascii())
        if as_bytes:
            ascii_words = _ascii_words_of(title + " \0 " + abstract)
            words, cut, forms = ascii_words, ascii_words.index(b"\0"), self._byte_forms
        else:
            title_words = words_of(title)
            words, cut, forms = title_words + words_of(abstract), len(title_words), self._str_forms
        present = forms.intersection(words)
        in_title_present = forms.intersection(words[:cut])
        found = self._term_ids(present)
        in_title = self._term_ids(in_title_present)
        if self._always or not self._trigger_forms.isdisjoint(present):
            self._check_patterns(title, abstract, present, as_bytes, found, in_title)
        excluded = not self._excluding.isdisjoint(found)
        if self._excluding:
            found -= self._excluding
            in_title -= self._excluding
        return KeywordScan(self._named(found), self._named(in_title), excluded)

    def _term_ids(self, words: frozenset[bytes] | frozenset[str]) -> set[int]:
        ids = set(map(self._proof.__getitem__, words))
        if not self._codes.isdisjoint(ids):
            ids.discard(_PROVES_NOTHING)
            for code in ids & self._groups.keys():
                ids.discard(code)
                ids.update(self._groups[code])
        return ids

    def _check_patterns(
        self, title: str, abstract: str, present: frozenset[bytes] | frozenset[str], as_bytes: bool, found: set[int],
        in_title: set[int],
    ) -> None:
        """Confirm the phrases and literals whose words are all present, on each lowercased text."""
        to_check = self._always.union(*map(self._triggers.__getitem__, present & self._trigger_forms))
        lowered_title = title.lower()
        lowered_abstract: str | None = None
        for term_id in to_check - found:
            required_bytes, required, pattern = self._checks[term_id]
            if pattern is None or not (required_bytes if as_bytes else required) <= present:
                continue
            if pattern.search(lowered_title):
                found.add(term_id)
                in_title.add(term_id)
                continue
            if lowered_abstract is None:
                lowered_abstract = abstract.lower()
            if pattern.search(lowered_abstract):
                found.add(term_id)

    def _named(self, positions: Iterable[int]) -> tuple[str, ...]:
        return tuple(map(self.keywords.__getitem__, sorted(positions)))


def _distinct_keywords(keywords: tuple[str, ...]) -> tuple[str, ...]:
    """Word mode counts a keyword once however often it is listed; the first spelling is kept."""
    first: dict[str, str] = {}
    for keyword in keywords:
        key = _identity(keyword)
        if key in first:
            logger.warning(
                'keyword "%s" is listed again as "%s"; word matching ignores case, so it counts once',
                first[key], keyword,
            )
            continue
        first[key] = keyword
    return tuple(first.values())


def _keyword_weights(keywords: tuple[str, ...], weights: Mapping[str, float]) -> dict[str, float]:
    """Each counted keyword's weight: its exact entry in ``weights``, else one differing only in case."""
    folded = {key.lower(): float(value) for key, value in weights.items()}
    known = {k.lower() for k in keywords}
    for key in weights:
        if key.lower() not in known:
            logger.warning('matching.weights: "%s" is not one of the keywords, so its weight is unused', key)
    return {k: float(weights[k]) if k in weights else folded.get(k.lower(), 1.0) for k in keywords}


def _log_overlaps(keywords: tuple[str, ...]) -> None:
    """Say when one keyword is an inflection of another: a paper mentioning it scores for both."""
    singles = {k.lower(): k for k in keywords if keyword_kind(k) in ("word", "name")}
    for keyword in singles.values():
        for form in word_forms(keyword) - {keyword.lower()}:
            if form in singles:
                logger.info(
                    'keyword "%s" also matches keyword "%s"; a paper mentioning "%s" scores for both',
                    keyword, singles[form], form,
                )


def keyword_kind(keyword: str) -> str:
    """``"name"``, ``"word"``, ``"phrase"`` or ``"literal"``: how word mode matches this keyword."""
    parts = _WORD.findall(keyword)
    if not parts or any(not c.isalnum() and c not in _KEYWORD_SEPARATORS for c in keyword):
        return "literal"
    if len(parts) > 1:
        return "phrase"
    return "name" if is_name(parts[0]) else "word"


__all__ = [
    "MODES",
    "KeywordMatcher",
    "KeywordScan",
    "is_name",
    "keyword_kind",
    "word_forms",
    "words_of",
]
