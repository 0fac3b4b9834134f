"""The Anthropic Messages dialect: requests parsed and encoded, answers and streams both ways, errors, usage,
and what the official `anthropic` SDK makes of what we send it."""

from __future__ import annotations

import json
import random
import warnings
from typing import Any

import anthropic
import httpx2
import pytest

from core.gateway.dialects import common, get
from core.gateway.dialects.anthropic import DIALECT
from core.gateway.dialects.common import DROPPED_TOOLS, UNTRANSLATABLE
from core.gateway.dialects.common import (
    Answer, BlockStart, BlockStop, Call, Delta, Finish, Image, Message, Reasoning, ResponseFormat,
    SignatureDelta, Start, StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult, Usage,
)
from core.gateway.errors import GatewayError
from tests.dialects import helpers
from tests.dialects.helpers import plain

fixture = helpers.fixtures("anthropic")
MODEL = "claude-sonnet-4-6"
WEATHER = Tool("get_weather", "Current weather of a city.",
               {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def parse(**fields: Any) -> Call:
    payload = {"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": "Hi"}], **fields}
    return DIALECT.parse_request(payload)


def call(messages: list[Message] | None = None, **fields: Any) -> Call:
    return Call(format="openai", model="gpt-4.1", messages=messages or [Message("user", [Text("Hi")])], **fields)


def request_body(the_call: Call) -> dict[str, Any]:
    return json.loads(DIALECT.encode_request(the_call, MODEL).body)


def bad_field(payload: dict[str, Any]) -> str:
    with pytest.raises(GatewayError) as raised:
        DIALECT.parse_request(payload)
    assert raised.value.status == 400 and raised.value.code == "invalid_request"
    return raised.value.message


def decode_stream(data: bytes, cuts: list[int] | None = None) -> list[Any]:
    return helpers.decode_stream(DIALECT, data, cuts)


def encode_stream(events: list[Any], the_call: Call) -> list[bytes]:
    encoder = DIALECT.stream_encoder(the_call)
    return [encoder.encode([event]) for event in events]


# --- the registry --------------------------------------------------------------------------------------


def test_registry_serves_this_dialect() -> None:
    assert get("anthropic") is DIALECT
    assert DIALECT.stream_media_type == "text/event-stream" and DIALECT.usage_marker == b'"usage"'


# --- parse_request -------------------------------------------------------------------------------------


def test_parse_full_request_matches_fixture() -> None:
    payload = fixture("request_full.json")
    parsed = DIALECT.parse_request(payload)
    assert plain(parsed) == fixture("request_full.call.json")
    assert parsed.payload is payload


def test_parse_requires_max_tokens() -> None:
    message = bad_field({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
    assert "`max_tokens` must be a positive integer" in message


def test_parse_refuses_zero_max_tokens() -> None:
    assert "`max_tokens`" in bad_field({"model": MODEL, "max_tokens": 0, "messages": []})


def test_parse_refuses_empty_messages() -> None:
    assert "`messages` must be a non-empty array" in bad_field({"model": MODEL, "max_tokens": 5, "messages": []})


def test_parse_names_a_bad_role() -> None:
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "a"},
                                                            {"role": "tool", "content": "b"}]}
    assert "`messages[1].role`" in bad_field(payload)


def test_parse_names_a_bad_nested_field() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": 7}}
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": [image]}]}
    assert "`messages[0].content[0].source.data` must be a string" in bad_field(payload)


def test_parse_refuses_tool_use_in_a_user_turn() -> None:
    block = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": [block]}]}
    assert "`messages[0].content[0].type`" in bad_field(payload)


def test_parse_refuses_non_object_tool_input() -> None:
    block = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": "[]"}
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "a"},
                                                            {"role": "assistant", "content": [block]}]}
    assert "`messages[1].content[0].input` must be an object" in bad_field(payload)


def test_parse_string_content_and_system() -> None:
    parsed = parse(system="Be brief.")
    assert parsed.system == [Text("Be brief.")]
    assert parsed.messages == [Message("user", [Text("Hi")])]


def test_parse_model_and_stream_from_arguments_win() -> None:
    parsed = DIALECT.parse_request({"max_tokens": 5, "messages": [{"role": "user", "content": "a"}]},
                                   model="claude-haiku-4-5", stream=True)
    assert parsed.model == "claude-haiku-4-5" and parsed.stream is True


def test_parse_unwraps_a_foreign_thinking_signature() -> None:
    signature = common.wrap_signature("gAAAAABencrypted", "responses")
    turn = {"role": "assistant", "content": [{"type": "thinking", "thinking": "", "signature": signature}]}
    parsed = parse(messages=[{"role": "user", "content": "a"}, turn])
    assert parsed.messages[1].parts == [Thinking("", signature="gAAAAABencrypted", origin="responses")]


def test_parse_keeps_an_empty_signature_as_none() -> None:
    turn = {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": ""}]}
    parsed = parse(messages=[{"role": "user", "content": "a"}, turn])
    assert parsed.messages[1].parts == [Thinking("hmm")]


def test_parse_redacted_thinking() -> None:
    turn = {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "EmwKAhgB"}]}
    parsed = parse(messages=[{"role": "user", "content": "a"}, turn])
    assert parsed.messages[1].parts == [Thinking("", redacted="EmwKAhgB", origin="anthropic")]


def test_parse_records_a_builtin_tool_as_an_offer_other_formats_leave_out() -> None:
    parsed = parse(tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}])
    assert parsed.tools == []
    assert parsed.meta[DROPPED_TOOLS] == ["web_search"] and UNTRANSLATABLE not in parsed.meta


def test_parse_takes_a_custom_typed_tool_as_a_tool() -> None:
    parsed = parse(tools=[{"type": "custom", "name": "f", "input_schema": {"type": "object"}}])
    assert parsed.tools == [Tool("f", None, {"type": "object"})] and UNTRANSLATABLE not in parsed.meta


def test_parse_records_a_document_block_as_untranslatable() -> None:
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
    parsed = parse(messages=[{"role": "user", "content": [document, {"type": "text", "text": "Sum it up"}]}])
    assert parsed.messages[0].parts == [Text("Sum it up")]
    assert "`messages[0].content[0]` is a `document` block" in parsed.meta[UNTRANSLATABLE][0]


def test_parse_tool_choice_any_without_parallel_calls() -> None:
    parsed = parse(tool_choice={"type": "any", "disable_parallel_tool_use": True})
    assert parsed.tool_choice == ToolChoice("required") and parsed.parallel_tool_calls is False


def test_parse_tool_choice_tool_needs_a_name() -> None:
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "a"}],
               "tool_choice": {"type": "tool"}}
    assert "`tool_choice.name` must be a string" in bad_field(payload)


def test_parse_refuses_an_unknown_tool_choice() -> None:
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "a"}],
               "tool_choice": {"type": "required"}}
    assert "`tool_choice.type`" in bad_field(payload)


def test_parse_thinking_disabled() -> None:
    assert parse(thinking={"type": "disabled"}).reasoning == Reasoning(enabled=False)


def test_parse_adaptive_thinking_takes_its_effort() -> None:
    parsed = parse(thinking={"type": "adaptive"}, output_config={"effort": "max"})
    assert parsed.reasoning == Reasoning(effort="high")


def test_parse_refuses_thinking_without_budget() -> None:
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "a"}],
               "thinking": {"type": "enabled"}}
    assert "`thinking.budget_tokens`" in bad_field(payload)


def test_parse_output_format_schema_is_a_response_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    parsed = parse(output_config={"format": {"type": "json_schema", "schema": schema}})
    assert parsed.response_format == ResponseFormat("json_schema", schema=schema)


# --- encode_answer -------------------------------------------------------------------------------------


def weather_answer() -> Answer:
    return Answer(id="msg_01Aq9w938a90dw8q", model="claude-sonnet-4-5-20250929", stop="tool_calls", parts=[
        Thinking("Two cities.", signature="EqQBCgIYAhIM1gbcDa9G", origin="anthropic"),
        Text("Checking both."),
        ToolCall("toolu_01A", "get_weather", '{"city": "Paris"}'),
        ToolCall("toolu_01B", "get_weather", '{"city":"東京"}'),
    ], usage=Usage(prompt=2620, completion=89, cached=2048, cache_write=100, reasoning=40))


def test_encode_answer_matches_fixture() -> None:
    assert DIALECT.encode_answer(weather_answer(), parse()) == fixture("answer_encoded.json")


def test_encode_answer_input_tokens_leave_out_the_cache() -> None:
    usage = DIALECT.encode_answer(weather_answer(), parse())["usage"]
    assert (usage["input_tokens"], usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]) \
        == (472, 2048, 100)


def test_encode_answer_wraps_a_foreign_signature() -> None:
    answer = Answer("resp_1", "o3", [Thinking("", signature="gAAAAB", origin="responses"), Text("ok")])
    block = DIALECT.encode_answer(answer, parse())["content"][0]
    assert block == {"type": "thinking", "thinking": "", "signature": common.wrap_signature("gAAAAB", "responses")}


def test_encode_answer_gives_unsigned_thinking_an_empty_signature() -> None:
    answer = Answer("chatcmpl-1", "deepseek-reasoner", [Thinking("why"), Text("ok")])
    assert DIALECT.encode_answer(answer, parse())["content"][0] == {"type": "thinking", "thinking": "why",
                                                                   "signature": ""}


def test_encode_answer_names_a_foreign_id_as_a_message() -> None:
    answer = Answer("chatcmpl-9", "gpt-4.1", [Text("ok")])
    assert DIALECT.encode_answer(answer, parse())["id"] == "msg_chatcmpl-9"


@pytest.mark.parametrize(("stop", "wire"), [("end", "end_turn"), ("max_tokens", "max_tokens"),
                                            ("tool_calls", "tool_use"), ("refusal", "refusal"),
                                            ("content_filter", "refusal")])
def test_encode_answer_stop_reason(stop: str, wire: str) -> None:
    answer = Answer("msg_1", "m", [Text("ok")], stop=stop)  # type: ignore[arg-type]
    assert DIALECT.encode_answer(answer, parse())["stop_reason"] == wire


def test_encode_answer_names_the_stop_sequence() -> None:
    answer = Answer("msg_1", "m", [Text("ok")], stop="stop_sequence", stop_sequence="END")
    encoded = DIALECT.encode_answer(answer, parse())
    assert (encoded["stop_reason"], encoded["stop_sequence"]) == ("stop_sequence", "END")


def test_a_tool_call_signature_comes_back_onto_its_tool_call() -> None:
    answer = Answer("g1", "gemini-3-pro", [ToolCall("call_1", "get_weather", '{"city":"Paris"}',
                                                    signature="CiQBjz1rX", origin="gemini")], stop="tool_calls")
    content = DIALECT.encode_answer(answer, parse())["content"]
    turns = [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": content},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "15°C"}]}]
    parsed = parse(messages=turns)
    assert parsed.messages[1].parts == [ToolCall("call_1", "get_weather", '{"city":"Paris"}',
                                                 signature="CiQBjz1rX", origin="gemini")]


def test_parallel_tool_call_signatures_find_their_calls_when_the_client_puts_thinking_first() -> None:
    # Claude Code sends an assistant turn back with every thinking block first.
    answer = Answer("g1", "gemini-3-pro", [ToolCall("call.a", "f", "{}", signature="SIG_A", origin="gemini"),
                                           ToolCall("call.b", "g", "{}", signature="SIG_B", origin="gemini")],
                    stop="tool_calls")
    content = DIALECT.encode_answer(answer, parse())["content"]
    reordered = ([block for block in content if block["type"] == "thinking"]
                 + [block for block in content if block["type"] != "thinking"])
    results = [{"type": "tool_result", "tool_use_id": i, "content": "ok"} for i in ("call.a", "call.b")]
    parsed = parse(messages=[{"role": "user", "content": "go"}, {"role": "assistant", "content": reordered},
                             {"role": "user", "content": results}])
    assert parsed.messages[1].parts == [ToolCall("call.a", "f", "{}", signature="SIG_A", origin="gemini"),
                                        ToolCall("call.b", "g", "{}", signature="SIG_B", origin="gemini")]


# --- stream encoder ------------------------------------------------------------------------------------


def test_stream_encoder_matches_fixture() -> None:
    events = decode_stream(fixture("stream_thinking_tools.sse").encode())
    assert b"".join(encode_stream(events, parse())).decode() == fixture("stream_encoded.sse")


def test_stream_encoder_writes_whole_events() -> None:
    events = decode_stream(fixture("stream_thinking_tools.sse").encode())
    for chunk in encode_stream(events, parse()):
        assert chunk == b"" or (chunk.startswith(b"event: ") and chunk.endswith(b"\n\n"))


def test_stream_encoder_joins_signature_pieces_into_one_delta() -> None:
    events = [Start("msg_1", "m"), BlockStart(0, "thinking"), Delta(0, "hm"),
              SignatureDelta(0, "abc", "anthropic"), SignatureDelta(0, "def", "anthropic"), BlockStop(0),
              Finish("end")]
    decoded = decode_stream(b"".join(encode_stream(events, parse())))
    assert [event for event in decoded if isinstance(event, SignatureDelta)] == [SignatureDelta(0, "abcdef",
                                                                                                "anthropic")]


def test_stream_encoder_wraps_a_foreign_signature_whole() -> None:
    events = [Start("msg_1", "m"), BlockStart(0, "thinking"), SignatureDelta(0, "sig", "gemini"), BlockStop(0),
              Finish("end")]
    decoded = decode_stream(b"".join(encode_stream(events, parse())))
    assert SignatureDelta(0, common.wrap_signature("sig", "gemini"), "anthropic") in decoded


def test_stream_encoder_sends_a_redacted_block_whole() -> None:
    events = [Start("msg_1", "m"), BlockStart(0, "thinking", redacted="EmwK", origin="anthropic"), BlockStop(0),
              Finish("end")]
    text = b"".join(encode_stream(events, parse())).decode()
    assert '"content_block":{"type":"redacted_thinking","data":"EmwK"}' in text


def test_stream_encoder_fail_sends_an_error_event() -> None:
    encoder = DIALECT.stream_encoder(parse())
    encoder.encode([Start("msg_1", "m")])
    assert encoder.fail("upstream broke") == (b'event: error\ndata: {"type":"error","error":'
                                              b'{"type":"api_error","message":"upstream broke"}}\n\n')


def test_stream_encoder_closes_an_open_block_at_finish() -> None:
    events = [Start("msg_1", "m"), BlockStart(0, "text"), Delta(0, "hi"), Finish("end")]
    decoded = decode_stream(b"".join(encode_stream(events, parse())))
    assert decoded[-2:] == [BlockStop(0), Finish("end", Usage())]


# --- the official SDK reading what we send -------------------------------------------------------------


def sdk_client(status: int, body: bytes, content_type: str) -> anthropic.Anthropic:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body, headers={"content-type": content_type})

    return anthropic.Anthropic(api_key="unused", base_url="http://gateway.test", max_retries=0,
                               http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))


def sdk_stream_client(events: list[Any], the_call: Call) -> anthropic.Anthropic:
    return sdk_client(200, b"".join(encode_stream(events, the_call)), "text/event-stream")


SDK_ARGS = {"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": "Weather?"}]}


def test_sdk_reads_an_answer() -> None:
    body = json.dumps(DIALECT.encode_answer(weather_answer(), parse())).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        message = sdk_client(200, body, "application/json").messages.create(**SDK_ARGS)
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert message.content[0].signature == "EqQBCgIYAhIM1gbcDa9G"
    assert message.content[3].input == {"city": "東京"}
    assert message.stop_reason == "tool_use" and message.model == MODEL
    assert message.usage.input_tokens == 472 and message.usage.cache_read_input_tokens == 2048


def test_sdk_accumulates_a_stream() -> None:
    events = decode_stream(fixture("stream_thinking_tools.sse").encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with sdk_stream_client(events, parse()).messages.stream(**SDK_ARGS) as stream:
            message = stream.get_final_message()
    thinking, text, first, second = message.content
    assert (thinking.thinking, thinking.signature) == ("Two cities, so two calls — 東京 too.",
                                                       "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds==")
    assert text.text == "I'll check both."
    assert (first.id, first.input) == ("toolu_01A09q90qw90lq917835lq9", {"city": "Paris"})
    assert (second.id, second.input) == ("toolu_01B18r81rx81mr826724mr8", {"city": "Tokyo"})
    assert message.stop_reason == "tool_use" and message.id == "msg_01Xq7Ep4yVQ2T5o6WnSxZ8Ab"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (472, 89)


def test_sdk_carries_a_tool_call_signature_back_to_us() -> None:
    events = [Start("g1", "gemini-3-pro"), BlockStart(0, "tool_call", id="call_1", name="get_weather"),
              Delta(0, '{"city":"Paris"}'), SignatureDelta(0, "CiQBjz1rX", "gemini"), BlockStop(0),
              Finish("tool_calls")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with sdk_stream_client(events, parse()).messages.stream(**SDK_ARGS) as stream:
            message = stream.get_final_message()
    assert [block.type for block in message.content] == ["tool_use", "thinking"]
    turns = [{"role": "user", "content": "Weather?"},
             {"role": "assistant", "content": [block.to_dict() for block in message.content]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "15°C"}]}]
    assert parse(messages=turns).messages[1].parts == [
        ToolCall("call_1", "get_weather", '{"city":"Paris"}', signature="CiQBjz1rX", origin="gemini")]


def test_sdk_reads_redacted_thinking_in_a_stream() -> None:
    events = [Start("msg_1", "m"), BlockStart(0, "thinking", redacted="EmwKAhgB", origin="anthropic"), BlockStop(0),
              BlockStart(1, "text"), Delta(1, "ok"), BlockStop(1), Finish("end")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with sdk_stream_client(events, parse()).messages.stream(**SDK_ARGS) as stream:
            message = stream.get_final_message()
    assert message.content[0].type == "redacted_thinking" and message.content[0].data == "EmwKAhgB"
    assert message.content[1].text == "ok" and message.stop_reason == "end_turn"


def test_sdk_raises_a_stream_that_fails() -> None:
    encoder = DIALECT.stream_encoder(parse())
    body = encoder.encode([Start("msg_1", "m"), BlockStart(0, "text"), Delta(0, "Hel")]) + encoder.fail("broke")
    with pytest.raises(anthropic.APIStatusError, match="broke"):
        with sdk_client(200, body, "text/event-stream").messages.stream(**SDK_ARGS) as stream:
            stream.get_final_message()


def test_we_parse_what_the_sdk_sends() -> None:
    sent: list[bytes] = []
    answer = json.dumps(DIALECT.encode_answer(Answer("msg_1", "m", [Text("ok")]), parse())).encode()

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.read())
        return httpx2.Response(200, content=answer, headers={"content-type": "application/json"})

    client = anthropic.Anthropic(api_key="unused", base_url="http://gateway.test", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    payload = fixture("request_full.json")
    temperature = payload.pop("temperature")  # the SDK no longer types it (Opus 4.7 on refuse it)
    client.messages.create(**payload | {"stream": False}, extra_body={"temperature": temperature})
    parsed = DIALECT.parse_request(json.loads(sent[0]))
    assert plain(parsed) == fixture("request_full.call.json") | {"stream": False}


def test_sdk_raises_our_error_body_as_its_typed_error() -> None:
    body = json.dumps(DIALECT.error_body(429, "Slow down", "rate_limited")).encode()
    with pytest.raises(anthropic.RateLimitError) as raised:
        sdk_client(429, body, "application/json").messages.create(**SDK_ARGS)
    assert raised.value.body["error"] == {"type": "rate_limit_error", "message": "Slow down"}


# --- encode_request ------------------------------------------------------------------------------------


def test_encode_request_of_the_full_request_matches_fixture() -> None:
    request = DIALECT.encode_request(DIALECT.parse_request(fixture("request_full.json")), "claude-opus-4-1")
    assert request.path == "/messages" and request.headers == {}
    assert json.loads(request.body) == fixture("request_full.encoded.json")


def test_encode_request_sets_a_default_max_tokens() -> None:
    assert request_body(call())["max_tokens"] == 8192


def test_encode_request_raises_max_tokens_above_the_thinking_budget() -> None:
    body = request_body(call(max_tokens=1000, reasoning=Reasoning(effort="low")))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096} and body["max_tokens"] == 5096


def test_encode_request_thinking_budget_is_at_least_1024() -> None:
    assert request_body(call(reasoning=Reasoning(budget=100)))["thinking"]["budget_tokens"] == 1024


def test_encode_request_with_thinking_drops_temperature_and_top_k() -> None:
    body = request_body(call(reasoning=Reasoning(effort="medium"), temperature=0.2, top_k=5, top_p=0.97))
    assert "temperature" not in body and "top_k" not in body and body["top_p"] == 0.97


def test_encode_request_thinks_adaptively_on_newer_claude_models() -> None:
    body = json.loads(DIALECT.encode_request(call(reasoning=Reasoning(budget=20000), max_tokens=500),
                                             "claude-opus-4-7").body)
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert body["output_config"] == {"effort": "high"} and body["max_tokens"] == 500


def test_encode_request_sends_no_sampling_to_newer_claude_models() -> None:
    body = json.loads(DIALECT.encode_request(call(temperature=0.2, top_p=0.9, top_k=4), "claude-sonnet-5").body)
    assert not {"temperature", "top_p", "top_k"} & set(body)


def test_encode_request_clamps_temperature_and_drops_top_p_beside_it() -> None:
    body = request_body(call(temperature=1.7, top_p=0.5))
    assert body["temperature"] == 1.0 and "top_p" not in body


def unsigned_tool_turns() -> list[Message]:
    return [Message("user", [Text("Weather?")]),
            Message("assistant", [Thinking("hm", signature="x", origin="gemini"),
                                  ToolCall("call_1", "get_weather", '{"city":"Paris"}')]),
            Message("user", [ToolResult("call_1", [Text("15°C")])])]


def test_encode_request_turns_thinking_off_after_an_unsigned_tool_turn() -> None:
    body = request_body(call(unsigned_tool_turns(), tools=[WEATHER], reasoning=Reasoning(effort="high")))
    assert body["thinking"] == {"type": "disabled"}
    assert body["messages"][1]["content"] == [{"type": "tool_use", "id": "call_1", "name": "get_weather",
                                               "input": {"city": "Paris"}}]


def test_encode_request_keeps_thinking_after_a_signed_tool_turn() -> None:
    turns = unsigned_tool_turns()
    turns[1].parts[0] = Thinking("hm", signature="EqQB", origin="anthropic")
    body = request_body(call(turns, tools=[WEATHER], reasoning=Reasoning(effort="high")))
    assert body["thinking"]["type"] == "enabled"
    assert body["messages"][1]["content"][0] == {"type": "thinking", "thinking": "hm", "signature": "EqQB"}


def test_encode_request_turns_thinking_off_after_an_earlier_unsigned_tool_turn() -> None:
    turns = [*unsigned_tool_turns(), Message("assistant", [Text("15°C in Paris.")]), Message("user", [Text("And?")])]
    body = request_body(call(turns, tools=[WEATHER], reasoning=Reasoning(effort="high")))
    assert body["thinking"] == {"type": "disabled"}


def test_encode_request_turns_thinking_off_for_a_prefilled_answer() -> None:
    turns = [Message("user", [Text("Count:")]),
             Message("assistant", [Thinking("hm", signature="EqQB", origin="anthropic"), Text("1, 2,")])]
    body = request_body(call(turns, reasoning=Reasoning(effort="low")))
    assert body["thinking"] == {"type": "disabled"}
    assert body["messages"][1]["content"] == [{"type": "text", "text": "1, 2,"}]  # no thinking without thinking


def test_encode_request_drops_thinking_that_ends_a_turn() -> None:
    turns = [Message("user", [Text("a")]), Message("assistant", [Text("b"), Thinking("", redacted="Em",
                                                                                      origin="anthropic")]),
             Message("user", [Text("c")])]
    assert request_body(call(turns))["messages"][1]["content"] == [{"type": "text", "text": "b"}]


def test_encode_request_turns_thinking_off_for_forced_tool_use() -> None:
    body = request_body(call(tools=[WEATHER], tool_choice=ToolChoice("required"), reasoning=Reasoning()))
    assert body["thinking"] == {"type": "disabled"} and body["tool_choice"] == {"type": "any"}


def test_encode_request_sends_redacted_thinking_back() -> None:
    turns = [Message("user", [Text("a")]), Message("assistant", [Thinking("", redacted="EmwK", origin="anthropic"),
                                                                 Text("b")]), Message("user", [Text("c")])]
    assert request_body(call(turns))["messages"][1]["content"][0] == {"type": "redacted_thinking", "data": "EmwK"}


def test_encode_request_merges_turns_and_puts_tool_results_first() -> None:
    turns = [Message("user", [Text("Weather?")]),
             Message("assistant", [ToolCall("call_1", "get_weather", '{"city":"Paris"}')]),
             Message("user", [Text("Also, hurry.")]),
             Message("user", [ToolResult("call_1", [Text("15°C")])])]
    body = request_body(call(turns, tools=[WEATHER]))
    assert [turn["role"] for turn in body["messages"]] == ["user", "assistant", "user"]
    assert [block["type"] for block in body["messages"][2]["content"]] == ["tool_result", "text"]


def test_encode_request_maps_tool_ids_to_anthropic_characters() -> None:
    turns = [Message("user", [Text("Weather?")]),
             Message("assistant", [ToolCall("functions.get_weather:0", "get_weather", "{}")]),
             Message("user", [ToolResult("functions.get_weather:0", [Text("15°C")])])]
    body = request_body(call(turns, tools=[WEATHER]))
    assert body["messages"][1]["content"][0]["id"] == "functions_get_weather_0"
    assert body["messages"][2]["content"][0]["tool_use_id"] == "functions_get_weather_0"


def test_encode_request_turns_a_data_url_into_a_base64_source() -> None:
    turns = [Message("user", [Image(url="data:image/webp;base64,UklGR"), Image(url="https://x.test/a.png")])]
    content = request_body(call(turns))["messages"][0]["content"]
    assert content == [{"type": "image", "source": {"type": "base64", "media_type": "image/webp", "data": "UklGR"}},
                       {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}]


def test_encode_request_tool_result_with_image_and_error() -> None:
    result = ToolResult("toolu_1", [Text("chart:"), Image(media_type="image/png", data="iVBOR")], is_error=True)
    turns = [Message("user", [Text("a")]), Message("assistant", [ToolCall("toolu_1", "plot", "")]),
             Message("user", [result])]
    block = request_body(call(turns))["messages"][2]["content"][0]
    assert block == {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True, "content": [
        {"type": "text", "text": "chart:"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}}]}


def test_encode_request_asks_for_json_in_the_system_prompt() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    body = request_body(call(system=[Text("Be exact.")], response_format=ResponseFormat("json_schema", schema)))
    assert body["system"][0] == {"type": "text", "text": "Be exact."}
    assert json.dumps(schema) in body["system"][1]["text"] and "JSON" in body["system"][1]["text"]


def test_encode_request_without_parallel_calls() -> None:
    body = request_body(call(tools=[WEATHER], parallel_tool_calls=False))
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


def test_encode_request_names_the_forced_tool() -> None:
    body = request_body(call(tools=[WEATHER], tool_choice=ToolChoice("tool", "get_weather")))
    assert body["tool_choice"] == {"type": "tool", "name": "get_weather"}


def test_encode_request_gives_a_schemaless_tool_an_object_schema() -> None:
    body = request_body(call(tools=[Tool("ping", None, {})]))
    assert body["tools"] == [{"name": "ping", "input_schema": {"type": "object", "properties": {}}}]


def test_encode_request_user_becomes_metadata() -> None:
    assert request_body(call(user="u-1"))["metadata"] == {"user_id": "u-1"}


def test_encode_request_trims_a_prefilled_answer() -> None:
    turns = [Message("user", [Text("Count:")]), Message("assistant", [Text("1, 2, ")])]
    assert request_body(call(turns))["messages"][1]["content"] == [{"type": "text", "text": "1, 2,"}]


def test_untranslatable_call_carries_the_reason_the_relay_refuses_it_with() -> None:
    parsed = parse(messages=[{"role": "user", "content": [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}]}])
    assert "`document` block" in "; ".join(parsed.meta[UNTRANSLATABLE])


def test_passthrough_replaces_only_the_model() -> None:
    payload = fixture("request_full.json") | {"tools": [{"type": "web_search_20250305", "name": "web_search"}]}
    request = DIALECT.passthrough_request(DIALECT.parse_request(payload), "claude-opus-4-1")
    assert json.loads(request.body) == payload | {"model": "claude-opus-4-1"}
    assert request.path == "/messages"


def test_passthrough_forwards_the_clients_beta_header() -> None:
    parsed = parse()
    parsed.meta["anthropic_beta"] = "interleaved-thinking-2025-05-14"
    assert DIALECT.passthrough_request(parsed, MODEL).headers == {"anthropic-beta": "interleaved-thinking-2025-05-14"}


# --- decode_answer and the stream decoder --------------------------------------------------------------


def test_decode_answer_matches_fixture() -> None:
    assert plain(DIALECT.decode_answer(fixture("answer_tool_use.json"))) == fixture("answer_tool_use.answer.json")


def test_stream_decoder_matches_fixture() -> None:
    events = decode_stream(fixture("stream_thinking_tools.sse").encode())
    assert plain(events) == fixture("stream_thinking_tools.events.json")


def test_stream_decoder_reads_byte_by_byte_the_same() -> None:
    data = fixture("stream_thinking_tools.sse").encode()
    assert decode_stream(data, list(range(1, len(data)))) == decode_stream(data)


def test_stream_decoder_reads_random_cuts_the_same() -> None:
    data = fixture("stream_thinking_tools.sse").encode()
    whole = decode_stream(data)
    rng = random.Random(7)
    for _ in range(20):
        assert decode_stream(data, sorted(rng.sample(range(1, len(data)), 12))) == whole


def test_stream_decoder_reads_crlf_lines() -> None:
    data = fixture("stream_thinking_tools.sse").encode()
    assert decode_stream(data.replace(b"\n", b"\r\n")) == decode_stream(data)


def test_stream_decoder_skips_server_tool_blocks() -> None:
    events = decode_stream(fixture("stream_server_tool.sse").encode())
    assert events[1:4] == [BlockStart(0, "text"), Delta(0, "Sunny, 22°C."), BlockStop(0)]
    assert events[-1] == Finish("end", Usage(prompt=2679, completion=510))


def test_stream_decoder_turns_an_error_event_into_a_stream_error() -> None:
    events = decode_stream(fixture("stream_overloaded.sse").encode())
    assert events[-1] == StreamError("Overloaded", "overloaded_error")
    assert not any(isinstance(event, Finish) for event in events)


def test_stream_decoder_reports_a_stream_cut_short() -> None:
    data = fixture("stream_thinking_tools.sse").encode()
    events = decode_stream(data[:data.index(b"event: message_delta")])
    assert isinstance(events[-1], StreamError) and "message_stop" in events[-1].message


def test_stream_decoder_reads_a_stream_without_event_lines() -> None:
    data = fixture("stream_thinking_tools.sse").encode()
    bare = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"event:"))
    assert decode_stream(bare) == decode_stream(data)


def test_stream_round_trips_through_encoder_and_decoder() -> None:
    events = decode_stream(fixture("stream_thinking_tools.sse").encode())
    decoded = decode_stream(b"".join(encode_stream(events, parse())))
    assert decoded[0] == Start(events[0].id, MODEL, events[0].usage)  # named after the model asked for
    assert decoded[1:] == events[1:]


# --- errors and usage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error_type"), [
    (400, "invalid_request_error"), (401, "authentication_error"), (403, "permission_error"),
    (404, "not_found_error"), (413, "request_too_large"), (429, "rate_limit_error"), (500, "api_error"),
    (502, "api_error"), (529, "overloaded_error"), (409, "invalid_request_error")])
def test_error_body_type_by_status(status: int, error_type: str) -> None:
    assert DIALECT.error_body(status, "m", "c") == {"type": "error", "error": {"type": error_type, "message": "m"},
                                                    "request_id": None}


def test_error_message_reads_the_providers_words() -> None:
    payload = {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too big"}}
    assert DIALECT.error_message(payload, b"") == "max_tokens: too big"


def test_error_message_falls_back_to_the_body_text() -> None:
    assert DIALECT.error_message(None, b"  upstream connect error  ") == "upstream connect error"


def test_answer_usage_counts_the_cache_in_the_prompt() -> None:
    assert DIALECT.answer_usage(fixture("answer_tool_use.json")) == Usage(prompt=2605, completion=503, cached=500,
                                                                          cache_write=10)


def test_event_usage_of_message_start_and_delta() -> None:
    events = [raw for raw in fixture("stream_thinking_tools.sse").encode().split(b"\n\n") if b'"usage"' in raw]
    assert [DIALECT.event_usage(raw + b"\n\n") for raw in events] == [
        Usage(prompt=2620, completion=2, cached=2048, cache_write=100),
        Usage(prompt=2620, completion=89, cached=2048, cache_write=100, reasoning=40)]


def test_event_usage_ignores_other_events() -> None:
    assert DIALECT.event_usage(b'event: ping\ndata: {"type": "ping"}\n\n') is None


# --- what Claude Code sends ----------------------------------------------------------------------------


def test_a_mid_conversation_system_message_becomes_a_system_reminder() -> None:
    call = parse(messages=[{"role": "user", "content": "hi"},
                           {"role": "system", "content": "Available agent types: general"},
                           {"role": "user", "content": "go"}])
    assert [m.role for m in call.messages] == ["user", "user", "user"]
    assert call.messages[1].parts == [Text("<system-reminder>\nAvailable agent types: general\n</system-reminder>")]
    assert call.payload["messages"][1]["role"] == "system"  # an Anthropic pass-through sends it as it came


def test_claude_codes_billing_line_stays_out_of_other_formats_system_prompt() -> None:
    call = parse(system=[{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1; cc_entrypoint=cli"},
                         {"type": "text", "text": "You are Claude Code."}])
    assert call.system == [Text("You are Claude Code.")]
