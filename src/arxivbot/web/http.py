"""HTTP details shared by the service and the static app: validators, gzip, headers, refusals."""

from __future__ import annotations

import functools
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from arxivbot.config import Config
from arxivbot.publish.served import Resource

SITE_CACHE_CONTROL = "public, max-age=300"
# Pages load only their own stylesheet, script and search index: if escaping ever failed, an
# injected inline script or a script from elsewhere would still not run.
PAGE_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def send(request: Request, resource: Resource | None, *, page: bool = False, status: int = 200) -> Response:
    """``resource`` with its validators (304 when the client has it), gzip when accepted.

    ``page`` adds the Content-Security-Policy of HTML pages.
    """
    if resource is None:
        return not_found()
    answers = _answers(resource, _accepts_gzip(request.headers.get("accept-encoding", "")), page, status)
    if status == 200 and _not_modified(request, answers.etag, resource.last_modified):
        return answers.not_modified
    return answers.full


@dataclass(frozen=True, slots=True)
class _Answers:
    etag: str
    full: Response
    not_modified: Response


# The hot files (feeds, front page, assets) in both encodings; a miss costs what every request did before.
@functools.lru_cache(maxsize=64)
def _answers(resource: Resource, gzipped: bool, page: bool, status: int) -> _Answers:
    """The full answer and the 304 for one file in one encoding, built once and sent by every request.

    A Starlette ``Response`` is plain data (status, encoded headers, body) that nothing here changes
    after building it (no middleware edits headers), so one object answers every request: ``/rss`` at 32
    connections then costs the framework's floor, not a header encoding per request. The key is the
    resource itself (its bytes, validators, date): a re-rendered site brings new resources, and the
    old ones age out.
    """
    etag = resource.gzip_etag if gzipped else resource.etag
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(resource.last_modified, usegmt=True),
        "Cache-Control": SITE_CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if page:
        headers["Content-Security-Policy"] = PAGE_SECURITY_POLICY
    not_modified = Response(status_code=304, headers=headers)
    headers["Content-Type"] = resource.content_type
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    body = resource.gzip_body if gzipped else resource.body
    return _Answers(etag, Response(body, status_code=status, headers=headers), not_modified)


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since only otherwise."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparsable date is ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return last_modified <= since
    return False


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def token_refusal(request: Request, config: Config, *, action: str, wrong_status: int = 403) -> Response | None:
    """None when the request carries the configured bearer token; otherwise the refusal to send.

    403 when no token is configured (``action`` is then disabled), 401 without a bearer token, and
    ``wrong_status`` for a wrong one. Compared in constant time; the token is never echoed.
    """
    env_name = config.server.update_token_env
    expected = os.environ.get(env_name, "") if env_name else ""
    if not expected:
        return json_response(
            {
                "error": f"{action} is disabled: set server.update_token_env to the name of an "
                "environment variable that holds a token"
            },
            403,
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return json_response(
            {"error": "missing token: send Authorization: Bearer <token>"},
            401,
            {"WWW-Authenticate": 'Bearer realm="arxivbot"'},
        )
    if not hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8")):
        extra = {"WWW-Authenticate": 'Bearer realm="arxivbot", error="invalid_token"'} if wrong_status == 401 else {}
        return json_response({"error": "wrong token"}, wrong_status, extra)
    return None


def json_response(data: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def not_found() -> Response:
    return Response(b"not found\n", status_code=404, media_type="text/plain")
