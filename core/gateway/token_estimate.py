"""An offline estimate of a call's input tokens, for token-counting endpoints the provider cannot answer.

Anthropic's `/v1/messages/count_tokens` and Gemini's `:countTokens` must answer even when the target has
no counting endpoint (or speaks another format). No tokenizer is downloaded: the estimate follows the
rules of thumb the providers publish, which is close enough for budgeting a context window.

- Text: about 4 characters a token for ASCII (English, code); about 2 for other alphabetic scripts
  (Cyrillic, Greek, Arabic, accented Latin…, which tokenizers split finer); 1 token per CJK character
  (Han, kana, Hangul, full-width forms), each of which is usually a token of its own.
- An image: a fixed `IMAGE_TOKENS`, Anthropic's cost of a full-size image (about width × height / 750,
  capped near 1,600), as its size is not known without decoding it.
- Framing: `MESSAGE_TOKENS` per turn and per system prompt, `PART_TOKENS` per tool call and tool result,
  `TOOL_TOKENS` per tool definition plus its name, description and JSON schema as text, and
  `TOOLS_PREAMBLE_TOKENS` once when tools are offered (the instructions providers add for tool use).
"""

from __future__ import annotations

import json
import math
import re

from core.gateway.dialects.common import Call, Image, Part, Text, Thinking, ToolCall, ToolResult

IMAGE_TOKENS = 1600
MESSAGE_TOKENS = 4
PART_TOKENS = 8
TOOL_TOKENS = 16
TOOLS_PREAMBLE_TOKENS = 300
REPLY_TOKENS = 3  # the start of the assistant's answer every request ends with

_CJK = re.compile("[\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
                  "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def text_tokens(text: str) -> int:
    """Tokens of a piece of text, by the per-script rates above."""
    if not text:
        return 0
    cjk = len(_CJK.findall(text))
    other = len(_NON_ASCII.findall(text)) - cjk
    ascii_chars = len(text) - cjk - other
    return cjk + math.ceil(other / 2) + math.ceil(ascii_chars / 4)


def _part_tokens(part: Part) -> int:
    if isinstance(part, Text):
        return text_tokens(part.text)
    if isinstance(part, Image):
        return IMAGE_TOKENS
    if isinstance(part, ToolCall):
        return PART_TOKENS + text_tokens(part.name) + text_tokens(part.arguments)
    if isinstance(part, ToolResult):
        return PART_TOKENS + sum(_part_tokens(item) for item in part.content)
    if isinstance(part, Thinking):
        return text_tokens(part.text)
    return 0


def _tools_tokens(call: Call) -> int:
    if not call.tools:
        return 0
    return TOOLS_PREAMBLE_TOKENS + sum(
        TOOL_TOKENS + text_tokens(tool.name) + text_tokens(tool.description or "")
        + text_tokens(json.dumps(tool.parameters, ensure_ascii=False, separators=(",", ":")))
        for tool in call.tools)


def count_tokens(call: Call) -> int:
    """The estimated input tokens of `call`: its system prompt, turns, tools and response schema; >= 1."""
    total = REPLY_TOKENS + _tools_tokens(call)
    if call.system:
        total += MESSAGE_TOKENS + sum(text_tokens(part.text) for part in call.system)
    for message in call.messages:
        total += MESSAGE_TOKENS + sum(_part_tokens(part) for part in message.parts)
    if call.response_format is not None and call.response_format.schema is not None:
        total += text_tokens(json.dumps(call.response_format.schema, ensure_ascii=False, separators=(",", ":")))
    return max(1, total)
