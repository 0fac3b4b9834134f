"""A strict fake of Anthropic's Messages API (`POST /v1/messages`) for the conformance matrix.

It checks that a request is in Anthropic's own shape and refuses, with Anthropic's error shape
(`{"type": "error", "error": {"type": "invalid_request_error", "message": ...}}`), what the real API
refuses: no key (`x-api-key`, or Bearer as anthropic>=2 sends it) or no `anthropic-version`, a
provider-prefixed model, a missing `max_tokens`, parameters it does not know (OpenAI's `tool_calls`, `stream_options`, `tools[].function`, ...), roles
other than user/assistant (`system` and `tool` messages are OpenAI's), turns that do not alternate,
unknown or empty content blocks, `tool_result` blocks not answering a `tool_use` of the assistant turn
just before (and `tool_use` blocks left unanswered).

Answers follow `openai_tools_upstream.decide` ("Hello from anthropic", a `tool_use` of the first tool
with {"city": "Paris"}, "The tool said: ...", a 400 for `REFUSE_MARKER`); streams follow the real event
sequence (message_start, ping, content_block_start/delta/stop, message_delta, message_stop), each event
split across writes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.openai_tools_upstream import (
    RecordingUpstream,
    REFUSAL_MESSAGE,
    REFUSE_MARKER,
    SPLIT_PAUSE,
    Decision,
    Refused,
    decide,
    json_pieces,
    text_pieces,
)

ANTHROPIC_KEY = "sk-ant-conformance"

_TOP_LEVEL = {"model", "messages", "max_tokens", "system", "stop_sequences", "stream", "temperature", "top_p",
              "top_k", "tools", "tool_choice", "metadata", "thinking", "service_tier", "container", "mcp_servers",
              "context_management", "output_config"}
MID_CONVERSATION_SYSTEM = "mid-conversation-system-2026-04-07"  # the beta that admits `system` turns
_USER_BLOCKS = {"text", "image", "document", "tool_result", "search_result"}
_ASSISTANT_BLOCKS = {"text", "tool_use", "thinking", "redacted_thinking", "server_tool_use",
                     "web_search_tool_result"}
_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


@dataclass
class AnthropicUpstream(RecordingUpstream):
    key: str = ANTHROPIC_KEY

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/messages", self.messages, methods=["POST"])])

    async def messages(self, request: Request) -> Response:
        raw, body = await self.receive(request)
        try:
            self._check_headers(request)
            if not isinstance(body, dict):
                raise Refused("The request body is not valid JSON.")
            decision = self._check_body(body, request.headers.get("anthropic-beta", ""))
            if REFUSE_MARKER.encode() in raw:
                raise Refused(REFUSAL_MESSAGE)
        except Refused as refused:
            if str(refused) != REFUSAL_MESSAGE:
                self.refusals.append(str(refused))
            kind = "invalid_request_error" if refused.status == 400 else "authentication_error"
            return JSONResponse({"type": "error", "error": {"type": kind, "message": str(refused)},
                                 "request_id": "req_fake"}, status_code=refused.status)
        self._counter += 1
        ids = [f"toolu_fake{self._counter}x{n}" for n in range(len(decision.calls))]
        self.issued_call_ids.extend(ids)
        message_id = f"msg_fake{self._counter}"
        if body.get("stream"):
            return StreamingResponse(self._stream(message_id, body["model"], decision, ids),
                                     media_type="text/event-stream")
        content: list[dict[str, Any]] = []
        if decision.text is not None:
            content.append({"type": "text", "text": decision.text})
        content += [{"type": "tool_use", "id": call_id, "name": name, "input": arguments}
                    for call_id, (name, arguments) in zip(ids, decision.calls)]
        return JSONResponse({
            "id": message_id, "type": "message", "role": "assistant", "model": body["model"], "content": content,
            "stop_reason": "tool_use" if decision.calls else "end_turn", "stop_sequence": None,
            "usage": {**_input_usage(), "output_tokens": 6, "service_tier": "standard"},
        })

    async def _stream(self, message_id: str, model: str, decision: Decision,
                      ids: list[str]) -> AsyncIterator[bytes]:
        async for piece in _split(_stream_events(message_id, model, decision, ids)):
            yield piece

    # --- checks ------------------------------------------------------------------------------------

    def _check_headers(self, request: Request) -> None:
        # `x-api-key`, or the key as a Bearer token (anthropic>=2 sends its api_key that way)
        bearer = request.headers.get("authorization", "")
        key = request.headers.get("x-api-key") or (bearer[7:] if bearer.startswith("Bearer ") else None)
        if key is None:
            raise Refused("x-api-key header is required", status=401)
        if key != self.key:
            raise Refused("invalid x-api-key", status=401)
        if not request.headers.get("anthropic-version"):
            raise Refused("anthropic-version: header is required")

    def _check_body(self, body: dict[str, Any], betas: str = "") -> Decision:
        unknown = sorted(set(body) - _TOP_LEVEL)
        if unknown:
            raise Refused(f"{unknown[0]}: Extra inputs are not permitted")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise Refused("model: Field required")
        if "/" in model:
            raise Refused(f"model: {model}")  # the real API answers 404 not_found_error; a 400 is as clear
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise Refused("max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise Refused("max_tokens: Input should be greater than or equal to 1")
        system = self._check_system(body.get("system"))
        tool_names = self._check_tools(body.get("tools"))
        self._check_tool_choice(body.get("tool_choice"))
        if body.get("temperature") is not None and not 0 <= body["temperature"] <= 1:
            raise Refused("temperature: Input should be less than or equal to 1")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise Refused("messages: Field required" if messages is None else
                          "messages: at least one message is required")
        previous_role = None
        pending: list[str] = []  # tool_use ids of the assistant turn just before
        results: list[str] = []
        for index, message in enumerate(messages):
            where = f"messages.{index}"
            if not isinstance(message, dict):
                raise Refused(f"{where}: Input should be a valid dictionary")
            extra = set(message) - {"role", "content"}
            if extra:
                raise Refused(f"{where}.{min(extra)}: Extra inputs are not permitted")
            role = message.get("role")
            if role == "system" and index > 0 and MID_CONVERSATION_SYSTEM in betas:
                self._check_system(message.get("content"))
                continue
            if role not in ("user", "assistant"):
                raise Refused(f"{where}.role: Input should be 'user' or 'assistant'")
            if role == previous_role:
                raise Refused(f"{where}: roles must alternate between \"user\" and \"assistant\", but found "
                              f"multiple \"{role}\" roles in a row")
            if index == 0 and role != "user":
                raise Refused("messages: first message must use the \"user\" role")
            previous_role = role
            blocks = self._blocks(message.get("content"), where, _USER_BLOCKS if role == "user" else _ASSISTANT_BLOCKS)
            if role == "assistant":
                if pending:
                    raise Refused(f"{where}: `tool_use` ids were found without `tool_result` blocks immediately "
                                  f"after: {', '.join(pending)}")
                pending = [block["id"] for block in blocks if block["type"] == "tool_use"]
                results = []
                continue
            answered = [block for block in blocks if block["type"] == "tool_result"]
            for block in answered:
                if block["tool_use_id"] not in pending:
                    raise Refused(f"{where}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                                  f"{block['tool_use_id']}. Each `tool_result` block must have a corresponding "
                                  "`tool_use` block in the previous message.")
            missing = [call_id for call_id in pending if call_id not in {b["tool_use_id"] for b in answered}]
            if missing:
                raise Refused(f"{where}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                              f"{', '.join(missing)}. Each `tool_use` block must have a corresponding "
                              "`tool_result` block in the next message.")
            pending = []
            results = [_result_text(block) for block in answered]
        if pending:
            raise Refused(f"messages.{len(messages) - 1}: the last assistant turn's `tool_use` blocks need "
                          "`tool_result` blocks in a following user message")
        return decide("anthropic", tool_names, results, system)

    @staticmethod
    def _check_system(system: Any) -> str:
        if system is None:
            return ""
        if isinstance(system, str):
            return system
        if not isinstance(system, list):
            raise Refused("system: Input should be a valid string or list of text blocks")
        texts = []
        for n, block in enumerate(system):
            if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
                raise Refused(f"system.{n}: Input should be a text block")
            extra = set(block) - {"type", "text", "cache_control", "citations"}
            if extra:
                raise Refused(f"system.{n}.{min(extra)}: Extra inputs are not permitted")
            texts.append(block["text"])
        return "\n".join(texts)

    @staticmethod
    def _check_tools(tools: Any) -> list[str]:
        if tools is None:
            return []
        if not isinstance(tools, list):
            raise Refused("tools: Input should be a valid list")
        names = []
        for n, tool in enumerate(tools):
            where = f"tools.{n}"
            if not isinstance(tool, dict):
                raise Refused(f"{where}: Input should be a valid dictionary")
            extra = set(tool) - {"name", "description", "input_schema", "cache_control", "type"}
            if extra:
                raise Refused(f"{where}.custom.{min(extra)}: Extra inputs are not permitted")
            if tool.get("type") not in (None, "custom"):
                raise Refused(f"{where}: Input tag '{tool.get('type')}' found using 'type' does not match any of "
                              "the expected tags")
            name = tool.get("name")
            if not isinstance(name, str) or not _TOOL_NAME.match(name):
                raise Refused(f"{where}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
            schema = tool.get("input_schema")
            if not isinstance(schema, dict):
                raise Refused(f"{where}.custom.input_schema: Field required")
            if schema.get("type") != "object":
                raise Refused(f"{where}.custom.input_schema.type: Input should be 'object'")
            if tool.get("description") is not None and not isinstance(tool["description"], str):
                raise Refused(f"{where}.custom.description: Input should be a valid string")
            names.append(name)
        return names

    @staticmethod
    def _check_tool_choice(choice: Any) -> None:
        if choice is None:
            return
        if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
            raise Refused("tool_choice: Input should be an object with type 'auto', 'any', 'tool' or 'none'")
        if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
            raise Refused("tool_choice.tool.name: Field required")
        extra = set(choice) - {"type", "name", "disable_parallel_tool_use"}
        if extra:
            raise Refused(f"tool_choice.{min(extra)}: Extra inputs are not permitted")

    def _blocks(self, content: Any, where: str, allowed: set[str]) -> list[dict[str, Any]]:
        if isinstance(content, str):
            if not content and "tool_result" in allowed:  # an empty final assistant turn is a prefill
                raise Refused(f"{where}: all messages must have non-empty content except for the optional final "
                              "assistant message")
            return [{"type": "text", "text": content}]
        if not isinstance(content, list):
            raise Refused(f"{where}.content: Input should be a valid string or list")
        if not content:
            raise Refused(f"{where}: all messages must have non-empty content except for the optional final "
                          "assistant message")
        for n, block in enumerate(content):
            at = f"{where}.content.{n}"
            kind = block.get("type") if isinstance(block, dict) else None
            if kind not in allowed:
                raise Refused(f"{at}: Input tag '{kind}' found using 'type' does not match any of the expected "
                              f"tags: {', '.join(sorted(allowed))}")
            _check_block(block, at)
        return content


def _check_block(block: dict[str, Any], at: str) -> None:
    kind = block["type"]
    fields = {"text": {"text", "cache_control", "citations"},
              "image": {"source", "cache_control"},
              "document": {"source", "cache_control", "title", "context", "citations"},
              "tool_use": {"id", "name", "input", "cache_control"},
              "tool_result": {"tool_use_id", "content", "is_error", "cache_control"},
              "thinking": {"thinking", "signature"},
              "redacted_thinking": {"data"}}.get(kind)
    if fields is not None:
        extra = set(block) - fields - {"type"}
        if extra:
            raise Refused(f"{at}.{kind}.{min(extra)}: Extra inputs are not permitted")
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise Refused(f"{at}.text.text: Field required")
        if not block["text"].strip():
            raise Refused(f"{at}: text content blocks must contain non-whitespace text")
    elif kind == "image":
        source = block.get("source")
        if not isinstance(source, dict) or source.get("type") not in ("base64", "url", "file"):
            raise Refused(f"{at}.image.source: Input should be a base64, url or file source")
    elif kind == "tool_use":
        if not isinstance(block.get("id"), str) or not _ID.match(block["id"]):
            raise Refused(f"{at}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        if not isinstance(block.get("name"), str) or not block["name"]:
            raise Refused(f"{at}.tool_use.name: Field required")
        if not isinstance(block.get("input"), dict):
            raise Refused(f"{at}.tool_use.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        if not isinstance(block.get("tool_use_id"), str) or not _ID.match(block["tool_use_id"]):
            raise Refused(f"{at}.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        content = block.get("content")
        if content is not None and not isinstance(content, str):
            if not isinstance(content, list):
                raise Refused(f"{at}.tool_result.content: Input should be a valid string or list")
            for n, inner in enumerate(content):
                inner_kind = inner.get("type") if isinstance(inner, dict) else None
                if inner_kind not in ("text", "image", "document", "search_result"):
                    raise Refused(f"{at}.tool_result.content.{n}: Input tag '{inner_kind}' found using 'type' "
                                  "does not match any of the expected tags")
                _check_block(inner, f"{at}.tool_result.content.{n}")
    elif kind == "thinking" and not (isinstance(block.get("thinking"), str)
                                     and isinstance(block.get("signature"), str)):
        raise Refused(f"{at}.thinking.signature: Field required")


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(inner.get("text", "") for inner in content if inner.get("type") == "text")


def _input_usage() -> dict[str, Any]:
    # 12 prompt tokens in OpenAI's sense: 8 uncached + 4 read from the cache (Anthropic counts apart)
    return {"input_tokens": 8, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 4,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}}


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def _split(events: list[bytes]) -> AsyncIterator[bytes]:
    for event in events:  # each event split across writes, as real networks do
        yield event[:9]
        yield event[9:30]
        await asyncio.sleep(SPLIT_PAUSE)  # so that loopback delivers the pieces apart
        yield event[30:]


def _stream_events(message_id: str, model: str, decision: Decision, ids: list[str]) -> list[bytes]:
    events = [_event("message_start", {"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {**_input_usage(), "output_tokens": 1, "service_tier": "standard"}}}),
        _event("ping", {"type": "ping"})]
    index = 0
    if decision.text is not None:
        events.append(_event("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": {"type": "text", "text": ""}}))
        events += [_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "text_delta", "text": piece}})
                   for piece in text_pieces(decision.text)]
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for call_id, (name, arguments) in zip(ids, decision.calls):
        events.append(_event("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": {"type": "tool_use", "id": call_id,
                                                                       "name": name, "input": {}}}))
        events += [_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "input_json_delta", "partial_json": piece}})
                   for piece in ["", *json_pieces(arguments)]]
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    events.append(_event("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": "tool_use" if decision.calls else "end_turn",
                                                     "stop_sequence": None},
                                           "usage": {**_input_usage(), "output_tokens": 6}}))
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events

