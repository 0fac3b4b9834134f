"""The Gemini dialect: generateContent requests and answers both ways, streams in both framings, and the
official google-genai SDK reading what we send it."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import random
import warnings
from typing import Any

import httpx
import pytest

from core.gateway.dialects import common, gemini
from core.gateway.dialects.common import (
    Answer, BlockStart, BlockStop, Call, Delta, Finish, Image, Message, Reasoning, ResponseFormat, SignatureDelta,
    Start, StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult, Usage,
)
from core.gateway.errors import GatewayError
from tests.dialects import helpers

load = helpers.fixtures("gemini")
raw = helpers.raw_fixtures("gemini")
DIALECT = gemini.DIALECT
PART_TYPES: dict[str, type] = {"text": Text, "image": Image, "tool_call": ToolCall, "tool_result": ToolResult,
                               "thinking": Thinking}


def part_from(data: dict[str, Any]) -> Any:
    data = dict(data)
    kind = PART_TYPES[data.pop("type")]
    if kind is ToolResult:
        data["content"] = [part_from(part) for part in data["content"]]
    return kind(**data)


def part_json(part: Any) -> dict[str, Any]:
    kind = next(name for name, cls in PART_TYPES.items() if isinstance(part, cls))
    return {"type": kind, **dataclasses.asdict(part)}


def call_from(data: dict[str, Any]) -> Call:
    data = dict(data)
    data["messages"] = [Message(m["role"], [part_from(p) for p in m["parts"]]) for m in data["messages"]]
    data["system"] = [Text(**t) for t in data.get("system", [])]
    data["tools"] = [Tool(**t) for t in data.get("tools", [])]
    for key, cls in (("tool_choice", ToolChoice), ("reasoning", Reasoning), ("response_format", ResponseFormat)):
        if data.get(key) is not None:
            data[key] = cls(**data[key])
    return Call(**data)


def event_json(event: Any) -> dict[str, Any]:
    return {"type": type(event).__name__, **dataclasses.asdict(event)}


def event_from(data: dict[str, Any]) -> Any:
    data = dict(data)
    cls = getattr(common, data.pop("type"))
    if data.get("usage") is not None:
        data["usage"] = Usage(**data["usage"])
    return cls(**data)


def answer_json(answer: Answer) -> dict[str, Any]:
    out = dataclasses.asdict(answer)
    out["parts"] = [part_json(part) for part in answer.parts]
    return out


def call_json(call: Call) -> dict[str, Any]:
    out = dataclasses.asdict(call)
    out.pop("payload")
    return out


def gemini_call(payload: dict[str, Any] | None = None, **meta: Any) -> Call:
    call = gemini.parse_request(payload or {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                                model="gemini-2.5-flash", stream=True)
    call.meta.update(meta)
    return call


def decode_stream(body: bytes, cuts: list[int] | None = None) -> list[Any]:
    return helpers.decode_stream(DIALECT, body, cuts)


def bad_request(payload: dict[str, Any]) -> str:
    with pytest.raises(GatewayError) as caught:
        gemini.parse_request(payload, model="m")
    assert caught.value.status == 400 and caught.value.code == "invalid_request"
    return caught.value.message


USER_HI = [{"role": "user", "parts": [{"text": "hi"}]}]


# --- parse_request -------------------------------------------------------------------------------------


def test_full_camel_case_request_parses_into_the_expected_call() -> None:
    fixture = load("request_full.json")
    call = gemini.parse_request(fixture["request"], model=fixture["model"], stream=fixture["stream"])
    assert call_json(call) == fixture["call"]
    assert call.payload is fixture["request"]


def test_snake_case_fields_read_like_camel_case() -> None:
    snake = {
        "contents": [{"role": "user", "parts": [{"inline_data": {"mime_type": "image/png", "data": "QUJD"}}]},
                     {"role": "model", "parts": [{"function_call": {"name": "f", "args": {}},
                                                  "thought_signature": "c2ln"}]},
                     {"role": "user", "parts": [{"function_response": {"name": "f", "response": {"ok": 1}}}]}],
        "system_instruction": {"parts": [{"text": "s"}]},
        "tools": [{"function_declarations": [{"name": "f", "parameters": {"type": "OBJECT", "any_of": []}}]}],
        "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
        "generation_config": {"max_output_tokens": 5, "stop_sequences": ["x"], "top_k": 3,
                              "thinking_config": {"thinking_budget": 0}},
    }
    call = gemini.parse_request(snake, model="m")
    assert call.messages[0].parts == [Image(media_type="image/png", data="QUJD")]
    assert call.messages[1].parts == [ToolCall("call_1_0", "f", "{}", "c2ln", "gemini")]
    assert call.messages[2].parts == [ToolResult("call_1_0", [Text('{"ok":1}')], name="f")]
    assert call.system == [Text("s")] and call.tools[0].parameters == {"type": "object", "anyOf": []}
    assert call.tool_choice == ToolChoice("tool", "f")
    assert (call.max_tokens, call.stop, call.top_k, call.reasoning) == (5, ["x"], 3, Reasoning(enabled=False))


def test_function_response_pairs_with_the_call_of_the_same_id() -> None:
    call = gemini.parse_request({"contents": [
        {"role": "model", "parts": [{"functionCall": {"id": "a", "name": "f", "args": {}}},
                                    {"functionCall": {"id": "b", "name": "f", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"id": "b", "name": "f", "response": {}}},
                                   {"functionResponse": {"id": "a", "name": "f", "response": {}}}]}]}, model="m")
    assert [part.call_id for part in call.messages[1].parts] == ["b", "a"]


def test_function_response_without_id_pairs_with_the_earliest_unanswered_call_of_its_name() -> None:
    call = gemini.parse_request({"contents": [
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"n": 1}}},
                                    {"functionCall": {"name": "g", "args": {}}},
                                    {"functionCall": {"name": "f", "args": {"n": 2}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}},
                                   {"functionResponse": {"name": "f", "response": {}}},
                                   {"functionResponse": {"name": "g", "response": {}}}]}]}, model="m")
    assert [part.id for part in call.messages[0].parts] == ["call_0_0", "call_0_1", "call_0_2"]
    assert [part.call_id for part in call.messages[1].parts] == ["call_0_0", "call_0_2", "call_0_1"]


def test_signature_on_a_text_part_becomes_a_signature_only_thinking_before_it() -> None:
    call = gemini.parse_request({"contents": [
        {"role": "model", "parts": [{"text": "Hello", "thoughtSignature": "c2ln"}]}, *USER_HI]}, model="m")
    assert call.messages[0].parts == [Thinking("", "c2ln", "gemini"), Text("Hello")]


def test_wrapped_foreign_signature_is_unwrapped_even_when_the_sdk_reencodes_it_url_safe() -> None:
    wrapped = gemini.client_signature("EqQB+/x==", "anthropic")
    url_safe = base64.urlsafe_b64encode(base64.b64decode(wrapped)).decode()
    call = gemini.parse_request({"contents": [
        {"role": "model", "parts": [{"text": "hmm", "thought": True, "thoughtSignature": url_safe}]}, *USER_HI]},
        model="m")
    assert call.messages[0].parts == [Thinking("hmm", "EqQB+/x==", "anthropic")]


def test_wrapped_redacted_thinking_comes_back_redacted() -> None:
    part = gemini._thinking_part(Thinking("", origin="anthropic", redacted="opaque=="), include=False)
    call = gemini.parse_request({"contents": [{"role": "model", "parts": [part]}, *USER_HI]}, model="m")
    assert call.messages[0].parts == [Thinking("", origin="anthropic", redacted="opaque==")]


def test_builtin_tools_stay_in_the_payload_and_are_offers_other_formats_leave_out() -> None:
    payload = {"contents": USER_HI, "tools": [{"googleSearch": {}}, {"codeExecution": {}},
                                              {"functionDeclarations": [{"name": "f"}]}]}
    call = gemini.parse_request(payload, model="m")
    assert [tool.name for tool in call.tools] == ["f"]
    assert call.meta[common.DROPPED_TOOLS] == ["googleSearch", "codeExecution"]
    assert common.UNTRANSLATABLE not in call.meta
    assert DIALECT.passthrough_request(call, "gemini-2.5-pro").body == common.dumps(payload)


def test_candidate_count_above_one_is_refused() -> None:
    message = bad_request({"contents": USER_HI, "generationConfig": {"candidateCount": 2}})
    assert "generationConfig.candidateCount" in message


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "`contents`"),
    ({"contents": [{"role": "system", "parts": []}]}, "`contents[0].role`"),
    ({"contents": [{"role": "user", "parts": [{"text": 3}]}]}, "`contents[0].parts[0].text`"),
    ({"contents": [{"role": "user", "parts": [{"foo": 1}]}]}, "`contents[0].parts[0]`"),
    ({"contents": [{"role": "user", "parts": [{"functionCall": {"name": "f"}}]}]},
     "`contents[0].parts[0].functionCall`"),
    ({"contents": [{"role": "model", "parts": [{"functionCall": {"args": {}}}]}]},
     "`contents[0].parts[0].functionCall.name`"),
    ({"contents": [{"role": "user", "parts": [{"inlineData": {"data": "x"}}]}]},
     "`contents[0].parts[0].inlineData`"),
    ({"contents": USER_HI, "generationConfig": {"temperature": "hot"}}, "`generationConfig.temperature`"),
    ({"contents": USER_HI, "generationConfig": {"maxOutputTokens": True}}, "`generationConfig.maxOutputTokens`"),
    ({"contents": USER_HI, "generationConfig": {"thinkingConfig": {"thinkingLevel": "extreme"}}},
     "`generationConfig.thinkingConfig.thinkingLevel`"),
    ({"contents": USER_HI, "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
     "`toolConfig.functionCallingConfig.mode`"),
    ({"contents": USER_HI, "tools": [{"functionDeclarations": [{"description": "no name"}]}]},
     "`tools[0].functionDeclarations[0].name`"),
    ({"contents": USER_HI, "systemInstruction": {"parts": [{"inlineData": {}}]}},
     "`systemInstruction.parts[0].text`"),
])
def test_bad_fields_are_named_in_the_400(payload: dict[str, Any], field: str) -> None:
    assert field in bad_request(payload)


def test_missing_model_in_the_path_is_a_400() -> None:
    with pytest.raises(GatewayError, match="model"):
        gemini.parse_request({"contents": USER_HI})


@pytest.mark.parametrize(("thinking", "reasoning", "include"), [
    ({"thinkingBudget": 0}, Reasoning(enabled=False), False),
    ({"thinkingBudget": -1, "includeThoughts": True}, Reasoning(), True),
    ({"thinkingBudget": 2048}, Reasoning(budget=2048), False),
    ({"thinkingLevel": "low"}, Reasoning(effort="low"), False),
    ({"thinkingLevel": "HIGH", "includeThoughts": True}, Reasoning(effort="high"), True),
    ({"includeThoughts": False}, None, False),
])
def test_thinking_config_becomes_reasoning(thinking: dict[str, Any], reasoning: Reasoning | None,
                                           include: bool) -> None:
    call = gemini.parse_request({"contents": USER_HI, "generationConfig": {"thinkingConfig": thinking}}, model="m")
    assert (call.reasoning, call.meta["include_thoughts"]) == (reasoning, include)


@pytest.mark.parametrize(("config", "choice", "tools"), [
    ({"mode": "AUTO"}, ToolChoice("auto"), ["a", "b", "c"]),
    ({"mode": "VALIDATED"}, ToolChoice("auto"), ["a", "b", "c"]),
    ({"mode": "NONE"}, ToolChoice("none"), ["a", "b", "c"]),
    ({"mode": "ANY"}, ToolChoice("required"), ["a", "b", "c"]),
    ({"mode": "ANY", "allowedFunctionNames": ["b"]}, ToolChoice("tool", "b"), ["a", "b", "c"]),
    ({"mode": "ANY", "allowedFunctionNames": ["a", "c"]}, ToolChoice("required"), ["a", "c"]),
])
def test_function_calling_config_becomes_tool_choice(config: dict[str, Any], choice: ToolChoice,
                                                     tools: list[str]) -> None:
    declarations = [{"name": name} for name in "abc"]
    call = gemini.parse_request({"contents": USER_HI, "tools": [{"functionDeclarations": declarations}],
                                 "toolConfig": {"functionCallingConfig": config}}, model="m")
    assert (call.tool_choice, [tool.name for tool in call.tools]) == (choice, tools)


def test_response_json_schema_is_taken_as_is_and_plain_json_is_json_object() -> None:
    schema = {"type": "object", "additionalProperties": False}
    with_schema = gemini.parse_request({"contents": USER_HI, "generationConfig": {
        "responseMimeType": "application/json", "responseJsonSchema": schema}}, model="m")
    plain = gemini.parse_request({"contents": USER_HI, "generationConfig": {
        "responseMimeType": "application/json"}}, model="m")
    assert with_schema.response_format == ResponseFormat("json_schema", schema=schema)
    assert plain.response_format == ResponseFormat("json_object")


def test_model_prefix_from_the_path_is_dropped() -> None:
    assert gemini.parse_request({"contents": USER_HI}, model="models/gemini-2.5-pro").model == "gemini-2.5-pro"


# --- encode_request ------------------------------------------------------------------------------------


def test_foreign_call_encodes_to_the_expected_gemini_request() -> None:
    fixture = load("encode_request_foreign.json")
    request = gemini.encode_request(call_from(fixture["call"]), fixture["model"])
    assert request.path == fixture["path"]
    assert json.loads(request.body) == fixture["body"]


@pytest.mark.parametrize("case", load("clean_schema.json"), ids=lambda case: case["name"])
def test_clean_schema_keeps_only_what_gemini_accepts(case: dict[str, Any]) -> None:
    assert gemini.clean_schema(case["in"]) == case["out"]


def test_non_streaming_call_uses_generate_content() -> None:
    call = Call(format="openai", model="x", messages=[Message("user", [Text("hi")])])
    assert gemini.encode_request(call, "models/gemini-2.5-flash").path == "/models/gemini-2.5-flash:generateContent"


def test_gemini_signatures_go_back_as_received_and_no_sentinel_is_added() -> None:
    call = Call(format="openai", model="x", messages=[
        Message("user", [Text("hi")]),
        Message("assistant", [Thinking("plan", "c2lnMQ==", "gemini"), Thinking("", "c2lnMg==", "gemini"),
                              Text("ok"), ToolCall("c1", "f", "{}", "c2lnMw==", "gemini"), ToolCall("c2", "f", "{}")]),
    ])
    parts = json.loads(gemini.encode_request(call, "g").body)["contents"][1]["parts"]
    assert parts == [{"text": "plan", "thought": True, "thoughtSignature": "c2lnMQ=="},
                     {"text": "ok", "thoughtSignature": "c2lnMg=="},
                     {"functionCall": {"id": "c1", "name": "f", "args": {}}, "thoughtSignature": "c2lnMw=="},
                     {"functionCall": {"id": "c2", "name": "f", "args": {}}}]


def test_tool_result_name_comes_from_the_history_when_the_result_has_none() -> None:
    call = Call(format="openai", model="x", messages=[
        Message("assistant", [ToolCall("c1", "lookup", "{}")]),
        Message("user", [ToolResult("c1", [Text("[1, 2]")])]),
    ])
    parts = json.loads(gemini.encode_request(call, "g").body)["contents"][1]["parts"]
    assert parts == [{"functionResponse": {"id": "c1", "name": "lookup", "response": {"output": "[1, 2]"}}}]


@pytest.mark.parametrize(("text", "is_error", "response"), [
    ('{"rows": 2}', False, {"rows": 2}), ("plain", False, {"output": "plain"}), ("boom", True, {"error": "boom"}),
    ('{"code": 7}', True, {"error": {"code": 7}}), ('{"error": "x"}', True, {"error": "x"}),
])
def test_tool_result_response_is_an_object(text: str, is_error: bool, response: dict[str, Any]) -> None:
    call = Call(format="openai", model="x", messages=[Message("user", [ToolResult("c", [Text(text)], is_error, "f")])])
    part = json.loads(gemini.encode_request(call, "g").body)["contents"][0]["parts"][0]
    assert part["functionResponse"]["response"] == response


def test_function_response_with_an_unknown_id_pairs_by_name() -> None:
    call = gemini.parse_request({"contents": [
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"id": "stale", "name": "f", "response": {}}}]}]}, model="m")
    assert call.messages[1].parts[0].call_id == call.messages[0].parts[0].id == "call_0_0"


def test_empty_thought_part_opens_no_block() -> None:
    body = b'data: {"candidates":[{"content":{"parts":[{"text":"","thought":true},{"text":"a"}]},' \
           b'"finishReason":"STOP"}]}\r\n\r\n'
    assert [type(e).__name__ for e in decode_stream(body)] == ["Start", "BlockStart", "Delta", "BlockStop", "Finish"]


def test_consecutive_turns_of_one_role_merge() -> None:
    call = Call(format="openai", model="x", messages=[Message("user", [Text("a")]), Message("user", [Text("b")]),
                                                      Message("assistant", [Thinking("unsigned")]),
                                                      Message("assistant", [Text("c")])])
    assert json.loads(gemini.encode_request(call, "g").body)["contents"] == [
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}, {"role": "model", "parts": [{"text": "c"}]}]


@pytest.mark.parametrize(("reasoning", "config"), [
    (Reasoning(enabled=False), {"thinkingBudget": 0}),
    (Reasoning(), {"thinkingBudget": -1, "includeThoughts": True}),
    (Reasoning(budget=1234), {"thinkingBudget": 1234, "includeThoughts": True}),
    (Reasoning(effort="low"), {"thinkingBudget": 4096, "includeThoughts": True}),
])
def test_reasoning_becomes_thinking_config(reasoning: Reasoning, config: dict[str, Any]) -> None:
    call = Call(format="anthropic", model="x", messages=[Message("user", [Text("a")])], reasoning=reasoning)
    assert json.loads(gemini.encode_request(call, "g").body)["generationConfig"]["thinkingConfig"] == config


def test_json_object_format_asks_for_json_without_a_schema() -> None:
    call = Call(format="openai", model="x", messages=[Message("user", [Text("a")])],
                response_format=ResponseFormat("json_object"))
    assert json.loads(gemini.encode_request(call, "g").body)["generationConfig"] == {
        "responseMimeType": "application/json"}


@pytest.mark.parametrize(("sse", "path"), [(True, "/models/gemini-2.5-pro:streamGenerateContent?alt=sse"),
                                           (False, "/models/gemini-2.5-pro:streamGenerateContent")])
def test_passthrough_keeps_the_body_and_the_clients_stream_framing(sse: bool, path: str) -> None:
    call = gemini_call(sse=sse)
    request = gemini.passthrough_request(call, "gemini-2.5-pro")
    assert (request.path, json.loads(request.body)) == (path, call.payload)


# --- decode_answer and stream decoding -----------------------------------------------------------------


def test_answer_with_thoughts_and_parallel_calls_decodes() -> None:
    fixture = load("answer_thoughts_tools.json")
    assert answer_json(gemini.decode_answer(fixture["response"])) == fixture["answer"]


def test_blocked_prompt_decodes_as_content_filter() -> None:
    answer = gemini.decode_answer({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                                   "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}})
    assert (answer.parts, answer.stop, answer.usage) == ([], "content_filter", Usage(prompt=9))


@pytest.mark.parametrize("name", ["stream_thoughts_tools", "stream_text_signature"])
def test_recorded_sse_stream_decodes_into_the_expected_events(name: str) -> None:
    body = raw(f"{name}.sse")
    assert [event_json(e) for e in decode_stream(body)] == load(f"{name}.events.json")


@pytest.mark.parametrize("name", ["stream_thoughts_tools.sse", "stream_thoughts_tools.array.json"])
def test_stream_decodes_the_same_byte_by_byte_and_in_random_cuts(name: str) -> None:
    body = raw(name)
    whole = decode_stream(body)
    assert decode_stream(body, list(range(1, len(body)))) == whole
    rng = random.Random(7)
    for _ in range(20):
        assert decode_stream(body, sorted(rng.sample(range(1, len(body)), 12))) == whole


def test_json_array_stream_decodes_like_the_sse_stream() -> None:
    sse = decode_stream(raw("stream_thoughts_tools.sse"))
    assert decode_stream(raw("stream_thoughts_tools.array.json")) == sse


def test_stream_ending_without_finish_reason_is_a_stream_error() -> None:
    body = raw("stream_thoughts_tools.sse").split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    events = decode_stream(body)
    assert isinstance(events[-1], StreamError) and events[-2] == BlockStop(0)


def test_error_object_in_a_stream_is_a_stream_error_with_googles_words() -> None:
    body = b'data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}]}\r\n\r\n' \
           b'data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n'
    assert decode_stream(body)[-2:] == [BlockStop(0), StreamError("The model is overloaded.", "upstream_error")]


# --- encode_answer and the stream encoder --------------------------------------------------------------


def test_answer_encodes_to_the_expected_gemini_response() -> None:
    fixture = load("encode_answer.json")
    call = gemini_call(include_thoughts=True)
    answer = Answer(fixture["answer"]["id"], fixture["answer"]["model"],
                    [part_from(p) for p in fixture["answer"]["parts"]], fixture["answer"]["stop"],
                    usage=Usage(**fixture["answer"]["usage"]))
    assert gemini.encode_answer(answer, call) == fixture["response"]


def test_thought_text_is_left_out_unless_the_client_asked_for_thoughts() -> None:
    answer = Answer("r", "m", [Thinking("secret", "sig", "anthropic"), Thinking("no signature"), Text("hi")])
    parts = gemini.encode_answer(answer, gemini_call())["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "", "thought": True, "thoughtSignature": gemini.client_signature("sig", "anthropic")},
                     {"text": "hi"}]


def test_decoded_gemini_answer_encodes_back_to_the_same_parts() -> None:
    response = load("answer_thoughts_tools.json")["response"]
    encoded = gemini.encode_answer(gemini.decode_answer(response), gemini_call(include_thoughts=True))
    assert encoded["candidates"][0]["content"]["parts"] == [
        {**part, "functionCall": {**part["functionCall"], "id": f"call_AbC-12_{i - 2}"}} if "functionCall" in part
        else part for i, part in enumerate(response["candidates"][0]["content"]["parts"])]
    assert encoded["usageMetadata"] == response["usageMetadata"]


def test_events_encode_to_the_expected_sse_chunks() -> None:
    events = [event_from(e) for e in load("encode_stream.events.json")]
    encoder = DIALECT.stream_encoder(gemini_call(include_thoughts=True, sse=True))
    assert encoder.encode(events) == raw("encode_stream.sse")


def test_stream_without_sse_is_one_json_array_in_the_real_framing() -> None:
    events = [event_from(e) for e in load("encode_stream.events.json")]
    encoder = DIALECT.stream_encoder(gemini_call(include_thoughts=True, sse=False))
    body = b"".join(encoder.encode([event]) for event in events)
    sse_chunks = [json.loads(line[6:]) for line in raw("encode_stream.sse").split(b"\r\n\r\n")
                  if line]
    assert body.startswith(b"[{") and b"}\n,\r\n{" in body and body.endswith(b"}\n]")
    assert json.loads(body) == sse_chunks


def test_tool_call_is_emitted_whole_at_its_block_stop() -> None:
    encoder = DIALECT.stream_encoder(gemini_call())
    assert encoder.encode([Start("r", "m"), BlockStart(0, "tool_call", id="c", name="f"), Delta(0, '{"a":')]) == b""
    assert json.loads(encoder.encode([Delta(0, "1}"), BlockStop(0)])[6:])["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"name": "f", "args": {"a": 1}, "id": "c"}}]


@pytest.mark.parametrize(("sse", "expected"), [
    (True, b'data: {"error":{"code":500,"message":"upstream broke","status":"INTERNAL"}}\r\n\r\n'),
    (False, b'[{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"},"index":0}],"modelVersion":'
            b'"gemini-2.5-flash","responseId":"r"}\n,\r\n'
            b'{"error":{"code":500,"message":"upstream broke","status":"INTERNAL"}}\n]'),
])
def test_fail_ends_the_stream_with_an_error_object(sse: bool, expected: bytes) -> None:
    encoder = DIALECT.stream_encoder(gemini_call(sse=sse))
    head = encoder.encode([Start("r", "m"), BlockStart(0, "text"), Delta(0, "a")])
    assert (head + encoder.fail("upstream broke")).endswith(expected)
    assert encoder.encode([BlockStop(0), Finish("end")]) == b""


# --- errors and usage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "name"), [(400, "INVALID_ARGUMENT"), (401, "UNAUTHENTICATED"),
                                              (403, "PERMISSION_DENIED"), (404, "NOT_FOUND"),
                                              (429, "RESOURCE_EXHAUSTED"), (500, "INTERNAL"), (503, "UNAVAILABLE"),
                                              (504, "DEADLINE_EXCEEDED"), (413, "INVALID_ARGUMENT")])
def test_error_body_uses_googles_status_names(status: int, name: str) -> None:
    assert DIALECT.error_body(status, "nope", "x") == {"error": {"code": status, "message": "nope", "status": name}}


def test_error_message_is_googles_message() -> None:
    body = {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}
    assert DIALECT.error_message(body, b"") == "API key not valid."
    assert DIALECT.error_message([body], b"") == "API key not valid."
    assert DIALECT.error_message(None, b"Bad Gateway") == "Bad Gateway"


def test_usage_counts_thoughts_as_completion_and_cached_as_prompt() -> None:
    metadata = {"promptTokenCount": 100, "candidatesTokenCount": 20, "thoughtsTokenCount": 30,
                "cachedContentTokenCount": 64, "totalTokenCount": 150}
    expected = Usage(prompt=100, completion=50, cached=64, reasoning=30)
    assert DIALECT.answer_usage({"usageMetadata": metadata}) == expected
    assert DIALECT.usage_marker in b'data: {"usageMetadata":{}}'
    assert DIALECT.event_usage(b'data: ' + json.dumps({"usageMetadata": metadata}).encode() + b"\r\n\r\n") == expected
    assert DIALECT.event_usage(b',\r\n' + json.dumps({"usageMetadata": metadata}).encode() + b"\n]") == expected
    assert gemini.usage_metadata(expected) == metadata


# --- the official SDK reading what we send -------------------------------------------------------------


class Recorder:
    """An httpx transport answering every request with one canned body, keeping the requests."""

    def __init__(self, body: bytes, content_type: str = "application/json") -> None:
        self.body, self.content_type = body, content_type
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=self.body, headers={"content-type": self.content_type})


def sdk_client(recorder: Recorder) -> Any:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url="http://gateway.test/", api_version="v1beta",
                                httpx_client=httpx.Client(transport=httpx.MockTransport(recorder)))
    return genai.Client(api_key="test-key", http_options=options)


SDK_ANSWER = Answer("resp-1", "claude-sonnet-4-5", [
    Thinking("Weather needs a lookup.", "EqQBCkYIBxgC", "anthropic"), Text("Let me check."),
    ToolCall("toolu_01", "get_weather", '{"city":"Paris"}'),
], stop="tool_calls", usage=Usage(prompt=40, completion=25, cached=8, reasoning=10))


@pytest.fixture
def quiet_sdk(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """Fails the test if the SDK warns (through `warnings` or its loggers) while reading our output."""
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        yield
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("google")] == []


@pytest.mark.usefixtures("quiet_sdk")
def test_sdk_reads_an_encoded_answer_with_thoughts_and_a_function_call() -> None:
    body = common.dumps(gemini.encode_answer(SDK_ANSWER, gemini_call(include_thoughts=True)))
    response = sdk_client(Recorder(body)).models.generate_content(model="gemini-2.5-flash", contents="weather?")
    parts = response.candidates[0].content.parts
    assert (parts[0].thought, parts[0].text) == (True, "Weather needs a lookup.")
    assert parts[0].thought_signature == b"qg1.anthropic.EqQBCkYIBxgC"
    assert parts[1].text == "Let me check."
    assert (response.function_calls[0].id, response.function_calls[0].name,
            response.function_calls[0].args) == ("toolu_01", "get_weather", {"city": "Paris"})
    assert response.candidates[0].finish_reason == "STOP" and response.response_id == "resp-1"
    usage = response.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.thoughts_token_count,
            usage.cached_content_token_count, usage.total_token_count) == (40, 15, 10, 8, 65)


def sdk_stream_events() -> list[Any]:
    return [Start("resp-2", "x"), BlockStart(0, "thinking"), Delta(0, "Think"), Delta(0, "ing."),
            SignatureDelta(0, "EqQB", "anthropic"), BlockStop(0), BlockStart(1, "text"), Delta(1, "Hel"),
            Delta(1, "lo"), BlockStop(1), BlockStart(2, "tool_call", id="call_9", name="get_weather"),
            Delta(2, '{"city":'), Delta(2, '"Oslo"}'), BlockStop(2),
            Finish("tool_calls", Usage(prompt=12, completion=9, reasoning=4))]


@pytest.mark.usefixtures("quiet_sdk")
def test_sdk_reads_an_encoded_sse_stream() -> None:
    encoder = DIALECT.stream_encoder(gemini_call(include_thoughts=True, sse=True))
    body = b"".join(encoder.encode([event]) for event in sdk_stream_events())
    recorder = Recorder(body, "text/event-stream")
    chunks = list(sdk_client(recorder).models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
    parts = [part for chunk in chunks for part in chunk.candidates[0].content.parts or []]
    assert "".join(p.text for p in parts if p.thought and p.text) == "Thinking."
    assert [p.thought_signature for p in parts if p.thought_signature] == [b"qg1.anthropic.EqQB"]
    assert "".join(p.text for p in parts if not p.thought and p.text) == "Hello"
    assert [(p.function_call.name, p.function_call.args) for p in parts if p.function_call] == [
        ("get_weather", {"city": "Oslo"})]
    assert chunks[-1].candidates[0].finish_reason == "STOP"
    assert chunks[-1].usage_metadata.candidates_token_count == 5
    assert recorder.requests[0].url.params["alt"] == "sse"


def test_sdk_raises_the_error_of_a_failed_stream() -> None:
    from google.genai import errors

    encoder = DIALECT.stream_encoder(gemini_call(sse=True))
    body = encoder.encode([Start("r", "m"), BlockStart(0, "text"), Delta(0, "a")]) + encoder.fail("upstream broke")
    stream = sdk_client(Recorder(body, "text/event-stream")).models.generate_content_stream(model="g", contents="x")
    with pytest.raises(errors.ServerError, match="upstream broke"):
        list(stream)


def test_sdk_request_parses_and_our_wrapped_signature_round_trips_through_it() -> None:
    from google.genai import types

    answer = gemini.encode_answer(SDK_ANSWER, gemini_call(include_thoughts=True))
    recorder = Recorder(common.dumps(answer))
    client = sdk_client(recorder)
    first = client.models.generate_content(model="gemini-2.5-flash", contents="weather?")
    history = [types.Content(role="user", parts=[types.Part(text="weather?")]), first.candidates[0].content,
               types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather",
                                                                                   response={"temp": 7})])]
    config = types.GenerateContentConfig(
        system_instruction="be brief", temperature=0.2, max_output_tokens=99,
        thinking_config=types.ThinkingConfig(thinking_budget=512, include_thoughts=True),
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", parameters=types.Schema(
            type="OBJECT", properties={"city": types.Schema(type="STRING")}))])])
    client.models.generate_content(model="gemini-2.5-flash", contents=history, config=config)
    sent = recorder.requests[1]
    assert sent.url.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    call = gemini.parse_request(json.loads(sent.content), model="gemini-2.5-flash", stream=False)
    assert call.messages[1].parts == SDK_ANSWER.parts
    assert call.messages[2].parts == [ToolResult("toolu_01", [Text('{"temp":7}')], name="get_weather")]
    assert (call.system, call.temperature, call.max_tokens) == ([Text("be brief")], 0.2, 99)
    assert (call.reasoning, call.meta["include_thoughts"]) == (Reasoning(budget=512), True)
    assert call.tools == [Tool("get_weather", None, {"type": "object", "properties": {"city": {"type": "string"}}})]


def test_sdk_puts_a_model_name_with_a_slash_into_the_path_unescaped() -> None:
    recorder = Recorder(b'data: {"candidates":[{"finishReason":"STOP","index":0}]}\r\n\r\n', "text/event-stream")
    list(sdk_client(recorder).models.generate_content_stream(model="openai/gpt-4.1", contents="hi"))
    assert recorder.requests[0].url.raw_path == b"/v1beta/models/openai/gpt-4.1:streamGenerateContent?alt=sse"
