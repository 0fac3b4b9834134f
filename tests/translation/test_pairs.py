"""Every client format against every upstream format (20 ordered pairs): requests, answers and streams.

Each pair test has two halves:
- golden: the exact bytes the client (or the upstream) receives, compared to fixtures/{request,answer,stream}/;
- meaning: what those bytes say, read back with the receiving side's own dialect and compared to what the
  recorded input says (written out by hand in `UPSTREAM` below), so that a wrong golden file cannot hide a bug.

Inputs: one client request per format (fixtures/input/request.<format>.json) and one recorded upstream answer
and stream per format, reused from tests/dialects/fixtures where one fits.

Regenerate the golden files with `QG_REGEN_FIXTURES=1 pytest tests/translation` (then read them: they are the
reference the next run is held to).
"""

from __future__ import annotations

import json
import os
import random
import re
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest

from core.gateway.dialects import FORMATS, get
from core.gateway.dialects.common import (
    UNTRANSLATABLE, Answer, BlockStart, Call, Delta, Event, Finish, Image, Start, StreamError, Text, Thinking,
    ToolCall, ToolResult, Usage, content_text, dumps,
)

HERE = Path(__file__).parent / "fixtures"
INPUT = HERE / "input"
RECORDED = Path(__file__).parent.parent / "dialects" / "fixtures"
REGEN = os.environ.get("QG_REGEN_FIXTURES") == "1"
MODEL = "upstream-model"  # the bare model name every upstream request is encoded for

PAIRS = [(client, upstream) for client in FORMATS for upstream in FORMATS if client != upstream]

ANSWERS = {"openai": RECORDED / "openai_chat/answer_reasoning_tools.json", "anthropic": INPUT / "answer.anthropic.json",
           "responses": RECORDED / "responses/upstream_answer.json", "gemini": INPUT / "answer.gemini.json",
           "ollama": RECORDED / "ollama/answer_thinking_tools.json"}
STREAMS = {"openai": INPUT / "stream.openai.sse", "anthropic": RECORDED / "anthropic/stream_thinking_tools.sse",
           "responses": RECORDED / "responses/upstream_stream.sse",
           "gemini": RECORDED / "gemini/stream_thoughts_tools.sse",
           "ollama": RECORDED / "ollama/stream_thinking_tools.ndjson"}


def _meaning(text: str, thinking: str, tools: list[tuple[str | None, str, dict[str, Any]]], usage: Usage,
             stop: str = "tool_calls") -> dict[str, Any]:
    return {"text": text, "thinking": _squash(thinking), "tools": tools, "usage": usage, "stop": stop}


def _squash(text: str) -> str:
    """Thinking text with whitespace runs made single: formats join summary parts with different blank lines."""
    return " ".join(text.split())


# What each recorded upstream input says, read by eye from the input file (usage in common.py's conventions:
# prompt includes cached and cache-written tokens, completion includes reasoning). A tool-call id None: the
# format has no ids and the dialect makes them up (the client must then get those same made-up ids).
PARIS, TOKYO = {"city": "Paris"}, {"city": "Tokyo"}
RESPONSES_SUMMARY = ("**Planning the lookup**\n\nThe user wants two cities.\n\n"  # summary parts, one per paragraph
                     "**Calling the tool**\n\nOne call per city, in parallel.")
UPSTREAM: dict[str, dict[str, dict[str, Any]]] = {
    "answer": {
        "openai": _meaning("Let me check both cities.", "The user wants Paris and Lyon; two calls.",
                           [("call_00_paris", "get_weather", PARIS), ("call_01_lyon", "get_weather", {"city": "Lyon"})],
                           Usage(prompt=120, completion=85, cached=64, reasoning=40)),
        "anthropic": _meaning("I'll check both cities.", "Two cities: one call each, in parallel.",
                              [("toolu_01A09q90qw90lq917835lq9", "get_weather", {"city": "Paris", "unit": "celsius"}),
                               ("toolu_01B18r81rx81mr826724mr8", "get_weather", {"city": "東京"})],
                              Usage(prompt=472 + 100 + 2048, completion=503, cached=2048, cache_write=100)),
        "responses": _meaning("Checking both cities.", RESPONSES_SUMMARY,
                              [("call_P4r1s", "get_weather", PARIS), ("call_T0ky0", "get_weather", {"city": "東京"})],
                              Usage(prompt=1200, completion=310, cached=1024, reasoning=192)),
        "gemini": _meaning("Checking both cities.", "I should look up both.",
                           [(None, "get_weather", PARIS), (None, "get_weather", TOKYO)],
                           Usage(prompt=1200, completion=70, cached=1024, reasoning=40)),
        "ollama": _meaning("Let me check.", "The user wants the weather in Paris — in °C.",
                           [("call_4k2x9q1m", "get_weather", {"city": "Paris", "unit": "celsius"}),
                            ("call_7hd0s2pa", "get_time", {"timezone": "Europe/Paris"})],
                           Usage(prompt=212, completion=87)),
    },
    "stream": {
        "openai": _meaning("I'll check both.", "Two cities, so two calls — 東京 too.",
                           [("call_00_paris", "get_weather", PARIS), ("call_01_tokyo", "get_weather", {"city": "東京"})],
                           Usage(prompt=1200, completion=310, cached=1024, reasoning=192)),
        "anthropic": _meaning("I'll check both.", "Two cities, so two calls — 東京 too.",
                              [("toolu_01A09q90qw90lq917835lq9", "get_weather", PARIS),
                               ("toolu_01B18r81rx81mr826724mr8", "get_weather", TOKYO)],
                              Usage(prompt=472 + 100 + 2048, completion=89, cached=2048, cache_write=100,
                                    reasoning=40)),
        "responses": _meaning("Checking both cities.", RESPONSES_SUMMARY,
                              [("call_P4r1s", "get_weather", PARIS), ("call_T0ky0", "get_weather", {"city": "東京"})],
                              Usage(prompt=1200, completion=310, cached=1024, reasoning=192)),
        "gemini": _meaning("Let me check both cities — Zürich-style ünïcode ✓.",
                           '**Checking the weather**\n\nThe user asks about two cities {"quoted"}. '
                           "I'll call the tool for each one.",
                           [(None, "get_weather", {"city": "Paris", "units": "celsius"}),
                            (None, "get_weather", {"city": "Tokyo", "units": "celsius"})],
                           Usage(prompt=71, completion=40 + 69, cached=32, reasoning=69)),
        "ollama": _meaning("Let me check.", "The user wants the weather in Paris — in °C.",
                           [("call_4k2x9q1m", "get_weather", {"city": "Paris", "unit": "celsius"}),
                            ("call_7hd0s2pa", "get_time", {"timezone": "Europe/Paris"})],
                           Usage(prompt=212, completion=87)),
    },
}

# The usage fields each client format has a place for (prompt and completion: all of them).
USAGE_CARRIED = {"openai": {"cached", "reasoning"}, "anthropic": {"cached", "cache_write", "reasoning"},
                 "responses": {"cached", "cache_write", "reasoning"}, "gemini": {"cached", "reasoning"}, "ollama": set()}
NO_TOOL_IDS = {"gemini"}  # client formats without tool-call ids: only the order and names reach the client

# Translation bugs found while checking the golden files by eye: (kind, client, upstream) -> why. The test
# is marked xfail(strict=True) so that the bug stays visible and a fix makes it fail until this entry goes.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def _pairs(kind: str) -> list[Any]:
    return [pytest.param(client, upstream, id=f"{client}->{upstream}" if kind == "request" else f"{upstream}->{client}",
                         marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[kind, client, upstream])]
                         if (kind, client, upstream) in KNOWN_BUGS else [])
            for client, upstream in PAIRS]


# --- shared helpers ------------------------------------------------------------------------------------

# Volatile values the encoders make up per call: unix times ("created", "created_at"), Ollama's ISO
# "created_at", and uuid4-based ids (`chatcmpl-`, `msg_`, `resp_` + 32 hex; `toolu_` + 24), and the
# id the Ollama decoder makes up for each answer (`ollama-` + 24 hex, also inside the ids derived from it).
# The meaning checks read the raw bytes, so ids are compared there; only the golden files see placeholders
# (an upstream id of the same shape, like DeepSeek's uuid answer id under `resp_`, is masked there too).
_VOLATILE = [(re.compile(rb'"(created|created_at)":\d+'), rb'"\1":0'),
             (re.compile(rb'"created_at":"\d{4}-[^"]*"'), rb'"created_at":"<time>"'),
             (re.compile(rb"\b(chatcmpl-|msg_|resp_)[0-9a-f]{32}\b"), rb"\1<uuid>"),
             (re.compile(rb"\btoolu_[0-9a-f]{24}\b"), rb"toolu_<uuid>"),
             (re.compile(rb"ollama(-?)[0-9a-f]{24}"), rb"ollama\1<uuid>")]


def normalise(data: bytes) -> bytes:
    """`data` with the volatile values above replaced by fixed placeholders (the one place that does it)."""
    for pattern, replacement in _VOLATILE:
        data = pattern.sub(replacement, data)
    return data


def golden(kind: str, name: str, actual: Any) -> None:
    """Compare `actual` (JSON data, or stream bytes) to fixtures/<kind>/<name>; write it when regenerating."""
    path = HERE / kind / name
    data = actual if isinstance(actual, bytes) else json.dumps(actual, ensure_ascii=False, indent=2).encode() + b"\n"
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{path.name} differs from the golden file"


def client_call(client: str) -> Call:
    """The client request of format `client`, parsed by its dialect; nothing in it is untranslatable."""
    recorded = json.loads((INPUT / f"request.{client}.json").read_text(encoding="utf-8"))
    call = get(client).parse_request(recorded["body"], **recorded["kwargs"])
    call.meta.update(recorded["meta"])
    assert not call.meta.get(UNTRANSLATABLE)
    return call


def assemble(events: list[Event]) -> Answer:
    """The answer a stream's events add up to (blocks in order, deltas joined)."""
    answer, parts = Answer(id="", model="", parts=[]), {}
    for event in events:
        assert not isinstance(event, StreamError), event
        if isinstance(event, Start):
            answer.id = event.id
        elif isinstance(event, BlockStart):
            parts[event.index] = {"text": Text(""), "thinking": Thinking(""),
                                  "tool_call": ToolCall(event.id or "", event.name or "", "")}[event.kind]
        elif isinstance(event, Delta):
            part = parts[event.index]
            if isinstance(part, ToolCall):
                part.arguments += event.text
            else:
                part.text += event.text
        elif isinstance(event, Finish):
            answer.stop, answer.usage = event.stop, event.usage
    answer.parts = [parts[index] for index in sorted(parts)]
    return answer


def meaning(answer: Answer) -> dict[str, Any]:
    texts = [part for part in answer.parts if isinstance(part, (Text, Thinking))]
    return _meaning("".join(part.text for part in texts if isinstance(part, Text)),
                    "".join(part.text for part in texts if isinstance(part, Thinking)),
                    [(part.id, part.name, json.loads(part.arguments or "{}"))
                     for part in answer.parts if isinstance(part, ToolCall)], answer.usage, answer.stop)


def check_meaning(client: str, upstream: str, kind: str, decoded: Answer, received: Answer) -> None:
    """The upstream input decoded as written down in UPSTREAM, and the client's answer saying the same."""
    expected, got = UPSTREAM[kind][upstream], meaning(decoded)
    made_up = [call[0] for call in got["tools"]] if expected["tools"][0][0] is None else None
    if made_up:  # a format without ids: the dialect's own, one per call
        assert len(set(made_up)) == len(made_up) and all(made_up)
        expected = {**expected, "tools": [(made, *call[1:]) for made, call in zip(made_up, expected["tools"])]}
    assert got == expected
    carried = USAGE_CARRIED[client]
    kept = Usage(**{name: value for name, value in vars(got["usage"]).items()
                    if name in {"prompt", "completion"} | carried})
    back = meaning(received)
    if client in NO_TOOL_IDS:  # the client sees no ids: its decoder numbers the calls itself
        back["tools"] = [(got_call[0], *call[1:]) for call, got_call in zip(back["tools"], got["tools"])]
    assert back == {**got, "usage": kept}


# --- the three kinds of pair test ----------------------------------------------------------------------


def _request_meaning(call: Call) -> dict[str, Any]:
    """What a request says, ids replaced by their order of appearance (formats without ids number them)."""
    order: dict[str, int] = {}
    items: list[tuple[Any, ...]] = []
    for message in call.messages:
        for part in message.parts:
            if isinstance(part, Text):
                items.append((message.role, "text", part.text))
            elif isinstance(part, Image):
                items.append((message.role, "image", part.media_type, part.data))
            elif isinstance(part, ToolCall):
                items.append((message.role, "call", order.setdefault(part.id, len(order)), part.name,
                              json.loads(part.arguments)))
            elif isinstance(part, ToolResult):
                items.append((message.role, "result", order.get(part.call_id), _result_text(part)))
    runs = [sorted(run, key=repr) for _, run in groupby(items, key=lambda item: item[0])]
    fmt = call.response_format
    return {"system": _squash(content_text(call.system)), "items": runs, "stream": call.stream,
            "tools": [(tool.name, tool.description, sorted(tool.parameters.get("properties", {})))
                      for tool in call.tools],
            "tool_choice": call.tool_choice and call.tool_choice.mode,
            "thinking": bool(call.reasoning and call.reasoning.enabled),
            "format": fmt and (fmt.kind, sorted((fmt.schema or {}).get("properties", {})))}


def _result_text(result: ToolResult) -> str:
    """A tool result's text; Gemini wraps a plain text result in a one-field object."""
    text = content_text(result.content)
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return next(iter(value.values())) if isinstance(value, dict) and len(value) == 1 else text


# What an upstream format says differently of a request, by documented design: Anthropic gets the JSON
# schema as a system instruction (its `output_config.format` is not taken by every Anthropic-format
# provider) and no thinking when the last tool-calling turn has no signed thinking block of its own (which a
# history from another format never has); Ollama has no tool_choice.
FORMAT_NOTE = "Answer with a single JSON value that matches this JSON schema, and nothing else"


def _as_sent(said: dict[str, Any], got: dict[str, Any], upstream: str) -> dict[str, Any]:
    """`said` (the client's request) as `upstream` can say it, given `got` (what it was sent)."""
    if upstream == "anthropic":
        system, note, _ = got["system"].partition(" " + FORMAT_NOTE)
        assert note and system == said["system"]
        return said | {"thinking": False, "format": None, "system": got["system"]}
    if upstream == "ollama":
        return said | {"tool_choice": None}
    return said


@pytest.mark.parametrize(("client", "upstream"), _pairs("request"))
def test_request(client: str, upstream: str) -> None:
    call = client_call(client)
    request = get(upstream).encode_request(call, MODEL)
    body = json.loads(request.body)
    golden("request", f"{client}__to__{upstream}.json",
           {"path": request.path, "headers": request.headers, "body": body})
    stream = call.stream if upstream != "gemini" else "streamGenerateContent" in request.path
    again = get(upstream).parse_request(body, model=MODEL if upstream == "gemini" else None, stream=stream)
    assert again.model == MODEL and (upstream == "gemini" or body["model"] == MODEL)
    got = _request_meaning(again)
    assert got == _as_sent(_request_meaning(call), got, upstream)


@pytest.mark.parametrize(("client", "upstream"), _pairs("answer"))
def test_answer(client: str, upstream: str) -> None:
    call = client_call(client)
    decoded = get(upstream).decode_answer(json.loads(ANSWERS[upstream].read_text(encoding="utf-8")))
    body = get(client).encode_answer(decoded, call)
    golden("answer", f"{upstream}__to__{client}.json", json.loads(normalise(dumps(body))))
    check_meaning(client, upstream, "answer", decoded, get(client).decode_answer(body))


def _relay(client: str, call: Call, upstream: str, data: bytes, cuts: list[int]) -> tuple[list[Event], bytes]:
    """The upstream stream read in pieces cut at `cuts`, each read's events encoded for the client at once."""
    decoder, encoder = get(upstream).stream_decoder(), get(client).stream_encoder(call)
    events: list[Event] = []
    out = b""
    for start, end in zip([0, *cuts], [*cuts, len(data)]):
        batch = decoder.feed(data[start:end])
        events += batch
        out += encoder.encode(batch)
    batch = decoder.close()
    return events + batch, out + encoder.encode(batch)


@pytest.mark.parametrize(("client", "upstream"), _pairs("stream"))
def test_stream(client: str, upstream: str) -> None:
    call, data = client_call(client), STREAMS[upstream].read_bytes()
    rng = random.Random(f"{upstream}->{client}")
    splits = {"whole": [], "bytewise": list(range(1, len(data)))}
    splits |= {f"random {n}": sorted(rng.sample(range(1, len(data)), 10)) for n in range(10)}
    relayed = {name: _relay(client, call, upstream, data, cuts) for name, cuts in splits.items()}
    events, out = relayed["whole"]
    for name, (other_events, other_out) in relayed.items():
        assert normalise(repr(other_events).encode()) == normalise(repr(events).encode()), name
        assert normalise(other_out) == normalise(out), name
    golden("stream", f"{upstream}__to__{client}.txt", normalise(out))
    received = get(client).stream_decoder()
    check_meaning(client, upstream, "stream", assemble(events), assemble(received.feed(out) + received.close()))
