"""Google's Cloud Code Assist (`v1internal`), which serves Antigravity and Gemini CLI sign-ins.

It takes a Gemini generateContent body wrapped as `{model, project, request}` (the project is the account's
Code Assist project, found at sign-in as the quota code finds it) and answers Gemini's shapes wrapped as
`{"response": …}`, streams included. Requests are wrapped without re-encoding the Gemini body; answers are
unwrapped, so the Gemini dialect reads them as it reads Gemini's own. Antigravity speaks to its own host and
names itself as the Antigravity agent does.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from core.gateway.dialects.common import Call, UpstreamRequest, dumps
from core.gateway.executors.base import AdaptedResponse, Executor, Outgoing, json_headers, platform_pair
from core.gateway.sse import event_json
from core.subscriptions.credentials import Credential, SignInRequired

if TYPE_CHECKING:
    from core.gateway.routing import Upstream
    from core.gateway.upstream import UpstreamResponse

GEMINI_CLI_VERSION = "0.18.0"
ANTIGRAVITY_VERSION = "1.11.9"
CLIENT_METADATA = "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI"


def unwrapped(raw: bytes) -> bytes:
    """A non-streamed answer without its `{"response": …}` envelope (errors are Google's plain shape)."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return raw
    inner = payload.get("response") if isinstance(payload, dict) else None
    return dumps(inner) if isinstance(inner, dict) else raw


class _StreamUnwrapper:
    """Stream events without their envelope: as SSE, or as the JSON array a Gemini client gets when it did
    not ask for `alt=sse`."""

    def __init__(self, json_array: bool) -> None:
        self.json_array = json_array
        self.opened = False

    def event(self, raw: bytes) -> bytes:
        data = event_json(raw)
        if data is None:
            return b"" if self.json_array else raw
        inner = data.get("response") if isinstance(data.get("response"), dict) else data
        if not self.json_array:
            return b"data: " + dumps(inner) + b"\n\n"
        # A blank line after each element (white space JSON allows) lets a pass-through relay release it now.
        piece = (b"," if self.opened else b"[") + dumps(inner) + b"\n\n"
        self.opened = True
        return piece

    def end(self) -> bytes:
        if not self.json_array:
            return b""
        return b"]" if self.opened else b"[]"


class CloudCodeExecutor(Executor):
    def __init__(self, name: str, user_agent: str, agent_fields: bool) -> None:
        self.name = name
        self.user_agent = user_agent
        self.agent_fields = agent_fields  # Antigravity's own request fields

    def request(self, upstream: "Upstream", request: UpstreamRequest, credential: Credential,
                call: Call) -> Outgoing:
        project = credential.extra.get("project_id")
        if not isinstance(project, str) or not project:
            raise SignInRequired(credential.account_id, "no Code Assist project is known for this account; sign "
                                                        "in again so that Quotagate can look it up")
        action = ":streamGenerateContent?alt=sse" if call.stream else ":generateContent"
        envelope = b'{"model":' + dumps(upstream.model) + b',"project":' + dumps(project)
        if self.agent_fields:
            envelope += b',"userAgent":"antigravity","requestType":"agent","requestId":' \
                + dumps(f"agent-{uuid.uuid4()}")
        body = envelope + b',"request":' + request.body + b"}"
        headers = json_headers(request, call.stream, credential.access_token)
        headers["user-agent"] = self.user_agent
        headers["x-goog-api-client"] = "gl-node/22.17.0"
        headers["client-metadata"] = CLIENT_METADATA
        return Outgoing(upstream.base_url + action, body, headers)

    def adapt(self, response: "UpstreamResponse", call: Call) -> "UpstreamResponse":
        if not call.stream:
            return AdaptedResponse(response, body=unwrapped)
        json_array = call.format == "gemini" and call.meta.get("sse") is False
        unwrapper = _StreamUnwrapper(json_array)
        return AdaptedResponse(response, event=unwrapper.event, end=unwrapper.end,
                               content_type="application/json" if json_array else "text/event-stream")


def _user_agents() -> tuple[str, str]:
    """Gemini CLI's (Node's platform names) and Antigravity's (Go's) user agents for this machine."""
    system, arch = platform_pair()
    go_system, go_arch = {"win32": "windows"}.get(system, system), {"x64": "amd64"}.get(arch, arch)
    return (f"GeminiCLI/{GEMINI_CLI_VERSION} ({system}; {arch})",
            f"antigravity/{ANTIGRAVITY_VERSION} {go_system}/{go_arch}")


_GEMINI_CLI_AGENT, _ANTIGRAVITY_AGENT = _user_agents()
GEMINI_CLI = CloudCodeExecutor("gemini-cli", _GEMINI_CLI_AGENT, agent_fields=False)
ANTIGRAVITY = CloudCodeExecutor("antigravity", _ANTIGRAVITY_AGENT, agent_fields=True)
