"""The conformance matrix: every official client library x every upstream wire format x every cell, through
the running gateway.

Clients: openai (Chat Completions), openai (Responses), anthropic, google-genai, ollama. Upstreams: strict
fakes of OpenAI, Anthropic and Gemini (tests/fakes), which refuse what the real APIs refuse. Cells: plain
text, stream, a second turn after a text answer, usage (plain and streamed), tool-call round trip,
streamed tool-call round trip, two parallel tool calls, a streamed answer with text before its tool call,
an upstream error (plain and streamed).

Each cell asserts: the library parsed everything without a warning; the text (or usage, or error) is
right; the tool calls are the upstream's, with the ids the library got leading back to the upstream's own
ids; the upstream received its own format (no refusal) and the other upstreams nothing.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import pytest

from tests.conformance.drivers import CELLS, RESULTS, Outcome, parse_warnings, run_cell
from tests.fakes.openai_tools_upstream import PREAMBLE, REFUSAL_MESSAGE

CLIENTS = ("openai_chat", "responses", "anthropic", "gemini", "ollama")
MODELS = {"openai": "openai/gpt-4.1", "anthropic": "anthropic/claude-sonnet-4-5-20250929",
          "gemini": "gemini/gemini-2.5-flash"}
MATRIX = list(itertools.product(CLIENTS, MODELS, CELLS))


@pytest.fixture
async def gateway(upstreams_via_fakes, services):
    await upstreams_via_fakes(services)
    return services.gateway_state.url, upstreams_via_fakes.fakes


@pytest.mark.parametrize(("client", "upstream", "cell"), MATRIX, ids=["-".join(case) for case in MATRIX])
async def test_cell(gateway, client: str, upstream: str, cell: str) -> None:
    url, fakes = gateway
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = await run_cell(client, cell, url, "unused-on-loopback", MODELS[upstream])
        except Exception as error:
            refusals = {name: fake.refusals for name, fake in fakes.items() if fake.refusals}
            raise AssertionError(f"{type(error).__name__}: {error}\nupstream refusals: {refusals}") from error
    fake = fakes[upstream]
    assert fake.refusals == []
    assert fake.requests, "the upstream received nothing"
    assert {name: len(other.requests) for name, other in fakes.items() if other is not fake} == \
        {name: 0 for name in fakes if fakes[name] is not fake}
    assert parse_warnings(caught) == []
    if cell in ("error", "stream_error"):  # the upstream's 400 reaches the library as its own API error
        assert outcome.error is not None, "the library raised no error"
        status, message = outcome.error
        assert status == 400
        assert message is not None and REFUSAL_MESSAGE in message, f"not in the client's error shape: {message}"
        return
    if client == "openai_chat" and cell == "stream":  # no usage chunk for a client that did not ask for one
        assert outcome.first.usage == {}
    if cell in ("usage", "stream_usage"):  # every fake counts 12 prompt tokens (4 cached) and 6 answer tokens
        expected = {"prompt": 12, "cached": 4, "completion": 6}
        assert outcome.first.usage == {name: expected[name] for name in outcome.first.usage}
        assert outcome.first.usage, "the library got no usage"
        return
    if cell == "multi_turn":
        assert (outcome.first.text, outcome.final.text) == (f"Hello from {upstream}", f"Hello from {upstream}")
        return
    if outcome.final is None:
        assert outcome.first.text == f"Hello from {upstream}"
        assert outcome.first.stop in (None, "end")
        return
    _assert_round_trip(outcome, cell, upstream, fake)


def _assert_round_trip(outcome: Outcome, cell: str, upstream: str, fake: Any) -> None:
    calls = outcome.first.calls
    count = 2 if cell == "parallel_tool" else 1
    assert [(call.name, call.arguments) for call in calls] == [("get_weather", {"city": "Paris"})] * count
    assert outcome.first.text == (PREAMBLE if cell == "stream_text_and_tool" else "")
    ids = [call.id for call in calls if call.id is not None]
    assert all(ids) and len(set(ids)) == len(ids), f"tool-call ids the library got: {ids}"
    assert len(fake.requests) == 2
    sent_back = _results_sent(upstream, fake.requests[1].body)
    # Each result reaches the upstream under the upstream's own id for that call (by name, in order, for
    # Gemini, which has no call ids); a result may arrive wrapped (e.g. Gemini's {"result": ...} as JSON).
    # A library without call ids (Ollama's drops them) cannot carry the upstream's ids back: there the
    # fake's own check (each result answers a call of the turn before) is all there is.
    if upstream == "gemini":
        assert [call_id for call_id, _ in sent_back] == ["get_weather"] * count
    elif ids:
        assert [call_id for call_id, _ in sent_back] == fake.issued_call_ids
    assert len(sent_back) == count
    for (_, text), result in zip(sent_back, RESULTS[:count]):
        assert result in text
    assert outcome.final.text.startswith("The tool said: ")
    for result in RESULTS[:count]:
        assert result in outcome.final.text
    assert outcome.first.stop in (None, "tool")
    assert outcome.final.calls == []
    assert outcome.final.stop in (None, "end")


def _results_sent(upstream: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(call id, or name for Gemini; result text) of each tool result in the last turn the upstream got."""
    if upstream == "openai":
        tail = list(itertools.takewhile(lambda m: m["role"] == "tool", reversed(body["messages"])))[::-1]
        return [(m["tool_call_id"], m["content"] if isinstance(m["content"], str)
                 else "".join(p.get("text", "") for p in m["content"])) for m in tail]
    if upstream == "anthropic":
        content = body["messages"][-1]["content"]
        return [(block["tool_use_id"], block["content"] if isinstance(block.get("content"), str)
                 else "".join(b.get("text", "") for b in block.get("content") or []))
                for block in content if isinstance(block, dict) and block["type"] == "tool_result"]
    parts = body["contents"][-1]["parts"]
    found = []
    for part in parts:
        response = part.get("functionResponse") or part.get("function_response")
        if response:
            values = [v for v in response["response"].values() if isinstance(v, str)]
            found.append((response["name"], values[0] if len(values) == 1 else str(response["response"])))
    return found
