"""How word mode reads text and keywords: words, the forms a keyword matches, and its kind.

Pure functions and one frozen record; :mod:`arxivbot.matching` builds its matcher from them. The
rules, with examples, are in ``docs/matching.md``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# A word is a run of letters and digits in any script; everything else separates words, so
# "RL-based" holds the word "rl" and "real-world" does not.
_WORD = re.compile(r"[^\W_]+")
# Speed: a title or abstract is lowercased and split on non-alphanumerics by one encode, one
# bytes.translate and one split, all in C: five times faster than the regular expression, with the
# same words (as bytes). The few characters outside ASCII go through `_ascii_words` below, an
# encoding error handler: a letter or digit becomes DEL (0x7f, which the table keeps inside words,
# so "naïve" stays one word, matching no ASCII keyword), anything else becomes a space ("LLM’s",
# "state–space").
_WORD_DEL = 0x7F
_ASCII_TABLE = bytes(
    ord(chr(c).lower()) if chr(c).isalnum() or c == _WORD_DEL else ord(" ") for c in range(128)
) + bytes(range(128, 256))
_ASCII_WORDS_ERRORS = "arxivbot.ascii-words"


def _ascii_words(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(chr(_WORD_DEL) if c.isalnum() else " " for c in chunk), error.end


codecs.register_error(_ASCII_WORDS_ERRORS, _ascii_words)

# What may separate the words of a phrase: whitespace and the hyphen/dash family.
_PHRASE_GAP = r"[\s\-\u2010-\u2015]+"
_AFTER_WORD = r"(?![^\W_])"  # not followed by a letter or digit
_VOWELS = frozenset("aeiou")
_NO_DOUBLING = frozenset("aeiouwxy")  # final letters that are never doubled (plan → planned, not fix → fixxed)
_KEYWORD_SEPARATORS = frozenset(" \t\n-\u2010\u2011\u2012\u2013\u2014\u2015")


def words_of(text: str) -> list[str]:
    """The lowercase words of ``text``, in order: ``"RL-based, real-world"`` → ``["rl", "based", "real", "world"]``."""
    return _WORD.findall(text.lower())


def ascii_words_of(text: str) -> list[bytes]:
    """The words of :func:`words_of` as bytes, fast; a word with letters outside ASCII comes out mangled.

    Mangled words (``naïve`` → ``na\\x7fve``) match no ASCII keyword, so callers use this unless a
    keyword itself is outside ASCII.
    """
    return text.encode("ascii", _ASCII_WORDS_ERRORS).translate(_ASCII_TABLE).split()


def ascii_word_text(text: str) -> bytes:
    """``text`` as the words of :func:`ascii_words_of`, each between spaces: ``b" rl based real world "``.

    Lowercased, everything but letters and digits a space: ``b" form "`` occurs in it exactly where
    ``form`` is a whole word.
    """
    return f" {text} ".encode("ascii", _ASCII_WORDS_ERRORS).translate(_ASCII_TABLE)


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
class Term:
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


def prepare_term(keyword: str) -> Term:
    """What word mode looks for to find ``keyword``: its forms, and for phrases and literals a pattern."""
    spelled = _WORD.findall(keyword)
    words = [w.lower() for w in spelled]
    kind = keyword_kind(keyword)
    if kind in ("word", "name"):
        return Term(keyword, word_forms(spelled[0]))
    if kind == "phrase":
        # Every word as written, separated by spaces or hyphens; the last one may inflect.
        leading = words[:-1]
        last_forms = word_forms(spelled[-1])
        alternatives = "|".join(re.escape(f) for f in sorted(last_forms, key=len, reverse=True))
        rest = "".join(_PHRASE_GAP + re.escape(w) for w in leading[1:]) + _PHRASE_GAP + f"(?:{alternatives})"
        return Term(keyword, last_forms, _anchored(leading[0], rest), frozenset(leading))
    # A literal: symbols that are part of the keyword (C++, A/B testing, GPT-4.5) must appear as
    # written; runs of whitespace are flexible. Its longest word triggers the check.
    head, *chunks = keyword.lower().split()
    rest = "".join(r"\s+" + re.escape(chunk) for chunk in chunks)
    trigger = frozenset((max(words, key=len),)) if words else frozenset()
    return Term(keyword, trigger, _anchored(head, rest), frozenset(words))


def keyword_identity(keyword: str) -> str:
    """What makes two keywords the same in word mode: their words, ignoring case and separators."""
    if keyword_kind(keyword) == "literal":
        return " ".join(keyword.lower().split())
    return " ".join(words_of(keyword))


def keyword_kind(keyword: str) -> str:
    """``"name"``, ``"word"``, ``"phrase"`` or ``"literal"``: how word mode matches this keyword."""
    parts = _WORD.findall(keyword)
    if not parts or any(not c.isalnum() and c not in _KEYWORD_SEPARATORS for c in keyword):
        return "literal"
    if len(parts) > 1:
        return "phrase"
    return "name" if is_name(parts[0]) else "word"
