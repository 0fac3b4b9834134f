"""The strict format fakes themselves: each one's own official library parses everything it answers, and
each refuses the shapes the real API refuses, in the real API's error shape."""

from __future__ import annotations

import warnings

import httpx
import pytest

from tests.conformance.drivers import CELLS, RESULTS, parse_warnings, run_cell
from tests.fakes.anthropic_upstream import ANTHROPIC_KEY
from tests.fakes.gemini_upstream import GEMINI_KEY
from tests.fakes.openai_tools_upstream import OPENAI_KEY, REFUSAL_MESSAGE

NATIVE = {"openai": ("openai_chat", OPENAI_KEY, "gpt-4.1"),
          "anthropic": ("anthropic", ANTHROPIC_KEY, "claude-sonnet-4-6"),
          "gemini": ("gemini", GEMINI_KEY, "gemini-2.5-flash")}


@pytest.fixture
def fakes(openai_strict_upstream, anthropic_upstream, gemini_upstream):
    return {"openai": openai_strict_upstream, "anthropic": anthropic_upstream, "gemini": gemini_upstream}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("fmt", list(NATIVE))
async def test_own_library_parses_the_fake(fakes, fmt: str, cell: str) -> None:
    client, key, model = NATIVE[fmt]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = await run_cell(client, cell, fakes[fmt].url, key, model)
    assert parse_warnings(caught) == []
    assert fakes[fmt].refusals == []
    if cell in ("error", "stream_error"):
        assert outcome.error == (400, REFUSAL_MESSAGE)
    elif cell == "multi_turn":
        assert outcome.final.text == f"Hello from {fmt}"
    elif outcome.final is None:
        assert outcome.first.text == f"Hello from {fmt}"
        if cell != "stream" or fmt != "openai":  # OpenAI streams count only when asked
            assert outcome.first.usage == {"prompt": 12, "cached": 4, "completion": 6}
    else:
        calls = outcome.first.calls
        assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"})] * len(calls)
        assert len(calls) == (2 if cell == "parallel_tool" else 1)
        assert outcome.first.text == ("Let me check." if cell == "stream_text_and_tool" else "")
        assert outcome.final.text == "The tool said: " + " ".join(RESULTS[:len(calls)])


async def _post(url: str, body: dict, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(url, json=body, headers=headers)


async def test_anthropic_fake_refuses_an_openai_system_message(anthropic_upstream) -> None:
    answer = await _post(f"{anthropic_upstream.url}/v1/messages",
                         {"model": "claude-sonnet-4-5-20250929", "max_tokens": 10,
                          "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]},
                         {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"})
    assert answer.status_code == 400
    assert answer.json()["type"] == "error"
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert "messages.0.role" in answer.json()["error"]["message"]


async def test_anthropic_fake_refuses_a_missing_max_tokens(anthropic_upstream) -> None:
    answer = await _post(f"{anthropic_upstream.url}/v1/messages",
                         {"model": "claude-sonnet-4-5-20250929", "messages": [{"role": "user", "content": "hi"}]},
                         {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"})
    assert answer.json()["error"]["message"] == "max_tokens: Field required"


async def test_anthropic_fake_refuses_openai_shaped_tools(anthropic_upstream) -> None:
    answer = await _post(f"{anthropic_upstream.url}/v1/messages",
                         {"model": "claude-sonnet-4-5-20250929", "max_tokens": 10,
                          "messages": [{"role": "user", "content": "hi"}],
                          "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
                         {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"})
    assert answer.status_code == 400
    assert "tools.0" in answer.json()["error"]["message"]


async def test_anthropic_fake_refuses_a_request_without_key(anthropic_upstream) -> None:
    answer = await _post(f"{anthropic_upstream.url}/v1/messages",
                         {"model": "claude-sonnet-4-5-20250929", "max_tokens": 10,
                          "messages": [{"role": "user", "content": "hi"}]},
                         {"x-goog-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"})
    assert answer.status_code == 401


async def test_anthropic_fake_refuses_a_prefixed_model(anthropic_upstream) -> None:
    answer = await _post(f"{anthropic_upstream.url}/v1/messages",
                         {"model": "anthropic/claude-sonnet-4-5-20250929", "max_tokens": 10,
                          "messages": [{"role": "user", "content": "hi"}]},
                         {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"})
    assert answer.status_code == 400


async def test_gemini_fake_refuses_additional_properties(gemini_upstream) -> None:
    answer = await _post(f"{gemini_upstream.url}/v1beta/models/gemini-2.5-flash:generateContent",
                         {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                          "tools": [{"functionDeclarations": [{"name": "f", "parameters": {
                              "type": "object", "properties": {}, "additionalProperties": False}}]}]},
                         {"x-goog-api-key": GEMINI_KEY})
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "additionalProperties" in answer.json()["error"]["message"]


async def test_gemini_fake_refuses_an_assistant_role(gemini_upstream) -> None:
    answer = await _post(f"{gemini_upstream.url}/v1beta/models/gemini-2.5-flash:generateContent",
                         {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]},
                         {"x-goog-api-key": GEMINI_KEY})
    assert answer.json()["error"]["code"] == 400


async def test_gemini_fake_refuses_a_function_response_without_name(gemini_upstream) -> None:
    answer = await _post(f"{gemini_upstream.url}/v1beta/models/gemini-2.5-flash:generateContent",
                         {"contents": [{"role": "user", "parts": [{"text": "hi"}]},
                                       {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                                       {"role": "user", "parts": [{"functionResponse": {"response": {"a": "b"}}}]}]},
                         {"x-goog-api-key": GEMINI_KEY})
    assert "Name cannot be empty" in answer.json()["error"]["message"]


async def test_gemini_fake_refuses_a_prefixed_model(gemini_upstream) -> None:
    answer = await _post(f"{gemini_upstream.url}/v1beta/models/gemini/gemini-2.5-flash:generateContent",
                         {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, {"x-goog-api-key": GEMINI_KEY})
    assert answer.status_code == 404


async def test_gemini_fake_streams_a_json_array_without_alt_sse(gemini_upstream) -> None:
    answer = await _post(f"{gemini_upstream.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                         {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, {"x-goog-api-key": GEMINI_KEY})
    chunks = answer.json()
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == "Hello from gemini"


async def test_openai_fake_refuses_a_tool_message_answering_nothing(openai_strict_upstream) -> None:
    answer = await _post(f"{openai_strict_upstream.url}/v1/chat/completions",
                         {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"},
                                                           {"role": "tool", "tool_call_id": "x", "content": "r"}]},
                         {"Authorization": f"Bearer {OPENAI_KEY}"})
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"


async def test_openai_fake_refuses_anthropic_shaped_tools(openai_strict_upstream) -> None:
    answer = await _post(f"{openai_strict_upstream.url}/v1/chat/completions",
                         {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}],
                          "tools": [{"name": "f", "input_schema": {"type": "object"}}]},
                         {"Authorization": f"Bearer {OPENAI_KEY}"})
    assert answer.json()["error"]["param"] == "tools[0].type"


async def test_openai_fake_refuses_an_anthropic_system_field(openai_strict_upstream) -> None:
    answer = await _post(f"{openai_strict_upstream.url}/v1/chat/completions",
                         {"model": "gpt-4.1", "system": "x", "messages": [{"role": "user", "content": "hi"}]},
                         {"Authorization": f"Bearer {OPENAI_KEY}"})
    assert answer.json()["error"]["message"] == "Unrecognized request argument supplied: system"
