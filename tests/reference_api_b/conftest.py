"""Part B of the reference API: the real services on a free port (tests/gateway/conftest.py) and the format
fakes of tests/fakes/."""

from tests.gateway.conftest import client, services  # noqa: F401  (fixtures)
