"""Point coding tools at the gateway in one step, and undo it exactly.

Each tool is a module that names its settings files and the values it needs (`claude_code`, `codex`,
`opencode`, `gemini_cli`); `files` changes those files safely and keeps what undo needs in the data folder
(`<data>/cli-tools/`), under the locks of `locking`; `snippets` covers the editors whose settings live in their
own UI; `trial` sends one request as a connected tool would. The functions here block on disk: the window and
the management API call them through `service.ToolsService`, which runs them off the event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.cli_tools import files
from core.cli_tools.base import Choice, Gateway, Tool
from core.cli_tools.claude_code import ClaudeCode
from core.cli_tools.codex import Codex
from core.cli_tools.files import ToolFileError
from core.cli_tools.gemini_cli import GeminiCli
from core.cli_tools.opencode import OpenCode
from core.cli_tools.snippets import snippets
from core.gateway import client_keys
from core.i18n import tr

__all__ = [
    "TOOLS",
    "Choice",
    "Gateway",
    "ToolFileError",
    "connect",
    "disconnect",
    "records_dir",
    "snippets",
    "state",
    "states",
    "tool",
]

TOOLS: dict[str, Tool] = {t.id: t for t in (ClaudeCode(), Codex(), OpenCode(), GeminiCli())}


def records_dir(data_folder: Path) -> Path:
    return data_folder / "cli-tools"


def tool(tool_id: str) -> Tool:
    found = TOOLS.get(tool_id)
    if found is None:
        raise ToolFileError(tr("There is no tool “{tool}”; known tools: {tools}.", tool=tool_id,
                               tools=", ".join(TOOLS)), status=404)
    return found


def state(tool_id: str, gateway: Gateway, data_folder: Path) -> dict[str, Any]:
    current = tool(tool_id).detect(gateway)
    current["managed"] = files.load_record(records_dir(data_folder), tool_id) is not None  # undo is possible
    return current


def states(gateway: Gateway, data_folder: Path) -> list[dict[str, Any]]:
    return [state(tool_id, gateway, data_folder) for tool_id in TOOLS]


def connect(tool_id: str, gateway: Gateway, choice: Choice, data_folder: Path) -> dict[str, Any]:
    """Write the tool's settings so it uses the gateway; its state afterwards."""
    chosen = tool(tool_id)
    if gateway.requires_key and not choice.api_key:
        raise ToolFileError(tr("This gateway requires a client key: create one in Settings › API keys and enter "
                               "it (as `apiKey` through the API)."), status=400)
    if gateway.requires_key and client_keys.hash_key(choice.api_key or "") not in gateway.key_hashes:
        raise ToolFileError(tr("That client key (`apiKey`) is not an active key of this gateway; create one in "
                               "Settings › API keys."), status=400)
    files.apply(tool_id, chosen.edits(gateway, choice), records_dir(data_folder))
    return state(tool_id, gateway, data_folder)


def disconnect(tool_id: str, gateway: Gateway, data_folder: Path) -> dict[str, Any]:
    """Undo what `connect` wrote; its state afterwards. A tool the user pointed at the gateway by hand (no
    record of ours) is left alone and said so."""
    tool(tool_id)
    if not files.undo(tool_id, records_dir(data_folder)):
        current = state(tool_id, gateway, data_folder)
        if current["connected"]:
            raise ToolFileError(tr("{name} was not connected by Quotagate, so there is nothing of ours to undo; "
                                   "its settings in {path} were set by hand.", name=current["name"],
                                   path=current["configPath"]))
        return current
    return state(tool_id, gateway, data_folder)
