"""The OpenAI Responses format (`POST /responses`): the Codex CLI's wire format and `client.responses`.

The gateway keeps no state, so a conversation must arrive whole in `input`: `previous_response_id`,
`conversation` and `item_reference` are refused (Codex sends `store: false` and the full history anyway).
Codex's freeform tools (`type: custom`, e.g. `apply_patch`) cross other formats as function tools taking one
string parameter `input`; their names are kept in `Call.meta["custom_tools"]` so that the answer comes back
as `custom_tool_call` items. Built-in tools and items (web search, local shell, MCP, files, ...) only a
Responses upstream understands: they stay in the payload for pass-through and are listed in
`Call.meta[common.UNTRANSLATABLE]`, which makes the relay refuse to translate the call.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from core.gateway.dialects.common import (
    DROPPED_TOOLS, UNTRANSLATABLE, Answer, BlockKind, BlockStart, BlockStop, Call, Delta, Event, Finish, Image,
    Message, Part, Reasoning, ResponseFormat, Role, SignatureDelta, SSEStreamDecoder, Start, StopReason,
    StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult, TranslationError, UpstreamRequest, Usage,
    arguments_object, content_text, dumps, effort_for, unwrap_signature, wrap_signature,
)
from core.gateway import dialects
from core.gateway.dialects import fields
from core.gateway.dialects.fields import bad
from core.gateway.errors import GatewayError
from core.gateway.sse import event_json

NAME = "responses"
META_CUSTOM_TOOLS = "custom_tools"  # names of the client's freeform tools, answered as custom_tool_call

_SUMMARY_JOIN = "\n\n"  # between reasoning summary parts, in streams and whole answers alike
_REDACTED = "-redacted"  # origin suffix of a wrapped Anthropic redacted_thinking payload
_INPUT_PREFIX = '{"input":"'  # a custom tool's input as function arguments: {"input":"<text>"}
_ROLES = ("user", "assistant", "system", "developer")
_EFFORTS = ("minimal", "low", "medium", "high")
_SUMMARIES = ("auto", "concise", "detailed")
_DATA_URL = re.compile(r"data:(?P<type>[^;,]*)(?:;[^;,]*)*?;base64,(?P<data>.*)", re.S)
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


# --- client side: the request --------------------------------------------------------------------------


def _string(obj: dict[str, Any], key: str, where: str) -> str:
    return fields.string(obj.get(key), f"{where}.{key}")


@dataclass
class _Intake:
    """What parsing `input` collects: turns, system text, and what the common form cannot carry."""

    system: list[Text] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    custom_tools: list[str] = field(default_factory=list)
    untranslatable: list[str] = field(default_factory=list)
    dropped_tools: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, role: Role, part: Part) -> None:
        """Consecutive items of one role form one turn, as the alternating formats need."""
        if self.messages and self.messages[-1].role == role:
            if not _reattached(part, self.messages[-1].parts[-1]):
                self.messages[-1].parts.append(part)
        else:
            self.messages.append(Message(role, [part]))
        if isinstance(part, ToolCall):
            self.names[part.id] = part.name

    def custom(self, name: str) -> None:
        if name not in self.custom_tools:
            self.custom_tools.append(name)

    def foreign(self, where: str, what: str) -> None:
        self.untranslatable.append(f"`{where}`: {what} only a Responses upstream understands")


# A tool call's own signature (Gemini's thoughtSignature on a functionCall part) has no place on a
# function_call item: it travels as a summary-less reasoning item right after the call (clients such as
# Codex return reasoning items in order), and goes back onto the tool call when the client returns it.


def _carries_signature(call: ToolCall) -> bool:
    return call.signature is not None and call.origin not in (None, NAME)


def _reattached(part: Part, previous: Part) -> bool:
    """Put a tool call's signature back from the reasoning item that carried it; False if `part` is other."""
    if (isinstance(part, Thinking) and isinstance(previous, ToolCall) and previous.signature is None
            and not part.text and part.redacted is None and part.signature and part.origin not in (None, NAME)):
        previous.signature, previous.origin = part.signature, part.origin
        return True
    return False


def _refuse_state(body: dict[str, Any]) -> None:
    """Server-side state cannot be honoured by a stateless gateway: say how to send the request instead."""
    for key in ("previous_response_id", "conversation"):
        if body.get(key) is not None:
            raise GatewayError(400, f"`{key}` is not supported: the gateway is stateless and stores no responses; "
                                    "send the full conversation in `input` (with `store: false`, as Codex does)",
                               "invalid_request")


def _image(part: dict[str, Any], where: str) -> Image:
    if part.get("file_id") is not None:
        raise GatewayError(400, f"`{where}.file_id` is not supported: the gateway has no file storage; send the "
                                "image as `image_url` (a data URL or an http(s) URL)", "invalid_request")
    url = part.get("image_url")
    match = _DATA_URL.match(url) if isinstance(url, str) else None
    if match:
        return Image(media_type=match["type"] or "image/png", data=match["data"])
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return Image(url=url)
    raise bad(f"{where}.image_url", "must be a base64 data URL or an http(s) URL")


def _content(value: Any, where: str, intake: _Intake) -> list[Text | Image]:
    """Message content or tool output: a string, or parts (text of any direction, refusals, images)."""
    if isinstance(value, str):
        return [Text(value)]
    if not isinstance(value, list):
        raise bad(where, "must be a string or an array of content parts")
    parts: list[Text | Image] = []
    for index, raw in enumerate(value):
        at = f"{where}[{index}]"
        part = fields.obj(raw, at)
        kind = part.get("type")
        if kind in ("input_text", "output_text"):
            parts.append(Text(_string(part, "text", at)))
        elif kind == "refusal":
            parts.append(Text(_string(part, "refusal", at)))
        elif kind == "input_image":
            parts.append(_image(part, at))
        elif isinstance(kind, str):
            intake.foreign(at, f"content part `{kind}`")
        else:
            raise bad(f"{at}.type", "must be a string")
    return parts


def _parse_message(item: dict[str, Any], where: str, intake: _Intake) -> None:
    role = item.get("role")
    if role not in _ROLES:
        raise bad(f"{where}.role", "must be one of " + ", ".join(_ROLES))
    parts = _content(item.get("content"), f"{where}.content", intake)
    if role == "user" or role == "assistant":
        for part in parts:
            intake.add(role, part)
        return
    for part in parts:
        if not isinstance(part, Text):
            raise bad(f"{where}.content", f"of a {role} message must be text")
        intake.system.append(part)


def _custom_arguments(text: str) -> str:
    """A custom tool's raw input as the function arguments other formats carry."""
    return dumps({"input": text}).decode()


def _parse_function_call(item: dict[str, Any], where: str, intake: _Intake) -> None:
    arguments = item.get("arguments", "")
    if not isinstance(arguments, str):
        raise bad(f"{where}.arguments", "must be a string of JSON")
    intake.add("assistant", ToolCall(_string(item, "call_id", where), _string(item, "name", where), arguments or "{}"))


def _parse_custom_call(item: dict[str, Any], where: str, intake: _Intake) -> None:
    name = _string(item, "name", where)
    intake.custom(name)
    intake.add("assistant", ToolCall(_string(item, "call_id", where), name,
                                     _custom_arguments(_string(item, "input", where))))


def _parse_output(item: dict[str, Any], where: str, intake: _Intake) -> None:
    call_id = _string(item, "call_id", where)
    content = _content(item.get("output"), f"{where}.output", intake)
    intake.add("user", ToolResult(call_id, content, name=intake.names.get(call_id)))


def _texts(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return []
    return [entry["text"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("text"), str)]


def _thinking(item: dict[str, Any]) -> Thinking:
    """A reasoning item as thinking: its summaries (else its raw reasoning text) joined, its encrypted content
    as signature; a foreign signature this dialect carried is restored to its own format."""
    thinking = Thinking(_SUMMARY_JOIN.join(_texts(item.get("summary")) or _texts(item.get("content"))))
    sealed = item.get("encrypted_content")
    if isinstance(sealed, str) and sealed:
        signature, origin = unwrap_signature(sealed, NAME)
        if origin.endswith(_REDACTED):
            return Thinking("", origin=origin[: -len(_REDACTED)], redacted=signature)
        thinking.signature, thinking.origin = signature, origin
    return thinking


def _parse_reasoning_item(item: dict[str, Any], where: str, intake: _Intake) -> None:
    for key in ("summary", "content"):
        entries = item.get(key)
        if entries is not None and not isinstance(entries, list):
            raise bad(f"{where}.{key}", "must be an array")
        for index, entry in enumerate(entries or []):
            _string(fields.obj(entry, f"{where}.{key}[{index}]"), "text", f"{where}.{key}[{index}]")
    if item.get("encrypted_content") is not None:
        _string(item, "encrypted_content", where)
    intake.add("assistant", _thinking(item))


_ITEM_PARSERS: dict[str, Callable[[dict[str, Any], str, _Intake], None]] = {
    "message": _parse_message,
    "function_call": _parse_function_call,
    "custom_tool_call": _parse_custom_call,
    "function_call_output": _parse_output,
    "custom_tool_call_output": _parse_output,
    "reasoning": _parse_reasoning_item,
}


def _parse_input(value: Any, intake: _Intake) -> None:
    if isinstance(value, str):
        intake.add("user", Text(value))
        return
    if not isinstance(value, list):
        raise bad("input", "must be a string or an array of items")
    for index, raw in enumerate(value):
        where = f"input[{index}]"
        item = fields.obj(raw, where)
        kind = item.get("type", "message")
        parser = _ITEM_PARSERS.get(kind) if isinstance(kind, str) else None
        if parser is not None:
            parser(item, where, intake)
        elif kind == "item_reference":
            raise GatewayError(400, f"`{where}` is an item_reference, but the gateway is stateless and stores no "
                                    "items: send the item itself", "invalid_request")
        elif isinstance(kind, str):
            intake.foreign(where, f"input item `{kind}`")
        else:
            raise bad(f"{where}.type", "must be a string")


def _custom_tool(tool: dict[str, Any], where: str) -> Tool:
    """A freeform tool as a function of one string `input`; a grammar goes into that parameter's description
    so that a foreign model knows the syntax the tool expects."""
    parameter: dict[str, Any] = {"type": "string"}
    grammar = tool.get("format")
    if isinstance(grammar, dict) and grammar.get("type") == "grammar":
        parameter["description"] = (f"The tool's raw input, following this {grammar.get('syntax', '')} grammar:\n"
                                    f"{grammar.get('definition', '')}")
    description = tool.get("description")
    return Tool(_string(tool, "name", where), description if isinstance(description, str) else None,
                {"type": "object", "properties": {"input": parameter}, "required": ["input"],
                 "additionalProperties": False})


def _function_tool(tool: dict[str, Any], where: str) -> Tool:
    description = tool.get("description")
    parameters = tool.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise bad(f"{where}.parameters", "must be a JSON schema object")
    return Tool(_string(tool, "name", where), description if isinstance(description, str) else None,
                parameters or {"type": "object", "properties": {}})


def _parse_tools(value: Any, intake: _Intake) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("tools", "must be an array")
    tools = []
    for index, raw in enumerate(value):
        where = f"tools[{index}]"
        tool = fields.obj(raw, where)
        kind = tool.get("type")
        if kind == "function":
            tools.append(_function_tool(tool, where))
        elif kind == "custom":
            tools.append(_custom_tool(tool, where))
            intake.custom(tools[-1].name)
        elif isinstance(kind, str):  # web_search, namespace, local_shell…: only a Responses upstream runs them
            intake.dropped_tools.append(str(tool.get("name") or kind))
        else:
            raise bad(f"{where}.type", "must be a string")
    return tools


def _parse_tool_choice(value: Any, intake: _Intake) -> ToolChoice | None:
    if value is None:
        return None
    if value in ("auto", "none", "required"):
        return ToolChoice(value)
    if isinstance(value, dict) and value.get("type") in ("function", "custom"):
        return ToolChoice("tool", _string(value, "name", "tool_choice"))
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        intake.foreign("tool_choice", f"tool choice `{value['type']}`")
        return None
    raise bad("tool_choice", 'must be "auto", "none", "required" or {"type": "function", "name": ...}')


def _parse_reasoning(value: Any) -> Reasoning | None:
    if value is None:
        return None
    config = fields.obj(value, "reasoning")
    summary = config.get("summary", config.get("generate_summary"))
    if summary is not None and summary not in _SUMMARIES:
        raise bad("reasoning.summary", "must be one of " + ", ".join(_SUMMARIES))
    effort = config.get("effort")
    if effort == "none":
        return Reasoning(enabled=False, summary=summary)
    if effort == "xhigh":  # beyond the common scale: the closest it has
        effort = "high"
    if effort is not None and effort not in _EFFORTS:
        raise bad("reasoning.effort", "must be one of none, " + ", ".join(_EFFORTS) + ", xhigh")
    return Reasoning(effort=effort, summary=summary)


def _parse_text_format(value: Any) -> ResponseFormat | None:
    if value is None:
        return None
    fmt = fields.obj(value, "text").get("format")
    if fmt is None:
        return None
    kind = fields.obj(fmt, "text.format").get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind != "json_schema":
        raise bad("text.format.type", 'must be "text", "json_object" or "json_schema"')
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise bad("text.format.schema", "must be a JSON schema object")
    name, strict = fmt.get("name"), fmt.get("strict")
    return ResponseFormat("json_schema", schema=schema, name=name if isinstance(name, str) else None,
                          strict=strict if isinstance(strict, bool) else None)


def _parse_call(payload: Any, model: str | None, stream: bool | None) -> Call:
    body = fields.obj(payload, "body")
    _refuse_state(body)
    name = fields.model(model or body.get("model"))
    intake = _Intake()
    instructions = fields.optional(body.get("instructions"), str, "instructions", "a string")
    if instructions:
        intake.system.append(Text(instructions))
    _parse_input(body.get("input"), intake)
    tools = _parse_tools(body.get("tools"), intake)
    return Call(
        format=NAME, model=name, messages=intake.messages, system=intake.system, tools=tools,
        stream=stream if stream is not None else bool(fields.boolean(body.get("stream"), "stream")),
        tool_choice=_parse_tool_choice(body.get("tool_choice"), intake),
        parallel_tool_calls=fields.boolean(body.get("parallel_tool_calls"), "parallel_tool_calls"),
        max_tokens=fields.integer(body.get("max_output_tokens"), "max_output_tokens"),
        temperature=fields.number(body.get("temperature"), "temperature"),
        top_p=fields.number(body.get("top_p"), "top_p"),
        reasoning=_parse_reasoning(body.get("reasoning")),
        response_format=_parse_text_format(body.get("text")),
        user=fields.optional(body.get("user"), str, "user", "a string"),
        payload=body,
        meta={key: value for key, value in ((META_CUSTOM_TOOLS, intake.custom_tools),
                                            (UNTRANSLATABLE, intake.untranslatable),
                                            (DROPPED_TOOLS, intake.dropped_tools)) if value},
    )


# --- client side: the answer ---------------------------------------------------------------------------


def _response_id(answer_id: str) -> str:
    if answer_id.startswith("resp_"):
        return answer_id
    return "resp_" + (re.sub(r"[^A-Za-z0-9]", "", answer_id) or uuid.uuid4().hex)


def _item_id(prefix: str, response_id: str, index: int) -> str:
    """Output item ids derived from the response id: stable, and unique within and across responses."""
    return f"{prefix}_{response_id.removeprefix('resp_')}_{index}"


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant",
            "content": [] if text is None else [_output_text(text)]}


def _summary(text: str) -> list[dict[str, str]]:
    return [{"type": "summary_text", "text": text}] if text else []


def _sealed(thinking: Thinking) -> str | None:
    """The encrypted_content a thinking block travels in: our own signature as issued, a foreign one wrapped
    so that it comes back to its format exactly."""
    if thinking.redacted is not None:
        return wrap_signature(thinking.redacted, (thinking.origin or "anthropic") + _REDACTED)
    if thinking.signature is None or thinking.origin in (None, NAME):
        return thinking.signature
    return wrap_signature(thinking.signature, thinking.origin)


def _reasoning_item(item_id: str, thinking: Thinking) -> dict[str, Any]:
    item: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": _summary(thinking.text)}
    sealed = _sealed(thinking)
    if sealed is not None:
        item["encrypted_content"] = sealed
    return item


def _signature_item(response_id: str, index: int, call: ToolCall) -> dict[str, Any]:
    return _reasoning_item(_item_id("rs", response_id, index),
                           Thinking("", signature=call.signature, origin=call.origin))


def _custom_input(arguments: str) -> str:
    """A custom tool's raw input from the `{"input": ...}` arguments a foreign model produced."""
    text = arguments_object(arguments).get("input")
    return text if isinstance(text, str) else arguments


def _call_item(response_id: str, index: int, call: ToolCall, custom: bool, status: str) -> dict[str, Any]:
    if custom:
        return {"id": _item_id("ctc", response_id, index), "type": "custom_tool_call", "call_id": call.id,
                "name": call.name, "input": _custom_input(call.arguments)}
    return {"id": _item_id("fc", response_id, index), "type": "function_call", "status": status,
            "call_id": call.id, "name": call.name, "arguments": call.arguments}


def _output_item(part: Part, response_id: str, index: int, custom: set[str]) -> dict[str, Any]:
    if isinstance(part, Thinking):
        return _reasoning_item(_item_id("rs", response_id, index), part)
    if isinstance(part, ToolCall):
        return _call_item(response_id, index, part, part.name in custom, "completed")
    if isinstance(part, Text):
        return _message_item(_item_id("msg", response_id, index), part.text, "completed")
    raise TranslationError(f"an answer part of type {type(part).__name__} has no place in a Responses output")


def _usage_object(usage: Usage) -> dict[str, Any]:
    return {"input_tokens": usage.prompt,
            "input_tokens_details": {"cached_tokens": usage.cached, "cache_write_tokens": usage.cache_write},
            "output_tokens": usage.completion, "output_tokens_details": {"reasoning_tokens": usage.reasoning},
            "total_tokens": usage.total}


def _status(stop: StopReason) -> tuple[str, str | None]:
    """(status, incomplete reason): the Responses API has no stop reason, only a truncated response."""
    if stop == "max_tokens":
        return "incomplete", "max_output_tokens"
    if stop == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None


def _echo(body: dict[str, Any], key: str, default: Any) -> Any:
    value = body.get(key)
    return default if value is None else value


@dataclass
class _Outcome:
    status: str
    usage: Usage | None = None
    reason: str | None = None
    error: dict[str, str] | None = None


def _response(call: Call, response_id: str, created: int, output: list[dict[str, Any]],
              outcome: _Outcome) -> dict[str, Any]:
    """The response object as the API returns it, echoing the settings the client sent."""
    body = call.payload
    return {
        "id": response_id, "object": "response", "created_at": created, "status": outcome.status,
        "background": False, "error": outcome.error,
        "incomplete_details": None if outcome.reason is None else {"reason": outcome.reason},
        "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"), "model": call.model, "output": output,
        "parallel_tool_calls": _echo(body, "parallel_tool_calls", True), "previous_response_id": None,
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": _echo(body, "reasoning", {"effort": None, "summary": None}),
        "safety_identifier": body.get("safety_identifier"), "service_tier": _echo(body, "service_tier", "default"),
        "store": _echo(body, "store", True), "temperature": _echo(body, "temperature", 1.0),
        "text": {"format": {"type": "text"}, **_dict(body.get("text"))},
        "tool_choice": _echo(body, "tool_choice", "auto"), "tools": _echo(body, "tools", []),
        "top_logprobs": _echo(body, "top_logprobs", 0),
        "top_p": _echo(body, "top_p", 1.0), "truncation": _echo(body, "truncation", "disabled"),
        "usage": None if outcome.usage is None else _usage_object(outcome.usage),
        "user": body.get("user"), "metadata": _echo(body, "metadata", {}),
    }


def _encode_answer(answer: Answer, call: Call) -> dict[str, Any]:
    response_id = _response_id(answer.id)
    custom = set(call.meta.get(META_CUSTOM_TOOLS) or ())
    output: list[dict[str, Any]] = []
    for part in answer.parts:
        output.append(_output_item(part, response_id, len(output), custom))
        if isinstance(part, ToolCall) and _carries_signature(part):
            output.append(_signature_item(response_id, len(output), part))
    status, reason = _status(answer.stop)
    return _response(call, response_id, answer.created or int(time.time()), output,
                     _Outcome(status, answer.usage, reason))


@dataclass
class _OpenItem:
    """The output item being streamed: as announced, and what its deltas carried so far."""

    kind: BlockKind
    index: int
    item: dict[str, Any]
    chunks: list[str] = field(default_factory=list)
    thinking: Thinking | None = None
    summary_open: bool = False
    custom: bool = False
    call: ToolCall | None = None

    def ref(self) -> dict[str, Any]:
        return {"item_id": self.item["id"], "output_index": self.index}


class _StreamEncoder:
    """Common events -> Responses SSE (`event: <type>` + `data: {...}`), each with its `sequence_number`."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._custom = set(call.meta.get(META_CUSTOM_TOOLS) or ())
        self._seq = 0
        self._id = ""
        self._created = 0
        self._output: list[dict[str, Any]] = []
        self._open: _OpenItem | None = None
        self._done = False

    def encode(self, events: list[Event]) -> bytes:
        return b"".join(self._encode(event) for event in events)

    def fail(self, message: str) -> bytes:
        """An `error` event (the SDK's `ResponseErrorEvent`) then `response.failed`, which Codex acts on."""
        if self._done:
            return b""
        out = b"" if self._id else self._start("")
        self._done = True
        error = {"code": "server_error", "message": message}
        return (out + self._send("error", code="server_error", message=message, param=None)
                + self._send("response.failed", response=self._snapshot(_Outcome("failed", error=error))))

    def _encode(self, event: Event) -> bytes:
        if self._done:
            return b""
        if isinstance(event, Start):
            return self._start(event.id)
        if isinstance(event, BlockStart):
            return self._block_start(event)
        if isinstance(event, Delta):
            return self._delta(event.text)
        if isinstance(event, SignatureDelta):
            signed = (self._open.thinking or self._open.call) if self._open is not None else None
            if signed is not None:
                signed.signature, signed.origin = event.signature, event.origin
            return b""
        if isinstance(event, BlockStop):
            return self._block_stop()
        if isinstance(event, Finish):
            return self._finish(event)
        return self.fail(event.message)

    def _send(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + dumps(data) + b"\n\n"

    def _snapshot(self, outcome: _Outcome) -> dict[str, Any]:
        return _response(self._call, self._id, self._created, list(self._output), outcome)

    def _start(self, answer_id: str) -> bytes:
        self._id, self._created = _response_id(answer_id), int(time.time())
        snapshot = self._snapshot(_Outcome("in_progress"))
        return self._send("response.created", response=snapshot) + self._send("response.in_progress", response=snapshot)

    def _block_start(self, event: BlockStart) -> bytes:
        out = self._block_stop()
        index = len(self._output)
        if event.kind == "text":
            block = _OpenItem("text", index, _message_item(_item_id("msg", self._id, index), None, "in_progress"))
        elif event.kind == "thinking":
            block = _OpenItem("thinking", index, {"id": _item_id("rs", self._id, index), "type": "reasoning",
                                                  "summary": []},
                              thinking=Thinking("", origin=event.origin, redacted=event.redacted))
        else:
            call = ToolCall(event.id or "", event.name or "", "")
            custom = call.name in self._custom
            block = _OpenItem("tool_call", index, _call_item(self._id, index, call, custom, "in_progress"),
                              custom=custom, call=call)
        self._open = block
        out += self._send("response.output_item.added", output_index=index, item=block.item)
        if block.kind == "text":
            out += self._send("response.content_part.added", **block.ref(), content_index=0, part=_output_text(""))
        return out

    def _delta(self, text: str) -> bytes:
        block = self._open
        if block is None or not text:
            return b""
        block.chunks.append(text)
        if block.kind == "text":
            return self._send("response.output_text.delta", **block.ref(), content_index=0, delta=text, logprobs=[])
        if block.kind == "thinking":
            out = b""
            if not block.summary_open:
                block.summary_open = True
                out = self._send("response.reasoning_summary_part.added", **block.ref(), summary_index=0,
                                 part={"type": "summary_text", "text": ""})
            return out + self._send("response.reasoning_summary_text.delta", **block.ref(), summary_index=0,
                                    delta=text)
        if block.custom:  # sent whole at the end: the raw input is known only once the JSON is complete
            return b""
        return self._send("response.function_call_arguments.delta", **block.ref(), delta=text)

    def _block_stop(self) -> bytes:
        block, self._open = self._open, None
        if block is None:
            return b""
        text = "".join(block.chunks)
        if block.call is not None:
            block.call.arguments = text or "{}"
            item = _call_item(self._id, block.index, block.call, block.custom, "completed")
            out = self._call_done(block, item)
        elif block.thinking is not None:
            block.thinking.text = text
            item = _reasoning_item(block.item["id"], block.thinking)
            out = self._summary_done(block, text) if block.summary_open else b""
        else:
            item = _message_item(block.item["id"], text, "completed")
            out = (self._send("response.output_text.done", **block.ref(), content_index=0, text=text, logprobs=[])
                   + self._send("response.content_part.done", **block.ref(), content_index=0,
                                part=_output_text(text)))
        self._output.append(item)
        out += self._send("response.output_item.done", output_index=block.index, item=item)
        if block.call is not None and _carries_signature(block.call):
            out += self._whole_item(_signature_item(self._id, len(self._output), block.call))
        return out

    def _whole_item(self, item: dict[str, Any]) -> bytes:
        index = len(self._output)
        self._output.append(item)
        return (self._send("response.output_item.added", output_index=index, item=item)
                + self._send("response.output_item.done", output_index=index, item=item))

    def _summary_done(self, block: _OpenItem, text: str) -> bytes:
        return (self._send("response.reasoning_summary_text.done", **block.ref(), summary_index=0, text=text)
                + self._send("response.reasoning_summary_part.done", **block.ref(), summary_index=0,
                             part={"type": "summary_text", "text": text}))

    def _call_done(self, block: _OpenItem, item: dict[str, Any]) -> bytes:
        if not block.custom:
            return self._send("response.function_call_arguments.done", **block.ref(), name=item["name"],
                              arguments=item["arguments"])
        out = self._send("response.custom_tool_call_input.delta", **block.ref(), delta=item["input"]) \
            if item["input"] else b""
        return out + self._send("response.custom_tool_call_input.done", **block.ref(), input=item["input"])

    def _finish(self, event: Finish) -> bytes:
        out = self._block_stop()
        status, reason = _status(event.stop)
        self._done = True
        kind = "response.completed" if status == "completed" else "response.incomplete"
        return out + self._send(kind, response=self._snapshot(_Outcome(status, event.usage, reason)))


# --- upstream side: the request ------------------------------------------------------------------------


def _input_content(part: Text | Image, role: Role) -> dict[str, Any]:
    if isinstance(part, Image):
        if role == "assistant":
            raise TranslationError("an image in an assistant turn cannot be sent to the Responses API, "
                                   "which takes images only as input")
        return {"type": "input_image", "image_url": part.data_url(), "detail": "auto"}
    return {"type": "output_text" if role == "assistant" else "input_text", "text": part.text}


def _result_output(content: list[Text | Image]) -> str | list[dict[str, Any]]:
    if any(isinstance(part, Image) for part in content):
        return [_input_content(part, "user") for part in content]
    return content_text(content)


def _input_item(part: Part) -> dict[str, Any] | None:
    """A tool call, tool result or reasoning item; thinking another format signed cannot go upstream."""
    if isinstance(part, ToolCall):
        return {"type": "function_call", "call_id": part.id, "name": part.name, "arguments": part.arguments or "{}"}
    if isinstance(part, ToolResult):
        return {"type": "function_call_output", "call_id": part.call_id, "output": _result_output(part.content)}
    if isinstance(part, Thinking) and part.origin == NAME and part.signature:
        return {"type": "reasoning", "summary": _summary(part.text), "encrypted_content": part.signature}
    return None


def _input_items(messages: list[Message]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        content: list[dict[str, Any]] = []
        for part in message.parts:
            if isinstance(part, (Text, Image)):
                content.append(_input_content(part, message.role))
                continue
            if content:
                items.append({"type": "message", "role": message.role, "content": content})
                content = []
            item = _input_item(part)
            if item is not None:
                items.append(item)
        if content:
            items.append({"type": "message", "role": message.role, "content": content})
    return items


def _text_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.kind == "json_object":
        return {"type": "json_object"}
    spec: dict[str, Any] = {"type": "json_schema", "name": fmt.name or "response",
                            "schema": fmt.schema or {"type": "object"}}
    if fmt.strict is not None:
        spec["strict"] = fmt.strict
    return spec


def _function_spec(tool: Tool) -> dict[str, Any]:
    """`strict: false` explicitly: the Responses API defaults to strict schemas, which foreign ones fail."""
    spec: dict[str, Any] = {"type": "function", "name": tool.name, "parameters": tool.parameters, "strict": False}
    if tool.description:
        spec["description"] = tool.description
    return spec


def _check_translatable(call: Call) -> None:
    """What the common form carries but the Responses API cannot take (the relay checks
    `common.UNTRANSLATABLE` itself)."""
    if call.stop:
        raise TranslationError("stop sequences (`stop`) cannot be sent to the Responses API, which has none")


def _encode_request(call: Call, model: str) -> UpstreamRequest:
    _check_translatable(call)
    body: dict[str, Any] = {"model": model, "input": _input_items(call.messages), "store": False,
                            "stream": call.stream}
    if call.system:
        body["instructions"] = content_text(call.system)
    if call.tools:
        body["tools"] = [_function_spec(tool) for tool in call.tools]
    if call.tool_choice is not None:
        choice = call.tool_choice
        body["tool_choice"] = {"type": "function", "name": choice.name} if choice.mode == "tool" else choice.mode
    if call.reasoning is not None and call.reasoning.enabled:
        body["reasoning"] = {"effort": effort_for(call.reasoning), "summary": call.reasoning.summary or "auto"}
        body["include"] = ["reasoning.encrypted_content"]
    if call.response_format is not None:
        body["text"] = {"format": _text_format(call.response_format)}
    for key, value in (("parallel_tool_calls", call.parallel_tool_calls), ("max_output_tokens", call.max_tokens),
                       ("temperature", call.temperature), ("top_p", call.top_p), ("user", call.user)):
        if value is not None:
            body[key] = value
    return UpstreamRequest("/responses", dumps(body))


def _unusable_reasoning(item: Any) -> bool:
    """A reasoning item no Responses upstream can take back: a foreign signature this dialect wrapped, or
    neither encrypted content nor a stored id (thinking another format produced without a signature)."""
    if not isinstance(item, dict) or item.get("type") != "reasoning":
        return False
    sealed = item.get("encrypted_content")
    if isinstance(sealed, str) and sealed:
        return unwrap_signature(sealed, NAME)[1] != NAME
    return not item.get("id")


def _passthrough_request(call: Call, model: str) -> UpstreamRequest:
    body = {**call.payload, "model": model}
    if isinstance(body.get("input"), list):
        body["input"] = [item for item in body["input"] if not _unusable_reasoning(item)]
    return UpstreamRequest("/responses", dumps(body))


# --- upstream side: the answer -------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _part_text(part: Any) -> str | None:
    if isinstance(part, dict) and part.get("type") in ("output_text", "refusal"):
        text = part.get("text" if part["type"] == "output_text" else "refusal")
        return text if isinstance(text, str) else None
    return None


def _refused(item: dict[str, Any]) -> bool:
    content = item.get("content")
    return isinstance(content, list) and any(_dict(part).get("type") == "refusal" for part in content)


def _item_parts(item: dict[str, Any]) -> list[Part]:
    kind = item.get("type")
    if kind == "reasoning":
        return [_thinking(item)]
    if kind == "message":
        content = item.get("content")
        texts = [_part_text(part) for part in content] if isinstance(content, list) else []
        return [Text(text) for text in texts if text is not None]
    call_id, name = str(item.get("call_id") or item.get("id") or ""), str(item.get("name") or "")
    if kind == "function_call":
        return [ToolCall(call_id, name, str(item.get("arguments") or "{}"))]
    if kind == "custom_tool_call":
        return [ToolCall(call_id, name, _custom_arguments(str(item.get("input") or "")))]
    return []  # built-in tool items: nothing a foreign client could take


def _stop_reason(response: dict[str, Any], tool_calls: bool, refusal: bool) -> StopReason:
    if response.get("status") == "incomplete":
        reason = _dict(response.get("incomplete_details")).get("reason")
        return "content_filter" if reason == "content_filter" else "max_tokens"
    if refusal:
        return "refusal"
    return "tool_calls" if tool_calls else "end"


def _count(details: dict[str, Any], key: str) -> int:
    value = details.get(key)
    return value if isinstance(value, int) else 0


def _usage(value: Any) -> Usage:
    usage = _dict(value)
    inputs, outputs = _dict(usage.get("input_tokens_details")), _dict(usage.get("output_tokens_details"))
    return Usage(prompt=_count(usage, "input_tokens"), completion=_count(usage, "output_tokens"),
                 cached=_count(inputs, "cached_tokens"), cache_write=_count(inputs, "cache_write_tokens"),
                 reasoning=_count(outputs, "reasoning_tokens"))


def _failure(error: dict[str, Any], fallback: str) -> StreamError:
    message, code = error.get("message"), error.get("code")
    return StreamError(message if isinstance(message, str) and message else fallback,
                       code if isinstance(code, str) and code else "upstream_error")


def _decode_answer(payload: dict[str, Any]) -> Answer:
    if payload.get("status") == "failed":
        failure = _failure(_dict(payload.get("error")), "the upstream reported a failed response")
        raise GatewayError(502, failure.message, failure.code)
    output = [item for item in payload.get("output") or [] if isinstance(item, dict)]
    parts = [part for item in output for part in _item_parts(item)]
    stop = _stop_reason(payload, any(isinstance(part, ToolCall) for part in parts), any(map(_refused, output)))
    created = payload.get("created_at")
    return Answer(id=str(payload.get("id") or ""), model=str(payload.get("model") or ""), parts=parts, stop=stop,
                  usage=_usage(payload.get("usage")), created=int(created) if isinstance(created, (int, float)) else 0)


def _part_events(index: int, part: Part) -> list[Event]:
    """A whole part as one block: for items an upstream sends only complete (`output_item.done`)."""
    if isinstance(part, ToolCall):
        events: list[Event] = [BlockStart(index, "tool_call", id=part.id, name=part.name), Delta(index, part.arguments)]
    elif isinstance(part, Thinking):
        events = [BlockStart(index, "thinking")] + ([Delta(index, part.text)] if part.text else [])
        if part.signature:
            events.append(SignatureDelta(index, part.signature, part.origin or NAME))
    else:
        text = part.text if isinstance(part, Text) else ""
        events = [BlockStart(index, "text")] + ([Delta(index, text)] if text else [])
    return events + [BlockStop(index)]


def _escaped(text: str) -> str:
    """Raw text as a fragment of a JSON string (escaping is per character, so fragments concatenate)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


class _StreamDecoder(SSEStreamDecoder):
    """Responses SSE (cut anywhere) -> common events. Items come one after another, so one block is open at
    a time: a reasoning item, a function or custom tool call, or one content part of a message."""

    unfinished_message = "the upstream stream ended before response.completed"

    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._index = -1
        self._open: str | None = None  # "text", "thinking", "function" or "custom"
        self._segment = ""  # upstream text of the open block's current part (a custom tool: its raw input)
        self._total = ""  # all upstream text of the open block
        self._item_opened = False  # the current output item has opened a block
        self._tool_calls = self._refusal = False

    def _event(self, raw: bytes) -> list[Event]:
        data = event_json(raw)
        if self._ended or data is None:
            return []
        kind = data.get("type")
        handler = _DECODE_HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return []
        if kind in ("error", "response.failed"):
            return handler(self, data)
        return self._begin(data.get("response")) + handler(self, data)

    def _begin(self, response: Any) -> list[Event]:
        if self._started:
            return []
        self._started = True
        response = _dict(response)
        return [Start(str(response.get("id") or ""), str(response.get("model") or ""))]

    def _open_block(self, kind: str, block_kind: BlockKind, call_id: str | None = None,
                    name: str | None = None) -> list[Event]:
        events = self._close_block()
        self._index += 1
        self._open, self._segment, self._total, self._item_opened = kind, "", "", True
        return events + [BlockStart(self._index, block_kind, id=call_id, name=name)]

    def _close_block(self) -> list[Event]:
        if self._open is None:
            return []
        events: list[Event] = [Delta(self._index, '"}')] if self._open == "custom" else []
        self._open = None
        return events + [BlockStop(self._index)]

    def _more(self, text: Any) -> list[Event]:
        if self._open is None or not isinstance(text, str) or not text:
            return []
        self._segment += text
        self._total += text
        return [Delta(self._index, _escaped(text) if self._open == "custom" else text)]

    def _rest(self, final: Any, sent: str) -> list[Event]:
        """What a `.done` event holds beyond the deltas already passed on (an upstream may skip deltas)."""
        if not isinstance(final, str) or not final.startswith(sent):
            return []
        return self._more(final[len(sent):])

    def _nothing(self, data: dict[str, Any]) -> list[Event]:
        return []

    def _item_added(self, data: dict[str, Any]) -> list[Event]:
        item = _dict(data.get("item"))
        kind = item.get("type")
        self._item_opened = False
        if kind == "reasoning":
            return self._open_block("thinking", "thinking")
        if kind not in ("function_call", "custom_tool_call"):
            return self._close_block()  # a message opens blocks per content part; built-in items are skipped
        self._tool_calls = True
        call_id, name = str(item.get("call_id") or ""), str(item.get("name") or "")
        if kind == "function_call":
            return self._open_block("function", "tool_call", call_id, name) + self._more(item.get("arguments"))
        events = self._open_block("custom", "tool_call", call_id, name) + [Delta(self._index, _INPUT_PREFIX)]
        return events + self._more(item.get("input"))

    def _item_done(self, data: dict[str, Any]) -> list[Event]:
        item = _dict(data.get("item"))
        kind = item.get("type")
        if not self._item_opened:
            events = self._synthesize(item)
        elif kind == "reasoning" and self._open == "thinking":
            events = self._rest(_thinking(item).text, self._total)
            sealed = item.get("encrypted_content")
            if isinstance(sealed, str) and sealed:
                events.append(SignatureDelta(self._index, sealed, NAME))
            events += self._close_block()
        else:
            final = item.get("input") if kind == "custom_tool_call" else item.get("arguments")
            events = (self._rest(final, self._total) if kind in ("function_call", "custom_tool_call") else []) \
                + self._close_block()
        self._item_opened = False
        return events

    def _synthesize(self, item: dict[str, Any]) -> list[Event]:
        events = self._close_block()
        for part in _item_parts(item):
            self._index += 1
            self._tool_calls = self._tool_calls or isinstance(part, ToolCall)
            events += _part_events(self._index, part)
        self._refusal = self._refusal or _refused(item)
        return events

    def _part_added(self, data: dict[str, Any]) -> list[Event]:
        part = _dict(data.get("part"))
        if part.get("type") not in ("output_text", "refusal"):
            return []
        self._refusal = self._refusal or part["type"] == "refusal"
        return self._open_block("text", "text") + self._more(_part_text(part))

    def _part_done(self, data: dict[str, Any]) -> list[Event]:
        if self._open != "text":
            return []
        return self._rest(_part_text(data.get("part")), self._segment) + self._close_block()

    def _delta(self, data: dict[str, Any]) -> list[Event]:
        return self._more(data.get("delta"))

    def _text_delta(self, data: dict[str, Any]) -> list[Event]:
        """Message text; an upstream that skips `content_part.added` gets its text block opened here."""
        self._refusal = self._refusal or data.get("type") == "response.refusal.delta"
        return ([] if self._open == "text" else self._open_block("text", "text")) + self._more(data.get("delta"))

    def _summary_part(self, data: dict[str, Any]) -> list[Event]:
        index = data.get("summary_index")
        events = self._more(_SUMMARY_JOIN) if isinstance(index, int) and index > 0 else []
        self._segment = ""
        return events

    def _finished(self, data: dict[str, Any]) -> list[Event]:
        response = _dict(data.get("response"))
        events = self._close_block()
        self._ended = True
        output = response.get("output") if isinstance(response.get("output"), list) else []
        tool_calls = self._tool_calls or any(_dict(item).get("type") in ("function_call", "custom_tool_call")
                                             for item in output)
        return events + [Finish(_stop_reason(response, tool_calls, self._refusal), _usage(response.get("usage")))]

    def _failed(self, data: dict[str, Any]) -> list[Event]:
        self._ended = True
        if data.get("type") == "response.failed":
            error = _dict(_dict(data.get("response")).get("error"))
        else:
            error = _dict(data.get("error")) or data
        return [_failure(error, "the upstream reported a failed response")]


def _rest_of(key: str) -> Callable[[_StreamDecoder, dict[str, Any]], list[Event]]:
    """A `.done` event of a part: only what its deltas did not bring."""
    return lambda decoder, data: decoder._rest(data.get(key), decoder._segment)


_DECODE_HANDLERS: dict[str, Callable[[_StreamDecoder, dict[str, Any]], list[Event]]] = {
    "response.created": _StreamDecoder._nothing,
    "response.in_progress": _StreamDecoder._nothing,
    "response.output_item.added": _StreamDecoder._item_added,
    "response.output_item.done": _StreamDecoder._item_done,
    "response.content_part.added": _StreamDecoder._part_added,
    "response.content_part.done": _StreamDecoder._part_done,
    "response.output_text.delta": _StreamDecoder._text_delta,
    "response.output_text.done": _rest_of("text"),
    "response.refusal.delta": _StreamDecoder._text_delta,
    "response.refusal.done": _rest_of("refusal"),
    "response.reasoning_summary_part.added": _StreamDecoder._summary_part,
    "response.reasoning_summary_text.delta": _StreamDecoder._delta,
    "response.reasoning_summary_text.done": _rest_of("text"),
    "response.reasoning_text.delta": _StreamDecoder._delta,
    "response.function_call_arguments.delta": _StreamDecoder._delta,
    "response.function_call_arguments.done": _rest_of("arguments"),
    "response.custom_tool_call_input.delta": _StreamDecoder._delta,
    "response.custom_tool_call_input.done": _rest_of("input"),
    "response.completed": _StreamDecoder._finished,
    "response.incomplete": _StreamDecoder._finished,
    "response.failed": _StreamDecoder._failed,
    "error": _StreamDecoder._failed,
}


def _error_message(payload: Any, body: bytes) -> str:
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    if isinstance(error, str):
        return error
    return body.decode("utf-8", "replace").strip()[:1000] or "the upstream answered with an error"


def _event_usage(event: bytes) -> Usage | None:
    data = event_json(event)
    if data is None or data.get("type") not in _TERMINAL:
        return None
    usage = _dict(data.get("response")).get("usage")
    return _usage(usage) if isinstance(usage, dict) else None


# --- the dialect ---------------------------------------------------------------------------------------


class ResponsesDialect:
    name = NAME
    stream_media_type = "text/event-stream"
    usage_marker = b'"usage"'

    def passthrough_chunk_filter(self, call: Call) -> Callable[[bytes], bytes | None] | None:
        return None  # relayed as it is

    def parse_request(self, payload: dict[str, Any], *, model: str | None = None,
                      stream: bool | None = None) -> Call:
        return _parse_call(payload, model, stream)

    def encode_answer(self, answer: Answer, call: Call) -> dict[str, Any]:
        return _encode_answer(answer, call)

    def stream_encoder(self, call: Call) -> _StreamEncoder:
        return _StreamEncoder(call)

    def error_body(self, status: int, message: str, code: str) -> Any:
        """OpenAI's error shape, which the Responses API shares with Chat Completions."""
        return dialects.get("openai").error_body(status, message, code)

    def encode_request(self, call: Call, model: str) -> UpstreamRequest:
        return _encode_request(call, model)

    def passthrough_request(self, call: Call, model: str) -> UpstreamRequest:
        return _passthrough_request(call, model)

    def decode_answer(self, payload: dict[str, Any]) -> Answer:
        return _decode_answer(payload)

    def stream_decoder(self) -> _StreamDecoder:
        return _StreamDecoder()

    def error_message(self, payload: Any, body: bytes) -> str:
        return _error_message(payload, body)

    def answer_usage(self, payload: dict[str, Any]) -> Usage:
        return _usage(payload.get("usage"))

    def event_usage(self, event: bytes) -> Usage | None:
        return _event_usage(event)


DIALECT = ResponsesDialect()
