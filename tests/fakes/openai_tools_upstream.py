"""A strict fake of OpenAI's Chat Completions API for the conformance matrix (tests/conformance).

Unlike `openai_upstream.FakeUpstream` (lenient, behaviour chosen by key), this one checks that a request is
in OpenAI's own shape and refuses, with OpenAI's error shape, what the real API refuses: a missing or
wrong Bearer key, a provider-prefixed model, parameters the API does not know (Anthropic's `max_tokens`
is fine, `system`, `stop_sequences` or `tools[].input_schema` are not), tool messages without a
`tool_call_id` answering the assistant turn before them, tool-call arguments that are not a string.

Its answers are deterministic and the same across the three format fakes (see `decide`):
- tools offered and the last turn holds no tool result -> one call of the first tool with
  {"city": "Paris"} (two parallel calls when the system prompt contains "PARALLEL"; after the text
  "Let me check." when it contains "PREAMBLE");
- the last turn holds tool results -> "The tool said: <result text>";
- otherwise "Hello from openai";
- a request containing `REFUSE_MARKER` -> 400 with `REFUSAL_MESSAGE`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.openai_upstream import Received

OPENAI_KEY = "sk-openai-conformance"
TOOL_ARGUMENTS = {"city": "Paris"}
# A valid request containing this text is refused anyway (400, in the fake's own error shape), so that
# tests can see how an upstream error reaches a client; such refusals are not listed in `refusals`.
REFUSE_MARKER = "PLEASE_REFUSE"
PREAMBLE = "Let me check."  # the text before the tool call when the system prompt asks for it
SPLIT_PAUSE = 0.002  # seconds between the pieces of one stream event
REFUSAL_MESSAGE = "The fake upstream refuses this request (PLEASE_REFUSE)."

_TOP_LEVEL = {
    "model", "messages", "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "max_tokens",
    "max_completion_tokens", "temperature", "top_p", "n", "stop", "seed", "user", "response_format",
    "reasoning_effort", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs", "logit_bias",
    "metadata", "store", "service_tier", "modalities", "audio", "prediction", "web_search_options", "verbosity",
    "prompt_cache_key", "safety_identifier",
}
_CONTENT_PART_TYPES = {"text", "image_url", "input_audio", "file"}


class Refused(Exception):
    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.status = status


@dataclass
class Decision:
    """What a fake answers: text, or tool calls [(name, arguments)]."""

    text: str | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def decide(fmt: str, tool_names: list[str], results: list[str] | None, system: str) -> Decision:
    """The behaviour all three format fakes share."""
    if results:
        return Decision(text="The tool said: " + " ".join(results))
    if tool_names:
        count = 2 if "PARALLEL" in system else 1
        return Decision(text=PREAMBLE if "PREAMBLE" in system else None,
                        calls=[(tool_names[0], dict(TOOL_ARGUMENTS))] * count)
    return Decision(text=f"Hello from {fmt}")


def text_pieces(text: str) -> list[str]:
    """The text cut into word-sized stream deltas ("Hello", " from", " openai")."""
    words = text.split(" ")
    return [words[0]] + [" " + word for word in words[1:]]


def json_pieces(arguments: dict[str, Any]) -> list[str]:
    """Tool-call arguments as JSON text cut in three, as models stream them."""
    text = json.dumps(arguments)
    return [text[:3], text[3:9], text[9:]]


@dataclass
class RecordingUpstream:
    """What the strict fakes share: every request recorded as it came (path, headers, parsed body or None),
    the refusals they answered, and the tool-call ids they issued."""

    requests: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    issued_call_ids: list[str] = field(default_factory=list)
    _counter: int = 0

    async def receive(self, request: Request, with_query: bool = False) -> tuple[bytes, Any]:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        path = request.url.path + (f"?{request.url.query}" if with_query and request.url.query else "")
        self.requests.append(Received(path, dict(request.headers), body))
        return raw, body


@dataclass
class OpenAIToolsUpstream(RecordingUpstream):
    key: str = OPENAI_KEY

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    async def chat(self, request: Request) -> Response:
        raw, body = await self.receive(request)
        try:
            self._check_auth(request)
            if not isinstance(body, dict):
                raise Refused("We could not parse the JSON body of your request.")
            decision = self._check_body(body)
            if REFUSE_MARKER.encode() in raw:
                raise Refused(REFUSAL_MESSAGE)
        except Refused as refused:
            if str(refused) != REFUSAL_MESSAGE:
                self.refusals.append(str(refused))
            error_type = "invalid_request_error" if refused.status == 400 else "authentication_error"
            return JSONResponse({"error": {"message": str(refused), "type": error_type, "param": refused.param,
                                           "code": None if refused.status == 400 else "invalid_api_key"}},
                                status_code=refused.status)
        self._counter += 1
        ids = [f"call_fake{self._counter}x{n}" for n in range(len(decision.calls))]
        self.issued_call_ids.extend(ids)
        model = body["model"]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(self._stream(model, decision, ids, include_usage),
                                     media_type="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": decision.text, "refusal": None,
                                   "annotations": []}
        if decision.calls:
            message["tool_calls"] = [{"id": call_id, "type": "function",
                                      "function": {"name": name, "arguments": json.dumps(arguments)}}
                                     for call_id, (name, arguments) in zip(ids, decision.calls)]
        return JSONResponse({
            "id": f"chatcmpl-fake{self._counter}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if decision.calls else "stop"}],
            "usage": _usage(), "service_tier": "default", "system_fingerprint": "fp_fake",
        })

    # --- checks ------------------------------------------------------------------------------------

    def _check_auth(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise Refused("You didn't provide an API key. You need to provide your API key in an Authorization "
                          "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", status=401)
        if header.removeprefix("Bearer ") != self.key:
            raise Refused("Incorrect API key provided.", status=401)

    def _check_body(self, body: dict[str, Any]) -> Decision:
        unknown = sorted(set(body) - _TOP_LEVEL)
        if unknown:
            raise Refused(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0])
        model = body.get("model")
        if not isinstance(model, str) or not model or "/" in model:
            raise Refused(f"The model `{model}` does not exist or you do not have access to it.", "model")
        if "stream_options" in body and not body.get("stream"):
            raise Refused("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                          "stream_options")
        tool_names = self._check_tools(body.get("tools"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise Refused("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages")
        system: list[str] = []
        pending: list[str] = []  # call ids of the last assistant turn still to be answered
        results: list[str] = []
        for index, message in enumerate(messages):
            where = f"messages[{index}]"
            if not isinstance(message, dict):
                raise Refused(f"Invalid type for '{where}': expected an object.", where)
            role = message.get("role")
            unexpected = set(message) - {"role", "content", "name", "tool_calls", "tool_call_id", "refusal",
                                         "audio", "function_call", "annotations", "reasoning_content"}
            if unexpected:
                raise Refused(f"Unrecognized request argument supplied: {where}.{min(unexpected)}", where)
            if role != "tool" and pending:
                raise Refused("An assistant message with 'tool_calls' must be followed by tool messages "
                              f"responding to each 'tool_call_id'. The following tool_call_ids did not have "
                              f"response messages: {', '.join(pending)}", f"{where}.role")
            if role in ("system", "developer"):
                system.append(self._text(message.get("content"), f"{where}.content", allow_parts={"text"}))
                results = []
            elif role == "user":
                self._text(message.get("content"), f"{where}.content", allow_parts=_CONTENT_PART_TYPES)
                results = []
            elif role == "assistant":
                pending = self._check_assistant(message, where)
                results = []
            elif role == "tool":
                call_id = message.get("tool_call_id")
                if not isinstance(call_id, str) or not call_id:
                    raise Refused(f"Missing required parameter: '{where}.tool_call_id'.", f"{where}.tool_call_id")
                if call_id not in pending:
                    raise Refused("Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                                  "message with 'tool_calls'.", f"{where}.role")
                pending.remove(call_id)
                results.append(self._text(message.get("content"), f"{where}.content", allow_parts={"text"}))
            else:
                raise Refused(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                              "'tool', 'function', and 'developer'.", f"{where}.role")
        if pending:
            raise Refused("An assistant message with 'tool_calls' must be followed by tool messages responding to "
                          f"each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                          f"{', '.join(pending)}", "messages")
        return decide("openai", tool_names, results, "\n".join(system))

    @staticmethod
    def _check_tools(tools: Any) -> list[str]:
        if tools is None:
            return []
        if not isinstance(tools, list):
            raise Refused("Invalid type for 'tools': expected an array.", "tools")
        names = []
        for index, tool in enumerate(tools):
            where = f"tools[{index}]"
            if not isinstance(tool, dict) or tool.get("type") != "function":
                raise Refused(f"Missing required parameter: '{where}.type'.", f"{where}.type")
            extra = set(tool) - {"type", "function"}
            if extra:
                raise Refused(f"Unrecognized request argument supplied: {where}.{min(extra)}", where)
            function = tool.get("function")
            if not isinstance(function, dict):
                raise Refused(f"Missing required parameter: '{where}.function'.", f"{where}.function")
            extra = set(function) - {"name", "description", "parameters", "strict"}
            if extra:
                raise Refused(f"Unrecognized request argument supplied: {where}.function.{min(extra)}",
                              f"{where}.function")
            name = function.get("name")
            if not isinstance(name, str) or not name:
                raise Refused(f"Missing required parameter: '{where}.function.name'.", f"{where}.function.name")
            parameters = function.get("parameters")
            if parameters is not None and (not isinstance(parameters, dict) or parameters.get("type") != "object"):
                raise Refused(f"Invalid schema for function '{name}': schema must be a JSON Schema of "
                              "'type: \"object\"'.", f"{where}.function.parameters")
            names.append(name)
        return names

    def _check_assistant(self, message: dict[str, Any], where: str) -> list[str]:
        calls = message.get("tool_calls")
        content = message.get("content")
        if content is not None:
            self._text(content, f"{where}.content", allow_parts={"text", "refusal"})
        elif not calls:
            raise Refused(f"Invalid value for '{where}.content': expected a string, got null.", f"{where}.content")
        if calls is None:
            return []
        if not isinstance(calls, list) or not calls:
            raise Refused(f"Invalid '{where}.tool_calls': empty array. Expected an array with minimum length 1.",
                          f"{where}.tool_calls")
        ids = []
        for n, call in enumerate(calls):
            at = f"{where}.tool_calls[{n}]"
            if not isinstance(call, dict) or call.get("type") != "function":
                raise Refused(f"Missing required parameter: '{at}.type'.", f"{at}.type")
            if not isinstance(call.get("id"), str) or not call["id"]:
                raise Refused(f"Missing required parameter: '{at}.id'.", f"{at}.id")
            function = call.get("function")
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise Refused(f"Missing required parameter: '{at}.function.name'.", f"{at}.function.name")
            if not isinstance(function.get("arguments"), str):
                raise Refused(f"Invalid type for '{at}.function.arguments': expected a string, but got an object "
                              "instead.", f"{at}.function.arguments")
            ids.append(call["id"])
        return ids

    @staticmethod
    def _text(content: Any, where: str, allow_parts: set[str]) -> str:
        if isinstance(content, str):
            return content
        if not isinstance(content, list) or not content:
            raise Refused(f"Invalid type for '{where}': expected one of a string or array of objects.", where)
        texts = []
        for n, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in allow_parts:
                raise Refused(f"Invalid value: '{kind}'. Supported values are: "
                              f"{', '.join(sorted(allow_parts))}.", f"{where}[{n}].type")
            if kind == "text":
                if not isinstance(part.get("text"), str):
                    raise Refused(f"Missing required parameter: '{where}[{n}].text'.", f"{where}[{n}].text")
                texts.append(part["text"])
        return "".join(texts)

    # --- stream ------------------------------------------------------------------------------------

    async def _stream(self, model: str, decision: Decision, ids: list[str],
                      include_usage: bool) -> AsyncIterator[bytes]:
        base = {"id": f"chatcmpl-fake{self._counter}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "service_tier": "default", "system_fingerprint": "fp_fake"}
        extra = {"usage": None} if include_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            event = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                     **extra}
            return f"data: {json.dumps(event)}\n\n".encode()

        events = [chunk({"role": "assistant", "content": "" if decision.text is not None else None,
                         "refusal": None})]
        if decision.text is not None:
            events += [chunk({"content": piece}) for piece in text_pieces(decision.text)]
        for n, (call_id, (name, arguments)) in enumerate(zip(ids, decision.calls)):
            events.append(chunk({"tool_calls": [{"index": n, "id": call_id, "type": "function",
                                                 "function": {"name": name, "arguments": ""}}]}))
            events += [chunk({"tool_calls": [{"index": n, "function": {"arguments": piece}}]})
                       for piece in json_pieces(arguments)]
        events.append(chunk({}, "tool_calls" if decision.calls else "stop"))
        if include_usage:
            events.append(f"data: {json.dumps({**base, 'choices': [], 'usage': _usage()})}\n\n".encode())
        events.append(b"data: [DONE]\n\n")
        for event in events:  # each event split across two writes, as real networks do
            yield event[:11]
            await asyncio.sleep(SPLIT_PAUSE)  # so that loopback delivers the halves apart
            yield event[11:]


def _usage() -> dict[str, Any]:
    return {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18,
            "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
