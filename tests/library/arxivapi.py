"""A local arXiv API for id_list queries: answers with the requested ids it knows, drops the others
(as the real API does with unknown or withdrawn ids), and records every request."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

from arxivbot.models import Paper
from tests.localserver import LocalServer, RecordedRequest, Scripted

API_PATH = "/api/query"


def atom_answer(papers: Iterable[Paper]) -> bytes:
    papers = list(papers)
    entries = "".join(
        f"""<entry><id>http://arxiv.org/abs/{p.arxiv_id}v{p.version}</id><title>{escape(p.title)}</title>
<summary>{escape(p.abstract)}</summary><published>2025-01-02T00:00:00Z</published>
<updated>2025-01-02T00:00:00Z</updated><author><name>A. Author</name></author>
<category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/><arxiv:primary_category term="cs.LG"/></entry>"""
        for p in papers
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
 xmlns:arxiv="http://arxiv.org/schemas/atom"><id>https://arxiv.org/api/x</id><title>arXiv Query</title>
<opensearch:totalResults>{len(papers)}</opensearch:totalResults><opensearch:startIndex>0</opensearch:startIndex>
<opensearch:itemsPerPage>{len(papers)}</opensearch:itemsPerPage>{entries}</feed>""".encode()


def serve_id_lists(server: LocalServer, known: Iterable[Paper]) -> None:
    """Answer every ``id_list`` query on ``API_PATH`` with the known papers among the ids asked."""
    by_id = {p.arxiv_id: p for p in known}

    def answer(request: RecordedRequest) -> bytes:
        asked = request.query.get("id_list", [""])[0].split(",")
        return atom_answer(by_id[i] for i in asked if i in by_id)

    server.route(API_PATH, Scripted(200, answer, {"Content-Type": "application/atom+xml"}))


def asked_ids(server: LocalServer) -> list[list[str]]:
    return [r.query.get("id_list", [""])[0].split(",") for r in server.requests_to(API_PATH)]
