"""The management API answers this machine's own programs only: a web page must not be able to drive it,
neither through DNS rebinding (a foreign Host) nor through CSRF (a foreign Origin)."""

from __future__ import annotations

import socket

import httpx
import pytest

from core.gateway.client_keys import list_keys
from core.services import CoreServices


def port_of(services: CoreServices) -> int:
    return services.gateway_state.port


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost.evil.example",
                                  "127.0.0.1.evil.example", "10.0.0.5:{port}", "[::1].evil.example",
                                  "localhost:abc", ""])
async def test_a_host_that_is_not_loopback_is_refused(services, client, host: str) -> None:
    response = await client.get("/api/providers", headers={"Host": host.format(port=port_of(services))})
    assert response.status_code == 403
    assert "addressed to this machine" in response.json()["error"]


@pytest.mark.parametrize("host", ["localhost", "localhost:1234", "LOCALHOST:{port}", "127.0.0.1", "127.1.2.3:80",
                                  "[::1]", "[::1]:{port}"])
async def test_loopback_hosts_with_any_port_are_answered(services, client, host: str) -> None:
    response = await client.get("/api/providers", headers={"Host": host.format(port=port_of(services))})
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", "http://[::1]:{port}"])
async def test_the_gateway_own_origin_is_answered(services, client, origin: str) -> None:
    response = await client.get("/api/providers", headers={"Origin": origin.format(port=port_of(services))})
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "https://127.0.0.1:{port}", "http://localhost:3000",
                                    "http://127.0.0.1", "null", ""])
async def test_a_foreign_origin_is_refused(services, client, origin: str) -> None:
    response = await client.get("/api/providers", headers={"Origin": origin.format(port=port_of(services))})
    assert response.status_code == 403
    assert "other origins" in response.json()["error"]


async def test_a_request_without_origin_is_answered(client) -> None:
    assert (await client.get("/api/keys")).status_code == 200


async def test_a_cross_site_fetch_is_refused(client) -> None:
    response = await client.get("/api/keys", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


async def test_a_refused_request_changes_nothing(client) -> None:
    response = await client.post("/api/keys", json={"name": "csrf"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert list_keys() == []


async def test_unknown_management_paths_are_guarded_too(client) -> None:
    assert (await client.get("/api/nothing-here", headers={"Host": "evil.example"})).status_code == 403
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404 and "No route for GET /api/nothing-here" in response.json()["error"]


async def test_the_health_route_is_guarded(client) -> None:
    assert (await client.get("/api/monitoring/health", headers={"Host": "evil.example"})).status_code == 403
    assert (await client.get("/api/monitoring/health")).status_code == 200


async def test_healthz_is_not_guarded(client) -> None:
    foreign = {"Host": "gateway.lan:20128", "Origin": "http://evil.example"}
    assert (await client.get("/healthz", headers=foreign)).status_code == 200


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; this only picks the outgoing interface
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


async def test_a_connection_from_another_machine_is_refused_even_with_a_loopback_host(data_dir) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    services = CoreServices(data_dir, host="0.0.0.0", port=0)
    state = await services.start()
    assert state.running, state.error
    try:
        async with httpx.AsyncClient(base_url=f"http://{address}:{state.port}", timeout=10) as remote:
            response = await remote.get("/api/keys", headers={"Host": f"127.0.0.1:{state.port}"})
        assert response.status_code == 403
        assert "programs on this machine" in response.json()["error"]
    finally:
        await services.stop()
