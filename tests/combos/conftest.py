"""Combos reuse the gateway fixtures (the real services on a free port) and the fake providers."""

from tests.gateway.conftest import client, services  # noqa: F401  (fixtures)
