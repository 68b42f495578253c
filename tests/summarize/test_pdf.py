"""PDF download (cached, checked, polite) and local text extraction, with real PDF bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from arxivbot.arxiv.client import PoliteClient, make_http_client
from arxivbot.config import ArxivConfig, config_from_dict
from arxivbot.errors import SummaryError
from arxivbot.models import Paper
from arxivbot.summarize.pdf import extract_text, fetch_pdf, pdf_cache_path
from tests.localserver import LocalServer, Scripted
from tests.summarize.conftest import make_paper, paper_pdf
from tests.summarize.pdfs import make_pdf


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    with make_http_client(ArxivConfig(timeout_seconds=5.0)) as http:  # file:// served too
        yield PoliteClient(http, max_retries=1, sleep=lambda seconds: None)


def test_a_pdf_is_downloaded_once_then_served_from_the_cache(
    local_server: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    paper = make_paper(1, version=3)
    data = paper_pdf(paper)
    local_server.route("/pdf/2501.00001v3", Scripted(200, data, {"Content-Type": "application/pdf"}))

    first = fetch_pdf(client, f"{local_server.url}/pdf", paper, tmp_path / "pdfs")
    second = fetch_pdf(client, f"{local_server.url}/pdf/", paper, tmp_path / "pdfs")

    assert first == second == tmp_path / "pdfs" / "2501.00001v3.pdf"
    assert first.read_bytes() == data
    assert len(local_server.requests) == 1
    assert "arxivbot" not in local_server.requests[0].path


def test_an_html_answer_is_refused_and_not_cached(
    local_server: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    paper = make_paper(2)
    local_server.route("/pdf/2501.00002v1", Scripted(200, b"<!DOCTYPE html><p>generating</p>"))

    with pytest.raises(SummaryError, match="not a PDF"):
        fetch_pdf(client, f"{local_server.url}/pdf", paper, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_is_a_summary_error_after_the_clients_retries(
    local_server: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    local_server.route("/pdf/2501.00003v1", Scripted(503, b"busy", {"Retry-After": "1"}))

    with pytest.raises(SummaryError, match=r"PDF download failed.*HTTP 503 after 2"):
        fetch_pdf(client, f"{local_server.url}/pdf", make_paper(3), tmp_path)
    assert len(local_server.requests) == 2


def test_old_style_ids_and_local_folders(client: PoliteClient, tmp_path: Path) -> None:
    paper = Paper(
        arxiv_id="hep-th/9901001",
        version=2,
        title="Old",
        authors=(),
        abstract="",
        categories=("hep-th",),
        link="https://arxiv.org/abs/hep-th/9901001",
    )
    source = tmp_path / "mirror" / "hep-th"
    source.mkdir(parents=True)
    (source / "9901001v2.pdf").write_bytes(make_pdf(["old style"]))

    mirror = config_from_dict({"arxiv": {"pdf_url": "mirror"}}, base_dir=tmp_path).arxiv.pdf_url

    path = fetch_pdf(client, mirror, paper, tmp_path / "cache")

    assert path == pdf_cache_path(tmp_path / "cache", paper) == tmp_path / "cache" / "hep-th_9901001v2.pdf"
    assert extract_text(path, 1000) == "old style"
    with pytest.raises(SummaryError, match=r"PDF download failed: file://localhost/.*/mirror/2501\.00009v1: HTTP 404"):
        fetch_pdf(client, mirror, make_paper(9), tmp_path / "cache")


def test_extract_text_reads_every_page_up_to_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(make_pdf(["Page one says hello.", "Second line (with parens)."], ["Page two."], ["Page three."]))

    assert extract_text(path, 10_000) == "Page one says hello.\nSecond line (with parens).\n\nPage two.\n\nPage three."
    assert extract_text(path, 25) == "Page one says hello.\nSeco"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\nthis is not really a pdf", b"", make_pdf(["truncated text"])[:150]],
    ids=["garbage", "empty", "truncated"],
)
def test_a_broken_pdf_is_a_summary_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)

    with pytest.raises(SummaryError, match=r"broken\.pdf"):
        extract_text(path, 1000)


def test_a_pdf_without_text_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([]))

    with pytest.raises(SummaryError, match='"abstract" or "pdf-upload"'):
        extract_text(path, 1000)
