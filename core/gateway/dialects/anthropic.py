"""Anthropic Messages (`POST /v1/messages`), both as what clients speak and as an upstream format.

Client side: a Messages request is validated and parsed into a `Call`; answers and streams are written as
the Messages API writes them (`event:` + `data:` server-sent events). Upstream side: a `Call` becomes a
Messages request, and Messages answers and streams become the common form.

What only this format can carry (built-in server tools, documents, search results, file references) stays
in `Call.payload` for a same-format pass-through, and is listed in `Call.meta[common.UNTRANSLATABLE]`: the
relay refuses to translate such a call, giving those reasons.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from core.gateway.dialects.common import (
    DROPPED_TOOLS, UNTRANSLATABLE, Answer, BlockKind, BlockStart, BlockStop, Call, Delta, Effort, Event, Finish,
    Image, Message, Part, Reasoning, ResponseFormat, SignatureDelta, SSEStreamDecoder, Start, StopReason,
    StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult, UpstreamRequest, Usage, arguments_object,
    budget_for, dumps, effort_for, unwrap_signature, wrap_signature,
)
from core.gateway.dialects import fields
from core.gateway.dialects.fields import bad
from core.gateway.sse import event_json

NAME = "anthropic"
PATH = "/messages"
BETA_META = "anthropic_beta"  # Call.meta key the route may fill with the client's `anthropic-beta` header
DEFAULT_MAX_TOKENS = 8192  # Anthropic requires max_tokens; what a translated request without one gets
MIN_THINKING_BUDGET = 1024  # Anthropic refuses smaller budget_tokens
MIN_THINKING_TOP_P = 0.95  # with thinking on, Anthropic takes top_p only from 0.95 to 1

_STOP_FROM_WIRE: dict[str, StopReason] = {
    "end_turn": "end", "max_tokens": "max_tokens", "stop_sequence": "stop_sequence", "tool_use": "tool_calls",
    "refusal": "refusal", "pause_turn": "end", "model_context_window_exceeded": "max_tokens",
}
_STOP_TO_WIRE: dict[str, str] = {
    "end": "end_turn", "max_tokens": "max_tokens", "stop_sequence": "stop_sequence", "tool_calls": "tool_use",
    "refusal": "refusal", "content_filter": "refusal",
}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                429: "rate_limit_error", 504: "timeout_error", 529: "overloaded_error"}
_TOOL_CHOICE_MODES = {"auto": "auto", "any": "required", "tool": "tool", "none": "none"}
_EFFORTS: dict[str, Effort] = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_THINKING_ON = ("enabled", "adaptive", "between_tools")
_TOOL_ID_BAD = re.compile(r"[^A-Za-z0-9_-]")
_THINKING_BLOCKS = ("thinking", "redacted_thinking")
_CLAUDE_VERSION = re.compile(r"claude-[a-z]+-(\d)(?:-(\d{1,2}))?(?![0-9])")
_ADAPTIVE_EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high"}


# --- client side: parsing a request --------------------------------------------------------------------


def _number(value: Any, path: str) -> float | None:
    value = fields.number(value, path)
    return None if value is None else float(value)


def _arguments_text(value: dict[str, Any]) -> str:
    """A tool_use `input` as the JSON text the common form carries."""
    return dumps(value).decode()


def _image(block: dict[str, Any], path: str, notes: list[str]) -> Image | None:
    source = fields.obj(block.get("source"), f"{path}.source")
    kind = source.get("type")
    if kind == "base64":
        return Image(media_type=fields.string(source.get("media_type"), f"{path}.source.media_type"),
                     data=fields.string(source.get("data"), f"{path}.source.data"))
    if kind == "url":
        return Image(url=fields.string(source.get("url"), f"{path}.source.url"))
    notes.append(f"`{path}.source` is a `{kind}` image source, which only the Anthropic format resolves")
    return None


def _text(block: dict[str, Any], path: str, notes: list[str]) -> Text:
    return Text(fields.string(block.get("text"), f"{path}.text") or "")


def _result_content(value: Any, path: str, notes: list[str]) -> list[Text | Image]:
    if value is None:
        return []
    if isinstance(value, str):
        return [Text(value)] if value else []
    parts: list[Text | Image] = []
    for i, block in enumerate(fields.array(value, path)):
        block_path = f"{path}[{i}]"
        kind = fields.obj(block, block_path).get("type")
        if kind == "text":
            parts.append(_text(block, block_path, notes))
        elif kind == "image":
            image = _image(block, block_path, notes)
            if image is not None:
                parts.append(image)
        else:
            notes.append(f"`{block_path}` is a `{kind}` block, which only the Anthropic format carries")
    return parts


def _tool_result(block: dict[str, Any], path: str, notes: list[str]) -> ToolResult:
    is_error = fields.boolean(block.get("is_error"), f"{path}.is_error")
    return ToolResult(call_id=fields.string(block.get("tool_use_id"), f"{path}.tool_use_id") or "",
                      content=_result_content(block.get("content"), f"{path}.content", notes),
                      is_error=bool(is_error))


def _tool_use(block: dict[str, Any], path: str, notes: list[str]) -> ToolCall:
    return ToolCall(id=fields.string(block.get("id"), f"{path}.id") or "",
                    name=fields.string(block.get("name"), f"{path}.name") or "",
                    arguments=_arguments_text(fields.obj(block.get("input"), f"{path}.input")))


def _thinking(block: dict[str, Any], path: str, notes: list[str]) -> Thinking:
    text = fields.string(block.get("thinking"), f"{path}.thinking") or ""
    signature = fields.optional(block.get("signature"), str, f"{path}.signature", "a string")
    if not signature:
        return Thinking(text)
    signature, origin = unwrap_signature(signature, NAME)
    return Thinking(text, signature=signature, origin=origin)


def _redacted(block: dict[str, Any], path: str, notes: list[str]) -> Thinking:
    return Thinking("", redacted=fields.string(block.get("data"), f"{path}.data"), origin=NAME)


_BlockParser = Callable[[dict[str, Any], str, list[str]], Part | None]
# block type -> (parser, the role it may appear in; None: either)
_BLOCKS: dict[str, tuple[_BlockParser, str | None]] = {
    "text": (_text, None), "image": (_image, "user"), "tool_result": (_tool_result, "user"),
    "tool_use": (_tool_use, "assistant"), "thinking": (_thinking, "assistant"),
    "redacted_thinking": (_redacted, "assistant"),
}


def _content(value: Any, path: str, role: str, notes: list[str]) -> list[Part]:
    if isinstance(value, str):
        return [Text(value)]
    if not isinstance(value, list):
        raise bad(path, "must be a string or an array of content blocks")
    parts: list[Part] = []
    for i, block in enumerate(value):
        block_path = f"{path}[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise bad(block_path, "must be a content block object with a string `type`")
        entry = _BLOCKS.get(block["type"])
        if entry is None:
            notes.append(f"`{block_path}` is a `{block['type']}` block, which only the Anthropic format carries")
            continue
        parser, only_role = entry
        if only_role is not None and only_role != role:
            raise bad(f"{block_path}.type",
                      f"must be a block type allowed in a `{role}` turn, not `{block['type']}`")
        part = parser(block, block_path, notes)
        if part is not None:
            parts.append(part)
    return _reattach_tool_signatures(parts)


def _messages(value: Any, notes: list[str]) -> list[Message]:
    if not isinstance(value, list) or not value:
        raise bad("messages", "must be a non-empty array")
    messages = []
    for i, item in enumerate(value):
        path = f"messages[{i}]"
        role = fields.obj(item, path).get("role")
        if role == "system":  # Claude Code's mid-conversation system beta
            messages.append(Message("user", [Text(_system_reminder(item.get("content"), f"{path}.content"))]))
            continue
        if role not in ("user", "assistant"):
            raise bad(f"{path}.role", 'must be "user", "assistant" or "system"')
        messages.append(Message(role=role, parts=_content(item.get("content"), f"{path}.content", role, notes)))
    return messages


def _system_reminder(content: Any, path: str) -> str:
    """A system message inside the conversation (beta `mid-conversation-system-…`) in the form Claude Code
    itself falls back to where the beta is refused: user text in <system-reminder> tags. Other formats have
    no positioned system turn; an Anthropic pass-through keeps the message as it was."""
    text = "\n".join(block.text for block in _system(content) if block.text) if content is not None else ""
    if not text:
        raise bad(path, "must be a non-empty string or text blocks")
    return f"<system-reminder>\n{text}\n</system-reminder>"


def _prompt(value: Any) -> list[Text]:
    """The system prompt for other formats, without Claude Code's billing line: metadata for Anthropic,
    noise (and a version leak) to anyone else."""
    return [block for block in _system(value) if not block.text.startswith(_BILLING_HEADER)]


_BILLING_HEADER = "x-anthropic-billing-header:"


def _system(value: Any) -> list[Text]:
    if value is None:
        return []
    if isinstance(value, str):
        return [Text(value)] if value else []
    blocks = []
    for i, block in enumerate(fields.array(value, "system")):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise bad(f"system[{i}]", 'must be a text block ({"type": "text", "text": ...})')
        blocks.append(Text(fields.string(block.get("text"), f"system[{i}].text") or ""))
    return blocks


def _tools(value: Any, dropped: list[str]) -> list[Tool]:
    tools = []
    for i, item in enumerate(fields.array(value, "tools") if value is not None else []):
        path = f"tools[{i}]"
        kind = fields.obj(item, path).get("type")
        if kind not in (None, "custom"):
            # Built-ins (web_search_…, bash_…, text_editor_…, code_execution_…) are run or shaped by
            # Anthropic itself: another format has nothing to call.
            dropped.append(str(item.get("name") or kind))
            continue
        tools.append(Tool(name=fields.string(item.get("name"), f"{path}.name") or "",
                          description=fields.optional(item.get("description"), str, f"{path}.description",
                                                      "a string"),
                          parameters=fields.obj(item.get("input_schema"), f"{path}.input_schema")))
    return tools


def _tool_choice(value: Any) -> tuple[ToolChoice | None, bool | None]:
    """(`tool_choice`, `parallel_tool_calls`): Anthropic folds the parallel switch into tool_choice."""
    if value is None:
        return None, None
    kind = fields.obj(value, "tool_choice").get("type")
    if kind not in _TOOL_CHOICE_MODES:
        raise bad("tool_choice.type", 'must be "auto", "any", "tool" or "none"')
    name = fields.string(value.get("name"), "tool_choice.name") if kind == "tool" else None
    disable = fields.boolean(value.get("disable_parallel_tool_use"), "tool_choice.disable_parallel_tool_use")
    return ToolChoice(_TOOL_CHOICE_MODES[kind], name), (None if disable is None else not disable)


def _reasoning(value: Any, output_config: dict[str, Any]) -> Reasoning | None:
    if value is None:
        return None
    kind = fields.obj(value, "thinking").get("type")
    if kind == "disabled":
        return Reasoning(enabled=False)
    if kind == "enabled":
        budget = fields.integer(value.get("budget_tokens"), "thinking.budget_tokens", positive=True)
        if budget is None:
            raise bad("thinking.budget_tokens", "must be a positive integer")
        return Reasoning(budget=budget)
    if kind in _THINKING_ON:
        # Adaptive thinking takes its depth from `output_config.effort`, the common form's effort.
        effort = output_config.get("effort")
        if effort is not None and effort not in _EFFORTS:
            raise bad("output_config.effort", 'must be "low", "medium", "high", "xhigh" or "max"')
        return Reasoning(effort=_EFFORTS.get(effort) if effort else None)
    raise bad("thinking.type", 'must be "enabled", "adaptive" or "disabled"')


def _response_format(value: Any, path: str) -> ResponseFormat | None:
    if value is None:
        return None
    if fields.obj(value, path).get("type") != "json_schema":
        raise bad(f"{path}.type", 'must be "json_schema"')
    return ResponseFormat("json_schema", schema=fields.obj(value.get("schema"), f"{path}.schema"))


def _stop_sequences(value: Any) -> list[str]:
    if value is None:
        return []
    return [fields.string(item, f"stop_sequences[{i}]") or ""
            for i, item in enumerate(fields.array(value, "stop_sequences"))]


def _user(value: Any) -> str | None:
    if value is None:
        return None
    return fields.optional(fields.obj(value, "metadata").get("user_id"), str, "metadata.user_id", "a string")


def parse_request(payload: dict[str, Any], *, model: str | None = None, stream: bool | None = None) -> Call:
    """A Messages request as a `Call`; a 400 naming the first bad field."""
    model = fields.model(model or payload.get("model"))
    max_tokens = fields.integer(payload.get("max_tokens"), "max_tokens", positive=True)
    if max_tokens is None:
        raise bad("max_tokens", "must be a positive integer (the Messages API requires it)")
    if stream is None:
        stream = bool(fields.boolean(payload.get("stream"), "stream"))
    notes: list[str] = []
    dropped: list[str] = []
    output_config = fields.obj(payload.get("output_config") or {}, "output_config")
    tool_choice, parallel = _tool_choice(payload.get("tool_choice"))
    if payload.get("mcp_servers"):  # reached by Anthropic itself; other formats cannot call them
        dropped.append("mcp_servers")
    call = Call(
        format=NAME, model=model, stream=stream, max_tokens=max_tokens,
        messages=_messages(payload.get("messages"), notes), system=_prompt(payload.get("system")),
        tools=_tools(payload.get("tools"), dropped), tool_choice=tool_choice, parallel_tool_calls=parallel,
        temperature=_number(payload.get("temperature"), "temperature"),
        top_p=_number(payload.get("top_p"), "top_p"), top_k=fields.integer(payload.get("top_k"), "top_k"),
        stop=_stop_sequences(payload.get("stop_sequences")),
        reasoning=_reasoning(payload.get("thinking"), output_config),
        response_format=(_response_format(output_config.get("format"), "output_config.format")
                         or _response_format(payload.get("output_format"), "output_format")),
        user=_user(payload.get("metadata")), payload=payload,
    )
    if notes:
        call.meta[UNTRANSLATABLE] = notes
    if dropped:
        call.meta[DROPPED_TOOLS] = dropped
    return call


# A tool call's own signature (Gemini's thoughtSignature on a functionCall part) has no place on a
# tool_use block: it travels in a signature-only thinking block right after its tool_use, its origin
# tagged with the tool_use id, and comes back onto that tool call when the client returns the turn.
# Clients reorder blocks (Claude Code puts every thinking block first), so the id, not the position, pairs
# them; an untagged block right after a tool_use (older answers) still pairs by position.


def _tool_origin(origin: str | None, tool_id: str) -> str:
    """`origin@<id>` with the id in URL-safe base64, so that no '.' can break the wrapped signature."""
    encoded = base64.urlsafe_b64encode(tool_id.encode()).decode().rstrip("=")
    return f"{origin}@{encoded}"


def _split_tool_origin(origin: str | None) -> tuple[str | None, str | None]:
    if not origin or "@" not in origin:
        return origin, None
    origin, _, encoded = origin.partition("@")
    try:
        return origin, base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return origin, None


def _reattach_tool_signatures(parts: list[Part]) -> list[Part]:
    calls = {part.id: part for part in parts if isinstance(part, ToolCall)}
    kept: list[Part] = []
    for part in parts:
        if isinstance(part, Thinking) and not part.text and _foreign_signature(part.signature, part.origin):
            origin, tool_id = _split_tool_origin(part.origin)
            previous = kept[-1] if kept else None
            owner = calls.get(tool_id) if tool_id is not None else (
                previous if isinstance(previous, ToolCall) else None)
            if owner is not None and owner.signature is None:
                owner.signature, owner.origin = part.signature, origin
                continue
        kept.append(part)
    return kept


def _foreign_signature(signature: str | None, origin: str | None) -> bool:
    return bool(signature) and origin not in (None, NAME)


# --- client side: answers ------------------------------------------------------------------------------


def _message_id(answer_id: str) -> str:
    if answer_id.startswith("msg_"):
        return answer_id
    return f"msg_{answer_id}" if answer_id else f"msg_{uuid.uuid4().hex}"


def _signature_out(signature: str | None, origin: str | None) -> str:
    """A signature as the client sees it: ours as is, a foreign one wrapped so that it finds its way home."""
    if not signature:
        return ""
    return signature if origin in (None, NAME) else wrap_signature(signature, origin)


def _wire_usage(usage: Usage) -> dict[str, Any]:
    """Common usage in Anthropic's meaning: `input_tokens` leaves out cache reads and writes."""
    wire: dict[str, Any] = {
        "input_tokens": max(0, usage.prompt - usage.cached - usage.cache_write),
        "cache_creation_input_tokens": usage.cache_write, "cache_read_input_tokens": usage.cached,
        "output_tokens": usage.completion,
    }
    if usage.reasoning:
        wire["output_tokens_details"] = {"thinking_tokens": usage.reasoning}
    return wire


def _thinking_out(part: Thinking) -> dict[str, Any]:
    if part.redacted is not None:
        return {"type": "redacted_thinking", "data": _signature_out(part.redacted, part.origin)}
    return {"type": "thinking", "thinking": part.text, "signature": _signature_out(part.signature, part.origin)}


def _answer_blocks(part: Part) -> list[dict[str, Any]]:
    if isinstance(part, Thinking):
        return [_thinking_out(part)]
    if isinstance(part, Text):
        return [{"type": "text", "text": part.text}]
    if isinstance(part, ToolCall):
        tool_id = part.id or f"toolu_{uuid.uuid4().hex[:24]}"
        blocks = [{"type": "tool_use", "id": tool_id, "name": part.name, "input": arguments_object(part.arguments)}]
        if _foreign_signature(part.signature, part.origin):
            origin = _tool_origin(part.origin, tool_id)
            blocks.append(_thinking_out(Thinking("", signature=part.signature, origin=origin)))
        return blocks
    return []


def encode_answer(answer: Answer, call: Call) -> dict[str, Any]:
    """A Messages answer, named after the model the client asked for."""
    return {
        "id": _message_id(answer.id), "type": "message", "role": "assistant", "model": call.model,
        "content": [block for part in answer.parts for block in _answer_blocks(part)],
        "stop_reason": _STOP_TO_WIRE[answer.stop],
        "stop_sequence": answer.stop_sequence if answer.stop == "stop_sequence" else None,
        "usage": _wire_usage(answer.usage),
    }


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"


class _OpenBlock:
    """A block being streamed: its index on the wire and the signature gathered for it."""

    def __init__(self, wire_index: int, kind: BlockKind, tool_id: str = "") -> None:
        self.wire_index, self.kind, self.tool_id = wire_index, kind, tool_id
        self.signature, self.origin = "", NAME


class AnthropicStreamEncoder:
    """Common events -> Messages stream events. A block's signature is sent once, just before its stop
    (the SDKs keep the last signature_delta, so pieces must be joined first, and a wrapped one whole)."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._started = self._done = False
        self._next_wire = 0
        self._open: dict[int, _OpenBlock] = {}

    def encode(self, events: list[Event]) -> bytes:
        return b"".join(self._one(event) for event in events)

    def fail(self, message: str) -> bytes:
        if self._done:
            return b""
        self._done = True
        return _sse("error", {"type": "error", "error": {"type": "api_error", "message": message}})

    def _one(self, event: Event) -> bytes:
        if self._done:
            return b""
        if isinstance(event, StreamError):
            return self.fail(event.message)
        out = b"" if self._started or isinstance(event, Start) else self._start(Start("", self._call.model))
        if isinstance(event, Start):
            return out + self._start(event)
        if isinstance(event, BlockStart):
            return out + self._block_start(event)
        if isinstance(event, Delta):
            return out + self._delta(event)
        if isinstance(event, SignatureDelta):
            block = self._open.get(event.index)
            if block is not None:
                block.signature += event.signature
                block.origin = event.origin
            return out
        if isinstance(event, BlockStop):
            return out + self._block_stop(event.index)
        return out + self._finish(event)

    def _start(self, event: Start) -> bytes:
        self._started = True
        message = {"id": _message_id(event.id), "type": "message", "role": "assistant", "model": self._call.model,
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": _wire_usage(event.usage or Usage())}
        return _sse("message_start", {"type": "message_start", "message": message})

    def _open_block(self, index: int, kind: BlockKind, content_block: dict[str, Any]) -> bytes:
        self._open[index] = _OpenBlock(self._next_wire, kind, str(content_block.get("id") or ""))
        self._next_wire += 1
        return _sse("content_block_start", {"type": "content_block_start", "index": self._open[index].wire_index,
                                            "content_block": content_block})

    def _block_start(self, event: BlockStart) -> bytes:
        if event.kind == "tool_call":
            block = {"type": "tool_use", "id": event.id or f"toolu_{uuid.uuid4().hex[:24]}",
                     "name": event.name or "", "input": {}}
        elif event.kind == "thinking":
            block = (_thinking_out(Thinking("", redacted=event.redacted, origin=event.origin))
                     if event.redacted is not None else {"type": "thinking", "thinking": "", "signature": ""})
        else:
            block = {"type": "text", "text": ""}
        return self._open_block(event.index, event.kind, block)

    def _delta(self, event: Delta) -> bytes:
        block = self._open.get(event.index)
        if block is None or not event.text:
            return b""
        if block.kind == "tool_call":
            delta = {"type": "input_json_delta", "partial_json": event.text}
        elif block.kind == "thinking":
            delta = {"type": "thinking_delta", "thinking": event.text}
        else:
            delta = {"type": "text_delta", "text": event.text}
        return _sse("content_block_delta", {"type": "content_block_delta", "index": block.wire_index, "delta": delta})

    def _block_stop(self, index: int) -> bytes:
        block = self._open.pop(index, None)
        if block is None:
            return b""
        out = b""
        signature = _signature_out(block.signature, block.origin)
        if signature and block.kind == "thinking":
            out += self._signature_delta(block.wire_index, signature)
        out += _sse("content_block_stop", {"type": "content_block_stop", "index": block.wire_index})
        if block.kind == "tool_call" and _foreign_signature(block.signature, block.origin):
            carrier = -1 - index  # an index no common block uses
            out += self._open_block(carrier, "thinking", {"type": "thinking", "thinking": "", "signature": ""})
            self._open[carrier].signature = block.signature
            self._open[carrier].origin = _tool_origin(block.origin, block.tool_id)
            out += self._block_stop(carrier)
        return out

    def _signature_delta(self, wire_index: int, signature: str) -> bytes:
        return _sse("content_block_delta", {"type": "content_block_delta", "index": wire_index,
                                            "delta": {"type": "signature_delta", "signature": signature}})

    def _finish(self, event: Finish) -> bytes:
        out = b"".join(self._block_stop(index) for index in list(self._open))
        self._done = True
        usage = _wire_usage(event.usage)
        delta = {"stop_reason": _STOP_TO_WIRE[event.stop],
                 "stop_sequence": event.stop_sequence if event.stop == "stop_sequence" else None}
        out += _sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
        return out + _sse("message_stop", {"type": "message_stop"})


def error_body(status: int, message: str, code: str) -> dict[str, Any]:
    """The Messages API's error shape. Its `request_id` names the request in Anthropic's logs; the gateway's
    own errors have no such request, so it is null (the SDKs type it as optional)."""
    error_type = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": None}


# --- upstream side: requests ---------------------------------------------------------------------------


def _tool_id(call_id: str) -> str:
    """Anthropic takes tool ids of [A-Za-z0-9_-] only; other formats' ids (e.g. `functions.f:0`) are mapped
    the same way on the tool_use and the tool_result, so that they still pair."""
    return _TOOL_ID_BAD.sub("_", call_id) or "toolu_"


def _image_block(image: Image) -> dict[str, Any]:
    if image.data is None and image.url and image.url.startswith("data:"):
        header, _, data = image.url.partition(",")
        return _image_block(Image(media_type=header[5:].split(";")[0] or None, data=data))
    if image.data is not None:
        source = {"type": "base64", "media_type": image.media_type or "image/png", "data": image.data}
    else:
        source = {"type": "url", "url": image.url or ""}
    return {"type": "image", "source": source}


def _result_block(result: ToolResult) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": _tool_id(result.call_id)}
    content = [_text_or_image(part) for part in result.content]
    content = [item for item in content if item is not None]
    if content:
        block["content"] = content
    if result.is_error:
        block["is_error"] = True
    return block


def _text_or_image(part: Text | Image) -> dict[str, Any] | None:
    if isinstance(part, Image):
        return _image_block(part)
    # Anthropic refuses empty and whitespace-only text blocks.
    return {"type": "text", "text": part.text} if part.text.strip() else None


def _request_block(part: Part, role: str) -> dict[str, Any] | None:
    if isinstance(part, (Text, Image)):
        # Anthropic takes images in user turns only.
        return _text_or_image(part) if role == "user" or isinstance(part, Text) else None
    if isinstance(part, ToolResult):
        return _result_block(part) if role == "user" else None
    if isinstance(part, ToolCall):
        if role != "assistant":
            return None
        return {"type": "tool_use", "id": _tool_id(part.id), "name": part.name,
                "input": arguments_object(part.arguments)}
    # Thinking: only Anthropic's own signed or redacted blocks are accepted back; others are dropped.
    if role != "assistant" or part.origin != NAME:
        return None
    if part.redacted is not None:
        return {"type": "redacted_thinking", "data": part.redacted}
    return {"type": "thinking", "thinking": part.text, "signature": part.signature} if part.signature else None


def _request_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Turns as Anthropic takes them: same-role turns merged, each user turn's tool results first."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        blocks = [block for part in message.parts if (block := _request_block(part, message.role)) is not None]
        while blocks and blocks[-1]["type"] in _THINKING_BLOCKS:
            blocks.pop()  # Anthropic refuses an assistant turn that ends in thinking
        if not blocks:
            continue
        if wire and wire[-1]["role"] == message.role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": message.role, "content": blocks})
    for turn in wire:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    if wire and wire[-1]["role"] == "assistant" and wire[-1]["content"][-1]["type"] == "text":
        # A prefilled last assistant turn may not end in white space.
        last = wire[-1]["content"][-1]
        last["text"] = last["text"].rstrip()
    return wire


def _thinking_refused(call: Call, messages: list[dict[str, Any]]) -> bool:
    """Whether Anthropic would refuse thinking on this request, so that it has to go without.

    It refuses thinking with forced tool use, with a prefilled (last) assistant turn, and when the
    assistant turn holding the last tool calls does not start with its own signed thinking block
    ("a final assistant message must start with a thinking block, preceding the lastmost set of tool_use
    and tool_result blocks"). Answers that came from another format, or from a request without thinking,
    have no such block to send back: going without thinking beats a refused request.
    """
    if call.tool_choice is not None and call.tool_choice.mode in ("required", "tool"):
        return True
    if messages and messages[-1]["role"] == "assistant":
        return True
    tool_turns = [turn["content"] for turn in messages if turn["role"] == "assistant"
                  and any(block["type"] == "tool_use" for block in turn["content"])]
    return bool(tool_turns) and tool_turns[-1][0]["type"] not in _THINKING_BLOCKS


def _without_final_thinking(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without thinking, Anthropic refuses thinking blocks in a prefilled (last) assistant turn."""
    if messages and messages[-1]["role"] == "assistant":
        content = [block for block in messages[-1]["content"] if block["type"] not in _THINKING_BLOCKS]
        messages = messages[:-1] + ([{"role": "assistant", "content": content}] if content else [])
    return messages


def _format_instruction(response_format: ResponseFormat) -> str:
    """The Messages API has no JSON mode (newer Claude models' `output_config.format` is not something
    every Anthropic-format provider takes), so structured output is asked for in the system prompt."""
    if response_format.kind == "json_schema" and response_format.schema is not None:
        return ("Answer with a single JSON value that matches this JSON schema, and nothing else: no prose, "
                "no Markdown code fences.\n" + json.dumps(response_format.schema, ensure_ascii=False))
    return "Answer with a single JSON object and nothing else: no prose, no Markdown code fences."


def _request_tools(call: Call) -> dict[str, Any]:
    if not call.tools:
        return {}  # Anthropic refuses tool_choice without tools
    tools = []
    for tool in call.tools:
        schema = dict(tool.parameters) if tool.parameters else {}
        schema.setdefault("type", "object")
        if schema["type"] == "object":
            schema.setdefault("properties", {})
        entry: dict[str, Any] = {"name": tool.name}
        if tool.description:
            entry["description"] = tool.description
        entry["input_schema"] = schema
        tools.append(entry)
    fields: dict[str, Any] = {"tools": tools}
    choice = call.tool_choice
    wire_choice: dict[str, Any] | None = None
    if choice is not None:
        kind = {"auto": "auto", "none": "none", "required": "any", "tool": "tool"}[choice.mode]
        wire_choice = {"type": kind, "name": choice.name} if kind == "tool" else {"type": kind}
    if call.parallel_tool_calls is False and (wire_choice is None or wire_choice["type"] != "none"):
        wire_choice = (wire_choice or {"type": "auto"}) | {"disable_parallel_tool_use": True}
    if wire_choice is not None:
        fields["tool_choice"] = wire_choice
    return fields


def _adaptive_only(model: str) -> bool:
    """Claude models from Opus 4.7 on refuse `temperature`, `top_p`, `top_k` and budgeted thinking
    (`{"type": "enabled", "budget_tokens": …}`): they think adaptively, at `output_config.effort`. Older
    Claude models and other Anthropic-format providers take budgets. Known by the model id alone."""
    found = _CLAUDE_VERSION.search(model)
    if found is None:
        return False
    major, minor = int(found.group(1)), int(found.group(2) or 0)
    return (major, minor) >= (4, 7)


def _thinking_fields(call: Call, model: str, messages: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """(the thinking fields of the request, whether thinking is on). Thinking the request cannot have
    (see `_thinking_refused`) is turned off rather than have the request refused."""
    reasoning = call.reasoning
    max_tokens = call.max_tokens or DEFAULT_MAX_TOKENS
    if reasoning is None:
        return {"max_tokens": max_tokens}, False
    if not reasoning.enabled or _thinking_refused(call, messages):
        return {"max_tokens": max_tokens, "thinking": {"type": "disabled"}}, False
    if _adaptive_only(model):
        # "summarized": these models omit the thinking text by default; clients of other formats show it.
        return {"max_tokens": max_tokens, "thinking": {"type": "adaptive", "display": "summarized"},
                "output_config": {"effort": _ADAPTIVE_EFFORTS[effort_for(reasoning)]}}, True
    budget = max(MIN_THINKING_BUDGET, budget_for(reasoning))
    if max_tokens <= budget:
        max_tokens += budget  # Anthropic wants max_tokens above the budget; the answer keeps its share
    return {"max_tokens": max_tokens, "thinking": {"type": "enabled", "budget_tokens": budget}}, True


def _sampling(call: Call, model: str, thinking: bool) -> dict[str, Any]:
    """Sampling fields Anthropic accepts: none for adaptive-only models; temperature within 0..1
    (OpenAI-style clients send up to 2); not temperature and top_p together (Claude 4.5 models refuse
    both); with thinking on, neither temperature nor top_k, and top_p only from 0.95."""
    fields: dict[str, Any] = {}
    if _adaptive_only(model):
        return fields
    if call.temperature is not None and not thinking:
        fields["temperature"] = min(max(call.temperature, 0.0), 1.0)
    if call.top_p is not None and "temperature" not in fields:
        if not thinking or call.top_p >= MIN_THINKING_TOP_P:
            fields["top_p"] = call.top_p
    if call.top_k is not None and not thinking:
        fields["top_k"] = call.top_k
    return fields


def encode_request(call: Call, model: str) -> UpstreamRequest:
    """A Messages request for the common-form call (`seed` has no Anthropic equivalent and is dropped)."""
    messages = _request_messages(call.messages)
    thinking_fields, thinking = _thinking_fields(call, model, messages)
    if not thinking:
        messages = _without_final_thinking(messages)
    body: dict[str, Any] = {"model": model, "max_tokens": thinking_fields.pop("max_tokens"), "messages": messages}
    system = [{"type": "text", "text": part.text} for part in call.system if part.text.strip()]
    if call.response_format is not None:
        system.append({"type": "text", "text": _format_instruction(call.response_format)})
    if system:
        body["system"] = system
    stops = [stop for stop in call.stop if stop.strip()]  # Anthropic refuses white-space-only stops
    if stops:
        body["stop_sequences"] = stops
    body.update(_sampling(call, model, thinking))
    body.update(_request_tools(call))
    body.update(thinking_fields)
    if call.user:
        body["metadata"] = {"user_id": call.user}
    if call.stream:
        body["stream"] = True
    return UpstreamRequest(PATH, dumps(body), _beta_headers(call))


def _beta_headers(call: Call) -> dict[str, str]:
    """The client's `anthropic-beta` header, when the route kept it in `Call.meta` for a same-format call."""
    beta = call.meta.get(BETA_META) if call.format == NAME else None
    return {"anthropic-beta": beta} if isinstance(beta, str) and beta else {}


def passthrough_request(call: Call, model: str) -> UpstreamRequest:
    return UpstreamRequest(PATH, dumps({**call.payload, "model": model}), _beta_headers(call))


# --- upstream side: answers ----------------------------------------------------------------------------


def _usage(wire: dict[str, Any] | None) -> Usage:
    """Anthropic usage in the common meaning: prompt = input + cache reads + cache writes."""
    wire = wire if isinstance(wire, dict) else {}

    def count(key: str) -> int:
        value = wire.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    details = wire.get("output_tokens_details")
    reasoning = details.get("thinking_tokens") if isinstance(details, dict) else None
    cached, written = count("cache_read_input_tokens"), count("cache_creation_input_tokens")
    return Usage(prompt=count("input_tokens") + cached + written, completion=count("output_tokens"),
                 cached=cached, cache_write=written, reasoning=reasoning if isinstance(reasoning, int) else 0)


def _answer_part(block: Any) -> Part | None:
    """A content block of an answer; server-tool blocks (never asked for by a translated request) are skipped."""
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind == "text":
        return Text(str(block.get("text") or ""))
    if kind == "thinking":
        return Thinking(str(block.get("thinking") or ""), signature=block.get("signature") or None, origin=NAME)
    if kind == "redacted_thinking":
        return Thinking("", redacted=str(block.get("data") or ""), origin=NAME)
    if kind == "tool_use":
        arguments = block.get("input")
        return ToolCall(id=str(block.get("id") or ""), name=str(block.get("name") or ""),
                        arguments=_arguments_text(arguments) if isinstance(arguments, dict) else "{}")
    return None


def decode_answer(payload: dict[str, Any]) -> Answer:
    content = payload.get("content")
    parts = [part for block in (content if isinstance(content, list) else [])
             if (part := _answer_part(block)) is not None]
    stop = _STOP_FROM_WIRE.get(str(payload.get("stop_reason")), "end")
    return Answer(id=str(payload.get("id") or ""), model=str(payload.get("model") or ""), parts=parts, stop=stop,
                  stop_sequence=payload.get("stop_sequence") or None, usage=_usage(payload.get("usage")))


def _event_fields(raw: bytes) -> tuple[str | None, str]:
    """(event name, data text) of one server-sent event."""
    name, data = None, []
    for line in raw.decode("utf-8", "replace").split("\n"):
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return name, "\n".join(data)


class AnthropicStreamDecoder(SSEStreamDecoder):
    """Messages stream bytes -> common events. Block indexes are renumbered, as skipped server-tool blocks
    leave gaps; usage comes from message_start and the cumulative counts of message_delta."""

    unfinished_message = "The upstream stream ended before its message_stop event."

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[int, tuple[int, str] | None] = {}  # wire index -> (common index, wire type)
        self._next = 0
        self._usage: dict[str, Any] = {}
        self._stop: StopReason = "end"
        self._stop_sequence: str | None = None

    def _event(self, raw: bytes) -> list[Event]:
        if self._ended:
            return []
        name, text = _event_fields(raw)
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self._error(text) if name == "error" else []
        kind = data.get("type") if isinstance(data.get("type"), str) else name
        handler = self._HANDLERS.get(kind or "")
        return handler(self, data) if handler else []

    def _error(self, detail: Any) -> list[Event]:
        self._ended = True
        error = detail.get("error") if isinstance(detail, dict) else None
        if isinstance(error, dict):
            return [StreamError(str(error.get("message") or "The upstream reported an error."),
                                str(error.get("type") or "upstream_error"))]
        return [StreamError(str(detail or "The upstream reported an error."), "upstream_error")]

    def _message_start(self, data: dict[str, Any]) -> list[Event]:
        message = data.get("message") if isinstance(data.get("message"), dict) else {}
        usage = message.get("usage")
        self._usage = dict(usage) if isinstance(usage, dict) else {}
        return [Start(id=str(message.get("id") or ""), model=str(message.get("model") or ""),
                      usage=_usage(self._usage))]

    def _block_start(self, data: dict[str, Any]) -> list[Event]:
        block = data.get("content_block") if isinstance(data.get("content_block"), dict) else {}
        wire_index, kind = data.get("index"), block.get("type")
        if kind not in ("text", "thinking", "redacted_thinking", "tool_use"):
            self._blocks[wire_index] = None
            return []
        index = self._next
        self._next += 1
        self._blocks[wire_index] = (index, kind)
        if kind == "text":
            return [BlockStart(index, "text")] + self._more(index, block.get("text"))
        if kind == "redacted_thinking":
            return [BlockStart(index, "thinking", redacted=str(block.get("data") or ""), origin=NAME)]
        if kind == "thinking":
            events: list[Event] = [BlockStart(index, "thinking"), *self._more(index, block.get("thinking"))]
            if block.get("signature"):
                events.append(SignatureDelta(index, str(block["signature"]), NAME))
            return events
        arguments = block.get("input")
        return [BlockStart(index, "tool_call", id=str(block.get("id") or ""), name=str(block.get("name") or "")),
                *self._more(index, _arguments_text(arguments) if arguments else None)]

    @staticmethod
    def _more(index: int, text: Any) -> list[Event]:
        return [Delta(index, text)] if isinstance(text, str) and text else []

    def _block_delta(self, data: dict[str, Any]) -> list[Event]:
        entry = self._blocks.get(data.get("index"))
        delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
        if entry is None:
            return []
        index = entry[0]
        kind = delta.get("type")
        if kind == "signature_delta":
            signature = delta.get("signature")
            return [SignatureDelta(index, signature, NAME)] if isinstance(signature, str) and signature else []
        field = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}.get(kind)
        return self._more(index, delta.get(field)) if field else []

    def _block_stop(self, data: dict[str, Any]) -> list[Event]:
        entry = self._blocks.get(data.get("index"))
        return [BlockStop(entry[0])] if entry is not None else []

    def _message_delta(self, data: dict[str, Any]) -> list[Event]:
        delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
        if delta.get("stop_reason"):
            self._stop = _STOP_FROM_WIRE.get(str(delta["stop_reason"]), "end")
        self._stop_sequence = delta.get("stop_sequence") or self._stop_sequence
        usage = data.get("usage")
        if isinstance(usage, dict):
            # message_delta counts are cumulative; fields it leaves out keep their message_start value.
            self._usage.update({key: value for key, value in usage.items() if value is not None})
        return []

    def _message_stop(self, data: dict[str, Any]) -> list[Event]:
        self._ended = True
        return [Finish(self._stop, _usage(self._usage), self._stop_sequence)]

    _HANDLERS: dict[str, Callable[[AnthropicStreamDecoder, dict[str, Any]], list[Event]]] = {
        "message_start": _message_start, "content_block_start": _block_start,
        "content_block_delta": _block_delta, "content_block_stop": _block_stop,
        "message_delta": _message_delta, "message_stop": _message_stop, "error": _error,
    }


def error_message(payload: Any, body: bytes) -> str:
    """The provider's words from `{"type": "error", "error": {"type", "message"}}`, or the body's text."""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return error
        if isinstance(payload.get("message"), str):
            return payload["message"]
    return body.decode("utf-8", "replace").strip()[:500]


def event_usage(event: bytes) -> Usage | None:
    """Usage of a passed-through stream event: message_start carries the prompt (and a first output count),
    message_delta the cumulative output (and, lately, the prompt again). Fields an event leaves out are 0,
    so a caller combining both keeps the larger value of each field."""
    data = event_json(event)
    if data is None:
        return None
    if data.get("type") == "message_start" and isinstance(data.get("message"), dict):
        return _usage(data["message"].get("usage"))
    if data.get("type") == "message_delta" and isinstance(data.get("usage"), dict):
        return _usage(data["usage"])
    return None


def answer_usage(payload: dict[str, Any]) -> Usage:
    return _usage(payload.get("usage"))


class AnthropicDialect:
    """The Messages wire format behind the `common.Dialect` interface."""

    name = NAME
    stream_media_type = "text/event-stream"
    usage_marker = b'"usage"'

    def passthrough_chunk_filter(self, call: Call) -> Callable[[bytes], bytes | None] | None:
        return None  # relayed as it is

    parse_request = staticmethod(parse_request)
    encode_answer = staticmethod(encode_answer)
    stream_encoder = staticmethod(AnthropicStreamEncoder)
    error_body = staticmethod(error_body)
    encode_request = staticmethod(encode_request)
    passthrough_request = staticmethod(passthrough_request)
    decode_answer = staticmethod(decode_answer)
    stream_decoder = staticmethod(AnthropicStreamDecoder)
    error_message = staticmethod(error_message)
    answer_usage = staticmethod(answer_usage)
    event_usage = staticmethod(event_usage)


DIALECT = AnthropicDialect()
