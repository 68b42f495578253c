"""The LLM judge (optional, off by default): the top candidates re-scored against the user's own words.

On when ``ranking.interests`` holds a few sentences about what the user follows and the LLM of
``ai_summary`` is configured (enabled, with its key). After the other scorers have ranked the
candidates, the first ``ranking.judge_top_n`` are sent to the LLM in batches of
``ranking.judge_batch_size``, each batch with the statement and the titles of the library papers
nearest to them; the LLM gives each paper 0–10 and a one-line reason. Verdicts are cached per paper
version, statement and model (never paid twice); the run's token budget
(``ai_summary.max_tokens_per_run``, counted on the judge's own tokens) stops it when spent. Its
score, divided by 10, is added with ``ranking.judge_weight``; papers past the top N get 0 from it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from arxivbot.models import JUDGE_SCORER, Judgement, Paper, Reason
from arxivbot.rank.scorer import Combined, Combiner, Evidence, Rating, Weighted

if TYPE_CHECKING:
    from arxivbot.store import Store

log = logging.getLogger(__name__)

_ABSTRACT_CHARS = 900
_REASON_CHARS = 160
_SYSTEM = (
    "You rate how well arXiv papers match a researcher's interests. Answer with JSON only: a list of "
    'objects {"id": <paper id>, "score": <0 to 10>, "reason": <one short line>}, one per paper.'
)


class LlmJudge:
    """Asks the LLM for verdicts in batches, with a cache and a token budget."""

    def __init__(
        self,
        client: Any,
        model: str,
        statement: str,
        *,
        store: Store | None = None,
        save: bool = True,
        batch_size: int = 10,
        max_tokens: int | None = None,
        nearest_titles: Callable[[Sequence[Paper]], list[str]] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.statement = statement
        self.statement_hash = hashlib.sha256(statement.encode()).hexdigest()[:16]
        self.store = store
        self.save = save
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.nearest_titles = nearest_titles
        self.calls = self.prompt_tokens = self.completion_tokens = self.cache_hits = 0
        self.warnings: list[str] = []

    def judge(self, papers: Sequence[Paper]) -> dict[str, Judgement]:
        verdicts = (
            self.store.judgements(self.statement_hash, self.model, [(p.arxiv_id, p.version) for p in papers])
            if self.store is not None
            else {}
        )
        self.cache_hits += len(verdicts)
        todo = [p for p in papers if p.arxiv_id not in verdicts]
        for start in range(0, len(todo), self.batch_size):
            if self.max_tokens is not None and self.prompt_tokens + self.completion_tokens >= self.max_tokens:
                self._warn(
                    f"LLM judge stopped: the token budget ({self.max_tokens}) is spent; "
                    f"{len(todo) - start} paper(s) not judged"
                )
                break
            batch = todo[start : start + self.batch_size]
            try:
                fresh = self._ask(batch)
            except Exception as err:  # the judge is a bonus: the ranking stands without it
                self._warn(f"LLM judge failed ({type(err).__name__}: {str(err)[:160]}); those papers are not judged")
                break
            verdicts.update(fresh)
            if self.store is not None and self.save and fresh:
                self.store.save_judgements(fresh.values())
        return verdicts

    def _ask(self, batch: Sequence[Paper]) -> dict[str, Judgement]:
        nearest = self.nearest_titles(batch) if self.nearest_titles else []
        lines = [f"The researcher's interests: {self.statement}"]
        if nearest:
            lines.append("Papers in their library closest to these: " + "; ".join(nearest))
        lines.append("Rate each paper:")
        for paper in batch:
            abstract = " ".join(paper.abstract.split())[:_ABSTRACT_CHARS]
            lines.append(f"- id {paper.arxiv_id}: {paper.title}\n  {abstract}")
        self.calls += 1
        answer = self.client.chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": _SYSTEM}, {"role": "user", "content": "\n".join(lines)}],
            temperature=0,
        )
        usage = getattr(answer, "usage", None)
        self.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
        self.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        return self._parse(answer.choices[0].message.content or "", batch)

    def _parse(self, text: str, batch: Sequence[Paper]) -> dict[str, Judgement]:
        match = re.search(r"\[.*\]", text, re.DOTALL)
        if match is None:
            raise ValueError("the answer holds no JSON list")
        versions = {p.arxiv_id: p.version for p in batch}
        verdicts = {}
        for entry in json.loads(match.group(0)):
            if not isinstance(entry, dict):
                continue
            arxiv_id = str(entry.get("id", "")).strip()
            if arxiv_id not in versions:
                continue
            try:
                score = min(max(float(entry.get("score", 0)), 0.0), 10.0)
            except (TypeError, ValueError):
                continue
            reason = " ".join(str(entry.get("reason", "")).split())[:_REASON_CHARS]
            verdicts[arxiv_id] = Judgement(arxiv_id, versions[arxiv_id], self.statement_hash, self.model, score, reason)
        return verdicts

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        self.warnings.append(message)


class JudgedRanker(Combiner):
    """The other scorers' combination, with the top ``top_n`` candidates re-scored by the judge."""

    def __init__(self, parts: Sequence[Weighted], judge: LlmJudge, *, weight: float, top_n: int) -> None:
        super().__init__(parts)
        self.judge = judge
        self.weight = weight
        self.top_n = top_n

    @property
    def names(self) -> tuple[str, ...]:
        return (*super().names, JUDGE_SCORER)

    def fit(self, evidence: Evidence) -> None:
        super().fit(evidence)

    def score(self, papers: Sequence[Paper]) -> list[Combined]:
        base = super().score(papers)
        candidates = [i for i, c in enumerate(base) if c.relevant and not c.excluded]
        top = sorted(candidates, key=lambda i: -base[i].score)[: self.top_n]
        verdicts = self.judge.judge([papers[i] for i in top]) if top else {}
        combined = []
        for paper, rating in zip(papers, base, strict=True):
            verdict = verdicts.get(paper.arxiv_id)
            judged = Rating(verdict.score / 10 if verdict else 0.0)
            combined.append(
                Combined(
                    round(rating.score + self.weight * judged.score, 9),
                    rating.relevant,
                    rating.excluded,
                    (*rating.parts, judged),
                )
            )
        self._verdicts = verdicts
        return combined

    def explain(self, paper: Paper, combined: Combined) -> tuple[Reason, ...]:
        base = Combined(combined.score, combined.relevant, combined.excluded, combined.parts[:-1])
        verdict = getattr(self, "_verdicts", {}).get(paper.arxiv_id)
        judged = combined.parts[-1]
        text = f"judge: {verdict.reason}" if verdict and verdict.reason else ""
        return (*super().explain(paper, base), Reason(JUDGE_SCORER, round(judged.score, 4), text))
