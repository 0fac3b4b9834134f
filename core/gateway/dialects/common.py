"""The common form every wire format translates to and from.

A client request is parsed by its dialect into a `Call`; each attempt of the fallback loop encodes that
`Call` for the target's wire format; the upstream answer is decoded into an `Answer` (or a sequence of
stream `Event`s) and encoded again in the client's dialect. Same-format attempts skip all of this and pass
the bytes through (see `Dialect.passthrough_request`).

Conventions every dialect keeps:
- Token counts follow OpenAI's meaning: `Usage.prompt` counts every input token, cached ones included;
  `Usage.completion` counts every output token, reasoning included. Dialects whose wire counts differ
  (Anthropic's `input_tokens` exclude cache reads and writes; Gemini's `candidatesTokenCount` excludes
  thoughts) convert on the way in and out.
- A signature (Anthropic thinking, Gemini thought signature, Responses encrypted reasoning) is only valid
  for the format that issued it: it carries that format as `origin`, and encoders send it only to the
  same format. Dialects whose client side has a place for a foreign signature may carry it there
  opaquely (`wrap_signature` / `unwrap_signature`), so that it round-trips to its own format exactly.
- Stream events come in this order: one `Start`; then blocks numbered from 0 in order of appearance, at
  most one open at a time (`BlockStart`, its `Delta`s and `SignatureDelta`s, `BlockStop`); then one
  `Finish`. A stream that breaks yields `StreamError` instead of `Finish`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Protocol, Union

from core.gateway.sse import EventSplitter

Role = Literal["user", "assistant"]
StopReason = Literal["end", "max_tokens", "tool_calls", "stop_sequence", "content_filter", "refusal"]
BlockKind = Literal["text", "thinking", "tool_call"]
Effort = Literal["minimal", "low", "medium", "high"]


class TranslationError(ValueError):
    """A request or answer that cannot be expressed in the target format; the message says what and why.
    The relay answers it as a 400 in the client's dialect (or moves on to a target that can take it)."""


# --- content parts -------------------------------------------------------------------------------------


@dataclass
class Text:
    text: str


@dataclass
class Image:
    """An image sent by the client: inline base64 `data` with its `media_type`, or a remote `url`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None

    def data_url(self) -> str:
        """`data:<type>;base64,<data>` (or the remote URL): what OpenAI-style formats carry."""
        if self.data is not None:
            return f"data:{self.media_type or 'image/png'};base64,{self.data}"
        return self.url or ""


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text exactly as the model produced it ("{}" when it had none)
    signature: str | None = None  # Gemini's thoughtSignature on a functionCall part
    origin: str | None = None  # the wire format that issued `signature`


@dataclass
class ToolResult:
    call_id: str
    content: list[Text | Image]
    is_error: bool = False
    name: str | None = None  # the called tool's name where the format carries it (Gemini needs it)


@dataclass
class Thinking:
    text: str
    signature: str | None = None
    origin: str | None = None  # the wire format that issued `signature` / `redacted`
    redacted: str | None = None  # Anthropic `redacted_thinking.data`: opaque, no text


Part = Union[Text, Image, ToolCall, ToolResult, Thinking]


@dataclass
class Message:
    """A turn. Tool results travel in user turns (as Anthropic and Gemini put them); dialects whose wire
    has a separate `tool` role split or merge on the way."""

    role: Role
    parts: list[Part]


# --- the request ---------------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    description: str | None
    parameters: dict[str, Any]  # a JSON schema object ({"type": "object", ...})


@dataclass
class ToolChoice:
    mode: Literal["auto", "none", "required", "tool"]
    name: str | None = None  # with mode "tool"


@dataclass
class Reasoning:
    """Thinking asked for: by `effort` (OpenAI, Responses, Ollama), by `budget` tokens (Anthropic, Gemini),
    or off (`enabled=False`). `effort_for` / `budget_for` map one onto the other."""

    enabled: bool = True
    effort: Effort | None = None
    budget: int | None = None
    summary: str | None = None  # Responses' reasoning.summary ("auto", "concise", "detailed")


@dataclass
class ResponseFormat:
    kind: Literal["json_object", "json_schema"]
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None


@dataclass
class Usage:
    prompt: int = 0  # every input token, cached and cache-written ones included
    completion: int = 0  # every output token, reasoning included
    cached: int = 0  # input tokens read from a prompt cache (part of `prompt`)
    cache_write: int = 0  # input tokens written to a prompt cache (part of `prompt`; Anthropic)
    reasoning: int = 0  # output tokens spent thinking (part of `completion`)

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass
class Call:
    """A client's request in the common form.

    `format` and `payload` are the client's own wire format and parsed body: a same-format attempt sends
    `payload` on (only the model replaced), so nothing a translation would drop is lost there. `meta`
    holds what only the client's dialect needs to answer in kind (e.g. Gemini's `alt=sse`).
    """

    format: str
    model: str
    messages: list[Message]
    stream: bool = False
    system: list[Text] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    reasoning: Reasoning | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    include_usage: bool = False  # an OpenAI client asked for the usage chunk at the end of a stream
    payload: dict[str, Any] = field(default_factory=dict, repr=False)
    meta: dict[str, Any] = field(default_factory=dict)
    # The client's body `payload` was parsed from, set by the route while the two agree. Not a field on
    # purpose: `dataclasses.replace` (a changed copy of the payload) leaves it None on the copy.
    raw = None

    def tool_names(self) -> dict[str, str]:
        """Tool-call id -> tool name over the whole history (formats that answer by name need it)."""
        return {part.id: part.name for message in self.messages for part in message.parts
                if isinstance(part, ToolCall)}


# Keys of `Call.meta` that the request path reads, whatever the dialect:
UNTRANSLATABLE = "untranslatable"  # notes on what only the client's own format carries (built-in tools, …);
#                                    the relay refuses to translate such a call and says why
DROPPED_TOOLS = "dropped_tools"  # built-in tools the client offered that only its own format can run: on the
#                                  way to another format they are left out (the model simply does not see
#                                  them) and named in the answer's X-Quotagate-Dropped-Tools header
STREAM_MEDIA_TYPE = "stream_media_type"  # the client's stream framing when it is not the dialect's usual one
ADDED_DEFAULTS = "added_defaults"  # the gateway's system prompt / default thinking put into the common form
#                                    but not into `payload`: a same-format pass-through adds them per attempt
#                                    to a copy of the payload (see `core.gateway.request_defaults`)


# --- the answer ----------------------------------------------------------------------------------------


@dataclass
class Answer:
    id: str
    model: str
    parts: list[Part]  # Thinking, Text and ToolCall parts in the order the model produced them
    stop: StopReason = "end"
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)
    created: int = 0  # unix seconds; 0: the encoder uses now


# --- stream events -------------------------------------------------------------------------------------


@dataclass
class Start:
    id: str
    model: str
    usage: Usage | None = None  # prompt tokens when the format reports them up front (Anthropic)


@dataclass
class BlockStart:
    index: int
    kind: BlockKind
    id: str | None = None  # tool_call: its id
    name: str | None = None  # tool_call: its name
    redacted: str | None = None  # thinking: Anthropic redacted_thinking data (no deltas follow)
    origin: str | None = None  # thinking with `redacted`: the format that issued it


@dataclass
class Delta:
    """More text of a block: answer text, thinking text, or a fragment of a tool call's JSON arguments."""

    index: int
    text: str


@dataclass
class SignatureDelta:
    index: int
    signature: str
    origin: str


@dataclass
class BlockStop:
    index: int


@dataclass
class Finish:
    stop: StopReason
    usage: Usage = field(default_factory=Usage)
    stop_sequence: str | None = None


@dataclass
class StreamError:
    message: str
    code: str = "stream_interrupted"


Event = Union[Start, BlockStart, Delta, SignatureDelta, BlockStop, Finish, StreamError]


# --- the interface each wire format implements ---------------------------------------------------------


@dataclass
class UpstreamRequest:
    path: str  # appended to the account's base URL, e.g. "/messages" or "/models/m:streamGenerateContent?alt=sse"
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # format headers; auth comes from the account


class StreamDecoder(Protocol):
    """Upstream stream bytes (cut anywhere) -> common events."""

    def feed(self, chunk: bytes) -> list[Event]: ...

    def close(self) -> list[Event]:
        """The upstream body ended: the remaining events; a `StreamError` if it ended before finishing."""
        ...


class SSEStreamDecoder:
    """The skeleton of an upstream SSE decoder: whole events (cut anywhere on the wire) go to `_event`; at the
    end of the body, the unterminated last event, then `_unfinished()` unless a finishing event set `_ended`."""

    unfinished_message = "The upstream stream ended before its finishing event."

    def __init__(self) -> None:
        self._splitter = EventSplitter()
        self._ended = False

    def _event(self, raw: bytes) -> list[Event]:
        raise NotImplementedError

    def _unfinished(self) -> list[Event]:
        """The events for a stream that ended before finishing (the stream is over after them)."""
        return [StreamError(self.unfinished_message)]

    def feed(self, chunk: bytes) -> list[Event]:
        return [event for raw in self._splitter.feed(chunk) for event in self._event(raw)]

    def close(self) -> list[Event]:
        rest = self._splitter.rest()
        events = self._event(rest) if rest else []
        if not self._ended:
            self._ended = True
            events += self._unfinished()
        return events


class StreamEncoder(Protocol):
    """Common events -> the client's stream bytes (whole events only)."""

    def encode(self, events: list[Event]) -> bytes: ...

    def fail(self, message: str) -> bytes:
        """The stream broke after it began: the dialect's error event and proper end of stream."""
        ...


class Dialect(Protocol):
    name: str  # the wire format id used by the catalogue and custom endpoints
    stream_media_type: str  # "text/event-stream" or "application/x-ndjson"

    # client side
    def parse_request(self, payload: dict[str, Any], *, model: str | None = None,
                      stream: bool | None = None) -> Call:
        """Validate and convert; a `GatewayError(400)` naming the bad field. Gemini passes model and stream
        from the URL."""
        ...

    def encode_answer(self, answer: Answer, call: Call) -> dict[str, Any]: ...

    def stream_encoder(self, call: Call) -> StreamEncoder: ...

    def error_body(self, status: int, message: str, code: str) -> Any: ...

    # upstream side
    def encode_request(self, call: Call, model: str) -> UpstreamRequest: ...

    def passthrough_request(self, call: Call, model: str) -> UpstreamRequest:
        """The client's own body (same format) with only the model replaced."""
        ...

    def decode_answer(self, payload: dict[str, Any]) -> Answer: ...

    def stream_decoder(self) -> StreamDecoder: ...

    def error_message(self, payload: Any, body: bytes) -> str:
        """The provider's own words from an error answer (`payload` is the parsed body or None)."""
        ...

    # usage of same-format answers, which are passed through without decoding
    def answer_usage(self, payload: dict[str, Any]) -> Usage: ...

    def passthrough_chunk_filter(self, call: Call) -> Callable[[bytes], bytes | None] | None:
        """What a same-format stream needs taken out of each event before the client sees it (e.g. a usage
        chunk the gateway asked for and the client did not); None when it is relayed as it is."""
        ...

    usage_marker: bytes  # a pass-through stream event is scanned for usage only if it contains this

    def event_usage(self, event: bytes) -> Usage | None: ...


# --- helpers shared by the dialects --------------------------------------------------------------------

EFFORT_BUDGETS: dict[str, int] = {"minimal": 1024, "low": 4096, "medium": 16384, "high": 32768}


def budget_for(reasoning: Reasoning) -> int:
    """Thinking tokens for an effort-style request (Anthropic and Gemini count budgets)."""
    if reasoning.budget is not None:
        return reasoning.budget
    return EFFORT_BUDGETS.get(reasoning.effort or "medium", EFFORT_BUDGETS["medium"])


def effort_for(reasoning: Reasoning) -> Effort:
    """The effort level for a budget-style request (OpenAI, Responses and Ollama take efforts)."""
    if reasoning.effort is not None:
        return reasoning.effort
    budget = reasoning.budget if reasoning.budget is not None else EFFORT_BUDGETS["medium"]
    if budget <= EFFORT_BUDGETS["minimal"]:
        return "minimal"
    if budget <= EFFORT_BUDGETS["low"]:
        return "low"
    if budget <= EFFORT_BUDGETS["medium"]:
        return "medium"
    return "high"


_SIGNATURE_TAG = "qg1"


def wrap_signature(signature: str, origin: str) -> str:
    """A foreign signature carried opaquely in a client format's signature field; `unwrap_signature`
    restores it. Signatures of the client's own format are never wrapped (a pass-through stays exact)."""
    return f"{_SIGNATURE_TAG}.{origin}.{signature}"


def unwrap_signature(value: str, own_format: str) -> tuple[str, str]:
    """(signature, origin) from what a client sent back in its signature field."""
    tag, dot, rest = value.partition(".")
    if tag == _SIGNATURE_TAG and dot:
        origin, dot, signature = rest.partition(".")
        if dot and origin:
            return signature, origin
    return value, own_format


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as every encoder writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def arguments_object(arguments: str) -> dict[str, Any]:
    """Tool-call arguments as an object for formats that carry objects (Gemini, Ollama, Anthropic):
    `{}` for empty text; a non-object or unparsable text is kept under `"_raw"` rather than lost."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"_raw": arguments}
    return value if isinstance(value, dict) else {"_raw": arguments}


def content_text(parts: list[Text | Image]) -> str:
    """The text of a tool result or system prompt, joined the way a plain-string field carries it."""
    return "\n".join(part.text for part in parts if isinstance(part, Text))
