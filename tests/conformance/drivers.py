"""One driver per official client library: each runs a cell (plain text, stream, tool-call round trip,
streamed tool-call round trip, parallel tool calls) the way the library's own documentation does, against
any base URL, and reports what the library parsed.

A tool-call round trip asks with one tool offered, gets the call(s), sends each result back under the id
the library gave for it, and reads the final text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import ollama
import openai
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.fakes.openai_tools_upstream import REFUSE_MARKER

SYSTEM = "You are a weather assistant."
PARALLEL_SYSTEM = "You are a weather assistant. PARALLEL"
PREAMBLE_SYSTEM = "You are a weather assistant. PREAMBLE"  # text first, then the tool call
QUESTION = "What's the weather in Paris?"
FOLLOW_UP = "And tomorrow?"
RESULTS = ["sunny, 21C", "light rain, 14C"]
TOOL_NAME = "get_weather"
TOOL_DESCRIPTION = "Current weather of a city"
# Strict-mode style schema, as OpenAI-world clients write it (additionalProperties included): a Gemini
# upstream refuses the keyword, so the gateway has to drop it.
TOOL_SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
               "required": ["city"], "additionalProperties": False}

CELLS = ("plain", "stream", "multi_turn", "usage", "stream_usage", "tool", "stream_tool", "parallel_tool",
         "stream_text_and_tool", "error", "stream_error")
STREAM_CELLS = ("stream", "stream_usage", "stream_tool", "stream_text_and_tool", "stream_error")
ERROR_CELLS = ("error", "stream_error")  # the upstream refuses (400 in its own shape)
TOOL_CELLS = ("tool", "stream_tool", "parallel_tool", "stream_text_and_tool")

# Warnings a library raises whatever it talks to, so they say nothing about what it parsed:
# google-genai subclasses aiohttp.ClientSession for every aio client, which aiohttp frowns upon.
SDK_NOISE = ("Inheritance class AiohttpClientSession from ClientSession is discouraged",)


def parse_warnings(caught: list[Any]) -> list[str]:
    """The warnings a library raised while talking, minus `SDK_NOISE`."""
    return [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught
            if not str(w.message).startswith(SDK_NOISE)]


@dataclass
class Call:
    id: str | None  # None where the library has no call ids (Ollama)
    name: str
    arguments: dict[str, Any]


@dataclass
class Turn:
    text: str
    calls: list[Call] = field(default_factory=list)
    # token counts in OpenAI's sense (prompt includes cached; completion includes reasoning), only those
    # the library's format carries
    usage: dict[str, int] = field(default_factory=dict)
    stop: str | None = None  # "tool" / "end" where the format tells the two apart, else None


@dataclass
class Outcome:
    """What the library gave: the first answer and, for tool cells, the answer to the tool results; for
    error cells the library's own API error as (HTTP status, message read from the format's error shape)."""

    first: Turn | None
    final: Turn | None = None
    error: tuple[int, str | None] | None = None


async def run_cell(client: str, cell: str, base_url: str, key: str, model: str) -> Outcome:
    driver = DRIVERS[client](base_url, key, model)
    try:
        stream = cell in STREAM_CELLS
        tools = cell in TOOL_CELLS
        system = {"parallel_tool": PARALLEL_SYSTEM, "stream_text_and_tool": PREAMBLE_SYSTEM}.get(cell, SYSTEM)
        driver.include_usage = cell == "stream_usage"
        driver.start(system, f"{QUESTION} {REFUSE_MARKER}" if cell in ERROR_CELLS else QUESTION)
        try:
            first = await driver.ask(tools=tools, stream=stream)
        except Exception as error:
            failure = driver.api_error(error)
            if failure is None or cell not in ERROR_CELLS:
                raise
            return Outcome(None, error=failure)
        if cell == "multi_turn":  # the answer goes back as history, with a new question
            driver.say(FOLLOW_UP)
            return Outcome(first, await driver.ask(tools=False, stream=False))
        if not tools:
            return Outcome(first)
        driver.answer_calls(first, RESULTS[:len(first.calls)])
        final = await driver.ask(tools=True, stream=stream)
        return Outcome(first, final)
    finally:
        await driver.close()


class RecordingTransport(httpx.AsyncBaseTransport):
    """The library's own HTTP traffic, unchanged, with each response body kept as it was read (to check
    wire rules the library does not, e.g. `[DONE]` exactly once)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bodies: list[list[bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        chunks: list[bytes] = []
        self.bodies.append(chunks)
        upstream = response.stream

        class Tee(httpx.AsyncByteStream):
            async def __aiter__(self):
                async for chunk in upstream:  # type: ignore[union-attr]
                    chunks.append(chunk)
                    yield chunk

            async def aclose(self) -> None:
                await upstream.aclose()  # type: ignore[union-attr]

        return httpx.Response(response.status_code, headers=response.headers, stream=Tee(),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


class OpenAIChat:
    include_usage = False

    def __init__(self, base_url: str, key: str, model: str) -> None:
        self.transport = RecordingTransport()
        self.client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=20,
                                         http_client=httpx.AsyncClient(transport=self.transport, timeout=20))
        self.model = model
        self.messages: list[dict[str, Any]] = []

    def start(self, system: str, question: str) -> None:
        self.messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]

    def say(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    async def ask(self, tools: bool, stream: bool) -> Turn:
        options: dict[str, Any] = {}
        if tools:
            options["tools"] = [{"type": "function", "function": {"name": TOOL_NAME, "description": TOOL_DESCRIPTION,
                                                                  "parameters": TOOL_SCHEMA}}]
        if not stream:
            completion = await self.client.chat.completions.create(model=self.model, messages=self.messages,
                                                                   **options)
            message = completion.choices[0].message
            self.messages.append(message.model_dump(exclude_none=True, exclude={"annotations", "refusal"}))
            calls = [Call(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]
            return Turn(message.content or "", calls, _chat_usage(completion.usage),
                        _stop(completion.choices[0].finish_reason, "tool_calls", "stop"))
        if self.include_usage:
            options["stream_options"] = {"include_usage": True}
        chunks = await self.client.chat.completions.create(model=self.model, messages=self.messages, stream=True,
                                                           **options)
        text, calls, usage, finish = [], {}, {}, None
        async for chunk in chunks:
            if chunk.usage is not None:
                usage = _chat_usage(chunk.usage)  # a client that did not ask must not get it
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                text.append(choice.delta.content or "")
                for delta in choice.delta.tool_calls or []:
                    call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                    call["id"] = delta.id or call["id"]
                    if delta.function:
                        call["name"] += delta.function.name or ""
                        call["arguments"] += delta.function.arguments or ""
        raw = b"".join(self.transport.bodies[-1])
        assert raw.count(b"data: [DONE]") == 1 and raw.rstrip().endswith(b"data: [DONE]"), \
            f"an OpenAI stream ends with exactly one [DONE]: ...{raw[-200:]!r}"
        message: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
        if calls:
            message["tool_calls"] = [{"id": c["id"], "type": "function",
                                      "function": {"name": c["name"], "arguments": c["arguments"]}}
                                     for _, c in sorted(calls.items())]
        self.messages.append(message)
        return Turn("".join(text), [Call(c["id"], c["name"], json.loads(c["arguments"]))
                                    for _, c in sorted(calls.items())], usage, _stop(finish, "tool_calls", "stop"))

    def answer_calls(self, turn: Turn, results: list[str]) -> None:
        self.messages += [{"role": "tool", "tool_call_id": call.id, "content": result}
                          for call, result in zip(turn.calls, results)]

    @staticmethod
    def api_error(error: Exception) -> tuple[int, str | None] | None:
        if not isinstance(error, openai.APIStatusError):
            return None
        return error.status_code, error.body.get("message") if isinstance(error.body, dict) else None

    async def close(self) -> None:
        await self.client.close()


class OpenAIResponses:
    include_usage = False

    def __init__(self, base_url: str, key: str, model: str) -> None:
        self.client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=20)
        self.model = model
        self.system = ""
        self.input: list[Any] = []

    def start(self, system: str, question: str) -> None:
        self.system = system
        self.input = [{"role": "user", "content": question}]

    def say(self, text: str) -> None:
        self.input.append({"role": "user", "content": text})

    async def ask(self, tools: bool, stream: bool) -> Turn:
        options: dict[str, Any] = {"store": False}
        if tools:
            options["tools"] = [{"type": "function", "name": TOOL_NAME, "description": TOOL_DESCRIPTION,
                                 "parameters": TOOL_SCHEMA, "strict": True}]
        if stream:
            events = await self.client.responses.create(model=self.model, instructions=self.system,
                                                        input=self.input, stream=True, **options)
            deltas, response, numbers, kinds, done = [], None, [], [], []
            async for event in events:
                numbers.append(event.sequence_number)
                kinds.append(event.type)
                if event.type == "response.output_text.delta":
                    deltas.append(event.delta)
                elif event.type == "response.output_item.done":
                    done.append(event.item)  # what Codex builds its turn from
                elif event.type == "response.completed":
                    response = event.response
            assert kinds[0] == "response.created" and kinds[-1] == "response.completed", kinds
            assert response is not None, "the stream ended without response.completed"
            assert "".join(deltas) == response.output_text, "the text deltas differ from the completed response"
            assert numbers == sorted(set(numbers)), f"sequence numbers not increasing: {numbers}"
            assert [item.model_dump(exclude_none=True) for item in done] == \
                [item.model_dump(exclude_none=True) for item in response.output], \
                "the output_item.done items differ from the completed response's output"
        else:
            response = await self.client.responses.create(model=self.model, instructions=self.system,
                                                          input=self.input, **options)
        self.input += response.output  # the documented way to carry a turn over, statelessly
        calls = [Call(item.call_id, item.name, json.loads(item.arguments))
                 for item in response.output if item.type == "function_call"]
        usage = response.usage
        return Turn(response.output_text, calls,
                    {"prompt": usage.input_tokens, "cached": usage.input_tokens_details.cached_tokens,
                     "completion": usage.output_tokens} if usage else {})

    def answer_calls(self, turn: Turn, results: list[str]) -> None:
        self.input += [{"type": "function_call_output", "call_id": call.id, "output": result}
                       for call, result in zip(turn.calls, results)]

    @staticmethod
    def api_error(error: Exception) -> tuple[int, str | None] | None:
        if not isinstance(error, openai.APIStatusError):
            return None
        return error.status_code, error.body.get("message") if isinstance(error.body, dict) else None

    async def close(self) -> None:
        await self.client.close()


class Anthropic:
    include_usage = False

    def __init__(self, base_url: str, key: str, model: str) -> None:
        self.client = anthropic.AsyncAnthropic(base_url=base_url, api_key=key, max_retries=0, timeout=20)
        self.model = model
        self.system = ""
        self.messages: list[dict[str, Any]] = []

    def start(self, system: str, question: str) -> None:
        self.system = system
        self.messages = [{"role": "user", "content": question}]

    def say(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    async def ask(self, tools: bool, stream: bool) -> Turn:
        options: dict[str, Any] = {}
        if tools:
            options["tools"] = [{"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": TOOL_SCHEMA}]
        if stream:
            async with self.client.messages.stream(model=self.model, max_tokens=1024, system=self.system,
                                                   messages=self.messages, **options) as events:
                async for _ in events:
                    pass
                message = await events.get_final_message()
        else:
            message = await self.client.messages.create(model=self.model, max_tokens=1024, system=self.system,
                                                        messages=self.messages, **options)
        self.messages.append({"role": "assistant", "content": message.content})
        text = "".join(block.text for block in message.content if block.type == "text")
        calls = [Call(block.id, block.name, dict(block.input)) for block in message.content
                 if block.type == "tool_use"]
        usage = message.usage
        cached = usage.cache_read_input_tokens or 0
        return Turn(text, calls, {"prompt": usage.input_tokens + cached + (usage.cache_creation_input_tokens or 0),
                                  "cached": cached, "completion": usage.output_tokens},
                    _stop(message.stop_reason, "tool_use", "end_turn"))

    def answer_calls(self, turn: Turn, results: list[str]) -> None:
        self.messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call.id, "content": result}
            for call, result in zip(turn.calls, results)]})

    @staticmethod
    def api_error(error: Exception) -> tuple[int, str | None] | None:
        if not isinstance(error, anthropic.APIStatusError):
            return None
        body = error.body if isinstance(error.body, dict) else {}
        inner = body.get("error") if body.get("type") == "error" else None
        return error.status_code, inner.get("message") if isinstance(inner, dict) else None

    async def close(self) -> None:
        await self.client.close()


class Gemini:
    include_usage = False

    def __init__(self, base_url: str, key: str, model: str) -> None:
        # google-genai 1.x-3.x default to api_version "v1"; the Gemini API (and the gateway) serve v1beta
        self.client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=base_url,
                                                                               api_version="v1beta",
                                                                               timeout=20_000))
        self.model = model
        self.system = ""
        self.contents: list[types.Content] = []

    def start(self, system: str, question: str) -> None:
        self.system = system
        self.contents = [types.Content(role="user", parts=[types.Part(text=question)])]

    def say(self, text: str) -> None:
        self.contents.append(types.Content(role="user", parts=[types.Part(text=text)]))

    async def ask(self, tools: bool, stream: bool) -> Turn:
        config = types.GenerateContentConfig(system_instruction=self.system)
        if tools:
            config.tools = [types.Tool(function_declarations=[types.FunctionDeclaration(
                name=TOOL_NAME, description=TOOL_DESCRIPTION,
                parameters=types.Schema(type="OBJECT", required=["city"], properties={
                    "city": types.Schema(type="STRING", description="City name")}))])]
            config.automatic_function_calling = types.AutomaticFunctionCallingConfig(disable=True)
        parts: list[types.Part] = []
        usage = None
        if stream:
            async for chunk in await self.client.aio.models.generate_content_stream(
                    model=self.model, contents=self.contents, config=config):
                usage = chunk.usage_metadata or usage
                for candidate in chunk.candidates or []:
                    parts += (candidate.content.parts or []) if candidate.content else []
        else:
            response = await self.client.aio.models.generate_content(model=self.model, contents=self.contents,
                                                                     config=config)
            parts = list(response.candidates[0].content.parts or [])
            usage = response.usage_metadata
        self.contents.append(types.Content(role="model", parts=parts))
        text = "".join(part.text for part in parts if part.text and not part.thought)
        calls = [Call(part.function_call.id, part.function_call.name, dict(part.function_call.args or {}))
                 for part in parts if part.function_call]
        counts = {"prompt": usage.prompt_token_count or 0, "cached": usage.cached_content_token_count or 0,
                  "completion": (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)} \
            if usage else {}
        return Turn(text, calls, counts)

    def answer_calls(self, turn: Turn, results: list[str]) -> None:
        self.contents.append(types.Content(role="user", parts=[
            types.Part(function_response=types.FunctionResponse(id=call.id, name=call.name,
                                                                response={"result": result}))
            for call, result in zip(turn.calls, results)]))

    @staticmethod
    def api_error(error: Exception) -> tuple[int, str | None] | None:
        if not isinstance(error, genai_errors.APIError):
            return None
        return error.code, error.message if error.status == "INVALID_ARGUMENT" else None

    async def close(self) -> None:
        await self.client.aio.aclose()


class Ollama:
    include_usage = False

    def __init__(self, base_url: str, key: str, model: str) -> None:
        self.client = ollama.AsyncClient(host=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=20)
        self.model = model
        self.messages: list[Any] = []

    def start(self, system: str, question: str) -> None:
        self.messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]

    def say(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    async def ask(self, tools: bool, stream: bool) -> Turn:
        options: dict[str, Any] = {}
        if tools:
            options["tools"] = [{"type": "function", "function": {"name": TOOL_NAME, "description": TOOL_DESCRIPTION,
                                                                  "parameters": TOOL_SCHEMA}}]
        if stream:
            text, tool_calls, last, done = [], [], None, []
            async for chunk in await self.client.chat(model=self.model, messages=self.messages, stream=True,
                                                      **options):
                text.append(chunk.message.content or "")
                tool_calls += chunk.message.tool_calls or []
                last = chunk
                done.append(bool(chunk.done))
            assert done and done[-1] and not any(done[:-1]), f"done flags of the NDJSON lines: {done}"
            message = ollama.Message(role="assistant", content="".join(text), tool_calls=tool_calls or None)
        else:
            last = await self.client.chat(model=self.model, messages=self.messages, **options)
            message = last.message
        self.messages.append(message)
        return Turn(message.content or "", [Call(None, call.function.name, dict(call.function.arguments))
                                            for call in message.tool_calls or []],
                    {"prompt": last.prompt_eval_count, "completion": last.eval_count} if last else {})

    def answer_calls(self, turn: Turn, results: list[str]) -> None:
        self.messages += [{"role": "tool", "content": result, "tool_name": call.name}
                          for call, result in zip(turn.calls, results)]

    @staticmethod
    def api_error(error: Exception) -> tuple[int, str | None] | None:
        if not isinstance(error, ollama.ResponseError):
            return None
        return error.status_code, error.error if isinstance(error.error, str) else None

    async def close(self) -> None:
        await self.client._client.aclose()


def _chat_usage(usage: Any) -> dict[str, int]:
    if usage is None:
        return {}
    details = usage.prompt_tokens_details
    return {"prompt": usage.prompt_tokens, "cached": (details.cached_tokens or 0) if details else 0,
            "completion": usage.completion_tokens}


def _stop(reason: str | None, tool: str, end: str) -> str | None:
    return {tool: "tool", end: "end"}.get(reason or "", reason)


DRIVERS = {"openai_chat": OpenAIChat, "responses": OpenAIResponses, "anthropic": Anthropic, "gemini": Gemini,
           "ollama": Ollama}
