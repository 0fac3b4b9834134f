"""What the management API (`/api/evals`) and the dashboard call: list suites and runs, run a suite."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from typing import Any, Callable, Mapping, TypeVar

from core.configuration import Configuration
from core.evals import history
from core.evals.runner import run_suite
from core.evals.suites import Suite, parse_suite, parse_targets
from core.i18n import tr, translatable
from core.settings import ConfigError

T = TypeVar("T")


class Evaluations:
    def __init__(self, configuration: Configuration, address: Callable[[], tuple[str, int]],
                 price_overrides: Callable[[], Mapping[str, Any]]) -> None:
        self.configuration = configuration
        self._address = address
        self._price_overrides = price_overrides

    async def overview(self, limit: int = 20) -> dict[str, Any]:
        """`{"suites": [...], "runs": [latest first, summarised]}`."""
        suites = await self._read(history.suites)
        return {"suites": [suite.public() for suite in suites], "runs": await self._read(history.runs, limit)}

    async def run_detail(self, run_id: int) -> dict[str, Any]:
        return await self._read(history.run, run_id)

    async def run(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Run `{"suite": {...}}` (saved for next time unless `"save": false`) or `{"suiteName": "smoke"}`
        against `{"targets": [...]}`; `apiKey` is the client key to send when the gateway requires one."""
        unknown = set(request) - {"suite", "suiteName", "targets", "save", "apiKey"}
        if unknown:
            raise ConfigError(tr("Unknown field(s) {fields}; send `suite` or `suiteName`, and `targets`.",
                                 fields=", ".join(sorted(unknown)[:10])))
        targets = parse_targets(request.get("targets"))
        api_key = request.get("apiKey")
        if api_key is not None and (not isinstance(api_key, str) or not api_key.strip() or len(api_key) > 4096):
            raise ConfigError(tr("`apiKey` must be one of this gateway's client keys."))
        suite = await self._suite(request)
        result = await run_suite(suite, targets, self.base_url(), api_key, self._price_overrides())
        store = self.configuration.store()
        return await _off_loop(functools.partial(_save, store, result))

    def base_url(self) -> str:
        """Where the gateway answers on this machine (a wildcard listener answers on loopback too)."""
        host, port = self._address()
        try:
            wildcard = ipaddress.ip_address(host.strip("[]")).is_unspecified
        except ValueError:
            wildcard = False
        if wildcard:
            host = "127.0.0.1"
        return f"http://[{host}]:{port}" if ":" in host and not host.startswith("[") else f"http://{host}:{port}"

    async def _suite(self, request: Mapping[str, Any]) -> Suite:
        if "suite" in request:
            suite = parse_suite(request["suite"])
            if request.get("save", True) is not False:
                await self.configuration.change(translatable("saving an evaluation suite"), lambda: history.save_suite(suite),
                                                {"suite": suite.name})
            return suite
        name = request.get("suiteName")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(tr("Send `suite` (the cases) or `suiteName` (a saved or built-in suite such as smoke)."))
        return await self._read(history.suite, name.strip())

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        self.configuration.store()  # refuses while the store is closed
        return await _off_loop(functools.partial(fn, *args))


def _save(store: Any, result: dict[str, Any]) -> dict[str, Any]:
    with store.db.atomic("IMMEDIATE"):
        return history.save_run(result)


async def _off_loop(fn: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, fn)
