"""The daily listing: URL, fetch (against a real local HTTP server) and parse (real captures + our fixtures)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxivbot import PROJECT_URL, __version__
from arxivbot.arxiv.client import PoliteClient, make_http_client, make_polite_client
from arxivbot.arxiv.rss import FetchedFeed, daily_feed_url, fetch_daily_feed, parse_daily_feed
from arxivbot.config import ArxivConfig
from arxivbot.errors import FeedFormatError, FetchError
from arxivbot.models import HttpValidators, Listing
from tests.localserver import LocalServer, Scripted

Finder = Callable[[str], Path]

EDT = timezone(timedelta(hours=-4))
FIVE_ITEMS = "rss_cs.AI+cs.LG_day1_5items.xml"


def parse_file(path: Path, source: str = "") -> Listing:
    return parse_daily_feed(path.read_bytes(), source_url=source or path.name)


def minimal_feed(items: str, channel_extra: str = "<pubDate>Tue, 05 May 2026 00:00:00 -0400</pubDate>") -> bytes:
    """A daily feed in arXiv's layout with the given items, for the edge cases no capture shows."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">'
        f"<channel><title>cs.AI updates on arXiv.org</title>{channel_extra}{items}</channel></rss>"
    ).encode()


# --- real captures (../shared) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count", "announced"),
    [
        ("rss2024_cs.AI_2026-04-27_trimmed-3items.xml", 3, date(2026, 4, 27)),
        ("rss2024_cs.LG_2026-04-27_trimmed-3items.xml", 3, date(2026, 4, 27)),
        ("rss2024_cs.CL_2026-04-27_trimmed-3items.xml", 3, date(2026, 4, 27)),
        ("rss2024_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed-4items.xml", 4, date(2026, 9, 24)),
        ("rss2024_physics_2025-12-31_EMPTY-holiday_RECONSTRUCTED.xml", 0, date(2025, 12, 31)),
    ],
)
def test_every_real_rss_capture_parses_completely(
    shared_fixture: Finder, name: str, count: int, announced: date
) -> None:
    listing = parse_file(shared_fixture(name))

    assert (len(listing.announcements), listing.announced, listing.skipped_items) == (count, announced, 0)
    for item in listing.announcements:
        paper = item.paper
        assert item.announced == announced  # the Eastern date as written, not shifted to UTC
        assert item.announce_type in {"new", "cross", "replace", "replace-cross"}
        assert paper.title and paper.title == " ".join(paper.title.split())
        assert paper.abstract and "Announce Type" not in paper.abstract and "\n" not in paper.abstract
        assert not paper.abstract.startswith(("arXiv:", "Abstract:"))
        assert paper.authors and all(name == name.strip() and name for name in paper.authors)
        assert paper.categories and paper.primary_category == paper.categories[0]
        assert paper.link == f"https://arxiv.org/abs/{paper.arxiv_id}"
        assert paper.published == datetime(announced.year, announced.month, announced.day, tzinfo=EDT)


def test_real_cs_ai_capture_fields_exactly(shared_fixture: Finder) -> None:
    listing = parse_file(shared_fixture("rss2024_cs.AI_2026-04-27_trimmed-3items.xml"))
    first, second, third = listing.announcements

    paper = first.paper
    assert (paper.arxiv_id, paper.version, paper.versioned_id) == ("2604.21935", 1, "2604.21935v1")
    assert first.announce_type == "new" and first.source == "rss"
    assert paper.title == "Math Takes Two: A test for emergent mathematical reasoning in communication"
    assert paper.authors == ("Michael Cooper", "Samuel Cooper")
    assert paper.categories == ("cs.AI", "cs.LG")
    assert paper.link == "https://arxiv.org/abs/2604.21935"
    assert paper.abstract.startswith("Although language models demonstrate remarkable proficiency on mathematical")
    assert paper.abstract.endswith("develop and evaluate models with emergent numerical reasoning capabilities.")
    assert (paper.doi, paper.journal_ref) == (None, None)
    # LaTeX is raw arXiv text and stays as typed.
    assert "\\textbf{adaptability}, the ability to configure workflows" in second.paper.abstract
    assert second.paper.categories == ("cs.AI", "cs.CV", "cs.MA")
    assert len(third.paper.authors) == 17 and third.paper.authors[-1] == "Zhengwei Xie"


def test_real_capture_author_without_first_name_is_kept_whole(shared_fixture: Finder) -> None:
    # arXiv writes "<first> <last>", so a mononym comes out as ",  Deepti" (two spaces).
    listing = parse_file(shared_fixture("rss2024_cs.CL_2026-04-27_trimmed-3items.xml"))

    assert listing.announcements[0].paper.authors == (
        "Anamta Khan",
        "Ratna Kandala",
        "Deepti",
        "Sheza Munir",
        "Joyojeet Pal",
    )


def test_real_combined_feed_has_cross_replace_and_doi(shared_fixture: Finder) -> None:
    listing = parse_file(shared_fixture("rss2024_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed-4items.xml"))
    by_id = {a.paper.arxiv_id: a for a in listing.announcements}

    assert [a.announce_type for a in listing.announcements] == ["new", "new", "cross", "replace"]
    cross = by_id["2205.06398"]
    assert (cross.paper.version, cross.announce_type) == (2, "cross")
    assert cross.paper.doi == "10.1093/bioinformatics/btac431"
    assert cross.paper.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert cross.paper.primary_category == "stat.ME"
    assert cross.paper.authors == ("Pritam Dey", "Zhengwu Zhang", "David B. Dunson")
    replace = by_id["2009.13987"]
    assert (replace.paper.version, replace.announce_type, replace.paper.doi) == (3, "replace", None)
    assert by_id["2609.26811"].paper.authors == ("Fabien Polly",)


def test_real_atom_flavour_of_the_daily_feed_is_read_too(shared_fixture: Finder) -> None:
    listing = parse_file(shared_fixture("atom2024_cs.LG_2026-09-25_ABRIDGED-3entries_journalref-doi.xml"))

    assert listing.announced == date(2026, 9, 25)
    assert [(a.paper.versioned_id, a.announce_type) for a in listing.announcements] == [
        ("2609.28553v1", "new"),
        ("2402.10149v3", "cross"),
        ("2401.08875v3", "replace"),
    ]
    first = listing.announcements[0].paper
    assert first.doi == "10.1109/MAPR72750.2026.11685822"
    assert first.journal_ref == "2026 International Conference on Multimedia Analysis and Pattern Recognition (MAPR)"
    assert first.categories == ("cs.LG", "cs.AI") and first.link == "https://arxiv.org/abs/2609.28553"
    assert first.abstract.startswith("Drug toxicity prediction is critical")


def test_real_truncated_capture_is_a_format_error(shared_fixture: Finder) -> None:
    body = shared_fixture("atom2024_cs.AI_2025-08-20_TRUNCATED-87entries.xml").read_bytes()

    expected = r"^https://rss\.arxiv\.org/atom/cs\.AI: truncated or malformed XML"
    with pytest.raises(FeedFormatError, match=expected) as caught:
        parse_daily_feed(body, source_url="https://rss.arxiv.org/atom/cs.AI")
    assert str(caught.value).endswith("; check arxiv.rss_url, or try again later")  # says how to fix it


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("api2025_recorded_idlist-abc_HTTP400_error-entry.body.xml", "arXiv answered with an error: incorrect id"),
        ("api2025_search_cat-cs.CL_2026-09-24_3entries_journalref-doi.xml", "an arXiv API answer, not a daily feed"),
    ],
)
def test_api_documents_are_not_mistaken_for_a_daily_feed(shared_fixture: Finder, name: str, reason: str) -> None:
    with pytest.raises(FeedFormatError, match=reason):
        parse_file(shared_fixture(name))


# --- our own fixtures ------------------------------------------------------------------------------


def test_five_item_day_fields_exactly(own_fixture: Finder) -> None:
    listing = parse_file(own_fixture(FIVE_ITEMS))

    assert listing.announced == date(2026, 5, 5) and listing.skipped_items == 0
    assert [(a.paper.versioned_id, a.announce_type) for a in listing.announcements] == [
        ("2605.01234v1", "new"),
        ("2605.01301v1", "new"),
        ("2304.09876v3", "cross"),
        ("2501.00042v2", "replace"),
        ("cs/0112017v4", "replace-cross"),
    ]
    moe = listing.announcements[0].paper
    assert moe.title == "Sparse Mixture-of-Experts Inference for LLM Serving at Scale"
    # Commas inside an affiliation do not split the author; the blank first name does not leave a space.
    assert moe.authors == (
        "Ada Lovelace",
        "Alan M. Turing",
        "Deepti",
        "Grace Hopper (Yale University, Dept. of Mathematics)",
    )
    assert moe.abstract == (
        "Serving large language models (LLMs) with sparse mixture-of-experts layers is bound by memory "
        "traffic. We present a scheduler that groups tokens by expert before dispatch. On a 64-GPU cluster "
        "it improves throughput by $2.3\\times$ over dense baselines & cuts tail latency by 41%."
    )
    assert moe.categories == ("cs.LG", "cs.AI", "cs.DC") and moe.primary_category == "cs.LG"
    assert moe.published == datetime(2026, 5, 5, tzinfo=EDT)
    assert moe.published is not None and moe.published.utcoffset() == timedelta(hours=-4)  # as written, not UTC
    cross = listing.announcements[2].paper
    assert cross.doi == "10.1109/ICRA.2026.0001234"
    assert cross.journal_ref == "Proc. ICRA 2026, pp. 101-108"
    old_style = listing.announcements[4].paper
    assert (old_style.arxiv_id, old_style.version) == ("cs/0112017", 4)
    assert old_style.link == "https://arxiv.org/abs/cs/0112017"


def test_markup_like_titles_and_abstracts_are_kept_as_text(own_fixture: Finder) -> None:
    paper = parse_file(own_fixture(FIVE_ITEMS)).announcements[1].paper

    # Unescaped once by XML, then left alone: escaping is the renderers' job.
    assert paper.title == (
        "Escaping <script>alert(1)</script> and ](javascript:alert(1)): Untrusted Text in Agent Outputs"
    )
    assert paper.abstract == (
        "Agents copy text such as <img src=x onerror=alert(1)> and [click](javascript:alert(1)) from the web "
        "into reports. We measure how often that survives rendering; values < 5% are rare."
    )


def test_empty_weekend_feed_is_a_valid_empty_listing(own_fixture: Finder) -> None:
    assert parse_file(own_fixture("rss_empty_weekend.xml")) == Listing((), date(2026, 5, 9), 0)


def test_malformed_items_are_logged_and_skipped(own_fixture: Finder, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="arxivbot.arxiv"):
        listing = parse_file(own_fixture("rss_malformed_item.xml"), source="https://rss.arxiv.org/rss/cs.AI")

    assert [a.paper.arxiv_id for a in listing.announcements] == ["2605.02001", "2605.02004"]
    assert listing.skipped_items == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "https://rss.arxiv.org/rss/cs.AI: skipped malformed item 2: no arXiv id" in warnings[0]
    assert "'An Item Whose Identifier Went Missing'" in warnings[0]
    assert "item 3: no <title> (id 2605.02003v1)" in warnings[1]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty response, not an RSS feed"),
        (b"  \n\t", "empty response, not an RSS feed"),
        (b"\x00\x9f\x13garbage \xff\xfe", "not an RSS feed (not XML; it starts with"),
        (b'{"error": "rate limited"}', "not an RSS feed (not XML; it starts with"),
        (b"<!-- maintenance -->\n<html><body>arXiv is down</body></html>", "not an RSS feed (got an HTML page)"),
        (b'<rss version="2.0"></rss>', "not an RSS feed (no <channel>)"),
        (b"<opml><body/></opml>", "not an RSS feed (the document is <opml>)"),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "RSS 1.0/RDF"),
        (b"<rss><channel><title>cs.AI</title><item><title>Cut", "truncated or malformed XML at line 1"),
    ],
)
def test_what_is_not_a_feed_is_a_fetch_failure(body: bytes, problem: str) -> None:
    url = "https://rss.arxiv.org/rss/cs.AI"
    with pytest.raises(FeedFormatError) as caught:
        parse_daily_feed(body, source_url=url)

    message = str(caught.value)
    assert message.startswith(f"{url}: ") and problem in message and "\n" not in message
    assert isinstance(caught.value, FetchError) and caught.value.url == url


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("error_page_503.html", "not an RSS feed (got an HTML page)"),
        ("rss_truncated_mid_item.xml", "truncated or malformed XML at line 29, column 14 (Couldn't find end of"),
        ("rss_feed_error_unknown_category.xml", "arXiv answered with an error feed: Invalid archive specification"),
    ],
)
def test_error_fixtures_are_format_errors(own_fixture: Finder, name: str, problem: str) -> None:
    with pytest.raises(FeedFormatError, match=rf"^{name}: .*") as caught:
        parse_file(own_fixture(name))
    assert problem in str(caught.value)


def test_a_feed_whose_items_are_all_unreadable_is_a_format_error() -> None:
    body = minimal_feed("<item><title>One</title></item><item><title>Two</title><guid>tag:x</guid></item>")

    with pytest.raises(FeedFormatError, match=r"none of its 2 items could be read \(no arXiv id .*'One'\)"):
        parse_daily_feed(body, source_url="https://rss.arxiv.org/rss/cs.AI")


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    body = minimal_feed(
        "<item><title>Leak &xxe; here</title><guid>oai:arXiv.org:2605.09999v1</guid>"
        "<description>arXiv:2605.09999v1 Announce Type: new \nAbstract: &xxe;</description></item>"
    ).replace(b"<rss ", f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<rss '.encode(), 1)

    listing = parse_daily_feed(body)

    assert "TOP-SECRET-TOKEN" not in repr(listing)


def test_fallbacks_for_items_without_their_own_date_type_or_proper_link() -> None:
    # A re-saved feed: " \nAbstract:" collapsed, no <arxiv:announce_type>, no item <pubDate>, no <guid>,
    # and the early-2024 link on rss.arxiv.org.
    body = minimal_feed(
        "<item><title>Fallbacks</title><link>https://rss.arxiv.org/abs/2402.00001</link>"
        "<description>arXiv:2402.00001v2 Announce Type: replace-cross Abstract: Text.</description></item>",
        channel_extra="<lastBuildDate>Mon, 05 Feb 2024 05:00:01 +0000</lastBuildDate>",
    )

    (item,) = parse_daily_feed(body).announcements

    assert (item.paper.versioned_id, item.announce_type) == ("2402.00001v2", "replace-cross")
    assert item.announced == date(2024, 2, 5) and item.paper.abstract == "Text."
    assert item.paper.link == "https://arxiv.org/abs/2402.00001"


def test_a_whole_busy_day_parses_every_item(own_fixture: Finder) -> None:
    # Speed is measured in bench/bench_pipeline.py, never in a timed test; this checks a busy day's
    # volume is parsed completely, with no item lost or merged.
    template = own_fixture(FIVE_ITEMS).read_text(encoding="utf-8")
    head, rest = template.split("    <item>", 1)
    item = "    <item>" + rest.split("</item>", 1)[0] + "</item>\n"
    items = "".join(item.replace("2605.01234", f"2605.{n:05d}") for n in range(3000))
    body = (head + items + "  </channel>\n</rss>\n").encode()

    listing = parse_daily_feed(body)

    assert len(listing.announcements) == 3000 and len({a.paper.arxiv_id for a in listing.announcements}) == 3000


# --- where the feed is -----------------------------------------------------------------------------


def test_daily_feed_url_joins_categories_with_plus() -> None:
    assert daily_feed_url("https://rss.arxiv.org/rss", ["cs.AI", "cs.LG"]) == "https://rss.arxiv.org/rss/cs.AI+cs.LG"
    assert daily_feed_url("https://rss.arxiv.org/rss/", ["cs.CL"]) == "https://rss.arxiv.org/rss/cs.CL"
    assert daily_feed_url("http://127.0.0.1:8000/rss", ["cs.AI", "cs.AI", "stat.ML"]) == (
        "http://127.0.0.1:8000/rss/cs.AI+stat.ML"
    )


# --- fetching over HTTP (a real server on 127.0.0.1) ----------------------------------------------


class SleepRecorder:
    """Stands in for time.sleep: remembers each requested delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def arxiv(sleeps: SleepRecorder) -> Iterator[PoliteClient]:
    """The production client setup (User-Agent, timeouts, retries), minus the real waiting."""
    config = ArxivConfig(max_retries=3, timeout_seconds=5)
    with make_http_client(config) as http:
        yield make_polite_client(config, http, min_interval=0, sleep=sleeps)


def feed_url(server: LocalServer) -> str:
    return daily_feed_url(f"{server.url}/rss", ["cs.AI", "cs.LG"])


def test_fetch_sends_our_user_agent_and_remembers_validators(
    local_server: LocalServer, arxiv: PoliteClient, own_fixture: Finder
) -> None:
    body = own_fixture(FIVE_ITEMS).read_bytes()
    local_server.route(
        "/rss/cs.AI+cs.LG",
        Scripted(
            200,
            body,
            {
                "Content-Type": "application/rss+xml",
                "ETag": '"day-2026-05-05"',
                "Last-Modified": "Tue, 05 May 2026 04:00:02 GMT",
            },
        ),
    )

    fetched = fetch_daily_feed(arxiv, feed_url(local_server))

    assert fetched == FetchedFeed(feed_url(local_server), body, '"day-2026-05-05"', "Tue, 05 May 2026 04:00:02 GMT")
    assert not fetched.not_modified
    (request,) = local_server.requests_to("/rss/cs.AI+cs.LG")
    agent = request.headers["user-agent"]
    assert agent.startswith(f"arxivbot/{__version__} ") and PROJECT_URL in agent
    assert "if-none-match" not in request.headers and "if-modified-since" not in request.headers


def test_conditional_get_sends_validators_and_304_means_not_modified(
    local_server: LocalServer, arxiv: PoliteClient
) -> None:
    local_server.route("/rss/cs.AI+cs.LG", Scripted(304, b""))
    validators = HttpValidators('"day-2026-05-05"', "Tue, 05 May 2026 04:00:02 GMT", date(2026, 5, 5))

    fetched = fetch_daily_feed(arxiv, feed_url(local_server), validators)

    assert fetched.not_modified and fetched.body is None
    assert (fetched.etag, fetched.last_modified) == ('"day-2026-05-05"', "Tue, 05 May 2026 04:00:02 GMT")
    (request,) = local_server.requests
    assert request.headers["if-none-match"] == '"day-2026-05-05"'
    assert request.headers["if-modified-since"] == "Tue, 05 May 2026 04:00:02 GMT"


def test_503_with_retry_after_is_retried_after_that_long(
    local_server: LocalServer, arxiv: PoliteClient, sleeps: SleepRecorder, own_fixture: Finder
) -> None:
    body = own_fixture(FIVE_ITEMS).read_bytes()
    local_server.route(
        "/rss/cs.AI+cs.LG",
        Scripted(503, b"busy", {"Retry-After": "7"}),
        Scripted(200, body),
    )

    fetched = fetch_daily_feed(arxiv, feed_url(local_server))

    assert fetched.body == body
    assert sleeps.delays == [7.0]  # longer than the first backoff (about 1 s), so the server's word wins
    assert len(local_server.requests) == 2


def test_429_then_success(local_server: LocalServer, arxiv: PoliteClient, sleeps: SleepRecorder) -> None:
    local_server.route("/rss/cs.AI+cs.LG", Scripted(429, b"slow down"), Scripted(200, b"<rss/>"))

    assert fetch_daily_feed(arxiv, feed_url(local_server)).body == b"<rss/>"
    assert len(local_server.requests) == 2 and len(sleeps.delays) == 1 and 1.0 <= sleeps.delays[0] <= 1.1


def test_server_error_forever_gives_up_after_max_retries(
    local_server: LocalServer, arxiv: PoliteClient, sleeps: SleepRecorder
) -> None:
    local_server.route("/rss/cs.AI+cs.LG", Scripted(500, b"oops"))

    with pytest.raises(FetchError, match=r"HTTP 500 after 4 attempt") as caught:
        fetch_daily_feed(arxiv, feed_url(local_server))

    assert (caught.value.status, caught.value.attempts) == (500, 4)  # max_retries=3, plus the first try
    assert len(local_server.requests) == 4 and len(sleeps.delays) == 3


def test_404_fails_at_once_with_a_hint(local_server: LocalServer, arxiv: PoliteClient, sleeps: SleepRecorder) -> None:
    with pytest.raises(FetchError, match=r"HTTP 404: no such feed; .*categories \(cs\.AI\+cs\.LG\)"):
        fetch_daily_feed(arxiv, feed_url(local_server))  # no route: the server answers 404

    assert len(local_server.requests) == 1 and sleeps.delays == []


def test_an_unknown_category_shows_arxivs_own_reason(
    local_server: LocalServer, arxiv: PoliteClient, sleeps: SleepRecorder, own_fixture: Finder
) -> None:
    # arXiv answers an unknown category with HTTP 400 and an RSS "feed error" that names the problem.
    error_feed = own_fixture("rss_feed_error_unknown_category.xml").read_bytes()
    local_server.route("/rss/cs.AI+cs.LG", Scripted(400, error_feed, {"Content-Type": "application/rss+xml"}))

    with pytest.raises(FeedFormatError, match=r"Invalid archive specification: cs\.XX"):
        fetch_daily_feed(arxiv, feed_url(local_server))

    assert len(local_server.requests) == 1 and sleeps.delays == []


def test_connection_refused_is_retried_then_a_fetch_error(arxiv: PoliteClient, sleeps: SleepRecorder) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(FetchError, match=r"connection failed after 4 attempts") as caught:
        fetch_daily_feed(arxiv, f"http://127.0.0.1:{port}/rss/cs.AI")

    assert caught.value.attempts == 4 and len(sleeps.delays) == 3
    assert caught.value.status is None


def test_too_slow_server_times_out_is_retried_then_a_fetch_error(
    local_server: LocalServer, sleeps: SleepRecorder
) -> None:
    local_server.route("/rss/cs.AI+cs.LG", Scripted(200, b"<rss/>", delay=0.6))
    config = ArxivConfig(timeout_seconds=0.2, max_retries=1)

    with make_http_client(config) as http:
        arxiv = make_polite_client(config, http, min_interval=0, sleep=sleeps)
        with pytest.raises(FetchError, match=r"timed out after 2 attempts"):  # not the 0.6 s answers
            fetch_daily_feed(arxiv, feed_url(local_server))

    assert len(local_server.requests) == 2 and len(sleeps.delays) == 1
