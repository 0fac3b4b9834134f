"""Ollama's native chat API (`POST /api/chat`): JSON requests, NDJSON streams.

What this module absorbs, where Ollama differs from the other formats:
- `stream` defaults to true when the request leaves it out;
- tool-call arguments are JSON objects and arrive whole (one stream chunk per call), never in fragments;
- tool calls may lack ids (older servers, and the Python SDK drops them when history is sent back): ids are
  generated (`call_<turn>_<n>`, stable for the same history) and tool results are paired to their calls by
  `tool_call_id`, else by tool name, else by position;
- `done_reason` has no value for tool calls (it stays "stop") and thinking carries no signature;
- errors are `{"error": "<message>"}`, also as the last line of a broken stream.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from core.gateway.dialects import common
from core.gateway.dialects.common import (
    Answer, BlockKind, BlockStart, BlockStop, Call, Delta, Effort, Event, Finish, Image, Message, Part, Reasoning,
    ResponseFormat, Start, StopReason, StreamError, Text, Thinking, Tool, ToolCall, ToolResult,
    TranslationError, UpstreamRequest, Usage,
)
from core.gateway.dialects import fields
from core.gateway.dialects.fields import bad

NAME = "ollama"
CHAT_PATH = "/api/chat"
_ROLES = ("system", "user", "assistant", "tool")
# `think` levels Ollama accepts; "max" has no common effort above "high".
_THINK_EFFORTS: dict[str, Effort] = {"low": "low", "medium": "medium", "high": "high", "max": "high"}
# Ollama has no "minimal" level: the nearest it takes.
_EFFORT_THINK: dict[str, str] = {"minimal": "low", "low": "low", "medium": "medium", "high": "high"}
_ID_ALPHABET = string.ascii_lowercase + string.digits


# --- validation helpers (client side) ------------------------------------------------------------------


def _integer(value: Any, name: str) -> int | None:
    """Ollama's option parser takes any JSON number for an integer option; a fraction is a client bug."""
    return fields.integer(int(value) if isinstance(value, float) and value.is_integer() else value, name)


# --- images --------------------------------------------------------------------------------------------

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def sniff_media_type(data: str) -> str:
    """The image type from the first bytes of base64 `data`: Ollama sends bare base64 without a type."""
    head = data[:24]
    try:
        raw = base64.b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return "image/png"
    for magic, media_type in _MAGIC:
        if raw.startswith(magic):
            return media_type
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


def _image(value: Any, name: str) -> Image:
    """One entry of `images`: bare base64 as Ollama documents it (a `data:` URL is tolerated)."""
    data = fields.non_empty(value, name)
    if data.startswith("data:") and ";base64," in data:
        media_type, _, data = data[5:].partition(";base64,")
        return Image(media_type=media_type or sniff_media_type(data), data=data)
    return Image(media_type=sniff_media_type(data), data=data)


def _images(value: Any, name: str) -> list[Image]:
    if value is None:
        return []
    return [_image(item, f"{name}[{i}]") for i, item in enumerate(fields.array(value, name))]


def _wire_image(image: Image) -> str:
    """Inline base64 for Ollama's `images`; it cannot fetch images by URL."""
    if image.data is not None:
        return image.data
    url = image.url or ""
    if url.startswith("data:") and ";base64," in url:
        return url.partition(";base64,")[2]
    raise TranslationError(f"Ollama takes only inline base64 images; an image by URL ({url[:100]}) cannot be "
                           "sent to it")


# --- parsing a client request --------------------------------------------------------------------------


@dataclass
class _History:
    """The conversation being built: tool messages join one user turn, results pair with their calls."""

    messages: list[Message] = field(default_factory=list)
    system: list[Text] = field(default_factory=list)
    calls: dict[str, ToolCall] = field(default_factory=dict)  # every call so far, by id
    pending: list[ToolCall] = field(default_factory=list)  # the latest assistant turn's unanswered calls
    after_tool: bool = False  # the last message was a tool result: a user message joins its turn

    def add_user_parts(self, parts: Sequence[Part]) -> None:
        if self.after_tool and self.messages and self.messages[-1].role == "user":
            self.messages[-1].parts.extend(parts)
        else:
            self.messages.append(Message("user", list(parts)))

    def answer(self, call_id: str | None, name: str | None) -> ToolCall | None:
        """The call a tool message answers: by id, else the earliest unanswered of that name, else the
        latest unanswered (Ollama pairs by position, so clients often send neither)."""
        match = self.calls.get(call_id) if call_id else None
        if match is None and name:
            match = next((call for call in self.pending if call.name == name), None)
        if match is None and self.pending:
            match = self.pending[-1]
        if match is not None and match in self.pending:
            self.pending.remove(match)
        return match


def _content_parts(content: str, images: list[Image]) -> list[Text | Image]:
    """Images before text, the order Ollama renders them into the prompt."""
    parts: list[Text | Image] = list(images)
    if content or not parts:
        parts.append(Text(content))
    return parts


def _arguments_text(value: Any) -> str:
    """Tool-call arguments as JSON text; Ollama carries them as an object."""
    if value is None:
        return "{}"
    if isinstance(value, str):
        return value or "{}"
    return common.dumps(value).decode()


def _client_tool_calls(value: Any, name: str, turn: int) -> list[ToolCall]:
    calls = []
    for n, raw in enumerate(fields.array(value, name)):
        where = f"{name}[{n}]"
        raw = fields.obj(raw, where)
        function = fields.obj(raw.get("function"), f"{where}.function")
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, dict):
            raise bad(f"{where}.function.arguments", "must be an object")
        call_id = fields.optional(raw.get("id"), str, f"{where}.id", "a string") or f"call_{turn}_{n}"
        calls.append(ToolCall(call_id, fields.non_empty(function.get("name"), f"{where}.function.name"),
                              _arguments_text(arguments)))
    return calls


def _parse_message(raw: Any, index: int, history: _History) -> None:
    where = f"messages[{index}]"
    raw = fields.obj(raw, where)
    role = raw.get("role")
    if not isinstance(role, str) or role.lower() not in _ROLES:
        raise bad(f"{where}.role", 'must be "system", "user", "assistant" or "tool"')
    role = role.lower()  # Ollama lowercases roles
    content = raw.get("content")
    content = "" if content is None else fields.string(content, f"{where}.content")
    images = _images(raw.get("images"), f"{where}.images")
    if role == "system":
        if images:
            raise bad(f"{where}.images", "is not allowed on a system message")
        if content:
            history.system.append(Text(content))
    elif role == "user":
        history.add_user_parts(_content_parts(content, images))
        history.after_tool = False
    elif role == "assistant":
        _parse_assistant(raw, where, index, content, images, history)
    else:
        _parse_tool_result(raw, where, index, content, images, history)


def _parse_assistant(raw: dict[str, Any], where: str, index: int, content: str, images: list[Image],
                     history: _History) -> None:
    if images:
        raise bad(f"{where}.images", "is not allowed on an assistant message")
    thinking = raw.get("thinking")
    parts: list[Part] = []
    if thinking is not None and fields.string(thinking, f"{where}.thinking"):
        parts.append(Thinking(thinking))
    if content:
        parts.append(Text(content))
    calls = [] if raw.get("tool_calls") is None else _client_tool_calls(raw["tool_calls"], f"{where}.tool_calls",
                                                                         index)
    parts.extend(calls)
    history.messages.append(Message("assistant", parts or [Text("")]))
    history.calls.update((call.id, call) for call in calls)
    history.pending = list(calls)
    history.after_tool = False


def _parse_tool_result(raw: dict[str, Any], where: str, index: int, content: str, images: list[Image],
                       history: _History) -> None:
    name = fields.optional(raw.get("tool_name"), str, f"{where}.tool_name", "a string") \
        or fields.optional(raw.get("name"), str, f"{where}.name", "a string")
    call_id = fields.optional(raw.get("tool_call_id"), str, f"{where}.tool_call_id", "a string")
    call = history.answer(call_id, name)
    result = ToolResult(call.id if call else call_id or f"call_{index}_0", _content_parts(content, images),
                        name=call.name if call else name)
    history.add_user_parts([result])
    history.after_tool = True


def _parse_messages(value: Any) -> _History:
    history = _History()
    for index, raw in enumerate(fields.array(value, "messages")):
        _parse_message(raw, index, history)
    return history


def _parse_tools(value: Any) -> list[Tool]:
    tools = []
    for i, raw in enumerate([] if value is None else fields.array(value, "tools")):
        where = f"tools[{i}]"
        raw = fields.obj(raw, where)
        if raw.get("type") not in (None, "", "function"):
            raise bad(f"{where}.type", 'must be "function"')
        function = fields.obj(raw.get("function"), f"{where}.function")
        parameters = function.get("parameters")
        parameters = {"type": "object", "properties": {}} if parameters is None else fields.obj(
            parameters, f"{where}.function.parameters")
        tools.append(Tool(fields.non_empty(function.get("name"), f"{where}.function.name"),
                          fields.optional(function.get("description"), str, f"{where}.function.description",
                                          "a string"),
                          parameters))
    return tools


def _parse_format(value: Any) -> ResponseFormat | None:
    if value is None or value == "":
        return None
    if value == "json":
        return ResponseFormat("json_object")
    if isinstance(value, dict):
        return ResponseFormat("json_schema", schema=value)
    raise bad("format", 'must be "json" or a JSON schema object')


def _parse_options(value: Any) -> dict[str, Any]:
    """The sampling options the common form carries, as `Call` fields; the others (num_ctx, mirostat, ...)
    only survive a same-format pass-through."""
    if value is None:
        return {}
    options = fields.obj(value, "options")
    stop = options.get("stop")
    if stop is not None and not (isinstance(stop, list) and all(isinstance(item, str) for item in stop)):
        raise bad("options.stop", "must be an array of strings")
    num_predict = _integer(options.get("num_predict"), "options.num_predict")
    return {
        "temperature": fields.number(options.get("temperature"), "options.temperature"),
        "top_p": fields.number(options.get("top_p"), "options.top_p"),
        "top_k": _integer(options.get("top_k"), "options.top_k"),
        # -1 (unlimited) and -2 (fill the context) have no common equivalent but "no limit"
        "max_tokens": num_predict if num_predict is not None and num_predict > 0 else None,
        "stop": list(stop or []),
        "seed": _integer(options.get("seed"), "options.seed"),
    }


def _parse_think(value: Any) -> Reasoning | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Reasoning(enabled=value)
    if isinstance(value, str) and value in _THINK_EFFORTS:
        return Reasoning(effort=_THINK_EFFORTS[value])
    raise bad("think", 'must be true, false, "low", "medium", "high" or "max"')


# --- encoding for an Ollama client ---------------------------------------------------------------------


def timestamp(created: int = 0) -> str:
    """`created_at` in UTC RFC 3339 with fractional seconds, as Ollama's answers always carry them (some
    strict ISO parsers need the fraction); now when 0."""
    moment = datetime.fromtimestamp(created, timezone.utc) if created else datetime.now(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S.%f}Z"


def _wire_tool_call(call: ToolCall, index: int) -> dict[str, Any]:
    """A tool call as current Ollama writes it: `id` plus `function.index` (the call's position)."""
    return {"id": call.id, "function": {"index": index, "name": call.name,
                                        "arguments": common.arguments_object(call.arguments)}}


def _done_reason(stop: StopReason) -> str:
    """Ollama reports only "length" and "stop" (tool calls, stop sequences and refusals all end as "stop")."""
    return "length" if stop == "max_tokens" else "stop"


def _metrics(usage: Usage) -> dict[str, int]:
    """The final chunk's counters; durations are unknown through a translation and reported as 0."""
    return {"total_duration": 0, "load_duration": 0, "prompt_eval_count": usage.prompt,
            "prompt_eval_duration": 0, "eval_count": usage.completion, "eval_duration": 0}


def _chunk(model: str, message: dict[str, Any], done: bool = False) -> dict[str, Any]:
    return {"model": model, "created_at": timestamp(), "message": {"role": "assistant", **message}, "done": done}


def _line(value: dict[str, Any]) -> bytes:
    return common.dumps(value) + b"\n"


@dataclass
class _OpenCall:
    id: str
    name: str
    fragments: list[str] = field(default_factory=list)


class OllamaStreamEncoder:
    """Common events -> NDJSON chunks. Text and thinking go out as they come; a tool call is held until its
    block ends, since Ollama clients read each call whole from one chunk."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._kinds: dict[int, BlockKind] = {}
        self._calls: dict[int, _OpenCall] = {}
        self._sent_calls = 0

    def encode(self, events: list[Event]) -> bytes:
        return b"".join(self._event(event) for event in events)

    def fail(self, message: str) -> bytes:
        return _line({"error": message})

    def _event(self, event: Event) -> bytes:
        if isinstance(event, BlockStart):
            self._kinds[event.index] = event.kind
            if event.kind == "tool_call":
                self._calls[event.index] = _OpenCall(event.id or f"call_{event.index}", event.name or "")
            return b""
        if isinstance(event, Delta):
            return self._delta(event)
        if isinstance(event, BlockStop):
            call = self._calls.pop(event.index, None)
            return self._tool_call(call) if call else b""
        if isinstance(event, Finish):
            pending = b"".join(self._tool_call(call) for call in self._calls.values())
            self._calls.clear()
            final = _chunk(self._model, {"content": ""}, done=True)
            return pending + _line({**final, "done_reason": _done_reason(event.stop), **_metrics(event.usage)})
        if isinstance(event, StreamError):
            return self.fail(event.message)
        return b""  # Start and SignatureDelta: Ollama has no place for them

    def _delta(self, event: Delta) -> bytes:
        kind = self._kinds.get(event.index, "text")
        if kind == "tool_call":
            call = self._calls.get(event.index)
            if call is not None:
                call.fragments.append(event.text)
            return b""
        if not event.text:
            return b""
        message = {"content": event.text} if kind == "text" else {"content": "", "thinking": event.text}
        return _line(_chunk(self._model, message))

    def _tool_call(self, call: _OpenCall) -> bytes:
        wire = _wire_tool_call(ToolCall(call.id, call.name, "".join(call.fragments)), self._sent_calls)
        self._sent_calls += 1
        return _line(_chunk(self._model, {"content": "", "tool_calls": [wire]}))


# --- encoding for an Ollama upstream -------------------------------------------------------------------


def _wire_tool_result(result: ToolResult, names: dict[str, str]) -> dict[str, Any]:
    """A `tool` message; Ollama has no error flag, so `is_error` only lives on in the content's words."""
    message: dict[str, Any] = {"role": "tool", "content": common.content_text(result.content)}
    images = [_wire_image(part) for part in result.content if isinstance(part, Image)]
    if images:
        message["images"] = images
    name = result.name or names.get(result.call_id)
    if name:
        message["tool_name"] = name
    message["tool_call_id"] = result.call_id
    return message


def _wire_user(message: Message, names: dict[str, str]) -> list[dict[str, Any]]:
    """Tool results first (as `tool` messages), then the turn's own text and images as one user message."""
    wire = [_wire_tool_result(part, names) for part in message.parts if isinstance(part, ToolResult)]
    rest = [part for part in message.parts if isinstance(part, (Text, Image))]
    if rest or not wire:
        user: dict[str, Any] = {"role": "user", "content": common.content_text(rest)}
        images = [_wire_image(part) for part in rest if isinstance(part, Image)]
        if images:
            user["images"] = images
        wire.append(user)
    return wire


def _wire_assistant(message: Message) -> dict[str, Any]:
    """One assistant message (history sent upstream, or our answer to a client): pieces of text joined as
    the model wrote them, thinking without signature (Ollama has none), tool calls with object arguments."""
    wire: dict[str, Any] = {"role": "assistant",
                            "content": "".join(part.text for part in message.parts if isinstance(part, Text))}
    thinking = "".join(part.text for part in message.parts if isinstance(part, Thinking))
    if thinking:
        wire["thinking"] = thinking
    images = [_wire_image(part) for part in message.parts if isinstance(part, Image)]
    if images:
        wire["images"] = images
    calls = [part for part in message.parts if isinstance(part, ToolCall)]
    if calls:
        wire["tool_calls"] = [_wire_tool_call(call, i) for i, call in enumerate(calls)]
    return wire


def _wire_messages(call: Call) -> list[dict[str, Any]]:
    names = call.tool_names()
    wire: list[dict[str, Any]] = []
    if call.system:
        wire.append({"role": "system", "content": common.content_text(call.system)})
    for message in call.messages:
        if message.role == "user":
            wire.extend(_wire_user(message, names))
        else:
            wire.append(_wire_assistant(message))
    return wire


def _wire_tools(call: Call) -> list[dict[str, Any]]:
    """Ollama has no tool_choice: "none" sends no tools, a named tool sends only that one; "required"
    cannot be enforced and sends them all."""
    choice = call.tool_choice
    if choice is not None and choice.mode == "none":
        return []
    tools = [tool for tool in call.tools
             if choice is None or choice.mode != "tool" or tool.name == choice.name]
    wire = []
    for tool in tools:
        function: dict[str, Any] = {"name": tool.name}
        if tool.description is not None:
            function["description"] = tool.description
        function["parameters"] = tool.parameters
        wire.append({"type": "function", "function": function})
    return wire


def _wire_options(call: Call) -> dict[str, Any]:
    options = {"temperature": call.temperature, "top_p": call.top_p, "top_k": call.top_k,
               "num_predict": call.max_tokens, "stop": call.stop or None, "seed": call.seed}
    return {key: value for key, value in options.items() if value is not None}


def _wire_format(response_format: ResponseFormat) -> str | dict[str, Any]:
    if response_format.kind == "json_schema" and response_format.schema is not None:
        return response_format.schema
    return "json"


def _wire_think(reasoning: Reasoning, model: str) -> bool | str:
    """Levels only for the models that take them (gpt-oss); every other thinking model takes true/false."""
    if not reasoning.enabled:
        return False
    return _EFFORT_THINK[reasoning.effort] if reasoning.effort and "gpt-oss" in model.lower() else True


# --- decoding an Ollama answer -------------------------------------------------------------------------


def _fresh_call_id() -> str:
    """An id for a tool call Ollama sent without one, shaped like the ids Ollama makes itself."""
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def _fresh_answer_id() -> str:
    return "ollama-" + secrets.token_hex(12)


def _upstream_tool_call(raw: Any) -> ToolCall:
    raw = raw if isinstance(raw, dict) else {}
    function = raw.get("function") if isinstance(raw.get("function"), dict) else {}
    call_id = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else _fresh_call_id()
    return ToolCall(call_id, str(function.get("name") or ""), _arguments_text(function.get("arguments")))


def _stop(done_reason: Any, tool_calls: bool) -> StopReason:
    if done_reason == "length":
        return "max_tokens"
    return "tool_calls" if tool_calls else "end"


def _usage(payload: dict[str, Any]) -> Usage:
    """prompt_eval_count counts the whole prompt, cached prefix included; eval_count includes thinking."""
    return Usage(prompt=_count(payload.get("prompt_eval_count")), completion=_count(payload.get("eval_count")))


def _count(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _created(value: Any) -> int:
    """Unix seconds of Ollama's `created_at` (RFC 3339 with up to nanoseconds); 0 when unreadable."""
    if not isinstance(value, str):
        return 0
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def _message(payload: dict[str, Any]) -> dict[str, Any]:
    message = payload.get("message")
    return message if isinstance(message, dict) else {}


def _text_field(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    return value if isinstance(value, str) else ""


def _tool_calls_field(message: dict[str, Any]) -> list[Any]:
    value = message.get("tool_calls")
    return value if isinstance(value, list) else []


def _error_text(error: Any) -> str:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return error if isinstance(error, str) else json.dumps(error)


class OllamaStreamDecoder:
    """NDJSON lines (cut anywhere) -> common events. Each chunk may carry thinking, content and whole tool
    calls, in that order; the chunk with `done: true` ends the stream."""

    def __init__(self) -> None:
        self._pending = b""
        self._started = False
        self._open: tuple[int, BlockKind] | None = None
        self._next_index = 0
        self._tool_calls = False
        self._ended = False

    def feed(self, chunk: bytes) -> list[Event]:
        if b"\n" not in chunk:
            self._pending += chunk
            return []
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        return [event for line in lines for event in self._line(line)]

    def close(self) -> list[Event]:
        rest, self._pending = self._pending, b""
        events = self._line(rest)
        if not self._ended:
            self._ended = True
            events.append(StreamError("the Ollama stream ended before its final chunk (done: true)"))
        return events

    def _line(self, line: bytes) -> list[Event]:
        line = line.strip()
        if not line or self._ended:
            return []
        try:
            payload = json.loads(line)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            self._ended = True
            return [StreamError("Ollama sent a stream line that is not a JSON object", "bad_upstream_stream")]
        if "error" in payload:
            self._ended = True
            return [StreamError(_error_text(payload["error"]), "upstream_error")]
        return self._chunk(payload)

    def _chunk(self, payload: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        if not self._started:
            self._started = True
            events.append(Start(_fresh_answer_id(), str(payload.get("model") or "")))
        message = _message(payload)
        for kind, key in (("thinking", "thinking"), ("text", "content")):
            text = _text_field(message, key)
            if text:
                events.extend(self._open_block(kind))
                events.append(Delta(self._next_index - 1, text))
        for raw in _tool_calls_field(message):
            call = _upstream_tool_call(raw)
            events.extend(self._open_block("tool_call", call))
            index = self._next_index - 1
            events.extend([Delta(index, call.arguments), BlockStop(index)])
            self._open = None
            self._tool_calls = True
        if payload.get("done") is True:
            events.extend(self._close_block())
            events.append(Finish(_stop(payload.get("done_reason"), self._tool_calls), _usage(payload)))
            self._ended = True
        return events

    def _open_block(self, kind: BlockKind, call: ToolCall | None = None) -> list[Event]:
        """Continue the open block of the same kind, or close it and start the next one."""
        if self._open is not None and self._open[1] == kind and call is None:
            return []
        events = self._close_block()
        index = self._next_index
        self._next_index += 1
        self._open = (index, kind)
        events.append(BlockStart(index, kind, id=call.id if call else None, name=call.name if call else None))
        return events

    def _close_block(self) -> list[Event]:
        if self._open is None:
            return []
        index, self._open = self._open[0], None
        return [BlockStop(index)]


# --- the dialect ---------------------------------------------------------------------------------------


class OllamaDialect:
    name = NAME
    stream_media_type = "application/x-ndjson"
    usage_marker = b'"done":true'

    def passthrough_chunk_filter(self, call: Call) -> Callable[[bytes], bytes | None] | None:
        return None  # relayed as it is

    # client side

    def parse_request(self, payload: dict[str, Any], *, model: str | None = None,
                      stream: bool | None = None) -> Call:
        """Validate an `/api/chat` body; `stream` is true unless the client says false (Ollama's default)."""
        payload = fields.obj(payload, "body")
        model_name = fields.model(model if model is not None else payload.get("model"))
        streaming = fields.boolean(payload.get("stream"), "stream") if stream is None else stream
        if streaming is None:
            streaming = True
        history = _parse_messages(payload.get("messages"))
        return Call(format=NAME, model=model_name, messages=history.messages, stream=streaming,
                    system=history.system, tools=_parse_tools(payload.get("tools")),
                    reasoning=_parse_think(payload.get("think")),
                    response_format=_parse_format(payload.get("format")), payload=payload,
                    **_parse_options(payload.get("options")))

    def encode_answer(self, answer: Answer, call: Call) -> dict[str, Any]:
        message = _wire_assistant(Message("assistant", answer.parts))
        return {"model": call.model, "created_at": timestamp(answer.created), "message": message, "done": True,
                "done_reason": _done_reason(answer.stop), **_metrics(answer.usage)}

    def stream_encoder(self, call: Call) -> OllamaStreamEncoder:
        return OllamaStreamEncoder(call.model)

    def error_body(self, status: int, message: str, code: str) -> Any:
        return {"error": message}

    # upstream side

    def encode_request(self, call: Call, model: str) -> UpstreamRequest:
        body: dict[str, Any] = {"model": model, "messages": _wire_messages(call), "stream": call.stream}
        if call.response_format is not None:
            body["format"] = _wire_format(call.response_format)
        tools = _wire_tools(call)
        if tools:
            body["tools"] = tools
        options = _wire_options(call)
        if options:
            body["options"] = options
        if call.reasoning is not None:
            body["think"] = _wire_think(call.reasoning, model)
        return UpstreamRequest(CHAT_PATH, common.dumps(body))

    def passthrough_request(self, call: Call, model: str) -> UpstreamRequest:
        """The client's body untouched but for `model` (an absent `stream` still means true upstream)."""
        return UpstreamRequest(CHAT_PATH, common.dumps({**call.payload, "model": model}))

    def decode_answer(self, payload: dict[str, Any]) -> Answer:
        message = _message(payload)
        parts: list[Part] = []
        thinking = _text_field(message, "thinking")
        if thinking:
            parts.append(Thinking(thinking))
        content = _text_field(message, "content")
        if content:
            parts.append(Text(content))
        calls = [_upstream_tool_call(raw) for raw in _tool_calls_field(message)]
        parts.extend(calls)
        return Answer(_fresh_answer_id(), str(payload.get("model") or ""), parts,
                      stop=_stop(payload.get("done_reason"), bool(calls)), usage=_usage(payload),
                      created=_created(payload.get("created_at")))

    def stream_decoder(self) -> OllamaStreamDecoder:
        return OllamaStreamDecoder()

    def error_message(self, payload: Any, body: bytes) -> str:
        if isinstance(payload, dict) and payload.get("error"):
            return _error_text(payload["error"])
        return body.decode("utf-8", "replace").strip()

    # usage of pass-through answers

    def answer_usage(self, payload: dict[str, Any]) -> Usage:
        return _usage(payload)

    def event_usage(self, event: bytes) -> Usage | None:
        """Usage from a pass-through NDJSON line: only the final `done: true` chunk carries counts."""
        try:
            payload = json.loads(event)
        except ValueError:
            return None
        if isinstance(payload, dict) and payload.get("done") is True:
            return _usage(payload)
        return None


DIALECT = OllamaDialect()
