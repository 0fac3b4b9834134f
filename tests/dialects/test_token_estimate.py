"""The offline token estimate: its per-script rates, fixed costs, and a floor of one token."""

from __future__ import annotations

from typing import Any

from core.gateway.dialects.common import (
    Call, Image, Message, Part, ResponseFormat, Text, Thinking, Tool, ToolCall, ToolResult,
)
from core.gateway.token_estimate import (
    IMAGE_TOKENS, MESSAGE_TOKENS, PART_TOKENS, REPLY_TOKENS, TOOL_TOKENS, TOOLS_PREAMBLE_TOKENS, count_tokens,
    text_tokens,
)


def call(*parts: Part, **fields: Any) -> Call:
    return Call(format="anthropic", model="m", messages=[Message("user", list(parts))], **fields)


def framing(messages: int = 1) -> int:
    return REPLY_TOKENS + MESSAGE_TOKENS * messages


def test_ascii_text_is_about_four_characters_a_token() -> None:
    assert text_tokens("The quick brown fox jumps over the lazy dog.") == 11  # 44 characters


def test_each_cjk_character_is_a_token() -> None:
    assert text_tokens("今日は良い天気です") == 9
    assert text_tokens("안녕하세요") == 5


def test_other_scripts_are_about_two_characters_a_token() -> None:
    assert text_tokens("Привет") == 3


def test_mixed_text_adds_its_scripts() -> None:
    assert text_tokens("Hi 你好") == 1 + 2  # "Hi " as ASCII, two Han characters


def test_empty_text_costs_nothing() -> None:
    assert text_tokens("") == 0


def test_an_image_has_a_fixed_cost() -> None:
    assert count_tokens(call(Image(media_type="image/png", data="iVBOR"))) == framing() + IMAGE_TOKENS


def test_tools_add_a_preamble_and_their_definitions() -> None:
    tool = Tool("f", None, {})
    with_tool = count_tokens(call(Text("hi"), tools=[tool]))
    assert with_tool - count_tokens(call(Text("hi"))) == (TOOLS_PREAMBLE_TOKENS + TOOL_TOKENS + text_tokens("f")
                                                          + text_tokens("{}"))


def test_every_turn_and_the_system_prompt_add_framing() -> None:
    two_turns = Call(format="openai", model="m", system=[Text("")],
                     messages=[Message("user", [Text("")]), Message("assistant", [Text("")])])
    assert count_tokens(two_turns) == framing(3)


def test_tool_calls_results_and_thinking_are_counted() -> None:
    parts = [Thinking("abcd"), ToolCall("c1", "f", '{"a":1}'), ToolResult("c1", [Text("abcd"), Image(url="u")])]
    expected = (framing() + 1 + PART_TOKENS + text_tokens("f") + text_tokens('{"a":1}') + PART_TOKENS + 1
                + IMAGE_TOKENS)
    assert count_tokens(call(*parts)) == expected


def test_a_response_schema_is_counted() -> None:
    schema = {"type": "object"}
    with_schema = count_tokens(call(Text("hi"), response_format=ResponseFormat("json_schema", schema)))
    assert with_schema - count_tokens(call(Text("hi"))) == text_tokens('{"type":"object"}')


def test_any_call_is_at_least_one_token() -> None:
    assert count_tokens(Call(format="gemini", model="m", messages=[])) >= 1


def test_longer_text_never_counts_fewer_tokens() -> None:
    counts = [count_tokens(call(Text("word " * n))) for n in range(0, 200, 7)]
    assert counts == sorted(counts)
