"""The OpenAI Responses dialect: requests parsed and encoded, answers and streams both ways, errors, usage,
and what the official `openai` SDK makes of what we send it."""

from __future__ import annotations

import dataclasses
import json
import random
import types
import warnings
from typing import Any

import httpx
import openai
import pytest

from core.gateway.dialects import get
from core.gateway.dialects import responses as module
from core.gateway.dialects.common import (
    Answer, BlockStart, BlockStop, Call, Delta, Finish, Image, Message, Reasoning, ResponseFormat, SignatureDelta,
    Start, StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult, TranslationError, Usage,
    wrap_signature,
)
from core.gateway.dialects.common import DROPPED_TOOLS, UNTRANSLATABLE
from core.gateway.dialects.responses import DIALECT, META_CUSTOM_TOOLS
from core.gateway.errors import GatewayError
from tests.dialects import helpers
from tests.dialects.helpers import plain

fixture = helpers.fixtures("responses")
NOW = 1756800000
WEATHER = Tool("get_weather", "Current weather for a city.",
               {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
USAGE = Usage(prompt=1200, completion=310, cached=1024, cache_write=100, reasoning=192)
ANSWER = Answer(id="msg_01XyZ", model="claude-sonnet-4-5", created=NOW, stop="tool_calls", usage=USAGE, parts=[
    Thinking("Two cities: one call each.", signature="EqQBCkYIBxgCKkB", origin="anthropic"),
    Text("Checking both cities."),
    ToolCall("toolu_01A", "get_weather", '{"city":"Paris"}'),
    ToolCall("toolu_01B", "get_weather", '{"city":"東京"}'),
])
EVENTS = [
    Start("msg_01XyZ", "claude-sonnet-4-5"),
    BlockStart(0, "thinking"), Delta(0, "Two cities:"), Delta(0, " one call each."),
    SignatureDelta(0, "EqQBCkYIBxgCKkB", "anthropic"), BlockStop(0),
    BlockStart(1, "text"), Delta(1, "Checking"), Delta(1, " both cities."), BlockStop(1),
    BlockStart(2, "tool_call", id="toolu_01A", name="get_weather"), Delta(2, '{"city":'), Delta(2, '"Paris"}'),
    BlockStop(2),
    BlockStart(3, "tool_call", id="toolu_01B", name="get_weather"), Delta(3, '{"city":"東京"}'), BlockStop(3),
    Finish("tool_calls", USAGE),
]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "time", types.SimpleNamespace(time=lambda: NOW))


def parse(**fields: Any) -> Call:
    return DIALECT.parse_request({"model": "gpt-5", "input": "Hi", **fields})


def client_call(**fields: Any) -> Call:
    return DIALECT.parse_request({**fixture("client_request.json"), **fields})


def foreign_call(messages: list[Message] | None = None, **fields: Any) -> Call:
    return Call(format="anthropic", model="claude-sonnet-4-5",
                messages=messages or [Message("user", [Text("Hi")])], **fields)


def request_body(call: Call) -> dict[str, Any]:
    request = DIALECT.encode_request(call, "gpt-5")
    assert request.path == "/responses"
    return json.loads(request.body)


def bad_request(payload: dict[str, Any]) -> str:
    with pytest.raises(GatewayError) as raised:
        DIALECT.parse_request(payload)
    assert raised.value.status == 400 and raised.value.code == "invalid_request"
    return raised.value.message


def sse(body: bytes) -> list[dict[str, Any]]:
    """The data of each event, checking that its `event:` line names its type."""
    events = []
    for block in body.decode().split("\n\n")[:-1]:
        name, data = block.split("\n")
        events.append(json.loads(data.removeprefix("data: ")))
        assert name == "event: " + events[-1]["type"]
    return events


def encode_stream(events: list[Any], call: Call) -> bytes:
    encoder = DIALECT.stream_encoder(call)
    return b"".join(encoder.encode([event]) for event in events)


def decode_stream(data: bytes, cuts: list[int] | None = None) -> list[Any]:
    return helpers.decode_stream(DIALECT, data, cuts)


def echo_back(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Output items as a client such as Codex returns them in the next request's `input`."""
    return [{key: value for key, value in item.items() if key not in ("id", "status")} for item in response["output"]]


# --- the registry --------------------------------------------------------------------------------------


def test_registry_serves_this_dialect() -> None:
    assert get("responses") is DIALECT and DIALECT.name == "responses"


# --- parse_request -------------------------------------------------------------------------------------


def test_codex_request_parses_to_the_expected_call() -> None:
    call = DIALECT.parse_request(fixture("codex_request.json"))
    assert plain(call) == fixture("codex_request.call.json")


def test_parsed_call_keeps_the_payload_for_pass_through() -> None:
    payload = fixture("codex_request.json")
    assert DIALECT.parse_request(payload).payload is payload


def test_string_input_is_one_user_message() -> None:
    assert parse(input="Hello").messages == [Message("user", [Text("Hello")])]


def test_message_without_type_is_an_easy_input_message() -> None:
    call = parse(input=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    assert call.messages == [Message("user", [Text("a")]), Message("assistant", [Text("b")])]


def test_instructions_come_before_system_and_developer_messages() -> None:
    developer = {"role": "developer", "content": [{"type": "input_text", "text": "third"}]}
    call = parse(instructions="first", input=[{"role": "system", "content": "second"}, developer,
                                              {"role": "user", "content": "hi"}])
    assert call.system == [Text("first"), Text("second"), Text("third")]
    assert call.messages == [Message("user", [Text("hi")])]


def test_http_image_url_is_kept_as_url() -> None:
    call = parse(input=[{"role": "user", "content": [{"type": "input_image", "image_url": "https://x.test/a.jpg"}]}])
    assert call.messages[0].parts == [Image(url="https://x.test/a.jpg")]


def test_function_call_output_list_keeps_text_and_images() -> None:
    call = parse(input=[
        {"type": "function_call", "call_id": "c1", "name": "screenshot", "arguments": ""},
        {"type": "function_call_output", "call_id": "c1", "output": [
            {"type": "input_text", "text": "here"},
            {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/4AAQ"}]},
    ])
    assert call.messages == [
        Message("assistant", [ToolCall("c1", "screenshot", "{}")]),
        Message("user", [ToolResult("c1", [Text("here"), Image(media_type="image/jpeg", data="/9j/4AAQ")],
                                    name="screenshot")]),
    ]


def test_refusal_part_is_read_as_text() -> None:
    call = parse(input=[{"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}]}])
    assert call.messages == [Message("assistant", [Text("I can't.")])]


def test_reasoning_without_summary_takes_its_raw_reasoning_text() -> None:
    call = parse(input=[{"type": "reasoning", "summary": [],
                         "content": [{"type": "reasoning_text", "text": "step 1"}]}])
    assert call.messages == [Message("assistant", [Thinking("step 1")])]


def test_custom_tool_becomes_a_function_of_one_input_string() -> None:
    call = DIALECT.parse_request(fixture("codex_request.json"))
    patch_tool = call.tools[1]
    assert patch_tool.name == "apply_patch"
    assert patch_tool.parameters["required"] == ["input"]
    assert patch_tool.parameters["properties"]["input"]["type"] == "string"
    assert "lark grammar" in patch_tool.parameters["properties"]["input"]["description"]
    assert call.meta[META_CUSTOM_TOOLS] == ["apply_patch"]


def test_builtin_tools_and_items_are_listed_as_untranslatable() -> None:
    call = parse(tools=[{"type": "web_search"}], input=[
        {"type": "local_shell_call", "call_id": "c", "status": "completed", "action": {"type": "exec"}},
        {"role": "user", "content": [{"type": "input_file", "file_data": "JVBERi0="}]}])
    assert call.meta[UNTRANSLATABLE] == [
        "`input[0]`: input item `local_shell_call` only a Responses upstream understands",
        "`input[1].content[0]`: content part `input_file` only a Responses upstream understands",
    ]
    assert call.meta[DROPPED_TOOLS] == ["web_search"]  # an offer, left out elsewhere: no content is lost


def test_a_plain_request_has_no_meta() -> None:
    assert parse().meta == {}


def test_tool_choice_function_becomes_a_named_choice() -> None:
    assert parse(tool_choice={"type": "function", "name": "f"}).tool_choice == ToolChoice("tool", "f")


def test_tool_choice_required_is_kept() -> None:
    assert parse(tool_choice="required").tool_choice == ToolChoice("required")


def test_reasoning_effort_and_summary_are_read() -> None:
    assert parse(reasoning={"effort": "high", "summary": "detailed"}).reasoning == \
        Reasoning(effort="high", summary="detailed")


def test_reasoning_effort_none_turns_reasoning_off() -> None:
    assert parse(reasoning={"effort": "none"}).reasoning == Reasoning(enabled=False)


def test_json_schema_text_format_becomes_a_response_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    call = parse(text={"format": {"type": "json_schema", "name": "thing", "schema": schema, "strict": True}})
    assert call.response_format == ResponseFormat("json_schema", schema=schema, name="thing", strict=True)


def test_plain_text_format_is_no_response_format() -> None:
    assert parse(text={"format": {"type": "text"}, "verbosity": "low"}).response_format is None


def test_sampling_and_limits_are_read() -> None:
    call = parse(max_output_tokens=500, temperature=0.2, top_p=0.9, parallel_tool_calls=False, user="u1")
    assert (call.max_tokens, call.temperature, call.top_p, call.parallel_tool_calls, call.user) == \
        (500, 0.2, 0.9, False, "u1")


def test_model_and_stream_arguments_override_the_body() -> None:
    call = DIALECT.parse_request({"model": "a", "input": "x", "stream": False}, model="b", stream=True)
    assert (call.model, call.stream) == ("b", True)


def test_previous_response_id_is_refused_as_stateless() -> None:
    message = bad_request({"model": "m", "input": "x", "previous_response_id": "resp_1"})
    assert "stateless" in message and "`input`" in message and "store: false" in message


def test_conversation_is_refused_as_stateless() -> None:
    assert "stateless" in bad_request({"model": "m", "input": "x", "conversation": "conv_1"})


def test_item_reference_is_refused() -> None:
    assert "input[0]" in bad_request({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]})


def test_image_file_id_is_refused() -> None:
    message = bad_request({"model": "m", "input": [
        {"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]})
    assert message.startswith("`input[0].content[0].file_id`")


def test_bad_role_names_the_field() -> None:
    assert bad_request({"model": "m", "input": [{"role": "tool", "content": "x"}]}).startswith("`input[0].role`")


def test_missing_model_is_refused() -> None:
    with pytest.raises(GatewayError) as raised:
        DIALECT.parse_request({"input": "x"})
    assert (raised.value.status, raised.value.code) == (400, "invalid_model")
    assert raised.value.message.startswith("`model`")


def test_missing_input_is_refused() -> None:
    assert bad_request({"model": "m"}).startswith("`input`")


def test_non_string_arguments_are_refused() -> None:
    message = bad_request({"model": "m", "input": [{"type": "function_call", "call_id": "c", "name": "f",
                                                     "arguments": {"a": 1}}]})
    assert message.startswith("`input[0].arguments`")


def test_boolean_max_output_tokens_is_refused() -> None:
    assert bad_request({"model": "m", "input": "x", "max_output_tokens": True}).startswith("`max_output_tokens`")


def test_unknown_reasoning_effort_is_refused() -> None:
    assert bad_request({"model": "m", "input": "x", "reasoning": {"effort": "max"}}).startswith("`reasoning.effort`")


# --- encode_answer -------------------------------------------------------------------------------------


def test_answer_encodes_to_the_expected_response() -> None:
    assert DIALECT.encode_answer(ANSWER, client_call()) == fixture("answer.expected.json")


def test_max_tokens_answer_is_incomplete() -> None:
    answer = dataclasses.replace(ANSWER, parts=[Text("Trunc")], stop="max_tokens")
    response = DIALECT.encode_answer(answer, client_call())
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}


def test_foreign_signature_comes_back_to_its_own_format() -> None:
    response = DIALECT.encode_answer(ANSWER, client_call())
    returned = client_call(input=echo_back(response))
    assert returned.messages[0].parts[0] == ANSWER.parts[0]


def test_own_signature_is_sent_as_issued() -> None:
    answer = dataclasses.replace(ANSWER, parts=[Thinking("t", signature="gAAAA-own", origin="responses")])
    assert DIALECT.encode_answer(answer, client_call())["output"][0]["encrypted_content"] == "gAAAA-own"


def test_redacted_thinking_comes_back_redacted() -> None:
    thinking = Thinking("", origin="anthropic", redacted="EmwKAhgBEgy3")
    response = DIALECT.encode_answer(dataclasses.replace(ANSWER, parts=[thinking]), client_call())
    assert response["output"][0]["summary"] == []
    assert client_call(input=echo_back(response)).messages[0].parts == [thinking]


def test_tool_call_signature_travels_in_a_reasoning_item_after_the_call() -> None:
    call = ToolCall("c1", "get_weather", '{"city":"Oslo"}', signature="CsYBAdHt", origin="gemini")
    response = DIALECT.encode_answer(dataclasses.replace(ANSWER, parts=[call]), client_call())
    assert [item["type"] for item in response["output"]] == ["function_call", "reasoning"]
    assert client_call(input=echo_back(response)).messages[0].parts == [call]


def test_custom_tool_answer_is_a_custom_tool_call() -> None:
    codex = DIALECT.parse_request(fixture("codex_request.json"))
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
    answer = dataclasses.replace(ANSWER, parts=[ToolCall("toolu_9", "apply_patch", json.dumps({"input": patch}))])
    item = DIALECT.encode_answer(answer, codex)["output"][0]
    assert item == {"id": "ctc_msg01XyZ_0", "type": "custom_tool_call", "call_id": "toolu_9",
                    "name": "apply_patch", "input": patch}


def test_response_echoes_the_text_format_with_the_clients_verbosity() -> None:
    response = DIALECT.encode_answer(ANSWER, client_call(text={"verbosity": "low"}))
    assert response["text"] == {"format": {"type": "text"}, "verbosity": "low"}


def test_response_echoes_the_model_the_client_asked_for() -> None:
    assert DIALECT.encode_answer(ANSWER, client_call(model="my-alias"))["model"] == "my-alias"


# --- the stream encoder --------------------------------------------------------------------------------


def test_stream_encoder_writes_the_recorded_stream() -> None:
    assert encode_stream(EVENTS, client_call()).decode() == fixture("encoded_stream.sse")


def test_stream_sequence_numbers_count_from_zero() -> None:
    events = sse(encode_stream(EVENTS, client_call()))
    assert [event["sequence_number"] for event in events] == list(range(len(events)))


def test_stream_ends_with_the_same_response_as_the_whole_answer() -> None:
    final = sse(encode_stream(EVENTS, client_call()))[-1]
    assert final["type"] == "response.completed"
    assert final["response"] == DIALECT.encode_answer(ANSWER, client_call())


def test_stream_cut_by_max_tokens_ends_with_response_incomplete() -> None:
    events = [Start("m", "x"), BlockStart(0, "text"), Delta(0, "Trunc"), BlockStop(0), Finish("max_tokens")]
    final = sse(encode_stream(events, client_call()))[-1]
    assert final["type"] == "response.incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_stream_custom_tool_input_is_sent_raw() -> None:
    codex = DIALECT.parse_request(fixture("codex_request.json"))
    events = [Start("m", "x"), BlockStart(0, "tool_call", id="t1", name="apply_patch"),
              Delta(0, '{"input": "*** Begin'), Delta(0, ' Patch\\n"}'), BlockStop(0), Finish("tool_calls")]
    sent = sse(encode_stream(events, codex))
    assert [event["type"] for event in sent[2:-1]] == [
        "response.output_item.added", "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done", "response.output_item.done"]
    assert sent[3]["delta"] == sent[4]["input"] == "*** Begin Patch\n"


def test_stream_tool_call_signature_follows_as_a_reasoning_item() -> None:
    events = [Start("m", "x"), BlockStart(0, "tool_call", id="c1", name="f"), Delta(0, "{}"),
              SignatureDelta(0, "CsYB", "gemini"), BlockStop(0), Finish("tool_calls")]
    final = sse(encode_stream(events, client_call()))[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["function_call", "reasoning"]
    assert final["output"][1]["encrypted_content"] == wrap_signature("CsYB", "gemini")


def test_stream_fail_sends_an_error_event_then_response_failed() -> None:
    encoder = DIALECT.stream_encoder(client_call())
    encoder.encode(EVENTS[:3])
    sent = sse(encoder.fail("upstream went away"))
    assert [event["type"] for event in sent] == ["error", "response.failed"]
    assert sent[0]["message"] == "upstream went away"
    assert sent[1]["response"]["status"] == "failed"
    assert sent[1]["response"]["error"] == {"code": "server_error", "message": "upstream went away"}


def test_stream_error_event_is_encoded_as_a_failure() -> None:
    sent = sse(encode_stream([Start("m", "x"), StreamError("broke")], client_call()))
    assert [event["type"] for event in sent] == ["response.created", "response.in_progress", "error",
                                                  "response.failed"]


def test_stream_fail_before_start_still_opens_the_response() -> None:
    sent = sse(DIALECT.stream_encoder(client_call()).fail("no upstream"))
    assert [event["type"] for event in sent] == ["response.created", "response.in_progress", "error",
                                                  "response.failed"]


# --- encode_request ------------------------------------------------------------------------------------


def foreign_conversation() -> Call:
    return foreign_call(
        system=[Text("Be brief.")],
        messages=[
            Message("user", [Text("Weather in Paris?"), Image(media_type="image/png", data="iVBORw0KGgo=")]),
            Message("assistant", [Thinking("Call the tool.", signature="EqQB", origin="anthropic"),
                                  Thinking("Earlier thought.", signature="gAAAA-own", origin="responses"),
                                  Text("Let me check."), ToolCall("toolu_1", "get_weather", '{"city":"Paris"}')]),
            Message("user", [ToolResult("toolu_1", [Text("18°C, sunny")], name="get_weather"), Text("And Oslo?")]),
        ],
        tools=[WEATHER], tool_choice=ToolChoice("tool", "get_weather"), parallel_tool_calls=True,
        max_tokens=2048, temperature=0.5, reasoning=Reasoning(budget=8000), stream=True,
        response_format=ResponseFormat("json_schema", schema={"type": "object"}, name="out", strict=True),
    )


def test_foreign_call_encodes_to_the_expected_request() -> None:
    assert request_body(foreign_conversation()) == fixture("upstream_request.expected.json")


def test_encoded_request_is_stateless() -> None:
    assert request_body(foreign_call())["store"] is False


def test_function_tools_are_sent_non_strict() -> None:
    assert request_body(foreign_call(tools=[WEATHER]))["tools"][0]["strict"] is False


def test_disabled_reasoning_sends_no_reasoning() -> None:
    body = request_body(foreign_call(reasoning=Reasoning(enabled=False)))
    assert "reasoning" not in body and "include" not in body


def test_tool_result_with_an_image_is_sent_as_a_list() -> None:
    result = ToolResult("c", [Text("shot"), Image(url="https://x.test/a.png")])
    body = request_body(foreign_call([Message("user", [result])]))
    assert body["input"] == [{"type": "function_call_output", "call_id": "c", "output": [
        {"type": "input_text", "text": "shot"},
        {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "auto"}]}]


def test_stop_sequences_cannot_be_translated() -> None:
    with pytest.raises(TranslationError, match="stop"):
        DIALECT.encode_request(foreign_call(stop=["END"]), "gpt-5")


def test_codex_built_in_tools_are_offers_other_formats_leave_out() -> None:
    call = parse(tools=[{"type": "function", "name": "shell", "parameters": {"type": "object"}},
                        {"type": "namespace", "name": "multi_agent_v1", "tools": []},
                        {"type": "web_search", "external_web_access": False}])
    assert [tool.name for tool in call.tools] == ["shell"]
    assert call.meta[DROPPED_TOOLS] == ["multi_agent_v1", "web_search"] and UNTRANSLATABLE not in call.meta


def test_image_in_an_assistant_turn_cannot_be_translated() -> None:
    with pytest.raises(TranslationError, match="assistant"):
        DIALECT.encode_request(foreign_call([Message("assistant", [Image(url="https://x.test/a.png")])]), "gpt-5")


# --- passthrough_request -------------------------------------------------------------------------------


def test_passthrough_replaces_only_the_model() -> None:
    payload = fixture("codex_request.json")
    request = DIALECT.passthrough_request(DIALECT.parse_request(payload), "gpt-5.1-codex")
    assert request.path == "/responses"
    assert json.loads(request.body) == {**payload, "model": "gpt-5.1-codex"}


def test_passthrough_drops_reasoning_no_upstream_can_read() -> None:
    own = {"type": "reasoning", "summary": [], "encrypted_content": "gAAAA-own"}
    foreign = {"type": "reasoning", "summary": [], "encrypted_content": wrap_signature("EqQB", "anthropic")}
    unsigned = {"type": "reasoning", "summary": [{"type": "summary_text", "text": "t"}], "encrypted_content": None}
    call = parse(input=[own, foreign, unsigned, {"role": "user", "content": "x"}])
    assert json.loads(DIALECT.passthrough_request(call, "gpt-5").body)["input"] == \
        [own, {"role": "user", "content": "x"}]


# --- decode_answer -------------------------------------------------------------------------------------


def test_upstream_answer_decodes_to_the_expected_answer() -> None:
    assert plain(DIALECT.decode_answer(fixture("upstream_answer.json"))) == fixture("upstream_answer.expected.json")


def test_incomplete_answer_decodes_to_max_tokens() -> None:
    payload = {"id": "r", "model": "m", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
               "output": []}
    assert DIALECT.decode_answer(payload).stop == "max_tokens"


def test_refusal_decodes_to_text_with_stop_refusal() -> None:
    payload = {"id": "r", "model": "m", "status": "completed", "output": [
        {"type": "message", "role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]}]}
    answer = DIALECT.decode_answer(payload)
    assert (answer.parts, answer.stop) == ([Text("No.")], "refusal")


def test_custom_tool_call_decodes_to_input_arguments() -> None:
    payload = {"id": "r", "model": "m", "status": "completed", "output": [
        {"type": "custom_tool_call", "call_id": "c", "name": "apply_patch", "input": 'a "b"\n'}]}
    assert DIALECT.decode_answer(payload).parts == [ToolCall("c", "apply_patch", '{"input":"a \\"b\\"\\n"}')]


def test_failed_answer_raises_the_upstream_error() -> None:
    payload = {"id": "r", "model": "m", "status": "failed", "output": [],
               "error": {"code": "server_error", "message": "boom"}}
    with pytest.raises(GatewayError, match="boom"):
        DIALECT.decode_answer(payload)


# --- the stream decoder --------------------------------------------------------------------------------


def test_upstream_stream_decodes_to_the_expected_events() -> None:
    events = decode_stream(fixture("upstream_stream.sse").encode())
    assert plain(events) == fixture("upstream_stream.events.json")


def test_stream_decodes_the_same_byte_by_byte() -> None:
    data = fixture("upstream_stream.sse").encode()
    assert decode_stream(data, list(range(1, len(data)))) == decode_stream(data)


def test_stream_decodes_the_same_in_random_cuts() -> None:
    data = fixture("upstream_stream.sse").encode()
    rng = random.Random(7)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), 40))
        assert decode_stream(data, cuts) == decode_stream(data)


def test_stream_decodes_with_crlf_line_ends() -> None:
    data = fixture("upstream_stream.sse").encode()
    assert decode_stream(data.replace(b"\n", b"\r\n")) == decode_stream(data)


def test_stream_without_completion_ends_in_a_stream_error() -> None:
    data = fixture("upstream_stream.sse").encode()
    events = decode_stream(data[: data.index(b"event: response.completed")])
    assert isinstance(events[-1], StreamError) and not any(isinstance(event, Finish) for event in events)


def test_error_event_becomes_a_stream_error() -> None:
    data = (b'event: response.created\ndata: {"type":"response.created","response":{"id":"r","model":"m"}}\n\n'
            b'event: error\ndata: {"type":"error","code":"rate_limit_exceeded","message":"Slow down",'
            b'"param":null,"sequence_number":1}\n\n')
    assert decode_stream(data) == [Start("r", "m"), StreamError("Slow down", "rate_limit_exceeded")]


def test_response_failed_becomes_a_stream_error() -> None:
    data = (b'data: {"type":"response.failed","response":{"id":"r","status":"failed",'
            b'"error":{"code":"server_error","message":"The model failed"}}}\n\n')
    assert decode_stream(data) == [StreamError("The model failed", "server_error")]


def test_incomplete_stream_finishes_with_max_tokens() -> None:
    data = (b'data: {"type":"response.created","response":{"id":"r","model":"m"}}\n\n'
            b'data: {"type":"response.incomplete","response":{"id":"r","status":"incomplete",'
            b'"incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":5,"output_tokens":9}}}\n\n')
    assert decode_stream(data)[-1] == Finish("max_tokens", Usage(prompt=5, completion=9))


def test_items_sent_only_when_done_are_decoded_whole() -> None:
    items = fixture("upstream_answer.json")["output"]
    data = b"".join(b"data: " + json.dumps({"type": "response.output_item.done", "item": item}).encode() + b"\n\n"
                    for item in items)
    data += b'data: {"type":"response.completed","response":{"id":"r","model":"m","status":"completed"}}\n\n'
    events = decode_stream(data)
    whole = decode_stream(fixture("upstream_stream.sse").encode())
    assert joined_deltas(events) == joined_deltas(whole)


def joined_deltas(events: list[Any]) -> dict[int, str]:
    texts: dict[int, str] = {}
    for event in events:
        if isinstance(event, Delta):
            texts[event.index] = texts.get(event.index, "") + event.text
    return texts


def test_text_without_a_content_part_event_still_streams() -> None:
    data = (b'data: {"type":"response.output_item.added","item":{"type":"message","role":"assistant","content":[]}}\n\n'
            b'data: {"type":"response.output_text.delta","delta":"Hi"}\n\n'
            b'data: {"type":"response.output_item.done","item":{"type":"message","content":'
            b'[{"type":"output_text","text":"Hi"}]}}\n\n'
            b'data: {"type":"response.completed","response":{"status":"completed"}}\n\n')
    assert decode_stream(data) == [Start("", ""), BlockStart(0, "text"), Delta(0, "Hi"), BlockStop(0), Finish("end")]


def test_custom_tool_call_stream_decodes_to_input_arguments() -> None:
    data = (b'data: {"type":"response.output_item.added","item":{"type":"custom_tool_call","call_id":"c",'
            b'"name":"apply_patch","input":""}}\n\n'
            b'data: {"type":"response.custom_tool_call_input.delta","delta":"a \\"b"}\n\n'
            b'data: {"type":"response.custom_tool_call_input.delta","delta":"\\"\\n"}\n\n'
            b'data: {"type":"response.output_item.done","item":{"type":"custom_tool_call","call_id":"c",'
            b'"name":"apply_patch","input":"a \\"b\\"\\n"}}\n\n'
            b'data: {"type":"response.completed","response":{"status":"completed"}}\n\n')
    events = decode_stream(data)
    assert json.loads(joined_deltas(events)[0]) == {"input": 'a "b"\n'}
    assert events[-1] == Finish("tool_calls")


def test_our_stream_decodes_back_to_the_same_events() -> None:
    decoded = decode_stream(encode_stream(EVENTS, client_call()))
    wrapped = SignatureDelta(0, wrap_signature("EqQBCkYIBxgCKkB", "anthropic"), "responses")
    expected = [Start("resp_msg01XyZ", "claude-sonnet-4-5"), *EVENTS[1:4], wrapped, *EVENTS[5:]]
    assert joined_deltas(decoded) == joined_deltas(expected)
    assert [event for event in decoded if not isinstance(event, Delta)] == \
        [event for event in expected if not isinstance(event, Delta)]


# --- usage and errors ----------------------------------------------------------------------------------


def test_answer_usage_reads_cached_and_reasoning_tokens() -> None:
    assert DIALECT.answer_usage(fixture("upstream_answer.json")) == \
        Usage(prompt=1200, completion=310, cached=1024, reasoning=192)


def test_event_usage_reads_the_completed_event() -> None:
    data = fixture("upstream_stream.sse").encode()
    last = data[data.index(b"event: response.completed"):]
    assert DIALECT.usage_marker in last
    assert DIALECT.event_usage(last) == Usage(prompt=1200, completion=310, cached=1024, reasoning=192)


def test_event_usage_ignores_the_created_event() -> None:
    data = fixture("upstream_stream.sse").encode()
    assert DIALECT.event_usage(data[: data.index(b"\n\n") + 2]) is None


def test_error_message_is_the_providers_own() -> None:
    payload = {"error": {"message": "Invalid 'input[3]'", "type": "invalid_request_error", "code": None}}
    assert DIALECT.error_message(payload, b"") == "Invalid 'input[3]'"


def test_error_message_falls_back_to_the_body() -> None:
    assert DIALECT.error_message(None, b"Bad Gateway\n") == "Bad Gateway"


@pytest.mark.parametrize(("status", "kind"), [(400, "invalid_request_error"), (401, "authentication_error"),
                                              (403, "permission_error"), (404, "not_found_error"),
                                              (429, "rate_limit_error"), (502, "api_error")])
def test_error_body_is_openais_shape(status: int, kind: str) -> None:
    assert DIALECT.error_body(status, "m", "c") == {"error": {"message": "m", "type": kind, "code": "c",
                                                              "param": None}}


# --- the official SDK reads what we send ---------------------------------------------------------------


def sdk_client(body: bytes, streaming: bool) -> openai.OpenAI:
    media = "text/event-stream" if streaming else "application/json"

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/responses"
        return httpx.Response(200, content=body, headers={"content-type": media})

    return openai.OpenAI(api_key="sk-test", base_url="http://gateway.test/v1", max_retries=0,
                         http_client=httpx.Client(transport=httpx.MockTransport(answer)))


def sdk_request() -> dict[str, Any]:
    request = fixture("client_request.json")
    return {key: request[key] for key in ("model", "instructions", "input", "tools", "reasoning", "include",
                                          "store", "metadata")}


def test_sdk_parses_the_answer() -> None:
    body = json.dumps(DIALECT.encode_answer(ANSWER, client_call())).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = sdk_client(body, streaming=False).responses.create(**sdk_request())
        assert response.output_text == "Checking both cities."
        assert response.output[0].type == "reasoning"
        assert response.output[0].summary[0].text == "Two cities: one call each."
        assert response.output[3].type == "function_call" and response.output[3].arguments == '{"city":"東京"}'
        assert response.usage.input_tokens_details.cached_tokens == 1024
        assert response.usage.output_tokens_details.reasoning_tokens == 192
        response.to_dict()


def test_sdk_iterates_the_stream() -> None:
    body = encode_stream(EVENTS, client_call())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stream = sdk_client(body, streaming=True).responses.create(**sdk_request(), stream=True)
        events = list(stream)
        assert [event.type for event in events] == [event["type"] for event in sse(body)]
        assert type(events[-1]).__name__ == "ResponseCompletedEvent"
        assert events[-1].response.usage.total_tokens == 1510
        for event in events:
            event.to_dict()


def test_sdk_stream_helper_builds_the_final_response() -> None:
    body = encode_stream(EVENTS, client_call())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = sdk_client(body, streaming=True)
        with client.responses.stream(**sdk_request()) as stream:
            texts = [event.delta for event in stream if event.type == "response.output_text.delta"]
            final = stream.get_final_response()
        assert "".join(texts) == final.output_text == "Checking both cities."
        assert final.output[0].summary[0].text == "Two cities: one call each."
        calls = [item for item in final.output if item.type == "function_call"]
        assert [(item.call_id, item.arguments) for item in calls] == \
            [("toolu_01A", '{"city":"Paris"}'), ("toolu_01B", '{"city":"東京"}')]
        assert [item.parsed_arguments for item in calls] == [{"city": "Paris"}, {"city": "東京"}]


def test_sdk_reads_a_failed_stream() -> None:
    encoder = DIALECT.stream_encoder(client_call())
    body = encoder.encode(EVENTS[:3]) + encoder.fail("upstream went away")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events = list(sdk_client(body, streaming=True).responses.create(**sdk_request(), stream=True))
        assert [type(event).__name__ for event in events[-2:]] == ["ResponseErrorEvent", "ResponseFailedEvent"]
        assert events[-1].response.error.message == "upstream went away"
