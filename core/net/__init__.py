"""Outbound HTTP for the whole program: one client factory, so every request honours `QUOTAGATE_HOST_MAP`."""

from core.net.client import DEFAULT_TIMEOUT, USER_AGENT, create_client
from core.net.host_map import HOST_MAP_ENV, HostMap, HostMapError

__all__ = ["DEFAULT_TIMEOUT", "HOST_MAP_ENV", "USER_AGENT", "HostMap", "HostMapError", "create_client"]
