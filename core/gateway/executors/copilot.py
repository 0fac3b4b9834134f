"""GitHub Copilot: its OpenAI-format chat completions with the short-lived Copilot token.

The token manager exchanges the GitHub sign-in for a Copilot token and tells where that account's API lives
(`api_base`: individual, business and enterprise plans have their own hosts). Copilot refuses callers that
do not say which editor and plugin they are; it also reads who started a turn (the user, or an agent
sending tool results back), which decides whether the turn counts as a premium request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.gateway.dialects.common import Call, Image, ToolResult, UpstreamRequest
from core.gateway.executors.base import Executor, Outgoing, host_mapped, json_headers
from core.subscriptions.credentials import Credential

if TYPE_CHECKING:
    from core.gateway.routing import Upstream

EDITOR_VERSION = "vscode/1.104.1"
PLUGIN_VERSION = "copilot-chat/0.31.3"
INTEGRATION_ID = "vscode-chat"
USER_AGENT = "GitHubCopilotChat/0.31.3"


def initiator(call: Call) -> str:
    """"user" for a turn a person typed; "agent" when the last turn is the model's or answers its tool calls."""
    last = call.messages[-1] if call.messages else None
    if last is None or (last.role == "user" and not any(isinstance(p, ToolResult) for p in last.parts)):
        return "user"
    return "agent"


def has_images(call: Call) -> bool:
    return any(isinstance(part, Image) for message in call.messages for part in message.parts)


class CopilotExecutor(Executor):
    name = "github"

    def request(self, upstream: "Upstream", request: UpstreamRequest, credential: Credential,
                call: Call) -> Outgoing:
        api_base = credential.extra.get("api_base")
        base = host_mapped(api_base.rstrip("/")) if isinstance(api_base, str) and api_base else upstream.base_url
        headers = json_headers(request, call.stream, credential.access_token)
        headers.update({"editor-version": EDITOR_VERSION, "editor-plugin-version": PLUGIN_VERSION,
                        "copilot-integration-id": INTEGRATION_ID, "user-agent": USER_AGENT,
                        "openai-intent": "conversation-panel", "x-initiator": initiator(call)})
        if has_images(call):
            headers["copilot-vision-request"] = "true"
        return Outgoing(base + request.path, request.body, headers)


EXECUTOR = CopilotExecutor()
