"""Codex (ChatGPT Plus/Pro): the ChatGPT backend's Codex Responses endpoint, as the Codex CLI calls it.

The endpoint takes a narrower Responses request than the public API: it always streams, stores nothing,
wants `instructions` and a list `input`, and refuses sampling and length parameters. Requests are reshaped
to that; a client that did not ask for a stream is answered by collecting the stream into the one
Responses object the public API would have returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from core.gateway.dialects.common import Call, UpstreamRequest, dumps
from core.gateway.executors.base import AdaptedResponse, Executor, Outgoing, body_object, json_headers
from core.gateway.sse import EventSplitter, event_json
from core.subscriptions.credentials import Credential

if TYPE_CHECKING:
    from core.gateway.routing import Upstream
    from core.gateway.upstream import UpstreamResponse

ORIGINATOR = "codex_cli_rs"
CODEX_CLI_VERSION = "0.63.0"
DEFAULT_INSTRUCTIONS = "You are a helpful coding assistant. Answer the user's request."
# What the endpoint takes; anything else (max_output_tokens, temperature, top_p, user, metadata,
# previous_response_id, truncation, …) it refuses with "Unsupported parameter".
ACCEPTED = frozenset({"model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls", "reasoning",
                      "store", "stream", "include", "prompt_cache_key", "text", "service_tier"})
ENCRYPTED_REASONING = "reasoning.encrypted_content"
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def codex_body(body: dict[str, Any]) -> dict[str, Any]:
    """A Responses request as the Codex endpoint takes it."""
    shaped = {key: value for key, value in body.items() if key in ACCEPTED}
    shaped["stream"], shaped["store"] = True, False
    instructions = shaped.get("instructions")
    if not isinstance(instructions, str) or not instructions.strip():
        shaped["instructions"] = DEFAULT_INSTRUCTIONS
    shaped["input"] = _input_items(shaped.get("input"))
    if "reasoning" in shaped:  # with nothing stored, reasoning carries over only in its encrypted form
        include = shaped.get("include") if isinstance(shaped.get("include"), list) else []
        shaped["include"] = include if ENCRYPTED_REASONING in include else include + [ENCRYPTED_REASONING]
    return shaped


def _input_items(value: Any) -> list[Any]:
    """`input` as a list of items; a system turn becomes a developer turn, and references to stored items
    (which a store-less endpoint cannot resolve) are left out."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    items = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            if item.get("type") == "item_reference":
                continue
            if item.get("role") == "system":
                item = {**item, "role": "developer"}
        items.append(item)
    return items


def collected(raw: bytes) -> bytes:
    """A whole Codex stream as the one Responses object of its final event, with the output items the
    stream sent filled in where that event leaves `output` empty. Raises httpx.RemoteProtocolError for a
    stream that ended before its final event."""
    items: list[Any] = []
    splitter = EventSplitter()
    events = list(splitter.feed(raw))
    rest = splitter.rest()
    if rest is not None:
        events.append(rest)
    for event in events:
        data = event_json(event)
        if data is None:
            continue
        kind = data.get("type")
        if kind == "response.output_item.done":
            items.append(data.get("item"))
        elif kind in _TERMINAL and isinstance(data.get("response"), dict):
            response = data["response"]
            if not response.get("output"):
                response["output"] = [item for item in items if isinstance(item, dict)]
            return dumps(response)
        elif kind == "error":
            error = data.get("error") if isinstance(data.get("error"), dict) else data
            return dumps({"object": "response", "status": "failed", "error": error, "output": []})
    raise httpx.RemoteProtocolError("the Codex stream ended before response.completed")


class CodexExecutor(Executor):
    name = "codex"

    def request(self, upstream: "Upstream", request: UpstreamRequest, credential: Credential,
                call: Call) -> Outgoing:
        headers = json_headers(request, True, credential.access_token)
        headers["openai-beta"] = "responses=experimental"
        headers["originator"] = ORIGINATOR
        headers["user-agent"] = f"{ORIGINATOR}/{CODEX_CLI_VERSION}"
        account = credential.extra.get("chatgpt_account_id")
        if isinstance(account, str) and account:
            headers["chatgpt-account-id"] = account
        return Outgoing(upstream.base_url + request.path, dumps(codex_body(body_object(request))), headers)

    def adapt(self, response: "UpstreamResponse", call: Call) -> "UpstreamResponse":
        if call.stream:
            return response
        return AdaptedResponse(response, body=collected, content_type="application/json")


EXECUTOR = CodexExecutor()
