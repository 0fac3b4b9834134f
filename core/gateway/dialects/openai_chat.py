"""OpenAI Chat Completions (`POST /chat/completions`), wire format `openai`: both sides of the format.

Also the format of most "OpenAI-compatible" providers, so the upstream side reads their extensions too:
thinking as `reasoning_content` (DeepSeek, Qwen, vLLM) or `reasoning` (OpenRouter, Ollama), usage riding
on the finishing chunk, tool-call deltas without `index`, and a usage-only chunk whose `choices` is null.
Chat has no place for thinking signatures or redacted thinking; they are dropped on the way out.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from core.gateway.dialects import fields
from core.gateway.dialects.common import (
    ADDED_DEFAULTS, Answer, BlockStart, BlockStop, Call, Delta, Effort, Event, Finish, Image, Message, Part,
    Reasoning, ResponseFormat, SSEStreamDecoder, Start, StopReason, StreamError, Text, Thinking, Tool, ToolCall,
    ToolChoice, ToolResult, UpstreamRequest, Usage, content_text, dumps, effort_for,
)
from core.gateway.dialects.fields import bad, is_int
from core.gateway.errors import GatewayError
from core.gateway.model_bytes import replace_model
from core.gateway.sse import error_event, event_json

NAME = "openai"
_PATH = "/chat/completions"
_MAX_COUNT = 2 ** 63  # a token count this large is garbage, not usage
_DATA_URL = re.compile(r"data:([^;,]*)((?:;[^;,]*)*),(.*)", re.DOTALL)
_FINISH_REASONS: dict[StopReason, str] = {
    "end": "stop", "max_tokens": "length", "tool_calls": "tool_calls", "stop_sequence": "stop",
    "content_filter": "content_filter", "refusal": "content_filter",
}
_STOP_REASONS: dict[str, StopReason] = {
    "stop": "end", "length": "max_tokens", "tool_calls": "tool_calls", "function_call": "tool_calls",
    "content_filter": "content_filter",
}
# OpenAI's efforts above "high" are "high" in the common form; "none" turns reasoning off.
_EFFORTS: dict[str, Effort] = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high",
                               "xhigh": "high", "max": "high"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
                429: "rate_limit_error"}
# Models that refuse `max_tokens` and take only `max_completion_tokens`.
_COMPLETION_TOKEN_MODELS = ("o1", "o3", "o4", "gpt-5")
# OpenAI's non-reasoning families answer 400 to `reasoning_effort`; every other model may think, so a
# request that asks for thinking keeps asking (OpenRouter-style ids: the part after the last '/').
_NON_REASONING_MODELS = ("gpt-4", "gpt-3.5", "chatgpt-")


# --- validation helpers -------------------------------------------------------------------------------


def _required_str(obj: dict[str, Any], key: str, field: str) -> str:
    return fields.non_empty(obj.get(key), f"{field}.{key}")


# --- client request -> Call ---------------------------------------------------------------------------


def _text_parts(content: Any, field: str) -> list[Text]:
    """System, developer and tool content: a string or an array of text parts."""
    if isinstance(content, str):
        return [Text(content)]
    if not isinstance(content, list):
        raise bad(field, "must be a string or an array of text parts")
    parts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise bad(f"{field}[{j}]", 'must be a text part ({"type": "text", "text": "..."})')
        parts.append(Text(part["text"]))
    return parts


def _image(raw: Any, field: str) -> Image:
    """`image_url.url`: a base64 data URL becomes inline data, an http(s) URL stays remote."""
    url = raw.get("url") if isinstance(raw, dict) else raw
    if not isinstance(url, str):
        raise bad(f"{field}.url", "must be a string (an http(s) URL or a data URL)")
    if url.startswith(("http://", "https://")):
        return Image(url=url)
    match = _DATA_URL.fullmatch(url)
    if match is None or ";base64" not in match.group(2) or not match.group(3):
        raise bad(f"{field}.url", "must be an http(s) URL or a base64 data URL (data:image/png;base64,...)")
    return Image(media_type=match.group(1) or "image/png", data=match.group(3))


def _user_parts(content: Any, field: str) -> list[Part]:
    if isinstance(content, str):
        return [Text(content)]
    if not isinstance(content, list):
        raise bad(field, "must be a string or an array of content parts")
    parts: list[Part] = []
    for j, part in enumerate(content):
        part_field = f"{field}[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise bad(f"{part_field}.text", "must be a string")
            parts.append(Text(part["text"]))
        elif kind == "image_url":
            parts.append(_image(part.get("image_url"), f"{part_field}.image_url"))
        elif isinstance(kind, str):
            raise bad(part_field, f"is a `{kind}` part, which the gateway cannot carry; send text and "
                                   f"image_url parts only")
        else:
            raise bad(part_field, "must be a content part object with a `type`")
    return parts


def _tool_call(raw: Any, field: str) -> ToolCall | None:
    """One `tool_calls` item; None for a non-function call (custom tools pass through same-format only)."""
    raw = fields.obj(raw, field)
    if raw.get("type", "function") != "function":
        return None
    function = fields.obj(raw.get("function"), f"{field}.function")
    arguments = function.get("arguments")
    if isinstance(arguments, dict):
        arguments = dumps(arguments).decode()
    elif arguments is not None and not isinstance(arguments, str):
        raise bad(f"{field}.function.arguments", "must be a string of JSON")
    return ToolCall(id=_required_str(raw, "id", field), name=_required_str(function, "name", f"{field}.function"),
                    arguments=arguments or "{}")


def _assistant(message: dict[str, Any], field: str) -> Message:
    """Thinking first (where the model produced it), then the text, then the tool calls."""
    if message.get("function_call") is not None:
        raise bad(f"{field}.function_call", "is the legacy functions API; send `tool_calls` instead")
    parts: list[Part] = []
    for key in ("reasoning_content", "reasoning"):
        thinking = fields.optional(message.get(key), str, f"{field}.{key}", "a string")
        if thinking:
            parts.append(Thinking(thinking))
            break
    content = message.get("content")
    if isinstance(content, list):
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in ("text", "refusal") or not isinstance(part.get(kind), str):
                raise bad(f"{field}.content[{j}]", "must be a text or refusal part")
            parts.append(Text(part[kind]))
    elif isinstance(content, str):
        if content:
            parts.append(Text(content))
    elif content is not None:
        raise bad(f"{field}.content", "must be a string, an array of text parts or null")
    calls = fields.optional(message.get("tool_calls"), list, f"{field}.tool_calls", "an array")
    for k, raw in enumerate(calls or []):
        call = _tool_call(raw, f"{field}.tool_calls[{k}]")
        if call is not None:
            parts.append(call)
    return Message("assistant", parts or [Text("")])


def _messages(raw: Any) -> tuple[list[Text], list[Message]]:
    """The system prompt (system and developer messages, wherever they stand) and the turns.

    Consecutive `tool` messages become one user turn of tool results, and a user message right after
    them joins that turn: the shape Anthropic and Gemini need."""
    if not isinstance(raw, list) or not raw:
        raise bad("messages", "must be a non-empty array of {role, content} objects")
    system: list[Text] = []
    turns: list[Message] = []
    names: dict[str, str] = {}
    results: Message | None = None  # the user turn still open for more tool results
    for i, message in enumerate(raw):
        field = f"messages[{i}]"
        message = fields.obj(message, field)
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_parts(message.get("content"), f"{field}.content"))
        elif role == "tool":
            call_id = _required_str(message, "tool_call_id", field)
            content: list[Text | Image] = list(_text_parts(message.get("content"), f"{field}.content"))
            if results is None:
                results = Message("user", [])
                turns.append(results)
            results.parts.append(ToolResult(call_id, content, name=names.get(call_id)))
        elif role == "user":
            parts = _user_parts(message.get("content"), f"{field}.content")
            if results is not None:
                results.parts.extend(parts)
            else:
                turns.append(Message("user", parts))
            results = None
        elif role == "assistant":
            turn = _assistant(message, field)
            names.update({p.id: p.name for p in turn.parts if isinstance(p, ToolCall)})
            turns.append(turn)
            results = None
        elif role == "function":
            raise bad(f"{field}.role", "`function` is the legacy functions API; send `tool` messages instead")
        else:
            raise bad(f"{field}.role", "must be one of system, developer, user, assistant, tool")
    return system, turns


def _tools(raw: Any) -> list[Tool]:
    """Function tools; other types (custom, provider built-ins) stay in the payload for same-format use."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad("tools", "must be an array")
    tools = []
    for i, tool in enumerate(raw):
        field = f"tools[{i}]"
        if fields.obj(tool, field).get("type") != "function":
            continue
        function = fields.obj(tool.get("function"), f"{field}.function")
        description = function.get("description")
        if description is not None and not isinstance(description, str):
            raise bad(f"{field}.function.description", "must be a string")
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise bad(f"{field}.function.parameters", "must be a JSON schema object")
        tools.append(Tool(_required_str(function, "name", f"{field}.function"), description,
                          parameters or {"type": "object", "properties": {}}))
    return tools


def _tool_choice(raw: Any) -> ToolChoice | None:
    if raw is None:
        return None
    if raw in ("auto", "none", "required"):
        return ToolChoice(raw)
    if isinstance(raw, dict) and raw.get("type") == "function" and isinstance(raw.get("function"), dict):
        return ToolChoice("tool", _required_str(raw["function"], "name", "tool_choice.function"))
    raise bad("tool_choice", 'must be "auto", "none", "required" or {"type": "function", "function": '
                              '{"name": ...}}')


def _reasoning(raw: Any) -> Reasoning | None:
    if raw is None:
        return None
    if raw == "none":
        return Reasoning(enabled=False)
    if raw not in _EFFORTS:
        raise bad("reasoning_effort", "must be one of none, minimal, low, medium, high, xhigh")
    return Reasoning(effort=_EFFORTS[raw])


def _response_format(raw: Any) -> ResponseFormat | None:
    if raw is None:
        return None
    kind = fields.obj(raw, "response_format").get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind != "json_schema":
        raise bad("response_format.type", "must be text, json_object or json_schema")
    spec = fields.obj(raw.get("json_schema"), "response_format.json_schema")
    schema = fields.optional(spec.get("schema"), dict, "response_format.json_schema.schema", "an object")
    strict = fields.boolean(spec.get("strict"), "response_format.json_schema.strict")
    return ResponseFormat("json_schema", schema=schema,
                          name=_required_str(spec, "name", "response_format.json_schema"), strict=strict)


def _stop(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return list(raw)
    raise bad("stop", "must be a string or an array of strings")


def _include_usage(payload: dict[str, Any]) -> bool:
    options = fields.optional(payload.get("stream_options"), dict, "stream_options", "an object")
    if not options:
        return False
    return bool(fields.boolean(options.get("include_usage"), "stream_options.include_usage"))


def _parse(payload: dict[str, Any], model: str | None, stream: bool | None) -> Call:
    for legacy in ("functions", "function_call"):
        if payload.get(legacy) is not None:
            raise bad(legacy, "is the legacy functions API; send `tools` and `tool_choice` instead")
    if model is None:
        model = fields.model(payload.get("model"))
    if stream is None:
        stream = bool(fields.boolean(payload.get("stream"), "stream"))
    system, messages = _messages(payload.get("messages"))
    max_tokens = fields.integer(payload.get("max_completion_tokens"), "max_completion_tokens", positive=True)
    if max_tokens is None:
        max_tokens = fields.integer(payload.get("max_tokens"), "max_tokens", positive=True)
    return Call(
        format=NAME, model=model, messages=messages, stream=stream, system=system,
        tools=_tools(payload.get("tools")), tool_choice=_tool_choice(payload.get("tool_choice")),
        parallel_tool_calls=fields.boolean(payload.get("parallel_tool_calls"), "parallel_tool_calls"),
        max_tokens=max_tokens,
        temperature=fields.number(payload.get("temperature"), "temperature"),
        top_p=fields.number(payload.get("top_p"), "top_p"),
        top_k=fields.integer(payload.get("top_k"), "top_k", positive=True),
        stop=_stop(payload.get("stop")),
        seed=fields.integer(payload.get("seed"), "seed"),
        reasoning=_reasoning(payload.get("reasoning_effort")),
        response_format=_response_format(payload.get("response_format")),
        user=fields.optional(payload.get("user"), str, "user", "a string"),
        include_usage=stream and _include_usage(payload),
        payload=payload,
    )


# --- Call -> upstream request -------------------------------------------------------------------------


def _wire_content(parts: list[Any]) -> str | list[dict[str, Any]]:
    """Text only: one string (what every OpenAI-compatible server takes); with images: content parts."""
    if all(isinstance(p, Text) for p in parts):
        return content_text(parts)
    return [{"type": "text", "text": p.text} if isinstance(p, Text)
            else {"type": "image_url", "image_url": {"url": p.data_url()}}
            for p in parts if isinstance(p, (Text, Image))]


def _wire_tool_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def _wire_user(message: Message) -> list[dict[str, Any]]:
    """Tool results become `tool` messages placed first; the rest of the turn follows as one user message.

    The `tool` role carries text only, so images a tool returned move into that user message, each after
    a short note naming the call, where a vision model still sees them."""
    wire: list[dict[str, Any]] = []
    rest: list[Part] = []
    for part in message.parts:
        if isinstance(part, ToolResult):
            wire.append({"role": "tool", "tool_call_id": part.call_id, "content": content_text(part.content)})
            for image in (p for p in part.content if isinstance(p, Image)):
                rest += [Text(f"(image returned by tool call {part.call_id})"), image]
    rest += [p for p in message.parts if isinstance(p, (Text, Image))]
    if rest or not wire:
        wire.append({"role": "user", "content": _wire_content(rest)})
    return wire


def _wire_assistant(message: Message) -> dict[str, Any]:
    """Thinking is not sent: DeepSeek's reasoner refuses `reasoning_content` in input."""
    text = "".join(p.text for p in message.parts if isinstance(p, Text))
    calls = [_wire_tool_call(p) for p in message.parts if isinstance(p, ToolCall)]
    wire: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
    if calls:
        wire["tool_calls"] = calls
    return wire


def _wire_response_format(response_format: ResponseFormat) -> dict[str, Any]:
    if response_format.kind == "json_object":
        return {"type": "json_object"}
    spec: dict[str, Any] = {"name": response_format.name or "response"}
    if response_format.schema is not None:
        spec["schema"] = response_format.schema
    if response_format.strict is not None:
        spec["strict"] = response_format.strict
    return {"type": "json_schema", "json_schema": spec}


def _wire_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def _encode(call: Call, model: str) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if call.system:
        messages.append({"role": "system", "content": content_text(call.system)})
    for message in call.messages:
        messages += _wire_user(message) if message.role == "user" else [_wire_assistant(message)]
    body: dict[str, Any] = {"model": model, "messages": messages}
    if call.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if call.tools:
        body["tools"] = [{"type": "function", "function": {
            "name": t.name, **({"description": t.description} if t.description else {}),
            "parameters": t.parameters}} for t in call.tools]
    if call.tool_choice is not None:
        body["tool_choice"] = _wire_tool_choice(call.tool_choice)
    if call.max_tokens is not None:
        key = "max_completion_tokens" if model.lower().startswith(_COMPLETION_TOKEN_MODELS) else "max_tokens"
        body[key] = call.max_tokens
    if (call.reasoning is not None and call.reasoning.enabled
            and not model.lower().rsplit("/", 1)[-1].startswith(_NON_REASONING_MODELS)):
        body["reasoning_effort"] = effort_for(call.reasoning)
    if call.response_format is not None:
        body["response_format"] = _wire_response_format(call.response_format)
    if call.stop:
        body["stop"] = call.stop
    optional = {"parallel_tool_calls": call.parallel_tool_calls, "temperature": call.temperature,
                "top_p": call.top_p, "seed": call.seed, "user": call.user}
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


# --- upstream answer -> Answer ------------------------------------------------------------------------


def _count(value: Any) -> int:
    """A token count; anything but a sane non-negative integer counts as 0."""
    return value if is_int(value) and 0 <= value < _MAX_COUNT else 0


def _read_usage(raw: Any) -> Usage:
    """OpenAI `usage` (DeepSeek's `prompt_cache_hit_tokens` as the cached count where details lack it)."""
    if not isinstance(raw, dict):
        return Usage()
    prompt = raw.get("prompt_tokens_details")
    completion = raw.get("completion_tokens_details")
    cached = _count(prompt.get("cached_tokens")) if isinstance(prompt, dict) else 0
    return Usage(prompt=_count(raw.get("prompt_tokens")), completion=_count(raw.get("completion_tokens")),
                 cached=cached or _count(raw.get("prompt_cache_hit_tokens")),
                 reasoning=_count(completion.get("reasoning_tokens")) if isinstance(completion, dict) else 0)


def _wire_usage(usage: Usage) -> dict[str, Any]:
    return {"prompt_tokens": usage.prompt, "completion_tokens": usage.completion, "total_tokens": usage.total,
            "prompt_tokens_details": {"cached_tokens": usage.cached},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning}}


def _pieces(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, text) pieces of a message or delta: thinking, then content (a string, or Mistral's list of
    text and thinking chunks), then a refusal (kind "refusal", shown as text)."""
    pieces: list[tuple[str, str]] = []
    thinking = message.get("reasoning_content")
    if not isinstance(thinking, str) or not thinking:
        thinking = message.get("reasoning")
    if isinstance(thinking, str):
        pieces.append(("thinking", thinking))
    content = message.get("content")
    if isinstance(content, str):
        pieces.append(("text", content))
    elif isinstance(content, list):
        for chunk in (c for c in content if isinstance(c, dict)):
            if chunk.get("type") == "thinking" and isinstance(chunk.get("thinking"), list):
                pieces.append(("thinking", "".join(t.get("text", "") for t in chunk["thinking"]
                                                   if isinstance(t, dict) and isinstance(t.get("text"), str))))
            elif isinstance(chunk.get("text"), str):
                pieces.append(("text", chunk["text"]))
    if isinstance(message.get("refusal"), str):
        pieces.append(("refusal", message["refusal"]))
    return [(kind, text) for kind, text in pieces if text]


def _arguments(function: dict[str, Any]) -> str:
    arguments = function.get("arguments")
    if isinstance(arguments, dict):
        return dumps(arguments).decode()
    return arguments if isinstance(arguments, str) else ""


def _stop_reason(finish_reason: Any, has_tool_calls: bool, refused: bool) -> StopReason:
    """Chat's `finish_reason` in the common form. Some providers (Ollama, Gemini) say "stop" after tool
    calls: tool calls win, so that clients of other formats run them. A refusal says "stop" as well."""
    stop = _STOP_REASONS.get(finish_reason, "end") if isinstance(finish_reason, str) else "end"
    if stop == "end" and has_tool_calls:
        return "tool_calls"
    if stop == "end" and refused:
        return "refusal"
    return stop


def _first_choice(choices: Any) -> dict[str, Any] | None:
    """Choice 0 (the common form has one answer)."""
    if isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                return choice
    return None


def _decode(payload: dict[str, Any]) -> Answer:
    choice = _first_choice(payload.get("choices"))
    message = choice.get("message") if choice else None
    if not isinstance(message, dict):
        raise GatewayError(502, "The upstream answer has no `choices[0].message`.", "upstream_invalid_answer")
    pieces = _pieces(message)
    parts: list[Part] = [Thinking(text) if kind == "thinking" else Text(text) for kind, text in pieces]
    answer_id = payload.get("id") if isinstance(payload.get("id"), str) else ""
    raw_calls = message.get("tool_calls") if isinstance(message.get("tool_calls"), list) else []
    for k, raw in enumerate(c for c in raw_calls if isinstance(c, dict)):
        function = raw.get("function") if isinstance(raw.get("function"), dict) else {}
        call_id = raw.get("id") if isinstance(raw.get("id"), str) and raw["id"] else _call_id(answer_id, k)
        name = function.get("name") if isinstance(function.get("name"), str) else ""
        parts.append(ToolCall(call_id, name, _arguments(function) or "{}"))
    refused = any(kind == "refusal" for kind, _ in pieces)
    model = payload.get("model")
    created = payload.get("created")
    return Answer(id=answer_id, model=model if isinstance(model, str) else "", parts=parts,
                  stop=_stop_reason(choice.get("finish_reason") if choice else None, bool(raw_calls), refused),
                  usage=_read_usage(payload.get("usage")), created=created if is_int(created) else 0)


def _call_id(response_id: str, number: int) -> str:
    """An id for a tool call the upstream sent without one, unique per answer."""
    return f"call_{response_id or 'x'}_{number}"


# --- client answers -----------------------------------------------------------------------------------


def _completion_id(value: str) -> str:
    return value or f"chatcmpl-{uuid.uuid4().hex}"


def _encode_answer(answer: Answer, call: Call) -> dict[str, Any]:
    text = "".join(p.text for p in answer.parts if isinstance(p, Text))
    thinking = "".join(p.text for p in answer.parts if isinstance(p, Thinking))
    calls = [_wire_tool_call(p) for p in answer.parts if isinstance(p, ToolCall)]
    message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None,
                               "refusal": None}
    if thinking:
        message["reasoning_content"] = thinking
    if calls:
        message["tool_calls"] = calls
    return {"id": _completion_id(answer.id), "object": "chat.completion",
            "created": answer.created or int(time.time()), "model": call.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": _FINISH_REASONS[answer.stop]}],
            "usage": _wire_usage(answer.usage)}


_DONE = b"data: [DONE]\n\n"


class ChatStreamEncoder:
    """Common events -> `chat.completion.chunk` events, ending with `data: [DONE]` exactly once.

    The role goes on the first chunk that carries something, as OpenAI does, so an answer of tool calls
    only leaves `content` unset. Tool calls are numbered 0, 1, ... among tool calls, not among blocks."""

    def __init__(self, call: Call) -> None:
        self._model = call.model
        self._include_usage = call.include_usage
        self._id = ""
        self._created = int(time.time())
        self._role_sent = False
        self._kinds: dict[int, str] = {}
        self._tool_numbers: dict[int, int] = {}
        self._ended = False

    def encode(self, events: list[Event]) -> bytes:
        return b"".join(self._event(event) for event in events)

    def fail(self, message: str) -> bytes:
        if self._ended:
            return b""
        self._ended = True
        return error_event(message, "stream_interrupted")

    def _event(self, event: Event) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, Start):
            self._id = _completion_id(event.id)
        elif isinstance(event, BlockStart):
            self._kinds[event.index] = event.kind
            if event.kind == "tool_call":
                number = self._tool_numbers[event.index] = len(self._tool_numbers)
                return self._chunk({"tool_calls": [{"index": number, "id": event.id, "type": "function",
                                                    "function": {"name": event.name, "arguments": ""}}]})
        elif isinstance(event, Delta) and event.text:
            return self._chunk(self._delta(event))
        elif isinstance(event, Finish):
            return self._finish(event)
        elif isinstance(event, StreamError):
            return self.fail(event.message)
        return b""  # block stops, signatures and redacted thinking have no place in Chat

    def _delta(self, event: Delta) -> dict[str, Any]:
        kind = self._kinds.get(event.index)
        if kind == "tool_call":
            return {"tool_calls": [{"index": self._tool_numbers[event.index],
                                    "function": {"arguments": event.text}}]}
        return {"reasoning_content" if kind == "thinking" else "content": event.text}

    def _finish(self, event: Finish) -> bytes:
        out = self._chunk({} if self._role_sent else {"content": ""}, _FINISH_REASONS[event.stop])
        if self._include_usage:
            out += _sse({"id": self._id, "object": "chat.completion.chunk", "created": self._created,
                         "model": self._model, "choices": [], "usage": _wire_usage(event.usage)})
        self._ended = True
        return out + _DONE

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        if not self._role_sent:
            delta = {"role": "assistant", **delta}
            self._role_sent = True
        self._id = self._id or _completion_id("")
        chunk: dict[str, Any] = {
            "id": self._id, "object": "chat.completion.chunk", "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if self._include_usage:
            chunk["usage"] = None  # as OpenAI: every chunk but the last carries a null usage
        return _sse(chunk)


def _sse(value: dict[str, Any]) -> bytes:
    return b"data: " + dumps(value) + b"\n\n"


# --- upstream stream -> events ------------------------------------------------------------------------


@dataclass
class _PendingCall:
    id: str
    name: str
    upstream_id: str | None
    arguments: str = ""
    block: int | None = None  # its block index once its block started
    closed: bool = False


def _complete_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _event_data(event: bytes) -> str | None:
    """The `data:` of one SSE event (several data lines joined), None for comments and empty events."""
    lines = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines).decode("utf-8", "replace") if lines else None


def _error_text(error: Any) -> str:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return error if isinstance(error, str) else json.dumps(error)


class ChatStreamDecoder(SSEStreamDecoder):
    """Chat chunks -> common events, with blocks synthesized (Chat has none): a change of kind closes the
    open block, and every tool call is a block of its own.

    Tool calls stream live while they come one after another. A fragment of another call while the
    current call's arguments are not yet complete JSON means the upstream interleaves them: the others
    are then held back and sent whole, each in its own block, once the current one is complete or the
    answer finishes. The `Finish` waits for the usage chunk that follows the finishing chunk."""

    unfinished_message = "The upstream stream ended before finishing; the answer is incomplete."

    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._id = ""
        self._next_block = 0
        self._open: tuple[str, int] | None = None  # (kind, index) of the open block
        self._current: _PendingCall | None = None  # the tool call whose block is open
        self._calls: list[_PendingCall] = []
        self._by_index: dict[int, _PendingCall] = {}
        self._by_id: dict[str, _PendingCall] = {}
        self._refused = False
        self._stop: StopReason | None = None
        self._usage = Usage()

    def _event(self, raw: bytes) -> list[Event]:
        out: list[Event] = []
        self._handle(raw, out)
        return out

    def _unfinished(self) -> list[Event]:
        """A stream cut after its finishing chunk (the usage chunk never came) still finishes."""
        out: list[Event] = []
        if self._stop is not None:
            self._finish(out)
        else:
            out.append(StreamError(self.unfinished_message))
        return out

    def _handle(self, event: bytes, out: list[Event]) -> None:
        data = _event_data(event)
        if self._ended or data is None or not data.strip():
            return
        if data.strip() == "[DONE]":
            self._start({}, out)
            if self._stop is None:
                self._close_blocks(out)
                self._stop = "tool_calls" if self._calls else "end"
            self._finish(out)
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            chunk = None
        if not isinstance(chunk, dict):
            self._ended = True
            out.append(StreamError("The upstream sent a stream event that is not a JSON object."))
        elif chunk.get("error"):
            self._ended = True
            out.append(StreamError(_error_text(chunk["error"])))
        else:
            self._chunk(chunk, out)

    def _start(self, chunk: dict[str, Any], out: list[Event]) -> None:
        if not self._started:
            self._started = True
            self._id = chunk.get("id") if isinstance(chunk.get("id"), str) else ""
            model = chunk.get("model")
            out.append(Start(self._id, model if isinstance(model, str) else ""))

    def _chunk(self, chunk: dict[str, Any], out: list[Event]) -> None:
        self._start(chunk, out)
        finished_before = self._stop is not None
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = _read_usage(usage)
        choice = _first_choice(chunk.get("choices"))
        if choice is not None and not finished_before:
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self._delta(delta, out)
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                self._close_blocks(out)
                self._stop = _stop_reason(reason, bool(self._calls), self._refused)
        if finished_before and isinstance(usage, dict):
            self._finish(out)

    def _delta(self, delta: dict[str, Any], out: list[Event]) -> None:
        for kind, text in _pieces(delta):
            self._refused = self._refused or kind == "refusal"
            self._text("thinking" if kind == "thinking" else "text", text, out)
        calls = delta.get("tool_calls")
        for raw in calls if isinstance(calls, list) else []:
            if isinstance(raw, dict):
                self._tool_fragment(raw, out)

    def _text(self, kind: str, text: str, out: list[Event]) -> None:
        if self._open is None or self._open[0] != kind:
            self._close_open(out)
            self._open = (kind, self._next_block)
            self._next_block += 1
            out.append(BlockStart(self._open[1], kind))  # type: ignore[arg-type]
        out.append(Delta(self._open[1], text))

    def _close_open(self, out: list[Event]) -> None:
        if self._open is not None:
            out.append(BlockStop(self._open[1]))
            self._open = None
        if self._current is not None:
            self._current.closed = True
            self._current = None

    def _call_for(self, raw: dict[str, Any]) -> _PendingCall:
        """The call a fragment belongs to: by id, else by index, else the latest; or a new one."""
        upstream_id = raw.get("id") if isinstance(raw.get("id"), str) and raw["id"] else None
        index = raw.get("index") if is_int(raw.get("index")) else None
        if upstream_id is not None and upstream_id in self._by_id:
            return self._by_id[upstream_id]
        known = self._by_index.get(index) if index is not None else None
        if known is not None and (upstream_id is None or known.upstream_id in (None, upstream_id)):
            return known
        if upstream_id is None and index is None and self._calls:
            return self._calls[-1]
        call = _PendingCall(upstream_id or _call_id(self._id, len(self._calls)), "", upstream_id)
        self._calls.append(call)
        if upstream_id is not None:
            self._by_id[upstream_id] = call
        if index is not None:
            self._by_index[index] = call
        return call

    def _tool_fragment(self, raw: dict[str, Any], out: list[Event]) -> None:
        call = self._call_for(raw)
        function = raw.get("function") if isinstance(raw.get("function"), dict) else {}
        if not call.name and isinstance(function.get("name"), str):
            call.name = function["name"]
        if self._open is not None and self._current is None:
            self._close_open(out)  # a text or thinking block
        fragment = _arguments(function)
        if fragment and not call.closed:  # a closed call's JSON was complete: nothing may follow it
            call.arguments += fragment
            if call is self._current:
                out.append(Delta(call.block, fragment))  # type: ignore[arg-type]
        self._advance(out)

    def _advance(self, out: list[Event]) -> None:
        """Start waiting calls while no call is open or the open one's arguments are complete."""
        while True:
            waiting = next((c for c in self._calls if c.block is None), None)
            if waiting is None or (self._current is not None and not _complete_json(self._current.arguments)):
                return
            self._close_open(out)
            self._start_call(waiting, out)

    def _start_call(self, call: _PendingCall, out: list[Event]) -> None:
        call.block = self._next_block
        self._next_block += 1
        self._open, self._current = ("tool_call", call.block), call
        out.append(BlockStart(call.block, "tool_call", id=call.id, name=call.name))
        if call.arguments:
            out.append(Delta(call.block, call.arguments))

    def _close_blocks(self, out: list[Event]) -> None:
        """At the finish: close the open block and send every call still held back, whole."""
        self._close_open(out)
        for call in [c for c in self._calls if c.block is None]:
            self._start_call(call, out)
            self._close_open(out)

    def _finish(self, out: list[Event]) -> None:
        self._ended = True
        out.append(Finish(self._stop or "end", self._usage))


# --- the dialect --------------------------------------------------------------------------------------


def usage_chunk_filter(call: Call) -> Callable[[bytes], bytes | None] | None:
    """For a same-format stream: a filter the relay applies to events containing `usage_marker`.

    `passthrough_request` asks every streaming upstream for usage (the gateway records it), so a client
    that did not ask gets a usage-only chunk (`choices` empty, `usage` set) it did not expect; the filter
    returns None for that chunk (drop it) and every other event unchanged. None when no filter is needed
    (not a stream, or the client asked for usage itself)."""
    if not call.stream or call.include_usage:
        return None

    def drop_added_usage(event: bytes) -> bytes | None:
        chunk = event_json(event)
        if chunk is not None and isinstance(chunk.get("usage"), dict) and not chunk.get("choices"):
            return None
        return event

    return drop_added_usage


class OpenAIChat:
    name = NAME
    stream_media_type = "text/event-stream"
    usage_marker = b'"usage"'

    def passthrough_chunk_filter(self, call: Call) -> Callable[[bytes], bytes | None] | None:
        return usage_chunk_filter(call)

    # client side

    def parse_request(self, payload: dict[str, Any], *, model: str | None = None,
                      stream: bool | None = None) -> Call:
        return _parse(payload, model, stream)

    def encode_answer(self, answer: Answer, call: Call) -> dict[str, Any]:
        return _encode_answer(answer, call)

    def stream_encoder(self, call: Call) -> ChatStreamEncoder:
        return ChatStreamEncoder(call)

    def error_body(self, status: int, message: str, code: str) -> dict[str, Any]:
        error_type = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"error": {"message": message, "type": error_type, "code": code, "param": None}}

    # upstream side

    def encode_request(self, call: Call, model: str) -> UpstreamRequest:
        return UpstreamRequest(_PATH, dumps(_encode(call, model)))

    def passthrough_request(self, call: Call, model: str) -> UpstreamRequest:
        """The client's body with the model replaced; a stream also asks for usage (see
        `usage_chunk_filter`, which takes the added usage chunk out again). When nothing else changes, the
        client's own bytes go with only the model's value replaced (no parse-and-dump per attempt)."""
        adds_usage = call.stream and not call.include_usage
        if call.raw is not None and not adds_usage and ADDED_DEFAULTS not in call.meta:
            edited = replace_model(call.raw, model)
            if edited is not None:
                return UpstreamRequest(_PATH, edited)
        body = {**call.payload, "model": model}
        if adds_usage:
            options = body.get("stream_options") if isinstance(body.get("stream_options"), dict) else {}
            body["stream_options"] = {**options, "include_usage": True}
        return UpstreamRequest(_PATH, dumps(body))

    def decode_answer(self, payload: dict[str, Any]) -> Answer:
        return _decode(payload)

    def stream_decoder(self) -> ChatStreamDecoder:
        return ChatStreamDecoder()

    def error_message(self, payload: Any, body: bytes) -> str:
        if isinstance(payload, list) and payload and isinstance(payload[0], dict):
            payload = payload[0]  # Gemini's OpenAI endpoint answers errors in a list
        if isinstance(payload, dict) and payload.get("error"):
            return _error_text(payload["error"])
        return body.decode("utf-8", "replace").strip()[:1000]

    # usage of same-format answers

    def answer_usage(self, payload: dict[str, Any]) -> Usage:
        return _read_usage(payload.get("usage"))

    def event_usage(self, event: bytes) -> Usage | None:
        chunk = event_json(event)
        return _read_usage(chunk["usage"]) if chunk and isinstance(chunk.get("usage"), dict) else None


DIALECT = OpenAIChat()

__all__ = ["DIALECT", "ChatStreamDecoder", "ChatStreamEncoder", "OpenAIChat", "usage_chunk_filter"]
