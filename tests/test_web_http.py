"""web/http.send: answers built once per resource and encoding, with the same headers, ETags and 304s as before."""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request

from arxivbot.publish.served import Resource
from arxivbot.web.http import PAGE_SECURITY_POLICY, send

RENDERED = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)


def request(**headers: str) -> Request:
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/rss", "headers": raw, "query_string": b""})


def header(response: object, name: str) -> str | None:
    return dict(response.headers).get(name)  # type: ignore[attr-defined]


def test_every_request_for_a_resource_gets_the_one_answer_built_for_it() -> None:
    feed = Resource.of("rss.xml", b"<rss>one</rss>", RENDERED)

    first, again = send(request(), feed), send(request(), feed)
    zipped, zipped_again = send(request(accept_encoding="gzip"), feed), send(request(accept_encoding="gzip"), feed)

    assert first is again and zipped is zipped_again
    assert (first.body, header(first, "etag")) == (feed.body, feed.etag)
    assert (zipped.body, header(zipped, "etag"), header(zipped, "content-encoding")) == (
        feed.gzip_body,
        feed.gzip_etag,
        "gzip",
    )
    assert header(first, "content-encoding") is None
    assert header(first, "content-type") == "application/rss+xml; charset=utf-8"


def test_a_rerendered_resource_is_sent_with_its_own_bytes_and_validators() -> None:
    before = Resource.of("rss.xml", b"<rss>yesterday</rss>", RENDERED)
    after = Resource.of("rss.xml", b"<rss>today</rss>", RENDERED.replace(day=5))
    send(request(), before)

    fresh = send(request(if_none_match=before.etag), after)

    assert fresh.status_code == 200
    assert (fresh.body, header(fresh, "etag")) == (after.body, after.etag)
    assert send(request(if_none_match=after.etag), after).status_code == 304


def test_conditional_requests_still_get_304_and_an_error_page_never_does() -> None:
    page = Resource.of("404.html", b"<p>no such day</p>", RENDERED)

    assert send(request(if_none_match=page.etag), page).status_code == 304
    assert send(request(if_modified_since="Wed, 04 Mar 2026 12:00:00 GMT"), page).status_code == 304
    missing = send(request(if_none_match=page.etag), page, page=True, status=404)
    assert (missing.status_code, missing.body) == (404, page.body)


def test_only_pages_carry_the_security_policy_even_for_the_same_bytes() -> None:
    resource = Resource.of("index.html", b"<p>hello</p>", RENDERED)

    as_page = send(request(), resource, page=True)
    as_file = send(request(), resource)

    assert header(as_page, "content-security-policy") == PAGE_SECURITY_POLICY
    assert header(as_file, "content-security-policy") is None
    assert header(send(request(if_none_match=resource.etag), resource, page=True), "content-security-policy")
