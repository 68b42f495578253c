"""The keyword list as the user wrote it, checked once per run: a keyword listed twice (word mode
ignores case), a weight for a keyword that is not listed, one keyword an inflection of another."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from arxivbot.keyword_forms import keyword_identity, keyword_kind, word_forms

logger = logging.getLogger(__name__)


def distinct_keywords(keywords: tuple[str, ...]) -> tuple[str, ...]:
    """Word mode counts a keyword once however often it is listed; the first spelling is kept."""
    first: dict[str, str] = {}
    for keyword in keywords:
        key = keyword_identity(keyword)
        if key in first:
            logger.warning(
                'keyword "%s" is listed again as "%s"; word matching ignores case, so it counts once',
                first[key],
                keyword,
            )
            continue
        first[key] = keyword
    return tuple(first.values())


def keyword_weights(keywords: tuple[str, ...], weights: Mapping[str, float]) -> dict[str, float]:
    """Each counted keyword's weight: its exact entry in ``weights``, else one differing only in case."""
    folded = {key.lower(): float(value) for key, value in weights.items()}
    known = {k.lower() for k in keywords}
    for key in weights:
        if key.lower() not in known:
            logger.warning('matching.weights: "%s" is not one of the keywords, so its weight is unused', key)
    return {k: float(weights[k]) if k in weights else folded.get(k.lower(), 1.0) for k in keywords}


def log_overlaps(keywords: tuple[str, ...]) -> None:
    """Say when one keyword is an inflection of another: a paper mentioning it scores for both."""
    singles = {k.lower(): k for k in keywords if keyword_kind(k) in ("word", "name")}
    for keyword in singles.values():
        for form in word_forms(keyword) - {keyword.lower()}:
            if form in singles:
                logger.info(
                    'keyword "%s" also matches keyword "%s"; a paper mentioning "%s" scores for both',
                    keyword,
                    singles[form],
                    form,
                )
