"""A real OpenAI-compatible HTTP server on 127.0.0.1, for the summary tests and the benchmark.

It speaks the three endpoints arxivbot uses — ``POST /v1/chat/completions``, ``POST /v1/files``
(multipart, DashScope's ``file-extract`` upload) and ``DELETE /v1/files/{id}`` — so the real openai SDK
client talks to it over real HTTP. Answers are scripted per endpoint (a queue; the last one repeats):
delays, a gate the test opens, error statuses with ``Retry-After``, empty or malformed replies. Every
request is recorded, and the server counts how many requests were in flight at once.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT = "chat"
UPLOAD = "upload"
DELETE = "delete"


@dataclass
class Reply:
    """One scripted answer.

    For a 200 chat completion, ``text`` is the assistant's content; None generates a small markdown
    summary that names the paper's title (so tests can tell papers apart). ``null_content`` and
    ``no_choices`` make malformed-but-valid JSON replies; ``raw`` replaces the whole body.
    """

    status: int = 200
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None
    null_content: bool = False
    no_choices: bool = False
    prompt_tokens: int = 100
    completion_tokens: int = 50
    gate: threading.Event | None = None  # hold the answer until the test sets it (at most a minute)


@dataclass
class LLMRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any  # the decoded JSON body (chat completions), else None
    form: dict[str, bytes]  # multipart fields (uploads), else empty
    at: float


@dataclass
class UploadedFile:
    file_id: str
    filename: str
    data: bytes
    purpose: str


_TITLE = re.compile(r"论文标题：(.*)")


def summary_for(messages: list[dict[str, Any]]) -> str:
    """The default reply: markdown naming the title found in the user message."""
    user = next((m.get("content", "") for m in messages if m.get("role") == "user"), "")
    match = _TITLE.search(user if isinstance(user, str) else "")
    title = match.group(1).strip() if match else "unknown"
    return f"## 1. 主要贡献\n\n- **{title}** 提出了新方法\n\n| metric | value |\n|---|---|\n| BLEU | 42 |\n"


class LLMServer:
    """``with LLMServer(api_key="sk-...") as server:``; point ``openai.OpenAI(base_url=server.base_url)`` at it.

    With ``api_key`` set, any other key gets a 401 whose message echoes the key it was given — as
    real APIs have done — so tests can check arxivbot never repeats it.
    """

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[LLMRequest] = []
        self.uploaded: dict[str, UploadedFile] = {}
        self.deleted: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._scripts: dict[str, list[Reply]] = {CHAT: [Reply()], UPLOAD: [Reply()], DELETE: [Reply()]}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, for every test that uses the server.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def script(self, endpoint: str, *replies: Reply) -> None:
        """Answer ``endpoint`` (CHAT, UPLOAD or DELETE) with ``replies`` in turn; the last one repeats."""
        with self._lock:
            self._scripts[endpoint] = list(replies)

    def chat(self, *replies: Reply) -> None:
        self.script(CHAT, *replies)

    @property
    def chat_requests(self) -> list[LLMRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def __enter__(self) -> LLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- internals --------------------------------------------------------------------------------

    def _next(self, endpoint: str) -> Reply:
        with self._lock:
            queue = self._scripts[endpoint]
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _answer(self, request: LLMRequest) -> tuple[int, dict[str, str], bytes]:
        if self.api_key is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if given != self.api_key:
                message = f"Incorrect API key provided: {given}. You can find your API key in the console."
                return (
                    401,
                    {},
                    _json({"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}),
                )
        if request.method == "POST" and request.path == "/v1/chat/completions":
            return self._scripted(CHAT, request, self._completion)
        if request.method == "POST" and request.path == "/v1/files":
            return self._scripted(UPLOAD, request, self._upload)
        if request.method == "DELETE" and request.path.startswith("/v1/files/"):
            return self._scripted(DELETE, request, self._delete)
        return 404, {}, _json({"error": {"message": f"no route {request.method} {request.path}"}})

    def _scripted(self, endpoint: str, request: LLMRequest, success: Any) -> tuple[int, dict[str, str], bytes]:
        reply = self._next(endpoint)
        if reply.gate is not None:
            reply.gate.wait(timeout=60)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.raw is not None:
            return reply.status, reply.headers, reply.raw
        if reply.status != 200:
            error = {"error": {"message": f"scripted HTTP {reply.status}", "type": "server_error"}}
            return reply.status, reply.headers, _json(error)
        return 200, reply.headers, _json(success(request, reply))

    def _completion(self, request: LLMRequest, reply: Reply) -> dict[str, Any]:
        body = request.json or {}
        text = reply.text if reply.text is not None else summary_for(body.get("messages", []))
        choices = (
            []
            if reply.no_choices
            else [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": None if reply.null_content else text},
                    "finish_reason": "stop",
                }
            ]
        )
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": choices,
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }

    def _upload(self, request: LLMRequest, reply: Reply) -> dict[str, Any]:
        file_id = f"file-fe-{next(self._ids)}"
        data = request.form.get("file", b"")
        filename = request.form.get("file.filename", b"upload").decode()
        purpose = request.form.get("purpose", b"").decode()
        with self._lock:
            self.uploaded[file_id] = UploadedFile(file_id, filename, data, purpose)
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }

    def _delete(self, request: LLMRequest, reply: Reply) -> dict[str, Any]:
        file_id = request.path.rsplit("/", 1)[1]
        with self._lock:
            self.deleted.append(file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffered writes: headers and body leave in one packet. Unbuffered, they go as two and
            # Nagle's algorithm meets the client's delayed ACK: ~40 ms added to every request.
            wbufsize = 1 << 16

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                server._enter()
                try:
                    request = self._read()
                    with server._lock:
                        server.requests.append(request)
                    status, headers, body = server._answer(request)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    self.close_connection = True
                finally:
                    server._leave()

            def _read(self) -> LLMRequest:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                content_type = headers.get("content-type", "")
                body: Any = None
                form: dict[str, bytes] = {}
                if content_type.startswith("application/json") and raw:
                    body = json.loads(raw)
                elif content_type.startswith("multipart/form-data"):
                    form = _multipart(content_type, raw)
                return LLMRequest(self.command, self.path.split("?", 1)[0], headers, body, form, time.monotonic())

            do_POST = do_DELETE = do_GET = _serve

        return Handler


def _multipart(content_type: str, raw: bytes) -> dict[str, bytes]:
    """Fields of a multipart/form-data body; a file field also gives ``<name>.filename``."""
    message = BytesParser(policy=policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename:
            fields[f"{name}.filename"] = filename.encode()
    return fields


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
