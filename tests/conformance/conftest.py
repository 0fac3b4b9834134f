"""The conformance matrix reuses the gateway fixtures (the real services on a free port) and the strict
format fakes of tests/fakes/fixtures.py."""

from tests.gateway.conftest import client, services  # noqa: F401  (fixtures)
