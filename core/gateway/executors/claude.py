"""Claude Pro/Max: Anthropic's Messages API with the account's OAuth token instead of an API key.

Anthropic accepts a subscription token only as a Bearer with the `oauth-2025-04-20` beta flag (kept with
any beta flags the client asked for), and only for requests that introduce themselves as Claude Code: the
system prompt starts with Claude Code's own first line, as Claude Code sends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.gateway.dialects.common import Call, UpstreamRequest, dumps
from core.gateway.executors.base import Executor, Outgoing, body_object, json_headers
from core.subscriptions.credentials import Credential

if TYPE_CHECKING:
    from core.gateway.routing import Upstream

ANTHROPIC_VERSION = "2023-06-01"
OAUTH_BETA = "oauth-2025-04-20"
CLAUDE_CODE_IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude."
CLAUDE_CLI_VERSION = "2.0.50"


def merged_betas(client: str | None) -> str:
    """The OAuth flag first, then the client's flags in their order, each once."""
    flags = [OAUTH_BETA] + [flag.strip() for flag in (client or "").split(",") if flag.strip()]
    return ",".join(dict.fromkeys(flags))


def _with_identity(system: Any) -> list[dict[str, Any]]:
    """The system blocks with Claude Code's first line in front (unless the client already put it there)."""
    identity = {"type": "text", "text": CLAUDE_CODE_IDENTITY}
    if isinstance(system, str):
        blocks = [{"type": "text", "text": system}] if system.strip() else []
    else:
        blocks = list(system) if isinstance(system, list) else []
    first = blocks[0] if blocks else None
    if isinstance(first, dict) and isinstance(first.get("text"), str) \
            and first["text"].startswith(CLAUDE_CODE_IDENTITY):
        return blocks
    return [identity] + blocks


class ClaudeExecutor(Executor):
    name = "claude"

    def request(self, upstream: "Upstream", request: UpstreamRequest, credential: Credential,
                call: Call) -> Outgoing:
        body = body_object(request)
        body["system"] = _with_identity(body.get("system"))
        headers = json_headers(request, call.stream, credential.access_token)
        headers["anthropic-version"] = ANTHROPIC_VERSION
        headers["anthropic-beta"] = merged_betas(request.headers.get("anthropic-beta"))
        headers["user-agent"] = f"claude-cli/{CLAUDE_CLI_VERSION} (external, cli)"
        headers["x-app"] = "cli"
        return Outgoing(upstream.base_url + request.path, dumps(body), headers)


EXECUTOR = ClaudeExecutor()
