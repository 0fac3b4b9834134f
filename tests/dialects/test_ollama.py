"""The `ollama` dialect (native `/api/chat`, NDJSON streams): fixtures in fixtures/ollama/."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import warnings
from typing import Any

import httpx
import ollama
import pytest

from core.gateway.dialects import get
from core.gateway.dialects.common import (
    Answer, BlockStart, BlockStop, Call, Delta, Finish, Image, Message, Reasoning, ResponseFormat,
    SignatureDelta, Start, StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult, TranslationError,
    Usage,
)
from core.gateway.dialects.ollama import DIALECT, sniff_media_type, timestamp
from core.gateway.errors import GatewayError
from tests.dialects import helpers

fixture = helpers.fixtures("ollama")
raw = helpers.raw_fixtures("ollama")
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def as_dicts(events: list[Any]) -> list[dict[str, Any]]:
    """Events as comparable dicts; a Start's id is random, so it is left out."""
    out = []
    for event in events:
        item = {"type": type(event).__name__, **dataclasses.asdict(event)}
        if item["type"] == "Start":
            item.pop("id")
        out.append(item)
    return out


def ndjson(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().split("\n") if line]


def parse(**fields: Any) -> Call:
    return DIALECT.parse_request({"model": "llama3.2", **fields})


def user(content: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"role": "user", "content": content, **extra}


def call_of(messages: list[Message], **fields: Any) -> Call:
    return Call(format="openai", model="gpt-4o", messages=messages, **fields)


def upstream_body(call: Call, model: str = "qwen3:8b") -> dict[str, Any]:
    request = DIALECT.encode_request(call, model)
    return json.loads(request.body)


def decode_all(data: bytes) -> list[Any]:
    return helpers.decode_stream(DIALECT, data)


# A reply as the common form carries it: thinking, text, then a tool call whose arguments come in fragments.
REPLY_EVENTS = [
    Start("msg_1", "claude-sonnet-4"),
    BlockStart(0, "thinking"), Delta(0, "Weather "), Delta(0, "needed."), SignatureDelta(0, "sig", "anthropic"),
    BlockStop(0),
    BlockStart(1, "text"), Delta(1, "Checking"), Delta(1, " now."), BlockStop(1),
    BlockStart(2, "tool_call", id="toolu_01", name="get_weather"), Delta(2, '{"city": '), Delta(2, '"Paris"}'),
    BlockStop(2),
    Finish("tool_calls", Usage(prompt=30, completion=12, cached=10, reasoning=4)),
]
REPLY_ANSWER = Answer("msg_1", "claude-sonnet-4", [Thinking("Weather needed.", "sig", "anthropic"),
                                                    Text("Checking now."),
                                                    ToolCall("toolu_01", "get_weather", '{"city": "Paris"}')],
                      stop="tool_calls", usage=Usage(prompt=30, completion=12))


# --- the registry --------------------------------------------------------------------------------------


def test_registry_returns_this_dialect() -> None:
    assert get("ollama") is DIALECT
    assert DIALECT.name == "ollama"
    assert DIALECT.stream_media_type == "application/x-ndjson"


# --- parse_request -------------------------------------------------------------------------------------


def test_parse_request_converts_a_tool_history_as_recorded() -> None:
    payload = fixture("request_tool_history.json")
    call = DIALECT.parse_request(payload)
    converted = dataclasses.asdict(call)
    assert converted.pop("payload") == payload
    assert converted == fixture("request_tool_history.call.json")


def test_stream_defaults_to_true_when_absent() -> None:
    assert parse(messages=[user()]).stream is True


def test_stream_false_is_kept() -> None:
    assert parse(messages=[user()], stream=False).stream is False


def test_stream_argument_overrides_the_body() -> None:
    assert DIALECT.parse_request({"model": "m", "messages": [user()]}, stream=False).stream is False


def test_tool_call_ids_are_generated_stably_from_the_position() -> None:
    payload = fixture("request_tool_history.json")
    first = DIALECT.parse_request(payload).messages[1].parts
    second = DIALECT.parse_request(payload).messages[1].parts
    ids = [part.id for part in first if isinstance(part, ToolCall)]
    assert ids == ["call_2_0", "call_2_1"]
    assert ids == [part.id for part in second if isinstance(part, ToolCall)]


def test_tool_call_ids_sent_by_the_client_are_kept() -> None:
    call = parse(messages=[user(), {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_abc", "function": {"index": 0, "name": "f", "arguments": {}}}]}])
    assert call.messages[1].parts == [ToolCall("call_abc", "f", "{}")]


def _assistant_calls(*names: str, ids: bool = False) -> dict[str, Any]:
    calls = [{"function": {"name": name, "arguments": {"n": i}}} for i, name in enumerate(names)]
    if ids:
        for i, item in enumerate(calls):
            item["id"] = f"id{i}"
    return {"role": "assistant", "content": "", "tool_calls": calls}


def _result_ids(call: Call) -> list[str]:
    return [part.call_id for part in call.messages[-1].parts if isinstance(part, ToolResult)]


def test_tool_result_pairs_with_its_call_by_id() -> None:
    call = parse(messages=[user(), _assistant_calls("a", "a", ids=True),
                           {"role": "tool", "content": "second", "tool_call_id": "id1"},
                           {"role": "tool", "content": "first", "tool_call_id": "id0"}])
    assert _result_ids(call) == ["id1", "id0"]


def test_tool_result_pairs_with_the_earliest_unanswered_call_of_its_name() -> None:
    call = parse(messages=[user(), _assistant_calls("a", "b", "a"),
                           {"role": "tool", "content": "1", "tool_name": "a"},
                           {"role": "tool", "content": "2", "name": "a"},
                           {"role": "tool", "content": "3", "tool_name": "b"}])
    assert _result_ids(call) == ["call_1_0", "call_1_2", "call_1_1"]


def test_tool_result_without_a_name_pairs_with_the_latest_unanswered_call() -> None:
    call = parse(messages=[user(), _assistant_calls("a", "b"), {"role": "tool", "content": "x"}])
    result = call.messages[-1].parts[0]
    assert isinstance(result, ToolResult)
    assert (result.call_id, result.name) == ("call_1_1", "b")


def test_tool_results_and_the_next_user_message_merge_into_one_turn() -> None:
    call = parse(messages=[user(), _assistant_calls("a", "b"),
                           {"role": "tool", "content": "A", "tool_name": "a"},
                           {"role": "tool", "content": "B", "tool_name": "b"},
                           user("and now?")])
    assert [message.role for message in call.messages] == ["user", "assistant", "user"]
    assert [type(part).__name__ for part in call.messages[2].parts] == ["ToolResult", "ToolResult", "Text"]


def test_consecutive_user_messages_stay_separate_turns() -> None:
    call = parse(messages=[user("one"), user("two")])
    assert [message.parts for message in call.messages] == [[Text("one")], [Text("two")]]


def test_system_messages_become_the_call_system() -> None:
    call = parse(messages=[{"role": "system", "content": "Be brief."}, user(),
                           {"role": "system", "content": "Use French."}])
    assert call.system == [Text("Be brief."), Text("Use French.")]
    assert [message.role for message in call.messages] == ["user"]


def test_roles_are_read_case_insensitively_as_ollama_does() -> None:
    assert parse(messages=[{"role": "User", "content": "hi"}]).messages[0].role == "user"


def test_images_come_before_the_text_of_their_message() -> None:
    call = parse(messages=[user("what is this?", images=[PNG])])
    assert call.messages[0].parts == [Image(media_type="image/png", data=PNG), Text("what is this?")]


def test_images_on_a_tool_message_stay_in_the_tool_result() -> None:
    call = parse(messages=[user(), _assistant_calls("shot"),
                           {"role": "tool", "content": "screen", "tool_name": "shot", "images": [PNG]}])
    result = call.messages[-1].parts[0]
    assert isinstance(result, ToolResult)
    assert result.content == [Image(media_type="image/png", data=PNG), Text("screen")]


@pytest.mark.parametrize(("data", "media_type"), [
    (PNG, "image/png"),
    ("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcG", "image/jpeg"),
    ("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAA", "image/gif"),
    ("UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEA", "image/webp"),
    ("AAAAHGZ0eXBhdmlmAAAAAGF2aWZtaWYxbWlhZk1B", "image/png"),
    ("not base64 at all!", "image/png"),
])
def test_image_media_type_is_sniffed_from_the_base64_bytes(data: str, media_type: str) -> None:
    assert sniff_media_type(data) == media_type


def test_a_data_url_image_is_tolerated() -> None:
    call = parse(messages=[user("x", images=[f"data:image/jpeg;base64,{PNG}"])])
    assert call.messages[0].parts[0] == Image(media_type="image/jpeg", data=PNG)


def test_assistant_thinking_becomes_a_thinking_part_without_signature() -> None:
    call = parse(messages=[user(), {"role": "assistant", "content": "Hi.", "thinking": "Greet back."}])
    assert call.messages[1].parts == [Thinking("Greet back."), Text("Hi.")]


def test_tools_are_read_in_openai_style() -> None:
    call = parse(messages=[user()], tools=[{"type": "function", "function": {"name": "f"}}])
    assert call.tools == [Tool("f", None, {"type": "object", "properties": {}})]


def test_format_json_asks_for_a_json_object() -> None:
    assert parse(messages=[user()], format="json").response_format == ResponseFormat("json_object")


def test_format_schema_asks_for_that_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert parse(messages=[user()], format=schema).response_format == ResponseFormat("json_schema", schema=schema)


@pytest.mark.parametrize(("think", "reasoning"), [
    (True, Reasoning(enabled=True)),
    (False, Reasoning(enabled=False)),
    ("low", Reasoning(effort="low")),
    ("medium", Reasoning(effort="medium")),
    ("high", Reasoning(effort="high")),
    ("max", Reasoning(effort="high")),
    (None, None),
])
def test_think_becomes_reasoning(think: Any, reasoning: Reasoning | None) -> None:
    assert parse(messages=[user()], think=think).reasoning == reasoning


def test_options_map_onto_the_call() -> None:
    call = parse(messages=[user()], options={"temperature": 0.5, "top_p": 1, "top_k": 20.0, "num_predict": 64,
                                             "stop": ["\n\n"], "seed": 3, "num_ctx": 4096, "mirostat": 2})
    assert (call.temperature, call.top_p, call.top_k, call.max_tokens, call.stop, call.seed) == (
        0.5, 1, 20, 64, ["\n\n"], 3)


@pytest.mark.parametrize("num_predict", [-1, -2, 0])
def test_unlimited_num_predict_means_no_max_tokens(num_predict: int) -> None:
    assert parse(messages=[user()], options={"num_predict": num_predict}).max_tokens is None


def test_keep_alive_and_unknown_fields_are_ignored_but_kept_in_the_payload() -> None:
    call = parse(messages=[user()], keep_alive="10m", logprobs=True)
    assert call.payload["keep_alive"] == "10m" and call.payload["logprobs"] is True


@pytest.mark.parametrize(("payload", "field"), [
    ({"messages": [user()]}, "`model`"),
    ({"model": "m"}, "`messages`"),
    ({"model": "m", "messages": "hi"}, "`messages`"),
    ({"model": "m", "messages": [user()], "stream": "yes"}, "`stream`"),
    ({"model": "m", "messages": ["hi"]}, "`messages[0]`"),
    ({"model": "m", "messages": [{"role": "bot", "content": "x"}]}, "`messages[0].role`"),
    ({"model": "m", "messages": [user(), {"role": "user", "content": ["x"]}]}, "`messages[1].content`"),
    ({"model": "m", "messages": [user(images="abc")]}, "`messages[0].images`"),
    ({"model": "m", "messages": [user(images=[7])]}, "`messages[0].images[0]`"),
    ({"model": "m", "messages": [{"role": "system", "content": "s", "images": [PNG]}]}, "`messages[0].images`"),
    ({"model": "m", "messages": [{"role": "assistant", "content": "", "thinking": 1}]}, "`messages[0].thinking`"),
    ({"model": "m", "messages": [{"role": "assistant", "content": "", "tool_calls": [{"function": {}}]}]},
     "`messages[0].tool_calls[0].function.name`"),
    ({"model": "m", "messages": [{"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "f", "arguments": "{}"}}]}]}, "`messages[0].tool_calls[0].function.arguments`"),
    ({"model": "m", "messages": [{"role": "tool", "content": "r", "tool_name": 5}]}, "`messages[0].tool_name`"),
    ({"model": "m", "messages": [user()], "tools": [{"type": "code_interpreter"}]}, "`tools[0].type`"),
    ({"model": "m", "messages": [user()], "tools": [{"type": "function", "function": {"name": "f",
                                                                                       "parameters": []}}]},
     "`tools[0].function.parameters`"),
    ({"model": "m", "messages": [user()], "format": "yaml"}, "`format`"),
    ({"model": "m", "messages": [user()], "options": {"temperature": "hot"}}, "`options.temperature`"),
    ({"model": "m", "messages": [user()], "options": {"num_predict": 1.5}}, "`options.num_predict`"),
    ({"model": "m", "messages": [user()], "options": {"stop": "END"}}, "`options.stop`"),
    ({"model": "m", "messages": [user()], "options": {"seed": True}}, "`options.seed`"),
    ({"model": "m", "messages": [user()], "think": "extreme"}, "`think`"),
])
def test_invalid_fields_are_rejected_by_name(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(GatewayError) as caught:
        DIALECT.parse_request(payload)
    code = "invalid_model" if field == "`model`" else "invalid_request"
    assert (caught.value.status, caught.value.code) == (400, code)
    assert caught.value.message.startswith(field)


# --- encode_answer -------------------------------------------------------------------------------------


def test_encode_answer_matches_ollama_s_shape() -> None:
    payload = fixture("answer_thinking_tools.json")
    call = parse(messages=[user()])
    call.model = "qwen3:8b"
    assert DIALECT.encode_answer(DIALECT.decode_answer(payload), call) == fixture("answer_thinking_tools.client.json")


def test_encode_answer_uses_the_client_s_model_name() -> None:
    assert DIALECT.encode_answer(REPLY_ANSWER, parse(messages=[user()]))["model"] == "llama3.2"


def test_encode_answer_leaves_out_thinking_and_tool_calls_when_there_are_none() -> None:
    body = DIALECT.encode_answer(Answer("a", "m", [Text("Hi.")]), parse(messages=[user()]))
    assert body["message"] == {"role": "assistant", "content": "Hi."}


def test_encode_answer_reports_max_tokens_as_length() -> None:
    body = DIALECT.encode_answer(Answer("a", "m", [Text("Hi")], stop="max_tokens"), parse(messages=[user()]))
    assert body["done_reason"] == "length"


@pytest.mark.parametrize("stop", ["end", "tool_calls", "stop_sequence", "content_filter", "refusal"])
def test_encode_answer_reports_other_stops_as_stop(stop: Any) -> None:
    body = DIALECT.encode_answer(Answer("a", "m", [Text("")], stop=stop), parse(messages=[user()]))
    assert body["done_reason"] == "stop"


def test_created_at_is_rfc3339_utc_with_fractional_seconds() -> None:
    assert CREATED_AT.match(timestamp())
    assert timestamp(1735689600) == "2025-01-01T00:00:00.000000Z"


# --- stream encoder ------------------------------------------------------------------------------------


def _without_times(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for line in lines:
        assert CREATED_AT.match(line.pop("created_at"))
    return lines


def test_stream_encoder_writes_what_ollama_streams() -> None:
    call = parse(messages=[user()])
    call.model = "qwen3:8b"
    encoded = DIALECT.stream_encoder(call).encode(decode_all(raw("stream_thinking_tools.ndjson")))
    assert _without_times(ndjson(encoded)) == _without_times(ndjson(raw("stream_thinking_tools.client.ndjson")))


def test_stream_encoder_writes_one_whole_line_per_event_batch() -> None:
    encoder = DIALECT.stream_encoder(parse(messages=[user()]))
    for event in REPLY_EVENTS:
        data = encoder.encode([event])
        assert data == b"" or (data.endswith(b"\n") and all(json.loads(line) for line in data.splitlines()))


def test_stream_encoder_sends_a_tool_call_whole_at_its_block_stop() -> None:
    encoder = DIALECT.stream_encoder(parse(messages=[user()]))
    assert b"tool_calls" not in encoder.encode(REPLY_EVENTS[:13])  # up to the last argument fragment
    line = json.loads(encoder.encode([REPLY_EVENTS[13]]))  # its BlockStop
    assert line["message"] == {"role": "assistant", "content": "", "tool_calls": [
        {"id": "toolu_01", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}]}
    assert line["done"] is False


def test_stream_encoder_ends_with_the_done_chunk_and_counts() -> None:
    lines = ndjson(DIALECT.stream_encoder(parse(messages=[user()])).encode(REPLY_EVENTS))
    assert {key: value for key, value in lines[-1].items() if key != "created_at"} == {
        "model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
        "total_duration": 0, "load_duration": 0, "prompt_eval_count": 30, "prompt_eval_duration": 0,
        "eval_count": 12, "eval_duration": 0}


def test_stream_encoder_fail_writes_an_error_line() -> None:
    assert DIALECT.stream_encoder(parse(messages=[user()])).fail("upstream broke") == b'{"error":"upstream broke"}\n'


def test_stream_encoder_turns_a_stream_error_event_into_an_error_line() -> None:
    encoder = DIALECT.stream_encoder(parse(messages=[user()]))
    assert ndjson(encoder.encode([StreamError("cut off")])) == [{"error": "cut off"}]


def test_stream_encoder_output_decodes_back_to_the_same_content() -> None:
    encoded = DIALECT.stream_encoder(parse(messages=[user()])).encode(REPLY_EVENTS)
    events = decode_all(encoded)
    texts = [event.text for event in events if isinstance(event, Delta)]
    assert texts == ["Weather ", "needed.", "Checking", " now.", '{"city":"Paris"}']
    assert isinstance(events[-1], Finish) and events[-1].usage == Usage(prompt=30, completion=12)


# --- encode_request ------------------------------------------------------------------------------------


def test_encode_request_writes_the_parsed_history_back_as_ollama_takes_it() -> None:
    call = DIALECT.parse_request(fixture("request_tool_history.json"))
    request = DIALECT.encode_request(call, "qwen3:14b")
    assert request.path == "/api/chat"
    assert json.loads(request.body) == fixture("request_tool_history.upstream.json")


def test_encode_request_sends_stream_explicitly() -> None:
    assert upstream_body(call_of([Message("user", [Text("hi")])]))["stream"] is False


def test_encode_request_puts_tool_results_before_the_turn_s_text() -> None:
    call = call_of([Message("user", [Text("hi")]),
                    Message("assistant", [ToolCall("toolu_1", "get_weather", '{"city":"Oslo"}')]),
                    Message("user", [Text("also this"), ToolResult("toolu_1", [Text("-3 °C")])])])
    assert upstream_body(call)["messages"][2:] == [
        {"role": "tool", "content": "-3 °C", "tool_name": "get_weather", "tool_call_id": "toolu_1"},
        {"role": "user", "content": "also this"}]


def test_encode_request_sends_tool_call_arguments_as_objects() -> None:
    call = call_of([Message("user", [Text("hi")]),
                    Message("assistant", [ToolCall("toolu_1", "f", '{"a": [1, 2]}'), ToolCall("toolu_2", "g", "")])])
    assert upstream_body(call)["messages"][1]["tool_calls"] == [
        {"id": "toolu_1", "function": {"index": 0, "name": "f", "arguments": {"a": [1, 2]}}},
        {"id": "toolu_2", "function": {"index": 1, "name": "g", "arguments": {}}}]


def test_encode_request_sends_thinking_text_without_its_signature() -> None:
    call = call_of([Message("user", [Text("hi")]),
                    Message("assistant", [Thinking("Hmm.", "sig", "anthropic"), Text("Hello.")])])
    assert upstream_body(call)["messages"][1] == {"role": "assistant", "content": "Hello.", "thinking": "Hmm."}


def test_encode_request_sends_inline_images_as_base64() -> None:
    call = call_of([Message("user", [Image("image/png", PNG), Text("what?")])])
    assert upstream_body(call)["messages"] == [{"role": "user", "content": "what?", "images": [PNG]}]


def test_encode_request_refuses_an_image_by_url() -> None:
    call = call_of([Message("user", [Image(url="https://example.com/cat.png")])])
    with pytest.raises(TranslationError, match="inline base64"):
        DIALECT.encode_request(call, "llava")


def test_encode_request_joins_the_system_prompt_into_one_system_message() -> None:
    call = call_of([Message("user", [Text("hi")])], system=[Text("Be brief."), Text("Use French.")])
    assert upstream_body(call)["messages"][0] == {"role": "system", "content": "Be brief.\nUse French."}


def test_encode_request_maps_sampling_parameters_to_options() -> None:
    call = call_of([Message("user", [Text("hi")])], max_tokens=100, temperature=0.1, top_p=0.8, top_k=5,
                   stop=["END"], seed=9)
    assert upstream_body(call)["options"] == {"temperature": 0.1, "top_p": 0.8, "top_k": 5, "num_predict": 100,
                                              "stop": ["END"], "seed": 9}


@pytest.mark.parametrize(("response_format", "wire"), [
    (ResponseFormat("json_object"), "json"),
    (ResponseFormat("json_schema", schema={"type": "object"}, name="x", strict=True), {"type": "object"}),
])
def test_encode_request_maps_the_response_format(response_format: ResponseFormat, wire: Any) -> None:
    call = call_of([Message("user", [Text("hi")])], response_format=response_format)
    assert upstream_body(call)["format"] == wire


@pytest.mark.parametrize(("reasoning", "model", "think"), [
    (Reasoning(), "qwen3:8b", True),
    (Reasoning(budget=2048), "qwen3:8b", True),
    (Reasoning(effort="medium"), "qwen3:8b", True),  # levels are gpt-oss's; other models take true/false
    (Reasoning(effort="minimal"), "gpt-oss:20b", "low"),
    (Reasoning(effort="medium"), "gpt-oss:20b", "medium"),
    (Reasoning(enabled=False), "gpt-oss:20b", False),
])
def test_encode_request_maps_reasoning_to_think(reasoning: Reasoning, model: str, think: Any) -> None:
    assert upstream_body(call_of([Message("user", [Text("hi")])], reasoning=reasoning), model)["think"] == think


def test_encode_request_leaves_think_out_when_not_asked() -> None:
    assert "think" not in upstream_body(call_of([Message("user", [Text("hi")])]))


TOOLS = [Tool("a", "first", {"type": "object", "properties": {}}), Tool("b", None, {"type": "object"})]


def test_encode_request_sends_tools_in_openai_style() -> None:
    assert upstream_body(call_of([Message("user", [Text("hi")])], tools=TOOLS))["tools"] == [
        {"type": "function", "function": {"name": "a", "description": "first",
                                          "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}]


def test_encode_request_tool_choice_none_sends_no_tools() -> None:
    call = call_of([Message("user", [Text("hi")])], tools=TOOLS, tool_choice=ToolChoice("none"))
    assert "tools" not in upstream_body(call)


def test_encode_request_a_forced_tool_is_the_only_one_sent() -> None:
    call = call_of([Message("user", [Text("hi")])], tools=TOOLS, tool_choice=ToolChoice("tool", "b"))
    assert [tool["function"]["name"] for tool in upstream_body(call)["tools"]] == ["b"]


# --- passthrough_request -------------------------------------------------------------------------------


def test_passthrough_replaces_only_the_model() -> None:
    payload = fixture("request_tool_history.json")
    request = DIALECT.passthrough_request(DIALECT.parse_request(payload), "qwen3:32b")
    assert request.path == "/api/chat"
    assert json.loads(request.body) == {**payload, "model": "qwen3:32b"}


def test_passthrough_keeps_an_absent_stream_absent() -> None:
    call = parse(messages=[user()])
    assert "stream" not in json.loads(DIALECT.passthrough_request(call, "x").body)


# --- decode_answer -------------------------------------------------------------------------------------


def test_decode_answer_reads_thinking_text_and_tool_calls() -> None:
    answer = dataclasses.asdict(DIALECT.decode_answer(fixture("answer_thinking_tools.json")))
    assert answer.pop("id").startswith("ollama-")
    assert answer == fixture("answer_thinking_tools.answer.json")


def test_decode_answer_gives_ids_to_tool_calls_without_one() -> None:
    answer = DIALECT.decode_answer({"model": "m", "message": {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "f", "arguments": {"x": 1}}}, {"function": {"name": "f", "arguments": {}}}]},
        "done": True, "done_reason": "stop"})
    ids = [part.id for part in answer.parts if isinstance(part, ToolCall)]
    assert all(re.fullmatch(r"call_[a-z0-9]{8}", call_id) for call_id in ids) and len(set(ids)) == 2


def test_decode_answer_reads_length_as_max_tokens() -> None:
    answer = DIALECT.decode_answer({"model": "m", "message": {"role": "assistant", "content": "Once upon"},
                                    "done": True, "done_reason": "length", "eval_count": 2})
    assert (answer.stop, answer.parts, answer.usage) == ("max_tokens", [Text("Once upon")], Usage(completion=2))


# --- stream decoder ------------------------------------------------------------------------------------


def test_stream_decoder_yields_the_recorded_events() -> None:
    assert as_dicts(decode_all(raw("stream_thinking_tools.ndjson"))) == fixture("stream_thinking_tools.events.json")


def test_stream_decoder_gives_the_same_events_byte_by_byte() -> None:
    data = raw("stream_thinking_tools.ndjson")
    decoder = DIALECT.stream_decoder()
    events = [event for i in range(len(data)) for event in decoder.feed(data[i:i + 1])] + decoder.close()
    assert as_dicts(events) == fixture("stream_thinking_tools.events.json")


@pytest.mark.parametrize("seed", range(5))
def test_stream_decoder_gives_the_same_events_in_random_cuts(seed: int) -> None:
    data = raw("stream_thinking_tools.ndjson")
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 25))
    decoder = DIALECT.stream_decoder()
    events = [event for start, end in zip([0, *cuts], [*cuts, len(data)]) for event in decoder.feed(data[start:end])]
    assert as_dicts(events + decoder.close()) == fixture("stream_thinking_tools.events.json")


def test_stream_decoder_finishes_on_a_last_line_without_newline() -> None:
    data = raw("stream_thinking_tools.ndjson").rstrip(b"\n")
    assert as_dicts(decode_all(data)) == fixture("stream_thinking_tools.events.json")


def test_stream_decoder_turns_an_error_line_into_a_stream_error() -> None:
    events = decode_all(raw("stream_interrupted.ndjson"))
    assert [type(event).__name__ for event in events] == ["Start", "BlockStart", "Delta", "Delta", "StreamError"]
    assert events[-1] == StreamError("an error was encountered while running the model", "upstream_error")


def test_stream_decoder_reports_a_stream_that_ends_without_done() -> None:
    data = b"".join(raw("stream_thinking_tools.ndjson").splitlines(keepends=True)[:3])
    events = decode_all(data)
    assert isinstance(events[-1], StreamError)
    assert not any(isinstance(event, Finish) for event in events)


def test_stream_decoder_reports_an_empty_stream() -> None:
    assert [type(event) for event in decode_all(b"")] == [StreamError]


def test_stream_decoder_reads_content_in_the_done_chunk() -> None:
    data = (b'{"model":"m","created_at":"2025-10-26T17:15:24.166576Z","message":{"role":"assistant",'
            b'"content":"Hi!"},"done":true,"done_reason":"length","prompt_eval_count":5,"eval_count":1}\n')
    assert as_dicts(decode_all(data)) == as_dicts([
        Start("", "m"), BlockStart(0, "text"), Delta(0, "Hi!"), BlockStop(0),
        Finish("max_tokens", Usage(prompt=5, completion=1))])


# --- errors and usage ----------------------------------------------------------------------------------


def test_error_message_reads_the_error_field() -> None:
    body = b'{"error":"model \'nope\' not found"}'
    assert DIALECT.error_message(json.loads(body), body) == "model 'nope' not found"


def test_error_message_falls_back_to_the_body_text() -> None:
    assert DIALECT.error_message(None, b"  502 Bad Gateway\n") == "502 Bad Gateway"


def test_error_body_is_ollama_s_error_object() -> None:
    assert DIALECT.error_body(404, "no such model", "model_not_found") == {"error": "no such model"}


def test_answer_usage_reads_the_eval_counts() -> None:
    assert DIALECT.answer_usage(fixture("answer_thinking_tools.json")) == Usage(prompt=212, completion=87)


def test_event_usage_reads_the_final_line() -> None:
    final = raw("stream_thinking_tools.ndjson").splitlines()[-1]
    assert DIALECT.usage_marker in final
    assert DIALECT.event_usage(final + b"\n") == Usage(prompt=212, completion=87)


def test_event_usage_ignores_other_lines() -> None:
    first = raw("stream_thinking_tools.ndjson").splitlines()[0]
    assert DIALECT.usage_marker not in first
    assert DIALECT.event_usage(first) is None
    assert DIALECT.event_usage(b"{not json") is None


# --- the official SDK reads what we write --------------------------------------------------------------


def sdk_client(respond: Any, seen: list[Call]) -> ollama.Client:
    """An `ollama.Client` whose HTTP goes to `respond(call)`: the SDK's own request is parsed by us first."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/chat"
        call = DIALECT.parse_request(json.loads(request.content))
        seen.append(call)
        return respond(call)

    return ollama.Client(host="http://ollama.test", transport=httpx.MockTransport(handler))


SDK_MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]
SDK_TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                               "parameters": {"type": "object",
                                                              "properties": {"city": {"type": "string"}}}}}]


def test_sdk_reads_an_answer_with_thinking_and_a_tool_call() -> None:
    seen: list[Call] = []
    client = sdk_client(lambda call: httpx.Response(200, json=DIALECT.encode_answer(REPLY_ANSWER, call)), seen)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = client.chat(model="qwen3:8b", messages=SDK_MESSAGES, tools=SDK_TOOLS, think=True)
    assert caught == []
    assert (seen[0].stream, seen[0].reasoning, seen[0].tools[0].name) == (False, Reasoning(), "get_weather")
    assert response.model == "qwen3:8b" and response.done is True and response.done_reason == "stop"
    assert response.message.thinking == "Weather needed."
    assert response.message.content == "Checking now."
    assert response.message.tool_calls is not None
    assert response.message.tool_calls[0].function.name == "get_weather"
    assert response.message.tool_calls[0].function.arguments == {"city": "Paris"}
    assert (response.prompt_eval_count, response.eval_count) == (30, 12)


def test_sdk_reads_our_stream() -> None:
    seen: list[Call] = []

    def respond(call: Call) -> httpx.Response:
        body = DIALECT.stream_encoder(call).encode(REPLY_EVENTS)
        return httpx.Response(200, content=body, headers={"content-type": DIALECT.stream_media_type})

    client = sdk_client(respond, seen)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chunks = list(client.chat(model="qwen3:8b", messages=SDK_MESSAGES, tools=SDK_TOOLS, stream=True))
    assert caught == []
    assert seen[0].stream is True
    assert "".join(chunk.message.thinking or "" for chunk in chunks) == "Weather needed."
    assert "".join(chunk.message.content or "" for chunk in chunks) == "Checking now."
    calls = [tool_call for chunk in chunks for tool_call in chunk.message.tool_calls or []]
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert [chunk.done for chunk in chunks] == [False] * (len(chunks) - 1) + [True]
    assert (chunks[-1].done_reason, chunks[-1].prompt_eval_count, chunks[-1].eval_count) == ("stop", 30, 12)


def test_sdk_raises_our_mid_stream_error() -> None:
    def respond(call: Call) -> httpx.Response:
        encoder = DIALECT.stream_encoder(call)
        body = encoder.encode(REPLY_EVENTS[:4]) + encoder.fail("upstream went away")
        return httpx.Response(200, content=body, headers={"content-type": DIALECT.stream_media_type})

    client = sdk_client(respond, [])
    with pytest.raises(ollama.ResponseError, match="upstream went away"):
        list(client.chat(model="qwen3:8b", messages=SDK_MESSAGES, stream=True))


def test_sdk_raises_our_error_body() -> None:
    client = sdk_client(lambda call: httpx.Response(404, json=DIALECT.error_body(404, "no such model", "x")), [])
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="nope", messages=SDK_MESSAGES)
    assert (caught.value.error, caught.value.status_code) == ("no such model", 404)
