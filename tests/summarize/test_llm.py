"""summarize_papers against a real OpenAI-compatible HTTP server, through the real openai SDK client."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from arxivbot.arxiv.client import PoliteClient
from arxivbot.errors import LLMAuthError
from arxivbot.summarize.llm import make_llm_client
from arxivbot.summarize.prompt import default_prompt, prompt_hash
from tests.faketime import FakeTime
from tests.llmserver import DELETE, UPLOAD, Reply, summary_for
from tests.localserver import Scripted
from tests.summarize.conftest import KEY, Harness, make_paper, paper_pdf


def user_message(request_json: dict) -> str:
    return next(m["content"] for m in request_json["messages"] if m["role"] == "user")


# --- the three input modes -----------------------------------------------------------------------------


def test_abstract_mode_sends_title_line_and_abstract_and_stores_the_reply(harness: Harness) -> None:
    paper = make_paper(1)
    report = harness.run([paper])

    (request,) = harness.llm_server.chat_requests
    assert request.json["model"] == "test-model"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    text = user_message(request.json)
    assert text.startswith("论文标题：Sparse Inference Paper 1\n")
    assert default_prompt().strip() in text
    assert paper.abstract in text
    stored = harness.store.get_summary(paper.arxiv_id, 1, "test-model", prompt_hash(default_prompt()), "abstract")
    assert stored is not None
    assert stored.text == summary_for(request.json["messages"]).strip()
    assert report.summaries[paper.arxiv_id].text == stored.text
    assert (report.llm_calls, report.cache_hits, report.prompt_tokens, report.completion_tokens) == (1, 0, 100, 50)
    assert (stored.prompt_tokens, stored.completion_tokens) == (100, 50)


def test_pdf_text_mode_sends_the_extracted_text_cut_to_the_budget(harness: Harness) -> None:
    paper = make_paper(2)
    filler = [f"Result line {n}: accuracy improves by {n} points." for n in range(40)]
    harness.serve_pdf(paper, paper_pdf(paper, filler))
    report = harness.run([paper], harness.config(input="pdf-text", pdf_text_max_chars=300))

    assert report.failures == ()
    text = user_message(harness.llm_server.chat_requests[0].json)
    assert text.startswith("论文标题：Sparse Inference Paper 2\n")
    body = text.split("论文全文（从 PDF 提取）：\n\n", 1)[1]
    assert body.startswith(f"Full text of {paper.arxiv_id}")
    assert "Result line 3:" in body
    assert "Result line 39" not in body  # beyond the 300-character budget
    assert len(body) <= 300
    assert (harness.tmp / "data" / "pdfs" / "2501.00002v1.pdf").is_file()


def test_pdf_upload_mode_uploads_refers_by_fileid_and_deletes_afterwards(harness: Harness) -> None:
    paper = make_paper(3)
    pdf = harness.serve_pdf(paper)
    report = harness.run([paper], harness.config(input="pdf-upload"))

    assert paper.arxiv_id in report.summaries
    (uploaded,) = harness.llm_server.uploaded.values()
    assert uploaded.data == pdf
    assert uploaded.purpose == "file-extract"
    assert uploaded.filename == "2501.00003v1.pdf"
    messages = harness.llm_server.chat_requests[0].json["messages"]
    assert {"role": "system", "content": f"fileid://{uploaded.file_id}"} in messages
    assert user_message(harness.llm_server.chat_requests[0].json).startswith("论文标题：Sparse Inference Paper 3\n")
    assert harness.llm_server.deleted == [uploaded.file_id]
    order = [(r.method, r.path.split("/")[2]) for r in harness.llm_server.requests]
    assert order == [("POST", "files"), ("POST", "chat"), ("DELETE", "files")]


def test_uploaded_file_is_deleted_even_when_the_summary_fails(harness: Harness) -> None:
    paper = make_paper(4)
    harness.serve_pdf(paper)
    harness.llm_server.chat(Reply(400))
    report = harness.run([paper], harness.config(input="pdf-upload"))

    assert report.summaries == {}
    assert report.failures[0][0] == paper.arxiv_id
    assert "HTTP 400" in report.failures[0][1]
    assert harness.llm_server.deleted == list(harness.llm_server.uploaded)


def test_a_failed_delete_is_a_warning_not_a_failure(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    paper = make_paper(5)
    harness.serve_pdf(paper)
    harness.llm_server.script(DELETE, Reply(500))
    report = harness.run([paper], harness.config(input="pdf-upload"))

    assert paper.arxiv_id in report.summaries
    assert any(
        "could not delete uploaded file" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )


def test_pdfs_are_cached_and_never_downloaded_twice(harness: Harness) -> None:
    paper = make_paper(6)
    harness.serve_pdf(paper)
    config = harness.config(input="pdf-text")
    harness.run([paper], config)
    harness.run([paper], config, resummarize=True)

    assert len(harness.llm_server.chat_requests) == 2
    assert len(harness.pdf_host.requests_to("/pdf/2501.00006v1")) == 1


def test_a_pdf_that_cannot_be_had_costs_only_that_summary(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    good, html, missing = make_paper(7), make_paper(8), make_paper(9)
    harness.serve_pdf(good)
    harness.pdf_host.route("/pdf/2501.00008v1", Scripted(200, b"<html>PDF being generated</html>"))
    report = harness.run([good, html, missing], harness.config(input="pdf-text"))

    assert list(report.summaries) == [good.arxiv_id]
    reasons = dict(report.failures)
    assert "not a PDF" in reasons[html.arxiv_id]
    assert "HTTP 404" in reasons[missing.arxiv_id]
    assert not (harness.tmp / "data" / "pdfs" / "2501.00008v1.pdf").exists()
    assert len(harness.llm_server.chat_requests) == 1
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "2501.00008v1" in warned and "2501.00009v1" in warned


def test_pdf_downloads_keep_the_polite_pacing_across_workers(harness: Harness) -> None:
    papers = [make_paper(n) for n in range(10, 14)]
    for paper in papers:
        harness.serve_pdf(paper)
    # A fake clock that only moves when the client waits, shared by the four workers: whatever order the
    # threads take turns in, each download after the first must wait the whole interval since the previous
    # start, whichever worker made it. Pacing kept per worker (or not at all) would wait less or never.
    fake = FakeTime(0.0)
    with httpx.Client(timeout=5.0) as http:
        paced = PoliteClient(http, max_retries=0, min_interval=0.15, sleep=fake.sleep, clock=fake.clock)
        harness.run(papers, harness.config(input="pdf-text", max_workers=4), pdf_client=paced)

    assert len(harness.pdf_host.requests) == 4
    assert fake.sleeps == pytest.approx([0.15] * 3)
    assert fake.now == pytest.approx(0.45)


# --- concurrency ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["abstract", "pdf-upload"])
def test_never_more_requests_in_flight_than_max_workers(harness: Harness, mode: str) -> None:
    papers = [make_paper(n) for n in range(20, 28)]
    for paper in papers:
        harness.serve_pdf(paper)
    harness.llm_server.chat(Reply(delay=0.25))
    harness.llm_server.script(UPLOAD, Reply(delay=0.05))
    report = harness.run(papers, harness.config(input=mode, max_workers=3))

    assert len(report.summaries) == 8
    assert harness.llm_server.max_in_flight == 3


def test_only_the_top_n_papers_are_summarized_in_digest_order(harness: Harness) -> None:
    papers = [make_paper(n) for n in range(30, 36)]
    report = harness.run(papers, harness.config(max_papers_to_summarize=2))

    assert list(report.summaries) == [papers[0].arxiv_id, papers[1].arxiv_id]
    assert len(harness.llm_server.chat_requests) == 2


# --- failures ---------------------------------------------------------------------------------------------


def test_429_with_retry_after_is_honoured_then_succeeds(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    harness.llm_server.chat(Reply(429, headers={"Retry-After": "7"}), Reply())
    report = harness.run([make_paper(40)])

    assert harness.sleeps == [7.0]
    assert report.llm_calls == 2
    assert report.failures == ()
    assert len(report.summaries) == 1
    assert any("HTTP 429" in r.getMessage() and "2501.00040v1" in r.getMessage() for r in caplog.records)


def test_retry_after_really_waits_with_the_default_sleep(harness: Harness) -> None:
    harness.llm_server.chat(Reply(429, headers={"Retry-After": "1"}), Reply())
    config = harness.config()
    report = harness.run([make_paper(41)], config, sleep=time.sleep)

    first, second = harness.llm_server.chat_requests
    assert second.at - first.at >= 1.0
    assert len(report.summaries) == 1


def test_500_forever_gives_up_after_bounded_attempts(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    harness.llm_server.chat(Reply(500))
    paper = make_paper(42)
    report = harness.run([paper], harness.config(max_retries=2))

    assert len(harness.llm_server.chat_requests) == 3
    assert len(harness.sleeps) == 2
    assert harness.sleeps[1] > harness.sleeps[0]  # exponential backoff
    assert report.summaries == {}
    assert report.failures == ((paper.arxiv_id, "summary request: HTTP 500 after 3 attempts"),)
    assert harness.store.count_summaries() == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("No AI summary for 2501.00042v1" in m and "HTTP 500 after 3 attempts" in m for m in warnings)


def test_a_timeout_is_retried(harness: Harness) -> None:
    # The retry is answered at once but must still come back within the timeout: 1 s, not a fraction,
    # so a loaded machine cannot make it time out too.
    harness.llm_server.chat(Reply(delay=3.0), Reply())
    report = harness.run([make_paper(43)], harness.config(timeout_seconds=1.0))

    assert len(report.summaries) == 1
    assert report.llm_calls == 2
    assert len(harness.sleeps) == 1


def test_a_timeout_on_every_attempt_is_a_failure(harness: Harness) -> None:
    harness.llm_server.chat(Reply(delay=1.0))
    paper = make_paper(44)
    report = harness.run([paper], harness.config(timeout_seconds=0.2, max_retries=0))

    assert report.failures == ((paper.arxiv_id, "summary request: timed out after 1 attempt"),)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="   \n\t"),
        Reply(null_content=True),
        Reply(no_choices=True),
        Reply(text="<think>only thoughts</think>"),
    ],
    ids=["whitespace", "null-content", "no-choices", "only-reasoning"],
)
def test_an_empty_or_malformed_reply_is_not_stored(
    harness: Harness, reply: Reply, caplog: pytest.LogCaptureFixture
) -> None:
    harness.llm_server.chat(reply)
    paper = make_paper(45)
    report = harness.run([paper])

    assert report.summaries == {}
    assert report.failures[0][0] == paper.arxiv_id
    assert harness.store.count_summaries() == 0
    assert report.prompt_tokens == 100  # the tokens were still spent
    assert any("2501.00045v1" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_reply_that_is_not_json_is_a_failure(harness: Harness) -> None:
    harness.llm_server.chat(Reply(raw=b"<html>gateway</html>", headers={"Content-Type": "text/html"}))
    report = harness.run([make_paper(46)])

    assert report.summaries == {}
    assert len(report.failures) == 1
    assert harness.store.count_summaries() == 0


def test_the_stored_text_is_the_models_text_stripped_without_its_reasoning(harness: Harness) -> None:
    harness.llm_server.chat(Reply(text="<think>\nplan\n</think>\n\n## 总结\n\n- **bold** <b>raw</b>\n\n"))
    paper = make_paper(47)
    report = harness.run([paper])

    assert report.summaries[paper.arxiv_id].text == "## 总结\n\n- **bold** <b>raw</b>"


# --- the cache ------------------------------------------------------------------------------------------


def test_a_second_run_makes_zero_llm_calls(harness: Harness) -> None:
    papers = [make_paper(n) for n in range(50, 55)]
    config = harness.config()
    first = harness.run(papers, config)
    requests = len(harness.llm_server.requests)
    second = harness.run(papers, config)

    assert len(harness.llm_server.requests) == requests
    assert (second.llm_calls, second.cache_hits, second.prompt_tokens) == (0, 5, 0)
    assert {k: v.text for k, v in second.summaries.items()} == {k: v.text for k, v in first.summaries.items()}
    assert second.new_summaries == 0


def test_cache_key_includes_version_model_prompt_and_input_mode(harness: Harness) -> None:
    paper = make_paper(56)
    harness.serve_pdf(paper)
    harness.serve_pdf(make_paper(56, version=2))
    prompt = harness.tmp / "my_prompt.txt"
    prompt.write_text("Summarize in one line.", encoding="utf-8")
    harness.run([paper])
    for variant, config in [
        (make_paper(56, version=2), harness.config()),
        (paper, harness.config(model="other-model")),
        (paper, harness.config(prompt_file="my_prompt.txt")),
        (paper, harness.config(input="pdf-text")),
    ]:
        before = len(harness.llm_server.chat_requests)
        report = harness.run([variant], config)
        assert report.cache_hits == 0
        assert len(harness.llm_server.chat_requests) == before + 1
    assert harness.store.count_summaries() == 5


def test_resummarize_ignores_the_cache_and_overwrites(harness: Harness) -> None:
    paper = make_paper(57)
    harness.run([paper])
    harness.llm_server.chat(Reply(text="## fresh summary"))
    report = harness.run([paper], resummarize=True)

    assert report.cache_hits == 0 and report.llm_calls == 1
    assert report.summaries[paper.arxiv_id].text == "## fresh summary"
    assert harness.store.count_summaries() == 1
    again = harness.run([paper])
    assert again.summaries[paper.arxiv_id].text == "## fresh summary"


# --- cost -----------------------------------------------------------------------------------------------


def test_tokens_are_counted_and_the_budget_stops_new_papers(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    harness.llm_server.chat(Reply(prompt_tokens=120, completion_tokens=30))
    papers = [make_paper(n) for n in range(60, 65)]
    report = harness.run(papers, harness.config(max_workers=1, max_tokens_per_run=300))

    assert list(report.summaries) == [papers[0].arxiv_id, papers[1].arxiv_id]
    assert (report.prompt_tokens, report.completion_tokens, report.llm_calls) == (240, 60, 2)
    assert report.skipped_for_budget == 3
    assert report.unsummarized == 3
    assert any("max_tokens_per_run" in line for line in report.warnings())
    assert any("max_tokens_per_run" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "240 prompt + 60 completion tokens" in report.describe()


# --- keys -----------------------------------------------------------------------------------------------


def test_a_missing_key_is_one_clear_error_naming_the_env_var(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cached = make_paper(70)
    harness.run([cached])
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    config = harness.config()
    with pytest.raises(LLMAuthError) as raised:
        make_llm_client(config.ai_summary)
    message = "No API key: set DASHSCOPE_API_KEY, or set ai_summary.enabled to false"
    assert str(raised.value) == message

    requests = len(harness.llm_server.requests)
    report = harness.run([cached, make_paper(71), make_paper(72)], config, llm=None)
    assert len(harness.llm_server.requests) == requests
    assert list(report.summaries) == [cached.arxiv_id]  # the cache still serves
    assert report.auth_error == message
    assert report.skipped_for_auth == 2
    assert report.failures == ()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("DASHSCOPE_API_KEY" in m for m in warnings) == 1


def test_a_rejected_key_stops_summarizing_with_one_message(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "sk-wrong-5be0f1d2c3a4b5c6d7e8"
    monkeypatch.setenv("MY_LLM_KEY", wrong)
    caplog.set_level(logging.DEBUG)
    papers = [make_paper(n) for n in range(73, 81)]
    config = harness.config(api_key_env="MY_LLM_KEY", max_workers=2)
    report = harness.run(papers, config)

    assert report.summaries == {}
    assert report.failures == ()
    assert report.auth_error is not None
    assert "MY_LLM_KEY" in report.auth_error and "HTTP 401" in report.auth_error
    assert report.skipped_for_auth == 8
    assert len(harness.llm_server.chat_requests) <= 2  # no point asking eight times
    assert sum("MY_LLM_KEY" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING) == 1
    assert wrong not in caplog.text
    assert wrong[-8:] not in caplog.text
    assert wrong not in repr(report) and wrong not in " ".join(report.warnings())


def test_the_key_is_never_in_logs_reports_or_the_database(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f'{{"error": {{"message": "bad request for key {KEY}"}}}}'.encode()
    harness.llm_server.chat(Reply(), Reply(500), Reply(400, raw=echo), Reply())
    papers = [make_paper(n) for n in range(82, 86)]
    report = harness.run(papers, harness.config(max_workers=1, max_retries=0))

    assert len(report.summaries) == 2 and len(report.failures) == 2
    assert "HTTP 400" in dict(report.failures)[papers[2].arxiv_id]
    everything = caplog.text + repr(report) + " ".join(report.warnings()) + report.describe()
    assert KEY not in everything
    assert KEY[-8:] not in everything
    harness.store.close()
    for path in (harness.tmp / "data").glob("arxivbot.db*"):
        assert KEY.encode() not in path.read_bytes()


def test_progress_bar_runs_on_a_terminal(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    report = harness.run([make_paper(90), make_paper(91)], progress=True)

    assert len(report.summaries) == 2
    assert capsys.readouterr().out == ""  # the bar lives on stderr, never in stdout


def test_nothing_happens_when_ai_summary_is_disabled(harness: Harness) -> None:
    report = harness.run([make_paper(92)], harness.config(enabled=False))

    assert report.summaries == {} and report.llm_calls == 0
    assert harness.llm_server.requests == []
