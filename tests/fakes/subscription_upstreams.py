"""Strict fakes of the subscription upstreams, run on 127.0.0.1 and reached through QUOTAGATE_HOST_MAP.

Each checks a request the way its real service does and answers in its real shape, streams included:
- Claude (`POST /v1/messages` on api.anthropic.com): the OAuth token as a Bearer (no `x-api-key`), the
  `oauth-2025-04-20` beta flag, `anthropic-version`, and a system prompt that starts as Claude Code's does;
  the body is checked like Anthropic's Messages API (`AnthropicUpstream`).
- Codex (`POST /backend-api/codex/responses` on chatgpt.com): Bearer, `chatgpt-account-id`,
  `OpenAI-Beta: responses=experimental`, `originator`; a Responses body that streams, stores nothing, has
  `instructions` and a list `input`, and none of the parameters the endpoint refuses. It answers only with the
  Responses event stream.
- Copilot (`POST /chat/completions` on its API host): the Copilot token as a Bearer and the editor headers
  it requires; the body is checked like OpenAI's Chat Completions (`OpenAIToolsUpstream`).
- Cloud Code (`POST /v1internal:generateContent` and `:streamGenerateContent`): Bearer, `{model, project,
  request}` (plus Antigravity's `userAgent`/`requestType`/`requestId`) with a Gemini body checked like
  Gemini's (`GeminiUpstream`); answers and stream events wrapped in `{"response": …}`.

A wrong or expired token gets the service's own 401, so tests can count renewals at the fake: `tokens` are
the ones it accepts (change them to "expire" one), `unauthorized` counts the 401s it answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.anthropic_upstream import AnthropicUpstream
from tests.fakes.gemini_upstream import GeminiUpstream, _parts, _usage
from tests.fakes.openai_tools_upstream import (
    REFUSAL_MESSAGE,
    REFUSE_MARKER,
    SPLIT_PAUSE,
    Decision,
    OpenAIToolsUpstream,
    RecordingUpstream,
    Refused,
    decide,
    json_pieces,
    text_pieces,
)

CLAUDE_TOKEN = "sk-ant-oat01-fake-claude-access"
CODEX_TOKEN = "codex-fake-access-token"
CODEX_ACCOUNT = "acct-fake-chatgpt-0001"
COPILOT_TOKEN = "tid=fake;exp=1;sku=copilot_pro;proxy-ep=proxy.individual.githubcopilot.com"
GOOGLE_TOKEN = "ya29.fake-google-access"
PROJECT = "fake-project-12345"
CLAUDE_CODE_IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude."


def _as(decision: Decision, name: str) -> Decision:
    """The shared behaviour, greeting as this upstream ("Hello from claude"), so a test sees who answered."""
    if decision.text is not None and decision.text.startswith("Hello from "):
        decision.text = f"Hello from {name}"
    return decision


def _require_token(fake: Any, request: Request, refusal: str) -> None:
    """The service's own 401 unless the Bearer is one of the fake's live `tokens` (counted in `unauthorized`)."""
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer ") or header[7:] not in fake.tokens:
        fake.unauthorized += 1
        raise Refused(refusal, status=401)


# --- Claude ----------------------------------------------------------------------------------------------


@dataclass
class ClaudeOAuthUpstream(AnthropicUpstream):
    tokens: set[str] = field(default_factory=lambda: {CLAUDE_TOKEN})
    unauthorized: int = 0

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/messages", self.messages, methods=["POST"])])

    def _check_headers(self, request: Request) -> None:
        if request.headers.get("x-api-key"):
            raise Refused("invalid x-api-key", status=401)  # an OAuth token is not an API key
        _require_token(self, request, "OAuth token has expired. Please obtain a new token or refresh your "
                                      "existing token.")
        if "oauth-2025-04-20" not in request.headers.get("anthropic-beta", "").split(","):
            raise Refused("OAuth authentication is currently not supported.", status=401)
        if not request.headers.get("anthropic-version"):
            raise Refused("anthropic-version: header is required")

    def _check_body(self, body: dict[str, Any], betas: str = "") -> Decision:
        system = body.get("system")
        first = system[0] if isinstance(system, list) and system else None
        if not (isinstance(first, dict) and str(first.get("text", "")).startswith(CLAUDE_CODE_IDENTITY)):
            raise Refused("This credential is only authorized for use with Claude Code and cannot be used for "
                          "other API requests.")
        return _as(super()._check_body(body, betas), "claude")


# --- Copilot ---------------------------------------------------------------------------------------------

COPILOT_HEADERS = ("editor-version", "editor-plugin-version", "copilot-integration-id", "user-agent",
                   "openai-intent")


@dataclass
class CopilotUpstream(OpenAIToolsUpstream):
    tokens: set[str] = field(default_factory=lambda: {COPILOT_TOKEN})
    unauthorized: int = 0

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/chat/completions", self.chat, methods=["POST"])])

    def _check_auth(self, request: Request) -> None:
        _require_token(self, request, "unauthorized: token expired")
        for name in COPILOT_HEADERS:
            if not request.headers.get(name):
                raise Refused(f"missing {name} header for IDE auth")

    def _check_body(self, body: dict[str, Any]) -> Decision:
        return _as(super()._check_body(body), "copilot")


# --- Cloud Code ------------------------------------------------------------------------------------------

_ENVELOPE = {"model", "project", "request", "user_prompt_id", "userAgent", "requestType", "requestId"}
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


@dataclass
class CloudCodeUpstream(GeminiUpstream):
    antigravity: bool = False  # also require Antigravity's own envelope fields
    project: str = PROJECT
    tokens: set[str] = field(default_factory=lambda: {GOOGLE_TOKEN})
    unauthorized: int = 0

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1internal:generateContent", self.generate, methods=["POST"]),
                                 Route("/v1internal:streamGenerateContent", self.generate, methods=["POST"])])

    async def generate(self, request: Request) -> Response:
        raw, body = await self.receive(request, with_query=True)
        try:
            _require_token(self, request, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                          "token, login cookie or other valid authentication credential.")
            decision = _as(self._check_body(self._check_envelope(body)), "antigravity" if self.antigravity
                           else "gemini-cli")
            if REFUSE_MARKER.encode() in raw:
                raise Refused(REFUSAL_MESSAGE)
        except Refused as refused:
            if str(refused) != REFUSAL_MESSAGE:
                self.refusals.append(str(refused))
            return JSONResponse({"error": {"code": refused.status, "message": str(refused),
                                           "status": _GOOGLE_STATUS[refused.status]}}, status_code=refused.status)
        self._counter += 1
        if request.url.path.endswith(":streamGenerateContent"):
            sse = request.query_params.get("alt") == "sse"
            return StreamingResponse(self._stream(body["model"], decision, sse),
                                     media_type="text/event-stream" if sse else "application/json")
        return JSONResponse(self._answer(body["model"], _parts(decision), "STOP", _usage(4)))

    def _check_envelope(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise Refused("Invalid JSON payload received.")
        unknown = sorted(set(body) - _ENVELOPE)
        if unknown:
            raise Refused(f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
        if not isinstance(body.get("model"), str) or not body["model"] or "/" in body["model"]:
            raise Refused(f"Requested entity was not found: model {body.get('model')!r}", status=404)
        if body.get("project") != self.project:
            raise Refused(f"Permission denied on resource project {body.get('project')}.", status=403)
        if self.antigravity and (body.get("userAgent") != "antigravity" or not body.get("requestType")
                                 or not isinstance(body.get("requestId"), str)):
            raise Refused("Antigravity requests carry userAgent, requestType and requestId.")
        if not isinstance(body.get("request"), dict):
            raise Refused("Invalid JSON payload received. request: expected an object.")
        return body["request"]

    def _answer(self, model: str, parts: list[dict[str, Any]], finish: str | None,
                usage: dict[str, Any]) -> dict[str, Any]:
        """Gemini's answer (or stream chunk) in Cloud Code's envelope."""
        return {"response": super()._answer(model, parts, finish, usage), "traceId": f"trace{self._counter}"}


# --- Codex -----------------------------------------------------------------------------------------------

_CODEX_TOP_LEVEL = {"model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls", "reasoning",
                    "store", "stream", "include", "prompt_cache_key", "text", "service_tier"}
_CODEX_ROLES = {"user", "assistant", "developer"}


@dataclass
class CodexUpstream(RecordingUpstream):
    tokens: set[str] = field(default_factory=lambda: {CODEX_TOKEN})
    account: str = CODEX_ACCOUNT
    unauthorized: int = 0
    empty_completed_output: bool = False  # `response.completed` without its output (only the items carry it)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/backend-api/codex/responses", self.responses, methods=["POST"])])

    async def responses(self, request: Request) -> Response:
        raw, body = await self.receive(request)
        try:
            self._check_headers(request)
            decision = self._check_body(body)
            if REFUSE_MARKER.encode() in raw:
                raise Refused(REFUSAL_MESSAGE)
        except Refused as refused:
            if str(refused) != REFUSAL_MESSAGE:
                self.refusals.append(str(refused))
            kind = "invalid_request_error"
            return JSONResponse({"error": {"message": str(refused), "type": kind, "param": refused.param,
                                           "code": "token_expired" if refused.status == 401 else None}},
                                status_code=refused.status)
        self._counter += 1
        ids = [f"call_codex{self._counter}x{n}" for n in range(len(decision.calls))]
        self.issued_call_ids.extend(ids)
        return StreamingResponse(self._stream(body["model"], decision, ids), media_type="text/event-stream")

    def _check_headers(self, request: Request) -> None:
        _require_token(self, request, "Your authentication token has expired. Please try signing in again.")
        if request.headers.get("chatgpt-account-id") != self.account:
            raise Refused("The chatgpt-account-id header does not match the signed-in account.", status=403)
        if request.headers.get("openai-beta") != "responses=experimental" or not request.headers.get("originator"):
            raise Refused("Missing OpenAI-Beta: responses=experimental or originator header.")

    def _check_body(self, body: Any) -> Decision:
        if not isinstance(body, dict):
            raise Refused("We could not parse the JSON body of your request.")
        unknown = sorted(set(body) - _CODEX_TOP_LEVEL)
        if unknown:
            raise Refused(f"Unsupported parameter: {unknown[0]}", unknown[0])
        if body.get("stream") is not True:
            raise Refused("Stream must be set to true", "stream")
        if body.get("store") is not False:
            raise Refused("Store must be set to false", "store")
        if not isinstance(body.get("instructions"), str) or not body["instructions"].strip():
            raise Refused("Instructions are required", "instructions")
        model = body.get("model")
        if not isinstance(model, str) or not model or "/" in model:
            raise Refused(f"The '{model}' model is not supported when using Codex with a ChatGPT account.", "model")
        tool_names = self._check_tools(body.get("tools"))
        items = body.get("input")
        if not isinstance(items, list) or not items:
            raise Refused("Input must be a list", "input")
        system = [body["instructions"]]
        calls: set[str] = set()
        results: list[str] = []
        for index, item in enumerate(items):
            where = f"input[{index}]"
            if not isinstance(item, dict):
                raise Refused(f"Invalid type for '{where}': expected an object.", where)
            kind = item.get("type", "message")
            if kind == "message":
                if item.get("role") not in _CODEX_ROLES:
                    raise Refused(f"Invalid value: '{item.get('role')}'. Supported values are: 'assistant', "
                                  "'user' and 'developer'.", f"{where}.role")
                text = _content_text(item.get("content"), where)
                if item["role"] == "developer":
                    system.append(text)
                results = []
            elif kind == "function_call":
                if not isinstance(item.get("arguments"), str) or not item.get("call_id") or not item.get("name"):
                    raise Refused(f"Missing required parameter: '{where}.call_id', 'name' or 'arguments'.", where)
                calls.add(item["call_id"])
            elif kind == "function_call_output":
                if item.get("call_id") not in calls:
                    raise Refused(f"No tool call found for function call output with call_id {item.get('call_id')}.",
                                  f"{where}.call_id")
                output = item.get("output")
                results.append(output if isinstance(output, str) else json.dumps(output))
            elif kind != "reasoning":
                raise Refused(f"Invalid value: '{kind}'.", f"{where}.type")
        return decide("codex", tool_names, results, "\n".join(system))

    @staticmethod
    def _check_tools(tools: Any) -> list[str]:
        if tools is None:
            return []
        if not isinstance(tools, list):
            raise Refused("Invalid type for 'tools': expected an array.", "tools")
        names = []
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict) or tool.get("type") != "function" or "function" in tool:
                raise Refused(f"Missing required parameter: 'tools[{index}].name'.", f"tools[{index}]")
            if not isinstance(tool.get("name"), str) or not isinstance(tool.get("parameters"), dict):
                raise Refused(f"Missing required parameter: 'tools[{index}].name'.", f"tools[{index}]")
            names.append(tool["name"])
        return names

    async def _stream(self, model: str, decision: Decision, ids: list[str]) -> AsyncIterator[bytes]:
        response_id = f"resp_fake{self._counter}"
        response: dict[str, Any] = {"id": response_id, "object": "response", "created_at": 1_700_000_000,
                                    "status": "in_progress", "model": model, "output": []}
        events: list[dict[str, Any]] = [{"type": "response.created", "response": dict(response)},
                                        {"type": "response.in_progress", "response": dict(response)}]
        output: list[dict[str, Any]] = []
        if decision.text is not None:
            item_id = f"msg_fake{self._counter}"
            part = {"type": "output_text", "text": decision.text, "annotations": []}
            item = {"id": item_id, "type": "message", "status": "completed", "role": "assistant", "content": [part]}
            index = len(output)
            events += [{"type": "response.output_item.added", "output_index": index,
                        "item": {**item, "status": "in_progress", "content": []}},
                       {"type": "response.content_part.added", "item_id": item_id, "output_index": index,
                        "content_index": 0, "part": {**part, "text": ""}}]
            events += [{"type": "response.output_text.delta", "item_id": item_id, "output_index": index,
                        "content_index": 0, "delta": piece} for piece in text_pieces(decision.text)]
            events += [{"type": "response.output_text.done", "item_id": item_id, "output_index": index,
                        "content_index": 0, "text": decision.text},
                       {"type": "response.content_part.done", "item_id": item_id, "output_index": index,
                        "content_index": 0, "part": part},
                       {"type": "response.output_item.done", "output_index": index, "item": item}]
            output.append(item)
        for call_id, (name, arguments) in zip(ids, decision.calls):
            item_id, index = f"fc_{call_id}", len(output)
            item = {"id": item_id, "type": "function_call", "status": "completed", "call_id": call_id,
                    "name": name, "arguments": json.dumps(arguments)}
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "status": "in_progress", "arguments": ""}})
            events += [{"type": "response.function_call_arguments.delta", "item_id": item_id, "output_index": index,
                        "delta": piece} for piece in json_pieces(arguments)]
            events += [{"type": "response.function_call_arguments.done", "item_id": item_id, "output_index": index,
                        "arguments": item["arguments"]},
                       {"type": "response.output_item.done", "output_index": index, "item": item}]
            output.append(item)
        usage = {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 6,
                 "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 18}
        completed = {**response, "status": "completed", "usage": usage,
                     "output": [] if self.empty_completed_output else output}
        events.append({"type": "response.completed", "response": completed})
        for number, event in enumerate(events):
            encoded = f"event: {event['type']}\ndata: {json.dumps({**event, 'sequence_number': number})}\n\n".encode()
            yield encoded[:10]  # each event split across writes, as real networks do
            await asyncio.sleep(SPLIT_PAUSE)
            yield encoded[10:]


def _content_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise Refused(f"Invalid type for '{where}.content': expected a string or an array.", f"{where}.content")
    texts = []
    for n, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in ("input_text", "output_text", "input_image"):
            raise Refused(f"Invalid value for '{where}.content[{n}].type'.", f"{where}.content[{n}].type")
        if part["type"] != "input_image":
            texts.append(str(part.get("text", "")))
    return "\n".join(texts)
