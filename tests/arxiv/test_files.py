"""Offline sources: the file:// transport on its own, through the arXiv client, and through `arxivbot run`."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from markdown_it import MarkdownIt

from arxivbot.arxiv.client import PoliteClient, make_http_client, make_polite_client
from arxivbot.arxiv.files import FileTransport, with_host
from arxivbot.arxiv.rss import daily_feed_url, fetch_daily_feed, parse_daily_feed
from arxivbot.config import ArxivConfig, config_from_dict
from arxivbot.errors import ConfigError, FetchError
from arxivbot.store import HttpValidators
from tests.clirunner import Finished, run_arxivbot
from tests.faketime import FakeTime

PROJECT = Path(__file__).resolve().parents[2]
OFFLINE_EXAMPLE = PROJECT / "examples" / "offline"
FIVE_ITEMS = "rss_cs.AI+cs.LG_day1_5items.xml"

Finder = Callable[[str], Path]


def file_url(path: Path) -> str:
    return with_host(path.as_uri())


@pytest.fixture
def files() -> Iterator[httpx.Client]:
    """A bare httpx client over the transport alone: what it answers, exactly."""
    with httpx.Client(transport=FileTransport()) as client:
        yield client


# --- the transport on its own ------------------------------------------------------------------------


def test_a_file_is_served_with_its_type_and_validators(files: httpx.Client, tmp_path: Path) -> None:
    feed = tmp_path / "saved.xml"
    feed.write_bytes(b"<rss/>")
    os.utime(feed, (1_700_000_000, 1_700_000_000))

    response = files.get(file_url(feed))

    assert (response.status_code, response.content) == (200, b"<rss/>")
    assert response.headers["Content-Type"] == "text/xml"
    assert response.headers["Content-Length"] == "6"
    assert response.headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    assert files.get(file_url(tmp_path / "paper.pdf")).status_code == 404
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.4")
    assert files.get(file_url(tmp_path / "paper.pdf")).headers["Content-Type"] == "application/pdf"


def test_a_conditional_get_is_answered_304_until_the_file_changes(files: httpx.Client, tmp_path: Path) -> None:
    feed = tmp_path / "saved.xml"
    feed.write_bytes(b"<rss>day one</rss>")
    os.utime(feed, (1_700_000_000, 1_700_000_000))
    first = files.get(file_url(feed))
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]

    same = files.get(file_url(feed), headers={"If-None-Match": etag})
    same_by_date = files.get(file_url(feed), headers={"If-Modified-Since": last_modified})
    assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", etag)
    assert same_by_date.status_code == 304
    assert files.get(file_url(feed), headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304

    feed.write_bytes(b"<rss>day two, longer</rss>")  # a new day saved over the old one
    os.utime(feed, (1_700_086_400, 1_700_086_400))
    changed = files.get(file_url(feed), headers={"If-None-Match": etag})
    assert (changed.status_code, changed.content) == (200, b"<rss>day two, longer</rss>")
    assert changed.headers["ETag"] != etag
    assert files.get(file_url(feed), headers={"If-Modified-Since": last_modified}).status_code == 200
    # An ETag that does not match wins over a date that would: If-None-Match decides when sent.
    newer = formatdate(1_800_000_000, usegmt=True)
    assert files.get(file_url(feed), headers={"If-None-Match": etag, "If-Modified-Since": newer}).status_code == 200


def test_a_folder_answers_for_a_category_set_bare_or_saved_as_xml(files: httpx.Client, tmp_path: Path) -> None:
    (tmp_path / "cs.AI+cs.LG.xml").write_bytes(b"<rss>xml</rss>")
    url = daily_feed_url(file_url(tmp_path), ["cs.AI", "cs.LG"])

    assert url == file_url(tmp_path) + "/cs.AI+cs.LG"
    assert files.get(url).content == b"<rss>xml</rss>"
    (tmp_path / "cs.AI+cs.LG").write_bytes(b"<rss>bare</rss>")
    assert files.get(url).content == b"<rss>bare</rss>"  # the exact name first, as today
    assert files.get(daily_feed_url(file_url(tmp_path), ["cs.CL"])).status_code == 404


def test_a_feed_file_answers_for_any_categories(files: httpx.Client, tmp_path: Path) -> None:
    feed = tmp_path / "sample-feed.xml"
    feed.write_bytes(b"<rss/>")

    assert files.get(daily_feed_url(file_url(feed), ["cs.AI", "cs.LG"])).content == b"<rss/>"
    assert files.get(f"{file_url(feed)}/math.GT?ignored=query").content == b"<rss/>"


def test_missing_files_folders_and_escapes_are_refused(files: httpx.Client, tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "secret.txt").write_text("not for you")

    missing = files.get(file_url(tmp_path / "feeds" / "cs.AI.xml"))
    assert missing.status_code == 404 and "no such file" in missing.text
    folder = files.get(file_url(tmp_path / "feeds"))
    assert folder.status_code == 404 and "is a folder" in folder.text
    for escape in ("%2e%2e/secret.txt", "%2E%2E/secret.txt", "..%2fsecret.txt", "x/..%2F..%2Fsecret.txt"):
        refused = files.get(f"{file_url(tmp_path / 'feeds')}/{escape}")
        assert refused.status_code == 403, escape
        assert "not for you" not in refused.text
    # A literal ".." is resolved by httpx before the request: the URL then names the file itself.
    assert httpx.URL(f"{file_url(tmp_path / 'feeds')}/../secret.txt").path == str(tmp_path / "secret.txt")


def test_only_local_reads_are_served(files: httpx.Client, tmp_path: Path) -> None:
    feed = tmp_path / "saved.xml"
    feed.write_bytes(b"<rss/>")

    assert files.post(file_url(feed), content=b"x").status_code == 405
    assert files.get(f"file://elsewhere.example{feed}").status_code == 400
    head = files.head(file_url(feed))
    assert (head.status_code, head.content, head.headers["Content-Length"]) == (200, b"", "6")


# --- through the arXiv client --------------------------------------------------------------------------


def test_config_turns_paths_and_file_urls_into_one_absolute_file_url(tmp_path: Path) -> None:
    expected = file_url(tmp_path / "feeds" / "saved.xml")
    for written in ("feeds/saved.xml", "./feeds/../feeds/saved.xml", f"{tmp_path}/feeds/saved.xml"):
        assert config_from_dict({"arxiv": {"rss_url": written}}, base_dir=tmp_path).arxiv.rss_url == expected
    for written in (
        "file://feeds/saved.xml",
        f"file://{tmp_path}/feeds/saved.xml",
        f"file://localhost{tmp_path}/feeds/saved.xml",
    ):
        assert config_from_dict({"arxiv": {"rss_url": written}}, base_dir=tmp_path).arxiv.rss_url == expected
    spaced = config_from_dict({"arxiv": {"pdf_url": "my pdfs/"}}, base_dir=tmp_path).arxiv.pdf_url
    assert spaced == file_url(tmp_path / "my pdfs") and "%20" in spaced
    remote = config_from_dict({"arxiv": {"api_url": "https://export.arxiv.org/api/query/"}}, base_dir=tmp_path)
    assert remote.arxiv.api_url == "https://export.arxiv.org/api/query"
    with pytest.raises(
        ConfigError, match=r"arxiv\.rss_url: must be an http\(s\):// URL, a file:// URL or a local path"
    ):
        config_from_dict({"arxiv": {"rss_url": "ftp://mirror.example/rss"}}, base_dir=tmp_path)


def test_the_daily_feed_is_fetched_from_disk_like_from_arxiv(own_fixture: Finder, tmp_path: Path) -> None:
    body = own_fixture(FIVE_ITEMS).read_bytes()
    (tmp_path / "cs.AI+cs.LG.xml").write_bytes(body)
    config = config_from_dict({"arxiv": {"rss_url": str(tmp_path)}}, base_dir=tmp_path).arxiv
    fake = FakeTime()

    with make_http_client(config) as http:
        arxiv = make_polite_client(config, http, sleep=fake.sleep, clock=fake.clock)
        url = daily_feed_url(config.rss_url, ["cs.AI", "cs.LG"])
        fetched = fetch_daily_feed(arxiv, url)
        again = fetch_daily_feed(arxiv, url, HttpValidators(fetched.etag, fetched.last_modified, None))

    assert fetched.body == body and fetched.etag and fetched.last_modified
    assert len(parse_daily_feed(fetched.body, source_url=url).announcements) == 5
    assert again.not_modified and (again.etag, again.last_modified) == (fetched.etag, fetched.last_modified)
    assert fake.sleeps == []  # arXiv's 3 s pacing is politeness to a server; a file needs none


def test_a_missing_local_feed_fails_at_once_naming_the_url(tmp_path: Path) -> None:
    config = config_from_dict({"arxiv": {"rss_url": "nowhere/feed.xml"}}, base_dir=tmp_path).arxiv
    fake = FakeTime()

    with make_http_client(config) as http:
        arxiv = make_polite_client(config, http, sleep=fake.sleep, clock=fake.clock)
        url = daily_feed_url(config.rss_url, ["cs.AI"])
        with pytest.raises(FetchError, match=r"HTTP 404: no such feed; check arxiv\.rss_url") as caught:
            fetch_daily_feed(arxiv, url)

    assert caught.value.url == url == f"{file_url(tmp_path / 'nowhere' / 'feed.xml')}/cs.AI"
    assert (caught.value.status, caught.value.attempts, fake.sleeps) == (404, 1, [])


def test_a_file_url_without_the_transport_is_a_clear_fetch_error(tmp_path: Path) -> None:
    with httpx.Client() as http:
        client = PoliteClient(http, sleep=FakeTime().sleep)
        with pytest.raises(FetchError, match=r"cannot be fetched .*check arxiv\.rss_url") as caught:
            client.get(file_url(tmp_path / "feed.xml"))
    assert caught.value.attempts == 1  # not a network error: asking again cannot help


def test_a_spelling_without_host_reaches_the_transport_too(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes(b"<rss/>")
    with make_http_client(ArxivConfig()) as http:
        assert PoliteClient(http).get((tmp_path / "feed.xml").as_uri()).content == b"<rss/>"


# --- through `arxivbot run` ----------------------------------------------------------------------------


def readme_titles(readme: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(readme)
    return [
        tokens[i + 1].content
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.tag == "h3" and tokens[i + 1].content[:1].isdigit()
    ]


def test_the_offline_example_runs_from_its_own_folder(tmp_path: Path) -> None:
    example = tmp_path / "offline"
    shutil.copytree(OFFLINE_EXAMPLE, example, ignore=shutil.ignore_patterns("out"))

    def run() -> Finished:
        # The real CLI (in-process), from another folder: the config's relative paths resolve against the
        # config's own folder.
        return run_arxivbot("run", "--config", str(example / "config.json"), cwd=tmp_path)

    first = run()
    assert first.returncode == 0, first.stderr
    # The example's sample library (library.bib) makes every announcement a candidate, ranked by it.
    assert "9 papers selected from 12 announced (12 new to the database)" in first.stdout
    readme = (example / "out" / "README.md").read_text(encoding="utf-8")
    titles = readme_titles(readme)
    assert len(titles) == 9 and "**Total Papers Found**: 9" in readme
    assert "like: Fast Inference from Transformers via Speculative Decoding" in readme

    second = run()  # the saved feed has not changed: a conditional GET, answered 304, as from arXiv
    assert second.returncode == 0, second.stderr
    assert "not modified" in second.stderr and "9 papers selected from 12 announced" in second.stdout
    assert readme_titles((example / "out" / "README.md").read_text(encoding="utf-8")) == titles
    exported = json.loads((example / "out" / "public" / "papers.json").read_text(encoding="utf-8"))
    assert (exported["day"], exported["paper_count"]) == ("2025-12-24", 9)
