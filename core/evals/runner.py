"""Running a suite: each case sent to the gateway's own `/v1/chat/completions` over loopback, as any client's
request is (keys, limits, routing, fallback, usage recording all apply), and the answers scored.

Cases run one after another per target (a suite should not trip the rate limits it is measuring), with the
answer cache bypassed and temperature 0. Cost comes from the answer's usage and the price table of the
provider and model that actually answered (`X-Quotagate-Provider/-Model`)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import httpx

from core.evals.suites import Case, Suite
from core.providers import catalog

CASE_TIMEOUT = 120.0  # seconds for one answer
MAX_OUTPUT = 1000  # characters of each answer kept with the results


@dataclass
class CaseResult:
    index: int
    passed: bool
    latency_ms: float
    output: str = ""
    error: str | None = None  # the gateway's or the provider's refusal
    reasons: list[str] = field(default_factory=list)  # why the answer failed the checks

    def public(self) -> dict[str, Any]:
        return {"index": self.index, "passed": self.passed, "latencyMs": round(self.latency_ms, 1),
                "output": self.output, "error": self.error, "reasons": self.reasons}


@dataclass
class TargetResult:
    target: str
    cases: list[CaseResult] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    answered_by: list[str] = field(default_factory=list)  # provider/model that answered, in order of first use

    @property
    def passed(self) -> int:
        return sum(case.passed for case in self.cases)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.cases) if self.cases else 0.0

    def public(self) -> dict[str, Any]:
        latencies = [case.latency_ms for case in self.cases]
        return {"target": self.target, "passed": self.passed, "total": len(self.cases),
                "passRate": round(self.pass_rate, 4),
                "latencyMs": {"avg": round(statistics.fmean(latencies), 1) if latencies else None,
                              "p50": round(statistics.median(latencies), 1) if latencies else None,
                              "max": round(max(latencies), 1) if latencies else None},
                "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
                "costUsd": round(self.cost_usd, 6), "answeredBy": self.answered_by,
                "cases": [case.public() for case in self.cases]}


async def run_suite(suite: Suite, targets: list[str], base_url: str, api_key: str | None = None,
                    price_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every case against every target; the run as `history.save_run` keeps it and the API answers it."""
    started = time.time()
    headers = {"x-quotagate-no-cache": "true", "user-agent": "quotagate-evals"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    results = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=CASE_TIMEOUT, trust_env=False) as http:
        for target in targets:
            result = TargetResult(target)
            for index, case in enumerate(suite.cases):
                result.cases.append(await _run_case(http, target, index, case, result, price_overrides or {}))
            results.append(result.public())
    return {"suite": suite.name, "startedAt": started, "finishedAt": time.time(), "targets": results}


async def _run_case(http: httpx.AsyncClient, target: str, index: int, case: Case, result: TargetResult,
                    overrides: Mapping[str, Any]) -> CaseResult:
    messages = ([{"role": "system", "content": case.system}] if case.system else []) + \
        [{"role": "user", "content": case.prompt}]
    sent = time.perf_counter()
    try:
        response = await http.post("/v1/chat/completions", json={"model": target, "messages": messages,
                                                                 "temperature": 0})
    except httpx.HTTPError as exc:
        return CaseResult(index, False, (time.perf_counter() - sent) * 1000,
                          error=f"the gateway could not be reached: {type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - sent) * 1000
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        words = error.get("message") if isinstance(error, dict) else None
        return CaseResult(index, False, latency, error=f"HTTP {response.status_code}: "
                                                       f"{words or response.text[:300] or 'no answer'}")
    output = _answer_text(body)
    _count(result, body, response.headers, overrides)
    reasons = case.failures(output)
    return CaseResult(index, not reasons, latency, output[:MAX_OUTPUT], reasons=reasons)


def _answer_text(body: dict[str, Any]) -> str:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # content parts, as some providers answer
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def _count(result: TargetResult, body: dict[str, Any], headers: httpx.Headers, overrides: Mapping[str, Any]) -> None:
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    prompt, completion = _whole(usage.get("prompt_tokens")), _whole(usage.get("completion_tokens"))
    details = usage.get("prompt_tokens_details")
    cached = min(_whole(details.get("cached_tokens")) if isinstance(details, dict) else 0, prompt)
    result.prompt_tokens += prompt
    result.completion_tokens += completion
    provider, model = headers.get("x-quotagate-provider"), headers.get("x-quotagate-model")
    if provider and model:
        answered = f"{provider}/{model}"
        if answered not in result.answered_by:
            result.answered_by.append(answered)
        try:
            price = catalog.price_for(provider, model, overrides)
        except ValueError:
            price = catalog.price_for(provider, model)
        result.cost_usd += catalog.cost_usd(price, prompt, completion, cached)


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
