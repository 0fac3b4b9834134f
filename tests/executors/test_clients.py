"""Every subscription reached from the official client libraries through the running gateway: plain and
streamed answers and tool-call round trips (plain and streamed), with the OpenAI Chat and Anthropic SDKs
against every subscription, the Responses SDK against Codex and google-genai against Cloud Code (the
same-format paths). The strict fakes refuse anything their real upstream would."""

from __future__ import annotations

import itertools
import warnings

import pytest

from tests.conformance.drivers import RESULTS, parse_warnings, run_cell

MODELS = {"claude": "cc/claude-sonnet-4-5-20250929", "codex": "cx/gpt-5.1-codex", "github": "gh/gpt-4.1",
          "antigravity": "agy/gemini-3-pro-high", "gemini-cli": "gemini-cli/gemini-2.5-flash"}
GREETING = {"claude": "claude", "codex": "codex", "github": "copilot", "antigravity": "antigravity",
            "gemini-cli": "gemini-cli"}
CELLS = ("plain", "stream", "tool", "stream_tool")
MATRIX = (list(itertools.product(("openai_chat", "anthropic"), MODELS, CELLS))
          + [("responses", "codex", cell) for cell in CELLS]
          + list(itertools.product(("gemini",), ("gemini-cli", "antigravity"), CELLS)))


@pytest.mark.parametrize(("client", "subscription", "cell"), MATRIX, ids=["-".join(case) for case in MATRIX])
async def test_cell(subscriptions, client: str, subscription: str, cell: str) -> None:
    await subscriptions.add(subscription)
    fake = subscriptions.fakes[subscription]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = await run_cell(client, cell, subscriptions.services.gateway_state.url, "unused",
                                     MODELS[subscription])
        except Exception as error:
            raise AssertionError(f"{type(error).__name__}: {error}\nupstream refusals: {fake.refusals}") from error
    assert fake.refusals == []
    assert parse_warnings(caught) == []
    others = {name: len(other.requests) for name, other in subscriptions.fakes.items() if other is not fake}
    assert others == dict.fromkeys(others, 0)
    if outcome.final is None:
        assert outcome.first.text == f"Hello from {GREETING[subscription]}"
        assert len(fake.requests) == 1
        return
    assert [(call.name, call.arguments) for call in outcome.first.calls] == [("get_weather", {"city": "Paris"})]
    assert len(fake.requests) == 2  # the tool results went back to the same upstream, which accepted them
    assert outcome.final.text == f"The tool said: {RESULTS[0]}"
    assert outcome.final.calls == []
