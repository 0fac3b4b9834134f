""""Try it": one real request through the gateway exactly as a connected tool would send it (its dialect,
its model name, its way of sending the key, streamed as the tools stream), read back to the answer text or
the error in words, with the time it took."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from core.cli_tools.base import Trial
from core.gateway.sse import EventSplitter, event_json
from core.i18n import tr

PROMPT = "Reply with one short sentence: which model are you?"
TIMEOUT = 120.0  # seconds; a combo may go through several slow targets before one answers
MAX_ANSWER = 2000  # characters kept of the answer


@dataclass
class TrialResult:
    ok: bool
    seconds: float
    model: str
    url: str
    dialect: str
    answer: str = ""
    error: str = ""
    status: int | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


async def send(trial: Trial, timeout: float = TIMEOUT) -> TrialResult:
    """Send `trial` and read the whole streamed answer. Failures come back as a result, never raised."""
    started = time.perf_counter()

    def result(ok: bool, **values: Any) -> TrialResult:
        return TrialResult(ok, time.perf_counter() - started, trial.model, trial.url, trial.dialect, **values)

    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            async with client.stream("POST", trial.url, json=trial.body, headers=trial.headers) as response:
                if not response.is_success:
                    body = await response.aread()
                    return result(False, status=response.status_code,
                                  error=error_text(body) or response.reason_phrase)
                splitter, parts, error = EventSplitter(), [], ""
                async for chunk in response.aiter_bytes():
                    for event in splitter.feed(chunk):
                        text, failure = read_event(trial.dialect, event)
                        parts.append(text)
                        error = error or failure
                rest = splitter.rest()
                if rest:
                    text, failure = read_event(trial.dialect, rest)
                    parts.append(text)
                    error = error or failure
    except httpx.TimeoutException:
        return result(False, error=tr("No answer within {seconds} s.", seconds=f"{timeout:g}"))
    except httpx.HTTPError as exc:
        return result(False, error=tr("The gateway could not be reached at {url}: {error}", url=trial.url,
                                      error=str(exc) or type(exc).__name__))
    answer = "".join(parts).strip()[:MAX_ANSWER]
    if error:
        return result(False, status=response.status_code, answer=answer, error=error)
    if not answer:
        return result(False, status=response.status_code,
                      error=tr("The gateway answered, but the answer had no text."))
    return result(True, status=response.status_code, answer=answer)


def read_event(dialect: str, event: bytes) -> tuple[str, str]:
    """(text, error message) carried by one streamed event of `dialect`."""
    payload = event_json(event)
    if payload is None:
        return "", ""
    if payload.get("type") == "error" or "error" in payload:
        return "", error_message(payload)
    if dialect == "anthropic":
        delta = payload.get("delta") if payload.get("type") == "content_block_delta" else None
        return (str(delta.get("text") or "") if isinstance(delta, dict) else ""), ""
    if dialect == "responses":
        if payload.get("type") == "response.output_text.delta":
            return str(payload.get("delta") or ""), ""
        if payload.get("type") == "response.failed":
            return "", error_message(payload.get("response") or {})
        return "", ""
    if dialect == "openai":
        choices = payload.get("choices") or []
        delta = choices[0].get("delta") if choices and isinstance(choices[0], dict) else None
        return (str(delta.get("content") or "") if isinstance(delta, dict) else ""), ""
    if dialect == "gemini":
        texts = []
        for candidate in payload.get("candidates") or []:
            content = candidate.get("content") if isinstance(candidate, dict) else None
            for part in (content or {}).get("parts") or []:
                if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought"):
                    texts.append(part["text"])
        return "".join(texts), ""
    return "", ""


def error_text(body: bytes) -> str:
    """The message of an error answer in any of the dialects' shapes, else its text."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:1000].strip()
    return error_message(payload) if isinstance(payload, dict) else str(payload)[:1000]


def error_message(payload: dict[str, Any]) -> str:
    # OpenAI/Responses {error: {message}}, Anthropic {type: error, error: {message}}, Gemini {error: {message}}
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or error)
    if error:
        return str(error)
    return str(payload.get("message") or "")
