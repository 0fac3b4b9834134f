"""The management API under `/api/*`: providers, custom endpoints, client keys, settings, proxies, aliases,
usage — the paths and shapes of the reference gateway, answered only to this machine's own programs.

`ManagementGuard` (guard.py) checks every `/api/*` request before any route runs; each module here
contributes the routes of one area. Every route reads and writes the store in an executor and, after a
successful change, calls `GatewayContext.apply_changes()` so the running gateway uses it at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Route

from core.gateway.management.aliases import alias_routes
from core.gateway.management.cache import cache_routes
from core.gateway.management.catalogue import catalogue_routes
from core.gateway.management.combos import combo_routes
from core.gateway.management.resilience import resilience_routes
from core.gateway.management.auth import ManagementAuth, auth_routes
from core.gateway.management.cli_tools import cli_tool_routes
from core.gateway.management.backups import backup_routes
from core.gateway.management.common import ManagementError, error_response
from core.gateway.management.guard import ManagementGuard, is_gateway_path, is_management_path
from core.gateway.management.keys import key_routes
from core.gateway.management.lifecycle import lifecycle_routes
from core.gateway.management.monitoring import monitoring_routes
from core.gateway.management.oauth import oauth_routes
from core.gateway.management.endpoints import endpoint_routes
from core.gateway.management.providers import provider_routes
from core.gateway.management.proxy import proxy_routes
from core.gateway.management.request_settings import request_settings_routes
from core.gateway.management.evals import evals_routes
from core.gateway.management.rules import rule_routes
from core.gateway.management.settings import settings_routes
from core.gateway.management.usage import usage_routes

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

__all__ = ["ManagementAuth", "ManagementError", "ManagementGuard", "error_response", "is_gateway_path",
           "is_management_path", "management_routes"]


def management_routes(context: "GatewayContext") -> list[Route]:
    return [
        *auth_routes(context),
        *catalogue_routes(context),  # before providers: /api/providers/validate is more specific
        *provider_routes(context),
        *oauth_routes(context),
        *endpoint_routes(context),
        *key_routes(context),
        *backup_routes(context),
        *proxy_routes(context),  # before settings: /api/settings/proxy is more specific
        *settings_routes(context),
        *request_settings_routes(context),
        *evals_routes(context),
        *alias_routes(context),
        *combo_routes(context),
        *cache_routes(context),
        *resilience_routes(context),
        *usage_routes(context),
        *cli_tool_routes(context),
        *rule_routes(context),
        *monitoring_routes(context),
        *lifecycle_routes(context),
    ]
