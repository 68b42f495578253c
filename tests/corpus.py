"""Small, deterministic paper corpora for the relevance tests: a few topics, each with its own words.

A library drawn from one topic should pull that topic's papers to the top of a mixed day; nothing
here is real arXiv data (tests use small fixtures of their own).
"""

from __future__ import annotations

import random
from datetime import date

from arxivbot.models import Announcement, Paper

TOPICS = {
    "serving": "kv cache serving throughput latency batching decoding speculative gpu memory paged attention "
    "inference scheduler prefill tokens requests quantization kernel",
    "astro": "galaxy telescope stellar redshift spectra cosmology dark matter supernova luminosity survey "
    "exoplanet orbit photometry halo cluster",
    "biology": "protein folding molecule binding enzyme genome sequencing cell receptor ligand assay "
    "mutation expression tissue pathway antibody",
    "vision": "image segmentation detection pixels camera convolutional object recognition depth scene "
    "video frames optical flow pose tracking",
}
COMMON = "we propose method results show approach novel paper study experiments performance evaluate"


def make_paper(arxiv_id: str, topic: str, seed: int, *, title: str | None = None) -> Paper:
    rng = random.Random(f"{topic}|{seed}")
    words = TOPICS[topic].split()
    common = COMMON.split()
    title_words = rng.sample(words, 4)
    abstract = " ".join(rng.choice(words) if rng.random() < 0.6 else rng.choice(common) for _ in range(60))
    return Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=title or " ".join(title_words).title(),
        authors=("A. Author",),
        abstract=abstract.capitalize() + ".",
        categories=("cs.LG",),
        link=f"https://arxiv.org/abs/{arxiv_id}",
    )


def make_day(day: date, counts: dict[str, int], *, start: int = 1) -> list[Announcement]:
    """``counts`` papers of each topic, interleaved, announced on ``day``, ids 2605.<5 digits>."""
    papers = []
    number = start
    for seed in range(max(counts.values())):
        for topic, count in counts.items():
            if seed < count:
                papers.append(make_paper(f"2605.{number:05d}", topic, seed + 1000 * day.toordinal()))
                number += 1
    return [Announcement(p, "new", day) for p in papers]


def topic_of(paper: Paper) -> str:
    words = set(paper.abstract.lower().replace(".", "").split())
    return max(TOPICS, key=lambda topic: len(words & set(TOPICS[topic].split())))
