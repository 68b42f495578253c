"""Benchmark: parsing arXiv API answers with arxivbot's streaming parser against feedparser.

    python bench/bench_api_parse.py [--pages 150] [--page-size 200] [--repeat 3]

* Data: 30,000 API entries (150 pages of 200, the backfill's page size) generated in the current API
  serialization, modelled on the real captures in ``../shared/fixtures/arxiv/api2025_*``: ~1,100-char
  one-line abstracts with LaTeX, ``&amp;``/``&lt;`` and the odd ``\\n  `` paragraph break, 1-12 authors
  (some with ``<arxiv:affiliation>``), 1-5 categories, comments on ~60 %, DOIs on ~8 %, journal
  references on ~5 %. Written to a temp folder as 150 page files, plus the same 30,000 entries as one
  big document.
* Ours: ``parse_api_page`` on each page (what ``fetch_window`` does), and ``iter_api_entries`` streaming
  the one big document from its file. Both produce typed ``Paper`` records (ids split, dates parsed).
* feedparser: ``feedparser.parse`` on the same pages and the same big document.
* Each measurement runs in a fresh subprocess: wall time of the parse (best of ``--repeat`` for ours,
  one run for feedparser, which is slow); how far the resident set grew above its size just before
  parsing (Linux: the VmHWM high-water mark, reset after the imports; so C allocations such as
  libxml2's count too); and, in a second run, the peak of Python allocations (``tracemalloc``).
  Entries are counted and dropped as they come, so what is measured is the parser's own footprint.
* "Memory does not grow with the page count": the same measurement on 10 pages vs all pages, and on a
  3,000-entry vs the 30,000-entry document.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" \
xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/{hid}</id>
  <title>arXiv Query: search_query={query}&amp;id_list=&amp;start={start}&amp;max_results={size}</title>
  <updated>2026-05-06T09:00:00Z</updated>
  <link href="https://arxiv.org/api/query?search_query={query}&amp;start={start}&amp;max_results={size}&amp;id_list=" \
type="application/atom+xml"/>
  <opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
"""
QUERY = escape("(cat:cs.AI OR cat:cs.LG OR cat:cs.CL OR cat:cs.CV) AND submittedDate:[202604011800 TO 202605011800]")
WORDS = (
    "language",
    "model",
    "inference",
    "sparse",
    "attention",
    "reinforcement",
    "learning",
    "policy",
    "gradient",
    "benchmark",
    "dataset",
    "transformer",
    "diffusion",
    "retrieval",
    "agents",
    "reasoning",
    "alignment",
    "reward",
    "distillation",
    "quantization",
    "kernel",
    "throughput",
    "latency",
    "graph",
    "neural",
    "network",
    "optimization",
    "convex",
    "stochastic",
    "federated",
    "privacy",
    "robustness",
    "adversarial",
    "multimodal",
    "vision",
    "tokenizer",
    "pretraining",
    "fine-tuning",
    "evaluation",
    "ablation",
    "baseline",
    "scaling",
    "we",
    "propose",
    "show",
    "that",
    "our",
    "method",
    "improves",
    "over",
    "prior",
    "work",
    "across",
    "tasks",
    "with",
    "respect",
    "to",
    "the",
    "and",
    "of",
    "in",
)
NAMES = (
    "Wei Zhang",
    "Priya Raman",
    "Lukas Becker",
    "Mei Chen",
    "Olga Petrova",
    "Tomás Quintero",
    "Ines Moreau",
    "Kenji Watanabe",
    "Amara Okafor",
    "Hugo Almeida",
    "Nora Lindqvist",
    "Sidahmed Benabderrahmane",
)
CATEGORIES = ("cs.AI", "cs.LG", "cs.CL", "cs.CV", "cs.DC", "stat.ML", "math.OC", "cs.RO", "cs.SE", "eess.SP")


def make_entry(rng: random.Random, number: int, submitted: datetime) -> str:
    arxiv_id = f"2604.{10000 + number:05d}"
    version = 1 if rng.random() < 0.85 else 2
    stamp = submitted.strftime("%Y-%m-%dT%H:%M:%SZ")
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
    if rng.random() < 0.1:
        title += r" with $\mathcal{O}(n \log n)$ Cost"
    sentences = []
    for _ in range(rng.randint(6, 10)):
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(14, 26)))
        sentences.append(sentence.capitalize() + ".")
    if rng.random() < 0.3:
        sentences.insert(3, r"It reaches $>98\%$ accuracy & cuts latency by 2x when n < 10^6.")
    abstract = " ".join(sentences)
    if rng.random() < 0.1:
        cut = len(abstract) // 2
        abstract = abstract[:cut] + "\n  " + abstract[cut:]
    primary = rng.choice(CATEGORIES[:5])
    cats = [primary, *rng.sample([c for c in CATEGORIES if c != primary], rng.randint(0, 4))]
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{arxiv_id}v{version}</id>",
        f"    <title>{escape(title)}</title>",
        f"    <updated>{stamp}</updated>",
        f'    <link href="https://arxiv.org/abs/{arxiv_id}v{version}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{arxiv_id}v{version}" rel="related" type="application/pdf" '
        'title="pdf"/>',
        f"    <summary>{escape(abstract)}</summary>",
        *(f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in cats),
        f"    <published>{stamp}</published>",
    ]
    if rng.random() < 0.6:
        lines.append(
            f"    <arxiv:comment>{rng.randint(5, 40)} pages, {rng.randint(1, 12)} figures. "
            "Code: https://github.com/example/repo</arxiv:comment>"
        )
    lines.append(f'    <arxiv:primary_category term="{primary}"/>')
    if rng.random() < 0.05:
        lines.append("    <arxiv:journal_ref>Proceedings of ICML 2026, PMLR 300:1-18</arxiv:journal_ref>")
    for name in rng.sample(NAMES, rng.randint(1, 8)) + [f"Author {number}-{k}" for k in range(rng.randint(0, 4))]:
        lines.append("    <author>")
        lines.append(f"      <name>{escape(name)}</name>")
        if rng.random() < 0.1:
            lines.append("      <arxiv:affiliation>Example University</arxiv:affiliation>")
        lines.append("    </author>")
    if rng.random() < 0.08:
        lines.append(f"    <arxiv:doi>10.1000/example.{number}</arxiv:doi>")
        lines.append(f'    <link rel="related" href="https://doi.org/10.1000/example.{number}" title="doi"/>')
    lines.append("  </entry>")
    return "\n".join(lines) + "\n"


def generate(folder: Path, pages: int, page_size: int) -> None:
    rng = random.Random(20260506)
    total = pages * page_size
    start_time = datetime(2026, 4, 1, 18, 0, tzinfo=timezone.utc)
    step = timedelta(days=30) / total
    entries = [make_entry(rng, n, start_time + n * step) for n in range(total)]
    for page in range(pages):
        chunk = entries[page * page_size : (page + 1) * page_size]
        head = HEAD.format(hid=f"bench{page}", query=QUERY, start=page * page_size, size=page_size, total=total)
        (folder / f"page{page:04d}.xml").write_text(head + "".join(chunk) + "</feed>\n", encoding="utf-8")
    for name, count in (("all.xml", total), ("tenth.xml", total // 10)):
        head = HEAD.format(hid="benchall", query=QUERY, start=0, size=count, total=count)
        (folder / name).write_text(head + "".join(entries[:count]) + "</feed>\n", encoding="utf-8")


# --- one measurement, in its own process -----------------------------------------------------------------


def rss_kb() -> tuple[int, int]:
    """(current RSS, peak RSS since the last reset) in kB: Linux /proc, else ru_maxrss for both."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak, peak


def reset_peak_rss() -> None:
    """Forget the import-time high-water mark, so the peak measured is the parse's (Linux >= 4.0)."""
    gc.collect()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def measure(parser: str, target: str, limit: int, with_tracemalloc: bool) -> dict[str, float]:
    import feedparser

    from arxivbot.arxiv.api import iter_api_entries, parse_api_page

    path = Path(target)
    files = sorted(path.glob("page*.xml"))[:limit] if path.is_dir() else [path]
    reset_peak_rss()
    before, _ = rss_kb()
    if with_tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    count = 0
    for file in files:
        if parser == "ours" and path.is_dir():
            count += len(parse_api_page(file.read_bytes()).papers)  # what fetch_window does per page
        elif parser == "ours":
            with file.open("rb") as handle:
                for _paper in iter_api_entries(handle):
                    count += 1
        elif path.is_dir():
            count += len(feedparser.parse(file.read_bytes()).entries)
        else:
            count += len(feedparser.parse(str(file)).entries)
    seconds = time.perf_counter() - started
    _, peak = rss_kb()
    result = {
        "entries": count,
        "seconds": seconds,
        "rss_before_mb": before / 1024,
        "rss_growth_mb": (peak - before) / 1024,
    }
    if with_tracemalloc:
        result["py_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    return result


def run_case(parser: str, target: Path, limit: int, repeat: int) -> dict[str, float]:
    def child(traced: bool) -> dict[str, float]:
        out = subprocess.run(
            [sys.executable, __file__, "--measure", parser, str(target), str(limit), "1" if traced else "0"],
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        return json.loads(out.stdout)

    runs = [child(False) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    best["py_peak_mb"] = child(True)["py_peak_mb"]
    best["rss_growth_mb"] = max(r["rss_growth_mb"] for r in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=150)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs of our parser (best time is kept)")
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        name, target, limit, traced = args.measure
        print(json.dumps(measure(name, target, int(limit), traced == "1")))
        return

    with tempfile.TemporaryDirectory(prefix="arxivbot-bench-") as tmp:
        folder = Path(tmp)
        generate(folder, args.pages, args.page_size)
        total = args.pages * args.page_size
        size_mb = (folder / "all.xml").stat().st_size / 2**20
        print(
            f"{total:,} API entries: {args.pages} pages of {args.page_size} "
            f"({size_mb:.1f} MB of Atom); Python {sys.version.split()[0]}\n"
        )
        cases = [
            ("ours", "pages", folder, args.pages, args.repeat),
            ("feedparser", "pages", folder, args.pages, 1),
            ("ours", "one document, streamed from file", folder / "all.xml", 1, args.repeat),
            ("feedparser", "one document", folder / "all.xml", 1, 1),
            ("ours", "first 10 pages", folder, 10, args.repeat),
            ("ours", "one document, 1/10 size", folder / "tenth.xml", 1, args.repeat),
            ("feedparser", "one document, 1/10 size", folder / "tenth.xml", 1, 1),
        ]
        results = {}
        header = (
            f"{'parser':<11} {'input':<34} {'entries':>8} {'seconds':>8} {'entries/s':>10} "
            f"{'peak RSS +MB':>12} {'py peak MB':>10}"
        )
        print(header)
        print("-" * len(header))
        for name, label, target, limit, repeat in cases:
            result = run_case(name, target, limit, repeat)
            results[(name, label)] = result
            print(
                f"{name:<11} {label:<34} {int(result['entries']):>8,} {result['seconds']:>8.2f} "
                f"{result['entries'] / result['seconds']:>10,.0f} {result['rss_growth_mb']:>12.1f} "
                f"{result['py_peak_mb']:>10.2f}"
            )
        summarize(results, args.pages, total)


def summarize(results: dict[tuple[str, str], dict[str, float]], pages: int, total: int) -> None:
    def speed(label: str, ours: str, theirs: str) -> None:
        ratio = results[("feedparser", theirs)]["seconds"] / results[("ours", ours)]["seconds"]
        print(f"speed, {label}: ours is {ratio:.1f}x feedparser")

    def growth(label: str, name: str, small: str, big: str) -> None:
        a, b = results[(name, small)], results[(name, big)]
        print(
            f"memory, {name}, {label}: py peak {a['py_peak_mb']:.2f} vs {b['py_peak_mb']:.2f} MB, "
            f"RSS +{a['rss_growth_mb']:.1f} vs +{b['rss_growth_mb']:.1f} MB"
        )

    before = results[("ours", "pages")]["rss_before_mb"]
    print(f"(each process holds {before:.0f} MB resident after its imports; growth is measured above that)")
    print()
    speed("pages", "pages", "pages")
    speed("one document", "one document, streamed from file", "one document")
    growth(f"10 vs {pages} pages", "ours", "first 10 pages", "pages")
    growth(
        f"{total // 10:,} vs {total:,}-entry document",
        "ours",
        "one document, 1/10 size",
        "one document, streamed from file",
    )
    growth(f"{total // 10:,} vs {total:,}-entry document", "feedparser", "one document, 1/10 size", "one document")


if __name__ == "__main__":
    main()
