"""The one way in for the settings window and the management API: both call this, so both see the same
gateway (its live address, models and client keys), the same checks and the same locks.

Blocking file work runs off the event loop; changes to one tool queue on the loop (`async_tool_lock`) and
then hold the cross-process lock (`files.changing`) while they read, modify and write."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from core import cli_tools
from core.cli_tools import trial as trials
from core.cli_tools.base import Choice, Gateway
from core.cli_tools.files import ToolFileError
from core.cli_tools.locking import async_tool_lock
from core.i18n import tr

if TYPE_CHECKING:
    from core.gateway.runtime import GatewayRuntime
    from core.services import CoreServices

T = TypeVar("T")
CHAT_KINDS = ("chat", "alias", "combo")  # what a coding tool can ask for by name


class ToolsService:
    def __init__(self, runtime: Callable[[], GatewayRuntime | None], address: Callable[[], tuple[str, int]],
                 data_folder: Callable[[], Path]) -> None:
        self._runtime = runtime
        self._address = address
        self._data_folder = data_folder  # read per call: the routes are built before the store is open

    def gateway(self) -> Gateway:
        """The running gateway as a tool sees it: live address, routable models, whether keys are required."""
        runtime = self._runtime()
        if runtime is None:
            raise ToolFileError(tr("The gateway is not running yet; try again in a moment."), status=503)
        config = runtime.config
        models = tuple(model["id"] for model in self.models())
        return Gateway(base_url(*self._address()), requires_key=config.require_keys, models=models,
                       key_hashes=frozenset(config.key_hashes))

    def models(self) -> list[dict[str, Any]]:
        """What a tool can be pointed at: `{id, kind}` of each routable chat model, alias and combo."""
        runtime = self._runtime()
        if runtime is None:
            return []
        return [{"id": m["id"], "kind": m["kind"]} for m in runtime.config.table.model_ids(runtime.endpoint_models.ids)
                if m.get("kind") in CHAT_KINDS and not m["id"].endswith("/*")]

    async def states(self) -> list[dict[str, Any]]:
        return await _off_loop(cli_tools.states, self.gateway(), self._data_folder())

    async def state(self, tool_id: str) -> dict[str, Any]:
        return await _off_loop(cli_tools.state, tool_id, self.gateway(), self._data_folder())

    async def connect(self, tool_id: str, choice: Choice) -> dict[str, Any]:
        cli_tools.tool(tool_id)
        async with async_tool_lock(tool_id):
            return await _off_loop(cli_tools.connect, tool_id, self.gateway(), choice, self._data_folder())

    async def disconnect(self, tool_id: str) -> dict[str, Any]:
        cli_tools.tool(tool_id)
        async with async_tool_lock(tool_id):
            return await _off_loop(cli_tools.disconnect, tool_id, self.gateway(), self._data_folder())

    async def try_it(self, tool_id: str, timeout: float = trials.TIMEOUT) -> trials.TrialResult:
        """One real request as the tool would send it with its settings now. Refused (ToolFileError) when the
        tool does not point at this gateway: a test must never send the prompt somewhere else."""
        gateway = self.gateway()
        current = await _off_loop(cli_tools.state, tool_id, gateway, self._data_folder())
        if current["error"]:
            raise ToolFileError(current["error"])
        if not current["connected"]:
            raise ToolFileError(tr("{name} does not point at this gateway ({url}); connect it first.",
                                   name=current["name"], url=gateway.base_url))
        request = await _off_loop(cli_tools.tool(tool_id).trial, trials.PROMPT)
        return await trials.send(request, timeout)


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))


def base_url(host: str, port: int) -> str:
    """The address a tool on this machine reaches the gateway at (a wildcard listener is reached on loopback)."""
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}"


def for_services(services: CoreServices) -> ToolsService:
    """The service over a running `CoreServices` (the settings window's view; the API builds it from its
    context, which names the same runtime, address and data folder)."""
    return ToolsService(lambda: services.runtime, lambda: (services.host, services.gateway_state.port),
                        lambda: services.data_folder)
