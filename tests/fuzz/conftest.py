"""The fuzz suite drives the same real services as the gateway tests."""

from tests.gateway.conftest import services  # noqa: F401  (a fixture)
