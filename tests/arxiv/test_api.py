"""The arXiv API reader: query builder, streaming Atom parser, paginator.

Parsed against every real API capture in ../shared (skipped cleanly when absent), and against our own
small fixtures in the same format; fetched from a real local HTTP server playing the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from arxivbot.arxiv.api import build_search_query, fetch_window, iter_api_entries, parse_api_page
from arxivbot.arxiv.client import PoliteClient, make_http_client, make_polite_client
from arxivbot.config import config_from_dict
from arxivbot.errors import FeedFormatError, FetchError
from tests.faketime import FakeTime
from tests.localserver import LocalServer, Scripted

Fixture = Callable[[str], Path]
UTC = timezone.utc

# Every real API capture, with the number of <entry> elements it holds (SOURCES.md §3).
REAL_CAPTURES = {
    "api2025_search_cat-cs.LG-OR-cat-cs.AI_2026-04-30_20entries.xml": 20,
    "api2025_search_cat-cs.AI-OR-cs.LG-OR-cs.CL_2026-08-02_25entries.xml": 25,
    "api2025_search_cat-cs.AI-OR-cat-cs.LG_2026-07-13_50entries.xml": 50,
    "api2025_search_cat-cs.CL_2026-09-24_3entries_journalref-doi.xml": 3,
    "api2025_recorded_idlist-0000.0000_zero-results.body.xml": 0,
    "api2025_recorded_idlist-0808.05394+1707.08567_one-invalid-id.body.xml": 1,
    "api2025_recorded_idlist-astro-ph_0601001_old-style-id_journalref.body.xml": 1,
    "api2025_recorded_search-testing_start0_max10.body.xml": 10,
    "apiOLD_idlist-1111.2011v2_2016-10-09_doi-comment-journalref.xml": 1,
    "apiOLD_search_au-del_maestro_2016-10-09_10entries.xml": 10,
    "apiOLD_search_cat-cs.RO-AND-neural_2025-10-17_2entries.xml": 2,
}


# --- every real capture ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "entries"), sorted(REAL_CAPTURES.items()))
def test_every_real_capture_parses_into_complete_papers(shared_fixture: Fixture, name: str, entries: int) -> None:
    body = shared_fixture(name).read_bytes()
    page = parse_api_page(body)
    assert len(page.papers) == entries
    assert page.skipped == 0
    assert page.total_results >= entries
    for paper in page.papers:
        assert paper.version >= 1
        assert paper.title and "\n" not in paper.title and "  " not in paper.title
        assert paper.abstract and "\n" not in paper.abstract and paper.abstract == paper.abstract.strip()
        assert paper.authors and all(name.strip() == name for name in paper.authors)
        assert paper.categories and paper.categories[0] == paper.primary_category
        assert paper.link == f"https://arxiv.org/abs/{paper.arxiv_id}"
        assert paper.published is not None and paper.published.tzinfo is not None
        assert paper.updated is not None and paper.updated >= paper.published


@pytest.mark.parametrize("name", sorted(REAL_CAPTURES))
def test_streaming_from_a_file_gives_the_same_papers_as_a_page(shared_fixture: Fixture, name: str) -> None:
    path = shared_fixture(name)
    with path.open("rb") as handle:
        streamed = list(iter_api_entries(handle))
    assert streamed == list(parse_api_page(path.read_bytes()).papers)


def test_current_capture_exact_fields(shared_fixture: Fixture) -> None:
    capture = shared_fixture("api2025_search_cat-cs.CL_2026-09-24_3entries_journalref-doi.xml")
    page = parse_api_page(capture.read_bytes())
    assert (page.total_results, page.start_index, page.items_per_page) == (119894, 0, 3)
    first, second, third = page.papers
    assert first.arxiv_id == "2609.28471" and first.version == 1
    assert first.title == "Contrastive Learning for Authorship Verification"
    assert first.authors == ("Peter Kirby",)
    assert first.categories == ("cs.CL", "cs.LG") and first.primary_category == "cs.CL"
    assert first.published == datetime(2026, 9, 23, 17, 59, 8, tzinfo=UTC)
    assert first.updated == first.published
    assert (
        first.comment == "Published in the proceedings of CLEF 2026. Code: https://github.com/petekirby/contrastive-av"
    )
    assert first.journal_ref == (
        "Experimental IR Meets Multilinguality, Multimodality, and Interaction (CLEF 2026), "
        "LNCS 17087, pp. 92-102, Springer (2027)"
    )
    assert first.doi == "10.1007/978-3-032-39150-6_7"
    assert first.abstract.startswith("Our results show that contrastive learning outperforms")
    assert first.abstract.endswith("98.4% accuracy on the PAN21 authorship verification task.")
    # A cross-listed paper keeps its own primary category first.
    assert second.primary_category == "cs.SE" and second.categories == ("cs.SE", "cs.AI", "cs.CL")
    assert len(second.authors) == 6 and second.authors[-1] == "Hadi Hemmati"
    assert (second.comment, second.journal_ref, second.doi) == (None, None, None)
    assert third.categories == ("cs.LG", "cs.AI", "cs.CL", "cs.SC")


def test_paragraph_breaks_and_latex_survive_as_one_line(shared_fixture: Fixture) -> None:
    page = parse_api_page(
        shared_fixture("api2025_search_cat-cs.AI-OR-cs.LG-OR-cs.CL_2026-08-02_25entries.xml").read_bytes()
    )
    paper = next(p for p in page.papers if p.arxiv_id == "2607.28576")
    assert "best of several attempts, or debate with copies of itself" in paper.abstract
    # "\n  " between paragraphs becomes one space, as the RSS reader does it.
    assert (
        "budgets are comparable, but gave point estimates with no confidence intervals or significance tests. "
        "We rerun that comparison as a designed experiment" in paper.abstract
    )
    latex = parse_api_page(
        shared_fixture("api2025_search_cat-cs.LG-OR-cat-cs.AI_2026-04-30_20entries.xml").read_bytes()
    )
    assert any(r"$\ln\ln T$" in p.title for p in latex.papers)


def test_old_style_identifier_with_affiliations_and_journal_ref(shared_fixture: Fixture) -> None:
    body = shared_fixture("api2025_recorded_idlist-astro-ph_0601001_old-style-id_journalref.body.xml").read_bytes()
    (paper,) = parse_api_page(body).papers
    assert (paper.arxiv_id, paper.version, paper.versioned_id) == ("astro-ph/0601001", 1, "astro-ph/0601001v1")
    assert paper.link == "https://arxiv.org/abs/astro-ph/0601001"
    assert paper.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.categories == ("astro-ph",) and paper.primary_category == "astro-ph"
    assert paper.abstract.startswith("We derive the frequencies")  # leading spaces gone
    assert "V_max<17.5" in paper.abstract and "Gould & Morgan (2003)" in paper.abstract  # entities decoded


def test_old_serialization_unwraps_titles_and_abstracts(shared_fixture: Fixture) -> None:
    body = shared_fixture("apiOLD_idlist-1111.2011v2_2016-10-09_doi-comment-journalref.xml").read_bytes()
    page = parse_api_page(body)
    assert (page.total_results, page.start_index, page.items_per_page) == (1, 0, 10)
    (paper,) = page.papers
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    assert paper.title == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    assert "such as layered superconductors and coupled spin chains" in paper.abstract
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.primary_category == "cond-mat.str-el"
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.published == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert paper.updated == datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)


def test_old_serialization_keeps_old_style_ids(shared_fixture: Fixture) -> None:
    page = parse_api_page(shared_fixture("apiOLD_search_au-del_maestro_2016-10-09_10entries.xml").read_bytes())
    ids = [p.versioned_id for p in page.papers]
    assert "cond-mat/0412498v1" in ids and "cond-mat/0702661v2" in ids
    assert page.total_results == 31


def test_search_capture_counts_its_optional_fields(shared_fixture: Fixture) -> None:
    page = parse_api_page(shared_fixture("api2025_recorded_search-testing_start0_max10.body.xml").read_bytes())
    assert sum(p.doi is not None for p in page.papers) == 6
    assert sum(p.journal_ref is not None for p in page.papers) == 6
    assert sum(p.comment is not None for p in page.papers) == 10


def test_zero_results_and_invalid_id_captures(shared_fixture: Fixture) -> None:
    empty = parse_api_page(shared_fixture("api2025_recorded_idlist-0000.0000_zero-results.body.xml").read_bytes())
    assert (empty.total_results, empty.papers) == (0, ())
    one = parse_api_page(
        shared_fixture("api2025_recorded_idlist-0808.05394+1707.08567_one-invalid-id.body.xml").read_bytes()
    )
    assert one.total_results == 1 and [p.arxiv_id for p in one.papers] == ["1707.08567"]


def test_error_entry_is_a_format_error_not_a_paper(shared_fixture: Fixture) -> None:
    body = shared_fixture("api2025_recorded_idlist-abc_HTTP400_error-entry.body.xml").read_bytes()
    with pytest.raises(FeedFormatError, match="incorrect id format for abc") as caught:
        parse_api_page(body)
    assert "\n" not in str(caught.value)
    assert str(caught.value).endswith("; check the categories and arxiv.api_url")
    with pytest.raises(FeedFormatError):
        list(iter_api_entries(body))


# --- our own fixtures ----------------------------------------------------------------------------------


def test_three_page_fixture_headers_and_fields(own_fixture: Fixture) -> None:
    pages = [parse_api_page(own_fixture(f"api_window_page{n}of3.xml").read_bytes()) for n in (1, 2, 3)]
    assert [(p.total_results, p.start_index, p.items_per_page, len(p.papers)) for p in pages] == [
        (6, 0, 2, 2),
        (6, 2, 2, 2),
        (6, 4, 2, 2),
    ]
    first = pages[0].papers[0]
    assert first.abstract == (
        "We study planning for LLM agents with sparse learned world models. "
        "A second paragraph reports a 12% gain on ALFWorld & WebShop with p < 0.01."
    )
    replaced = pages[0].papers[1]
    assert (replaced.arxiv_id, replaced.version) == ("2604.24188", 2)
    assert replaced.published == datetime(2026, 4, 28, 2, 11, 40, tzinfo=UTC)
    assert replaced.updated == datetime(2026, 4, 28, 16, 30, tzinfo=UTC)
    icml = pages[1].papers[1]
    assert icml.authors == ("Priya Raman", "Lukas Becker", "Mei Chen")
    assert (icml.comment, icml.journal_ref, icml.doi) == (
        "Accepted at ICML 2026",
        "Proceedings of ICML 2026, PMLR 300:1-18",
        "10.48550/icml.2026.25003",
    )


def test_an_entry_without_id_is_logged_and_skipped(own_fixture: Fixture, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="arxivbot.arxiv.api"):
        page = parse_api_page(own_fixture("api_malformed_entry_without_id.xml").read_bytes())
    assert [p.arxiv_id for p in page.papers] == ["2604.26990", "2604.27015"]
    assert page.skipped == 1
    assert "entry without <id>" in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not well-formed"),
        (b"<html><body><h1>503 Service Unavailable</h1></body></html>", "not an Atom feed"),
        (b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>", r"not an Atom feed \(found <rss>\)"),
    ],
)
def test_not_an_api_answer_is_a_format_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message) as caught:
        parse_api_page(body)
    assert "\n" not in str(caught.value)
    assert str(caught.value).endswith("; check arxiv.api_url, or try again later")  # says how to fix it


def test_truncated_answer_is_a_one_line_format_error(own_fixture: Fixture) -> None:
    with pytest.raises(FeedFormatError, match="not well-formed XML") as caught:
        parse_api_page(own_fixture("api_truncated_mid_entry.xml").read_bytes())
    assert "\n" not in str(caught.value)


def test_html_error_page_is_a_format_error(own_fixture: Fixture) -> None:
    with pytest.raises(FeedFormatError):
        parse_api_page(own_fixture("error_page_503.html").read_bytes())


def test_atom_without_opensearch_header_is_not_an_api_page() -> None:
    body = b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>x</title></feed>"
    with pytest.raises(FeedFormatError, match="totalResults"):
        parse_api_page(body)


def test_entities_are_not_expanded() -> None:
    body = (
        b"<?xml version='1.0'?><!DOCTYPE feed [<!ENTITY secret SYSTEM 'file:///etc/passwd'>]>"
        b"<feed xmlns='http://www.w3.org/2005/Atom' xmlns:opensearch='http://a9.com/-/spec/opensearch/1.1/'>"
        b"<opensearch:totalResults>1</opensearch:totalResults>"
        b"<entry><id>http://arxiv.org/abs/2601.00001v1</id><title>Before &secret;</title><summary>s</summary>"
        b"<published>2026-01-01T00:00:00Z</published></entry></feed>"
    )
    (paper,) = parse_api_page(body).papers
    assert paper.title == "Before"  # the external entity was neither fetched nor read


# --- the query -------------------------------------------------------------------------------------------


def test_search_query_covers_all_categories_in_utc_minutes() -> None:
    eastern = ZoneInfo("America/New_York")
    start = datetime(2026, 4, 27, 14, 0, tzinfo=eastern)  # EDT, UTC-4
    end = datetime(2026, 4, 29, 14, 0, tzinfo=eastern)
    assert build_search_query(["cs.AI", "cs.LG", "cs.AI"], start, end) == (
        "(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202604271800 TO 202604291800]"
    )
    winter = datetime(2026, 1, 5, 14, 0, tzinfo=eastern)  # EST, UTC-5
    assert build_search_query(["cs.CL"], winter, winter + timedelta(days=1)) == (
        "(cat:cs.CL) AND submittedDate:[202601051900 TO 202601061900]"
    )
    naive = datetime(2026, 1, 5, 19, 0)
    assert build_search_query(["cs.CL"], naive, naive).endswith("[202601051900 TO 202601051900]")


def test_search_query_rejects_nonsense() -> None:
    moment = datetime(2026, 1, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="category"):
        build_search_query([], moment, moment)
    with pytest.raises(ValueError, match="before it starts"):
        build_search_query(["cs.AI"], moment, moment - timedelta(minutes=1))


# --- pagination against a local server ---------------------------------------------------------------


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(1000.0)


@pytest.fixture
def polite(fake_time: FakeTime) -> Iterator[PoliteClient]:
    http = httpx.Client(timeout=5)
    client = PoliteClient(http, max_retries=2, min_interval=3.0, sleep=fake_time.sleep, clock=fake_time.clock)
    yield client
    http.close()


WINDOW = (datetime(2026, 4, 27, 18, 0, tzinfo=UTC), datetime(2026, 4, 29, 18, 0, tzinfo=UTC))


def _pages(own_fixture: Fixture) -> list[Scripted]:
    return [Scripted(200, own_fixture(f"api_window_page{n}of3.xml").read_bytes()) for n in (1, 2, 3)]


def test_fetch_window_pages_to_total_results(
    local_server: LocalServer, own_fixture: Fixture, polite: PoliteClient
) -> None:
    local_server.route("/api/query", *_pages(own_fixture), Scripted(500, b"asked past totalResults"))
    seen_pages = []
    papers = list(
        fetch_window(polite, f"{local_server.url}/api/query", ["cs.AI", "cs.LG"], *WINDOW, 2, on_page=seen_pages.append)
    )
    assert [p.arxiv_id for p in papers] == [
        "2604.24101",
        "2604.24188",
        "2604.24950",
        "2604.25003",
        "2604.26990",
        "2604.27015",
    ]
    requests = local_server.requests_to("/api/query")
    assert [r.query["start"] for r in requests] == [["0"], ["2"], ["4"]]
    for request in requests:
        assert request.query["search_query"] == [
            "(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202604271800 TO 202604291800]"
        ]
        assert request.query["max_results"] == ["2"]
        assert request.query["sortBy"] == ["submittedDate"]
        assert request.query["sortOrder"] == ["ascending"]
    assert [p.start_index for p in seen_pages] == [0, 2, 4]


def test_a_refused_query_shows_arxivs_own_reason(
    local_server: LocalServer, shared_fixture: Fixture, polite: PoliteClient
) -> None:
    # The real capture: arXiv refuses a bad query with HTTP 400 and an Atom error entry saying why.
    refusal = shared_fixture("api2025_recorded_idlist-abc_HTTP400_error-entry.body.xml").read_bytes()
    local_server.route("/api/query", Scripted(400, refusal, {"Content-Type": "application/atom+xml"}))

    with pytest.raises(FeedFormatError, match="incorrect id format for abc"):
        list(fetch_window(polite, f"{local_server.url}/api/query", ["cs.AI"], *WINDOW, 2))

    assert len(local_server.requests_to("/api/query")) == 1  # a refusal is not retried


def test_a_400_without_an_explanation_stays_a_fetch_error(local_server: LocalServer, polite: PoliteClient) -> None:
    local_server.route("/api/query", Scripted(400, b"<html>Bad Request</html>", {"Content-Type": "text/html"}))
    with pytest.raises(FetchError, match="HTTP 400"):
        list(fetch_window(polite, f"{local_server.url}/api/query", ["cs.AI"], *WINDOW, 2))


def test_fetch_window_fails_when_empty_pages_persist(
    local_server: LocalServer, own_fixture: Fixture, polite: PoliteClient, fake_time: FakeTime
) -> None:
    first, *_ = _pages(own_fixture)
    empty = Scripted(200, own_fixture("api_window_empty_page_midway.xml").read_bytes())
    local_server.route("/api/query", first, empty)
    received = []
    with pytest.raises(FetchError, match=r"empty page at start=2 of 6 results \(3 attempts\)") as caught:
        for paper in fetch_window(polite, f"{local_server.url}/api/query", ["cs.AI"], *WINDOW, 2):
            received.append(paper.arxiv_id)
    assert received == ["2604.24101", "2604.24188"]  # what came before is not thrown away
    assert caught.value.attempts == 3
    assert [r.query["start"] for r in local_server.requests_to("/api/query")] == [["0"], ["2"], ["2"], ["2"]]
    assert fake_time.sleeps and all(s >= 3.0 for s in fake_time.sleeps)


def test_zero_results_is_confirmed_once_then_believed(
    local_server: LocalServer, own_fixture: Fixture, polite: PoliteClient
) -> None:
    local_server.route("/api/query", Scripted(200, own_fixture("api_window_zero_results.xml").read_bytes()))
    assert list(fetch_window(polite, f"{local_server.url}/api/query", ["cs.AI"], *WINDOW, 2)) == []
    assert len(local_server.requests_to("/api/query")) == 2


def test_zero_results_that_was_a_hiccup_is_recovered(
    local_server: LocalServer, own_fixture: Fixture, polite: PoliteClient
) -> None:
    zero = Scripted(200, own_fixture("api_window_zero_results.xml").read_bytes())
    local_server.route("/api/query", zero, *_pages(own_fixture))
    papers = list(fetch_window(polite, f"{local_server.url}/api/query", ["cs.AI"], *WINDOW, 2))
    assert len(papers) == 6


def test_fetch_window_reads_a_saved_answer_through_the_file_transport(own_fixture: Fixture, tmp_path: Path) -> None:
    saved = own_fixture("api_may04-05_4entries.xml")  # one complete answer: startIndex 0, all its entries
    config = config_from_dict({"arxiv": {"api_url": str(saved)}}, base_dir=tmp_path).arxiv
    fake = FakeTime()

    with make_http_client(config) as http:
        client = make_polite_client(config, http, sleep=fake.sleep, clock=fake.clock)
        papers = list(fetch_window(client, config.api_url, ["cs.AI"], *WINDOW, 2))

    assert [p.arxiv_id for p in papers] == [p.arxiv_id for p in parse_api_page(saved.read_bytes()).papers]
    assert len(papers) == 4 and fake.sleeps == []


def test_an_answer_that_ignores_start_fails_instead_of_repeating_papers(own_fixture: Fixture, tmp_path: Path) -> None:
    # A saved page 3 of 3 (startIndex 4, totalResults 6) answers every page the same: paging on would
    # repeat its two papers three times.
    config = config_from_dict({"arxiv": {"api_url": str(own_fixture("api_window_page3of3.xml"))}}, base_dir=tmp_path)
    with make_http_client(config.arxiv) as http:
        client = make_polite_client(config.arxiv, http, sleep=FakeTime().sleep)
        with pytest.raises(
            FetchError, match=r"asked for results from start=0, the answer starts at 4; .*arxiv\.api_url"
        ):
            list(fetch_window(client, config.arxiv.api_url, ["cs.AI"], *WINDOW, 2))
    with make_http_client(config.arxiv) as http:
        client = make_polite_client(config.arxiv, http, sleep=FakeTime().sleep)
        with pytest.raises(FetchError, match=r"HTTP 404"):
            list(fetch_window(client, str(config.arxiv.api_url) + ".missing", ["cs.AI"], *WINDOW, 2))
