"""`/api/models/alias`: bare model names (`fast`, `gpt-4.1`) that stand for `prefix/model`."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.accounts import AccountStore
from core.gateway.management.common import ManagementError, account_store, off_loop, read_object, resource, text
from core.providers import catalog

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext
    from core.store import Store

log = logging.getLogger(__name__)

_ALIAS = re.compile(r"^\S+$")


def alias_routes(context: "GatewayContext") -> list[Route]:
    def accounts() -> AccountStore:
        return account_store(context)

    async def list_aliases(request: Request) -> Response:
        return JSONResponse({"aliases": await off_loop(accounts().aliases)})

    async def set_alias(request: Request) -> Response:
        body = await read_object(request)
        alias = text(body.get("alias"), "alias", max_length=200)
        model = text(body.get("model"), "model", max_length=400)
        if not _ALIAS.match(alias):
            raise ManagementError(400, "`alias` must not contain spaces.")
        if alias == model:
            raise ManagementError(400, "`alias` and `model` are the same; an alias must point elsewhere.")
        await context.prepare_change("setting a model alias")
        created, aliases = await off_loop(_save, context.store, accounts(), alias, model)
        await context.apply_changes()
        log.info("Model alias %s -> %s %s", alias, model, "added" if created else "changed")
        return JSONResponse({"alias": alias, "model": model, "aliases": aliases}, status_code=201 if created else 200)

    async def delete_alias(request: Request) -> Response:
        alias = request.query_params.get("alias", "").strip()
        if not alias:
            raise ManagementError(400, "Name the alias to delete: DELETE /api/models/alias?alias=<name>.")
        await context.prepare_change("deleting a model alias")
        if not await off_loop(accounts().delete_alias, alias):
            raise ManagementError(404, f"No alias '{alias[:200]}'; GET /api/models/alias lists them.")
        await context.apply_changes()
        log.info("Model alias %s deleted", alias)
        return JSONResponse({"message": "Alias deleted", "alias": alias})

    return [resource("/api/models/alias", GET=list_aliases, POST=set_alias, PUT=set_alias, DELETE=delete_alias)]


def _save(store: "Store", accounts: AccountStore, alias: str, model: str) -> tuple[bool, dict[str, str]]:
    with store.db.atomic():
        aliases = accounts.aliases()
        _check_target(model, aliases, {n.prefix for n in accounts.nodes()})
        accounts.set_alias(alias, model)
    return alias not in aliases, accounts.aliases()


def _check_target(model: str, aliases: dict[str, str], prefixes: set[str]) -> None:
    """The target must name a provider Quotagate knows (`prefix/model`) or another alias."""
    if model in aliases:
        return
    prefix, slash, rest = model.partition("/")
    if slash and rest and (catalog.get_provider(prefix) or prefix.lower() in prefixes):
        return
    known = sorted({p.prefix for p in catalog.providers()} | prefixes)
    raise ManagementError(400, f"`model` must be provider/model (e.g. openai/gpt-4.1) with a known prefix "
                               f"({', '.join(known)}) or an existing alias; got '{model[:200]}'.")
