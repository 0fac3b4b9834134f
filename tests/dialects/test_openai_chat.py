"""The `openai` dialect (Chat Completions): client side, upstream side, usage, and what the official SDK reads."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import types
import warnings
from typing import Any

import httpx
import openai
import pytest

from core.gateway.dialects import common
from core.gateway.dialects import openai_chat
from core.gateway.dialects.common import (
    Answer, BlockStart, BlockStop, Call, Delta, Finish, Image, Message, Reasoning, ResponseFormat,
    SignatureDelta, Start, StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult, Usage,
)
from core.gateway.dialects.openai_chat import DIALECT, usage_chunk_filter
from core.gateway.errors import GatewayError
from tests.dialects import helpers

load = helpers.fixtures("openai_chat")
raw = helpers.raw_fixtures("openai_chat")
CREATED = 1741200000


def as_json(value: Any) -> Any:
    """A dataclass (or list of events) as plain JSON: events get their type, `None` fields are left out."""
    if isinstance(value, list):
        return [{"type": type(e).__name__, **{k: v for k, v in dataclasses.asdict(e).items() if v is not None}}
                for e in value]
    data = dataclasses.asdict(value)
    data.pop("payload", None)
    return data


def events_from(items: list[dict[str, Any]]) -> list[common.Event]:
    events = []
    for item in copy.deepcopy(items):
        kind = getattr(common, item.pop("type"))
        if "usage" in item:
            item["usage"] = Usage(**item["usage"])
        events.append(kind(**item))
    return events


def parse(**payload: Any) -> Call:
    payload.setdefault("model", "m")
    payload.setdefault("messages", [{"role": "user", "content": "hi"}])
    return DIALECT.parse_request(payload)


def refused(**payload: Any) -> str:
    with pytest.raises(GatewayError) as raised:
        parse(**payload)
    expected_code = "invalid_model" if "model" in payload else "invalid_request"
    assert raised.value.status == 400 and raised.value.code == expected_code
    return raised.value.message


def call_of(*messages: Message, **fields: Any) -> Call:
    return Call(format="anthropic", model="claude", messages=list(messages), **fields)


def upstream_body(call: Call, model: str = "gpt-4.1") -> dict[str, Any]:
    request = DIALECT.encode_request(call, model)
    assert request.path == "/chat/completions"
    return json.loads(request.body)


def decode_stream(data: bytes, cuts: list[int] | None = None) -> list[common.Event]:
    return helpers.decode_stream(DIALECT, data, cuts)


def sse_chunks(data: bytes) -> list[Any]:
    """The JSON of each `data:` event of an encoded stream ("[DONE]" as the string)."""
    chunks = []
    for event in data.split(b"\n\n"):
        if event:
            assert event.startswith(b"data: ")
            payload = event[6:].decode()
            chunks.append(payload if payload == "[DONE]" else json.loads(payload))
    return chunks


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openai_chat, "time", types.SimpleNamespace(time=lambda: CREATED + 0.5))


# --- parse_request -------------------------------------------------------------------------------------


def test_parse_request_of_a_full_agent_turn_matches_the_fixture() -> None:
    payload = load("request_full.json")
    call = DIALECT.parse_request(payload)
    assert as_json(call) == load("request_full.call.json")
    assert call.payload is payload


def test_system_and_developer_messages_anywhere_join_the_system_prompt_in_order() -> None:
    call = parse(messages=[{"role": "developer", "content": "one"}, {"role": "user", "content": "hi"},
                           {"role": "system", "content": [{"type": "text", "text": "two"}]}])
    assert call.system == [Text("one"), Text("two")]
    assert call.messages == [Message("user", [Text("hi")])]


def test_a_data_url_image_becomes_inline_base64() -> None:
    call = parse(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg=="}}]}])
    assert call.messages[0].parts == [Image(media_type="image/webp", data="UklGRg==")]


def test_an_https_image_url_stays_remote() -> None:
    call = parse(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}}]}])
    assert call.messages[0].parts == [Image(url="https://example.com/a.png")]


def test_a_data_url_that_is_not_base64_is_refused() -> None:
    message = refused(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png,rawbytes"}}]}])
    assert "`messages[0].content[0].image_url.url`" in message


@pytest.mark.parametrize("part", [{"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}},
                                  {"type": "file", "file": {"file_id": "file-1"}}])
def test_audio_and_file_parts_are_refused_naming_the_field(part: dict[str, Any]) -> None:
    message = refused(messages=[{"role": "user", "content": [{"type": "text", "text": "see"}, part]}])
    assert "`messages[0].content[1]`" in message and f"`{part['type']}`" in message


def test_tool_messages_merge_into_one_user_turn_and_the_next_user_message_joins_it() -> None:
    call = parse(messages=[
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "a", "content": "ra"},
        {"role": "tool", "tool_call_id": "b", "content": "rb"},
        {"role": "user", "content": "and now?"},
        {"role": "user", "content": "separate"}])
    assert [m.role for m in call.messages] == ["user", "assistant", "user", "user"]
    assert call.messages[2].parts == [ToolResult("a", [Text("ra")], name="f"), ToolResult("b", [Text("rb")], name="g"),
                                      Text("and now?")]
    assert call.messages[1].parts == [ToolCall("a", "f", "{}"), ToolCall("b", "g", "{}")]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_assistant_reasoning_becomes_a_thinking_part_first(field: str) -> None:
    call = parse(messages=[{"role": "user", "content": "q"},
                           {"role": "assistant", "content": "answer", field: "thought"},
                           {"role": "user", "content": "more"}])
    assert call.messages[1].parts == [Thinking("thought"), Text("answer")]


def test_the_legacy_function_role_is_refused() -> None:
    message = refused(messages=[{"role": "function", "name": "f", "content": "x"}])
    assert "`messages[0].role`" in message and "tool" in message


def test_legacy_functions_are_refused() -> None:
    assert "`functions`" in refused(functions=[{"name": "f", "parameters": {}}])


def test_non_function_tools_stay_only_in_the_payload() -> None:
    payload = load("request_full.json")
    call = DIALECT.parse_request(payload)
    assert [tool.name for tool in call.tools] == ["get_weather"]
    assert any(tool["type"] == "custom" for tool in call.payload["tools"])
    assert "custom" not in json.dumps(upstream_body(call))


@pytest.mark.parametrize(("wire", "choice"), [
    ("auto", ToolChoice("auto")), ("none", ToolChoice("none")), ("required", ToolChoice("required")),
    ({"type": "function", "function": {"name": "f"}}, ToolChoice("tool", "f")),
])
def test_tool_choice_forms(wire: Any, choice: ToolChoice) -> None:
    assert parse(tool_choice=wire).tool_choice == choice


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    assert parse(max_completion_tokens=10, max_tokens=20).max_tokens == 10
    assert parse(max_tokens=20).max_tokens == 20


@pytest.mark.parametrize(("stop", "expected"), [("END", ["END"]), (["a", "b"], ["a", "b"]), (None, [])])
def test_stop_is_a_string_or_a_list(stop: Any, expected: list[str]) -> None:
    assert parse(stop=stop).stop == expected


@pytest.mark.parametrize(("effort", "reasoning"), [
    ("low", Reasoning(effort="low")), ("minimal", Reasoning(effort="minimal")), ("xhigh", Reasoning(effort="high")),
    ("none", Reasoning(enabled=False)),
])
def test_reasoning_effort_becomes_reasoning(effort: str, reasoning: Reasoning) -> None:
    assert parse(reasoning_effort=effort).reasoning == reasoning


@pytest.mark.parametrize(("wire", "expected"), [
    ({"type": "text"}, None),
    ({"type": "json_object"}, ResponseFormat("json_object")),
    ({"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}},
     ResponseFormat("json_schema", {"type": "object"}, "n", None)),
])
def test_response_format_forms(wire: dict[str, Any], expected: ResponseFormat | None) -> None:
    assert parse(response_format=wire).response_format == expected


def test_include_usage_counts_only_for_streams() -> None:
    assert parse(stream=True, stream_options={"include_usage": True}).include_usage is True
    assert parse(stream=True).include_usage is False
    assert parse(stream_options={"include_usage": True}).include_usage is False


def test_model_and_stream_arguments_override_the_body() -> None:
    call = DIALECT.parse_request({"messages": [{"role": "user", "content": "hi"}]}, model="scoped/m", stream=True)
    assert (call.model, call.stream, call.format) == ("scoped/m", True, "openai")


@pytest.mark.parametrize(("fields", "named"), [
    ({"temperature": "hot"}, "`temperature` must be a number"),
    ({"temperature": True}, "`temperature` must be a number"),
    ({"top_p": "x"}, "`top_p` must be a number"),
    ({"seed": 1.5}, "`seed` must be an integer"),
    ({"max_tokens": 0}, "`max_tokens` must be a positive integer"),
    ({"max_completion_tokens": "9"}, "`max_completion_tokens` must be a positive integer"),
    ({"stop": 3}, "`stop` must be"),
    ({"stream": "yes"}, "`stream` must be true or false"),
    ({"stream": True, "stream_options": {"include_usage": 1}}, "`stream_options.include_usage`"),
    ({"parallel_tool_calls": "no"}, "`parallel_tool_calls` must be true or false"),
    ({"user": 5}, "`user` must be a string"),
    ({"model": ""}, "`model` must be a non-empty string"),
    ({"messages": []}, "`messages` must be a non-empty array"),
    ({"messages": ["hi"]}, "`messages[0]` must be an object"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "`messages[0].role`"),
    ({"messages": [{"role": "user", "content": 5}]}, "`messages[0].content`"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "`messages[0].tool_call_id`"),
    ({"messages": [{"role": "assistant", "tool_calls": [{"id": "a", "type": "function",
                                                           "function": {"arguments": "{}"}}]}]},
     "`messages[0].tool_calls[0].function.name`"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
     "`tools[0].function.parameters`"),
    ({"tool_choice": "any"}, "`tool_choice` must be"),
    ({"reasoning_effort": "ultra"}, "`reasoning_effort` must be one of"),
    ({"response_format": {"type": "yaml"}}, "`response_format.type`"),
    ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
     "`response_format.json_schema.name`"),
])
def test_a_wrong_type_is_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    assert named in refused(**fields)


# --- encode_request ------------------------------------------------------------------------------------


def test_encode_request_of_the_full_turn_matches_the_fixture() -> None:
    call = DIALECT.parse_request(load("request_full.json"))
    assert upstream_body(call, "gpt-5-mini") == load("request_full.upstream.json")


def test_tool_results_go_as_tool_messages_before_the_rest_of_the_turn() -> None:
    call = call_of(Message("assistant", [ToolCall("t1", "f", '{"a":1}')]),
                   Message("user", [Text("next"), ToolResult("t1", [Text("out"), Text("more")], is_error=True)]))
    assert upstream_body(call)["messages"] == [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "out\nmore"},
        {"role": "user", "content": "next"}]


def test_images_a_tool_returned_move_into_the_following_user_message() -> None:
    call = call_of(Message("user", [ToolResult("t1", [Text("shot"), Image("image/png", "iVBO")]), Text("ok?")]))
    assert upstream_body(call)["messages"] == [
        {"role": "tool", "tool_call_id": "t1", "content": "shot"},
        {"role": "user", "content": [
            {"type": "text", "text": "(image returned by tool call t1)"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
            {"type": "text", "text": "ok?"}]}]


def test_thinking_is_not_sent_upstream() -> None:
    call = call_of(Message("user", [Text("q")]),
                   Message("assistant", [Thinking("hmm", signature="sig", origin="anthropic"), Text("a")]))
    assert upstream_body(call)["messages"][1] == {"role": "assistant", "content": "a"}


def test_the_system_prompt_is_one_system_message_first() -> None:
    call = call_of(Message("user", [Text("q")]), system=[Text("be brief"), Text("be kind")])
    assert upstream_body(call)["messages"][0] == {"role": "system", "content": "be brief\nbe kind"}


def test_a_stream_always_asks_for_usage() -> None:
    body = upstream_body(call_of(Message("user", [Text("q")]), stream=True))
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(("model", "key"), [
    ("o1", "max_completion_tokens"), ("o3-mini", "max_completion_tokens"), ("o4-mini", "max_completion_tokens"),
    ("gpt-5.1", "max_completion_tokens"), ("gpt-4.1", "max_tokens"), ("deepseek-chat", "max_tokens"),
])
def test_max_tokens_key_follows_the_model(model: str, key: str) -> None:
    body = upstream_body(call_of(Message("user", [Text("q")]), max_tokens=300), model)
    other = "max_tokens" if key == "max_completion_tokens" else "max_completion_tokens"
    assert body[key] == 300 and other not in body


def test_a_thinking_budget_becomes_an_effort_and_off_sends_none() -> None:
    assert upstream_body(call_of(Message("user", [Text("q")]), reasoning=Reasoning(budget=4000)), "o3")[
        "reasoning_effort"] == "low"
    assert "reasoning_effort" not in upstream_body(call_of(Message("user", [Text("q")]),
                                                           reasoning=Reasoning(enabled=False)), "o3")


def test_options_go_back_in_openai_shape() -> None:
    call = call_of(Message("user", [Text("q")]), tools=[Tool("f", None, {"type": "object"})],
                   tool_choice=ToolChoice("tool", "f"), parallel_tool_calls=False, stop=["x"], seed=3, user="u",
                   response_format=ResponseFormat("json_object"), top_k=5)
    body = upstream_body(call)
    assert body["tools"] == [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert (body["parallel_tool_calls"], body["stop"], body["seed"], body["user"]) == (False, ["x"], 3, "u")
    assert body["response_format"] == {"type": "json_object"}
    assert "top_k" not in body


# --- pass-through --------------------------------------------------------------------------------------


def test_passthrough_replaces_only_the_model() -> None:
    payload = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1": 2},
               "n": 2}
    call = DIALECT.parse_request(payload)
    request = DIALECT.passthrough_request(call, "gpt-4.1")
    assert json.loads(request.body) == {**payload, "model": "gpt-4.1"}
    assert payload["model"] == "openai/gpt-4.1"


def test_passthrough_of_a_stream_asks_for_usage_keeping_other_stream_options() -> None:
    call = parse(stream=True, stream_options={"include_obfuscation": False})
    body = json.loads(DIALECT.passthrough_request(call, "x").body)
    assert body["stream_options"] == {"include_obfuscation": False, "include_usage": True}


def test_the_usage_filter_drops_only_the_usage_chunk_the_gateway_added() -> None:
    keep = usage_chunk_filter(parse(stream=True))
    assert keep is not None
    usage_only = b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":1}}\n\n'
    null_usage = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}\n\n'
    on_finish = b'data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"a":1}}\n\n'
    assert keep(usage_only) is None
    assert keep(null_usage) == null_usage
    assert keep(on_finish) == on_finish


def test_no_usage_filter_when_the_client_asked_for_usage_or_no_stream() -> None:
    assert usage_chunk_filter(parse(stream=True, stream_options={"include_usage": True})) is None
    assert usage_chunk_filter(parse()) is None


# --- encode_answer -------------------------------------------------------------------------------------


def test_encode_answer_matches_the_fixture() -> None:
    answer = DIALECT.decode_answer(load("answer_reasoning_tools.json"))
    call = parse(model="deepseek/deepseek-reasoner")
    assert DIALECT.encode_answer(answer, call) == load("answer_reasoning_tools.client.json")


def test_an_answer_of_tool_calls_only_has_null_content() -> None:
    answer = Answer("id", "m", [ToolCall("c", "f", "{}")], stop="tool_calls")
    message = DIALECT.encode_answer(answer, parse())["choices"][0]["message"]
    assert message["content"] is None and "reasoning_content" not in message


@pytest.mark.parametrize(("stop", "finish_reason"), [
    ("end", "stop"), ("max_tokens", "length"), ("tool_calls", "tool_calls"), ("stop_sequence", "stop"),
    ("content_filter", "content_filter"), ("refusal", "content_filter"),
])
def test_stop_reasons_become_finish_reasons(stop: Any, finish_reason: str) -> None:
    answer = Answer("id", "m", [Text("x")], stop=stop)
    assert DIALECT.encode_answer(answer, parse())["choices"][0]["finish_reason"] == finish_reason


def test_encode_answer_names_the_model_the_client_asked_for(fixed_clock: None) -> None:
    body = DIALECT.encode_answer(Answer("", "claude-sonnet-4-5", [Text("x")]), parse(model="alias/fast"))
    assert body["model"] == "alias/fast" and body["created"] == CREATED and body["id"].startswith("chatcmpl-")


# --- stream encoder ------------------------------------------------------------------------------------


def test_stream_encoder_output_matches_the_fixture(fixed_clock: None) -> None:
    call = parse(model="anthropic/claude-sonnet-4-5", stream=True, stream_options={"include_usage": True})
    out = DIALECT.stream_encoder(call).encode(events_from(load("encode_stream.events.json")))
    assert out == raw("encode_stream.client.sse")


def test_tool_call_indexes_count_tool_calls_not_blocks() -> None:
    events = events_from(load("encode_stream.events.json"))
    chunks = sse_chunks(DIALECT.stream_encoder(parse(stream=True)).encode(events))
    firsts = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks[:-1]
              if c["choices"][0]["delta"].get("tool_calls") and "id" in c["choices"][0]["delta"]["tool_calls"][0]]
    assert [(f["index"], f["id"]) for f in firsts] == [(0, "toolu_paris"), (1, "toolu_lyon")]


def test_only_the_first_chunk_carries_the_role() -> None:
    events = events_from(load("encode_stream.events.json"))
    chunks = sse_chunks(DIALECT.stream_encoder(parse(stream=True)).encode(events))
    roles = [c["choices"][0]["delta"].get("role") for c in chunks[:-1]]
    assert roles[0] == "assistant" and not any(roles[1:])


def test_signatures_and_redacted_thinking_are_dropped() -> None:
    events = [Start("m1", "x"), BlockStart(0, "thinking", redacted="opaque", origin="anthropic"), BlockStop(0),
              BlockStart(1, "thinking"), SignatureDelta(1, "sig", "anthropic"), BlockStop(1), Finish("end")]
    out = DIALECT.stream_encoder(parse(stream=True)).encode(events)
    assert b"opaque" not in out and b"sig" not in out
    assert sse_chunks(out)[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}


def test_no_usage_chunk_unless_the_client_asked() -> None:
    out = DIALECT.stream_encoder(parse(stream=True)).encode([Start("a", "m"), Finish("end", Usage(1, 2))])
    chunks = sse_chunks(out)
    assert chunks[-1] == "[DONE]" and all(c == "[DONE]" or c["choices"] for c in chunks)
    assert all(c == "[DONE]" or "usage" not in c for c in chunks)


def test_fail_ends_with_the_error_event_and_done_once() -> None:
    encoder = DIALECT.stream_encoder(parse(stream=True))
    out = encoder.encode([Start("a", "m"), BlockStart(0, "text"), Delta(0, "par")])
    out += encoder.encode([StreamError("upstream broke")])
    out += encoder.fail("again") + encoder.encode([Finish("end")])
    chunks = sse_chunks(out)
    assert chunks[-2] == {"error": {"message": "upstream broke", "type": "upstream_error",
                                    "code": "stream_interrupted", "param": None}}
    assert chunks.count("[DONE]") == 1 and chunks[-1] == "[DONE]"


def test_fail_after_finish_adds_nothing() -> None:
    encoder = DIALECT.stream_encoder(parse(stream=True))
    encoder.encode([Start("a", "m"), Finish("end")])
    assert encoder.fail("late") == b""


# --- decode_answer -------------------------------------------------------------------------------------


def test_decode_answer_matches_the_fixture() -> None:
    assert as_json(DIALECT.decode_answer(load("answer_reasoning_tools.json"))) == load(
        "answer_reasoning_tools.answer.json")


def test_decode_answer_reads_reasoning_and_zero_usage_when_missing() -> None:
    answer = DIALECT.decode_answer({"id": "x", "model": "m", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi", "reasoning": "r"}, "finish_reason": "stop"}]})
    assert answer.parts == [Thinking("r"), Text("hi")] and answer.usage == Usage()


def test_mistral_content_chunks_decode_into_thinking_and_text() -> None:
    answer = DIALECT.decode_answer({"choices": [{"message": {"content": [
        {"type": "thinking", "thinking": [{"type": "text", "text": "let me see"}]}, {"type": "text", "text": "42"}]},
        "finish_reason": "stop"}]})
    assert answer.parts == [Thinking("let me see"), Text("42")]


@pytest.mark.parametrize(("finish_reason", "stop"), [
    ("stop", "end"), ("length", "max_tokens"), ("tool_calls", "tool_calls"), ("content_filter", "content_filter"),
    (None, "end"),
])
def test_finish_reasons_map_back(finish_reason: str | None, stop: str) -> None:
    answer = DIALECT.decode_answer({"choices": [{"message": {"content": "x"}, "finish_reason": finish_reason}]})
    assert answer.stop == stop


def test_tool_calls_with_finish_reason_stop_still_stop_for_tool_calls() -> None:
    answer = DIALECT.decode_answer({"choices": [{"message": {"content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}]}, "finish_reason": "stop"}]})
    assert answer.stop == "tool_calls" and answer.parts == [ToolCall("c", "f", "{}")]


def test_a_refusal_decodes_as_text_with_stop_refusal() -> None:
    answer = DIALECT.decode_answer({"choices": [{"message": {"content": None, "refusal": "I can't."},
                                                 "finish_reason": "stop"}]})
    assert answer.parts == [Text("I can't.")] and answer.stop == "refusal"


def test_an_answer_without_choices_is_a_bad_gateway() -> None:
    with pytest.raises(GatewayError) as raised:
        DIALECT.decode_answer({"id": "x", "choices": []})
    assert raised.value.status == 502


# --- stream decoder ------------------------------------------------------------------------------------

STREAMS = ["stream_parallel_tools", "stream_deepseek_reasoning", "stream_openrouter_reasoning",
           "stream_interleaved_tools", "stream_upstream_error"]


@pytest.mark.parametrize("name", STREAMS)
def test_stream_decoder_matches_the_recorded_events(name: str) -> None:
    assert as_json(decode_stream(raw(f"{name}.sse"))) == load(f"{name}.events.json")


@pytest.mark.parametrize("name", STREAMS)
def test_stream_decoder_gives_the_same_events_fed_one_byte_at_a_time(name: str) -> None:
    data = raw(f"{name}.sse")
    assert as_json(decode_stream(data, list(range(1, len(data))))) == load(f"{name}.events.json")


@pytest.mark.parametrize("name", STREAMS)
def test_stream_decoder_gives_the_same_events_cut_at_random(name: str) -> None:
    data = raw(f"{name}.sse")
    rng = random.Random(name)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), 12))
        assert as_json(decode_stream(data, cuts)) == load(f"{name}.events.json")


def test_finish_waits_for_the_usage_chunk() -> None:
    decoder = DIALECT.stream_decoder()
    head = (b'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n'
            b'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n')
    assert not any(isinstance(e, Finish) for e in decoder.feed(head))
    tail = decoder.feed(b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n')
    assert tail == [Finish("end", Usage(prompt=3, completion=2))]
    assert decoder.feed(b"data: [DONE]\n\n") == [] and decoder.close() == []


def test_a_finished_stream_that_closes_without_usage_still_finishes() -> None:
    data = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"length"}]}\n\n'
    assert decode_stream(data)[-1] == Finish("max_tokens", Usage())


def test_a_stream_closed_before_finishing_is_a_stream_error() -> None:
    events = decode_stream(b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"}}]}\n\n')
    assert isinstance(events[-1], StreamError) and "ended before finishing" in events[-1].message


def test_an_empty_stream_is_a_stream_error() -> None:
    assert [type(e) for e in decode_stream(b"")] == [StreamError]


def test_tool_call_deltas_without_index_follow_their_ids() -> None:
    data = b"".join(b"data: " + json.dumps({"id": "g", "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
                    .encode() + b"\n\n" for call in [
        {"id": "x1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}},
        {"id": "x2", "type": "function", "function": {"name": "g", "arguments": '{"b":2}'}}])
    events = decode_stream(data + b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
                                  b"data: [DONE]\n\n")
    assert [(e.id, e.name) for e in events if isinstance(e, BlockStart)] == [("x1", "f"), ("x2", "g")]
    assert [e.text for e in events if isinstance(e, Delta)] == ['{"a":1}', '{"b":2}']
    assert events[-1] == Finish("tool_calls", Usage())


# --- errors and usage ----------------------------------------------------------------------------------


def test_error_message_is_the_providers_own_words() -> None:
    payload = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}}
    assert DIALECT.error_message(payload, b"") == "Incorrect API key provided."
    assert DIALECT.error_message([{"error": {"message": "Gemini says no"}}], b"") == "Gemini says no"
    assert DIALECT.error_message(None, b"  Bad Gateway  ") == "Bad Gateway"


@pytest.mark.parametrize(("status", "error_type"), [
    (400, "invalid_request_error"), (405, "invalid_request_error"), (413, "invalid_request_error"),
    (401, "authentication_error"), (403, "permission_error"), (404, "not_found_error"),
    (429, "rate_limit_error"), (500, "api_error"), (503, "api_error"),
])
def test_error_body_type_follows_the_status(status: int, error_type: str) -> None:
    assert DIALECT.error_body(status, "msg", "code_x") == {
        "error": {"message": "msg", "type": error_type, "code": "code_x", "param": None}}


def test_answer_usage_reads_cached_and_reasoning_tokens() -> None:
    assert DIALECT.answer_usage(load("answer_reasoning_tools.json")) == Usage(120, 85, cached=64, reasoning=40)


def test_deepseek_cache_hits_count_as_cached_without_details() -> None:
    usage = DIALECT.answer_usage({"usage": {"prompt_tokens": 10, "prompt_cache_hit_tokens": 4}})
    assert usage == Usage(prompt=10, cached=4)


@pytest.mark.parametrize("bad", [True, -1, 2.5, 2 ** 63, "7", None])
def test_insane_token_counts_read_as_zero(bad: Any) -> None:
    usage = DIALECT.answer_usage({"usage": {"prompt_tokens": bad, "completion_tokens": 5,
                                            "prompt_tokens_details": {"cached_tokens": bad}}})
    assert usage == Usage(completion=5)


def test_event_usage_reads_a_usage_chunk_and_ignores_null_usage() -> None:
    assert DIALECT.usage_marker == b'"usage"'
    assert DIALECT.event_usage(b'data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1,'
                               b'"completion_tokens_details":{"reasoning_tokens":1}}}\n\n') == Usage(4, 1, reasoning=1)
    assert DIALECT.event_usage(b'data: {"choices":[{"delta":{}}],"usage":null}\n\n') is None


# --- the official SDK reading what we encode -----------------------------------------------------------


def sdk_client(body: bytes, content_type: str) -> openai.OpenAI:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    return openai.OpenAI(api_key="k", base_url="http://gateway.test/v1", max_retries=0,
                         http_client=httpx.Client(transport=httpx.MockTransport(handler)))


def sdk_stream_bytes() -> bytes:
    call = parse(model="anthropic/claude-sonnet-4-5", stream=True, stream_options={"include_usage": True})
    return DIALECT.stream_encoder(call).encode(events_from(load("encode_stream.events.json")))


WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "strict": True, "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
    "additionalProperties": False}}}


def test_the_sdk_parses_an_encoded_answer() -> None:
    answer = DIALECT.decode_answer(load("answer_reasoning_tools.json"))
    body = common.dumps(DIALECT.encode_answer(answer, parse(model="deepseek/deepseek-reasoner")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        completion = sdk_client(body, "application/json").chat.completions.create(
            model="deepseek/deepseek-reasoner", messages=[{"role": "user", "content": "weather?"}])
    message = completion.choices[0].message
    assert completion.model == "deepseek/deepseek-reasoner" and completion.choices[0].finish_reason == "tool_calls"
    assert message.content == "Let me check both cities."
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_00_paris", "get_weather", '{"city": "Paris"}'), ("call_01_lyon", "get_weather", '{"city": "Lyon"}')]
    assert message.model_extra["reasoning_content"] == "The user wants Paris and Lyon; two calls."
    assert completion.usage.prompt_tokens_details.cached_tokens == 64
    assert completion.usage.completion_tokens_details.reasoning_tokens == 40


def test_the_sdk_parses_an_encoded_stream_with_reasoning_and_parallel_tool_calls() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chunks = list(sdk_client(sdk_stream_bytes(), "text/event-stream").chat.completions.create(
            model="anthropic/claude-sonnet-4-5", messages=[{"role": "user", "content": "weather?"}], stream=True,
            stream_options={"include_usage": True}))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.model_extra.get("reasoning_content") or "" for d in deltas) == "Two cities, two calls."
    assert "".join(d.content or "" for d in deltas) == "Checking both."
    arguments: dict[int, str] = {}
    for delta in deltas:
        for call in delta.tool_calls or []:
            arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")
    assert arguments == {0: '{"city": "Paris"}', 1: '{"city": "Lyon"}'}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 205


def test_the_sdk_stream_helper_accumulates_tool_call_arguments() -> None:
    client = sdk_client(sdk_stream_bytes(), "text/event-stream")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with client.chat.completions.stream(model="anthropic/claude-sonnet-4-5", tools=[WEATHER_TOOL],
                                            messages=[{"role": "user", "content": "weather?"}]) as stream:
            done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
            final = stream.get_final_completion()
    assert [(e.index, e.parsed_arguments) for e in done] == [(0, {"city": "Paris"}), (1, {"city": "Lyon"})]
    message = final.choices[0].message
    assert message.content == "Checking both."
    assert [(c.id, c.function.parsed_arguments) for c in message.tool_calls] == [
        ("toolu_paris", {"city": "Paris"}), ("toolu_lyon", {"city": "Lyon"})]


def test_the_sdk_raises_the_fail_event_as_an_api_error() -> None:
    encoder = DIALECT.stream_encoder(parse(stream=True))
    body = encoder.encode([Start("a", "m"), BlockStart(0, "text"), Delta(0, "half")]) + encoder.fail("it broke")
    stream = sdk_client(body, "text/event-stream").chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
    with pytest.raises(openai.APIError, match="it broke"):
        for _ in stream:
            pass


@pytest.mark.parametrize("model,sent", [("gpt-4.1", False), ("openai/gpt-4o-mini", False), ("gpt-5", True),
                                        ("o4-mini", True), ("deepseek-reasoner", True), ("gpt-oss-120b", True)])
def test_reasoning_effort_goes_only_to_models_that_can_think(model: str, sent: bool) -> None:
    asked = Call(format="anthropic", model="x", messages=[Message("user", [Text("hi")])],
                 reasoning=Reasoning(effort="high"))
    body = json.loads(DIALECT.encode_request(asked, model).body)
    assert ("reasoning_effort" in body) is sent
