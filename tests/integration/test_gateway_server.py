"""The gateway server on an asyncio loop: requests in flight finish during shutdown; the port is freed."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from core.gateway.server import GatewayServer, PortInUseError
from tests.conftest import port_is_free


def slow_app(delay: float) -> Starlette:
    async def slow(request):
        await asyncio.sleep(delay)
        return PlainTextResponse("finished")

    return Starlette(routes=[Route("/slow", slow)])


async def test_a_request_in_flight_finishes_during_shutdown() -> None:
    server = GatewayServer(slow_app(0.5), "127.0.0.1", 0, grace_seconds=5)
    await server.start()
    async with httpx.AsyncClient() as client:
        request = asyncio.create_task(client.get(f"http://127.0.0.1:{server.port}/slow"))
        await asyncio.sleep(0.1)
        await server.stop()
        response = await request
    assert response.status_code == 200 and response.text == "finished"
    assert port_is_free(server.port)


async def test_no_new_connections_are_accepted_after_stop() -> None:
    server = GatewayServer(slow_app(0), "127.0.0.1", 0)
    await server.start()
    port = server.port
    await server.stop()
    async with httpx.AsyncClient() as client:
        try:
            await client.get(f"http://127.0.0.1:{port}/slow", timeout=1)
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the stopped gateway still answered")


async def test_a_request_longer_than_the_grace_period_is_cut_off_and_stop_returns() -> None:
    server = GatewayServer(slow_app(30), "127.0.0.1", 0, grace_seconds=0.5)
    await server.start()
    async with httpx.AsyncClient() as client:
        request = asyncio.create_task(client.get(f"http://127.0.0.1:{server.port}/slow", timeout=10))
        await asyncio.sleep(0.1)
        await asyncio.wait_for(server.stop(), timeout=5)
        try:
            response = await request
            assert response.status_code >= 500
        except httpx.HTTPError:
            pass  # the connection was closed: also an acceptable end for a cut-off request
    assert port_is_free(server.port)


async def test_starting_on_a_taken_port_raises_port_in_use() -> None:
    first = GatewayServer(slow_app(0), "127.0.0.1", 0)
    await first.start()
    try:
        second = GatewayServer(slow_app(0), "127.0.0.1", first.port)
        try:
            await second.start()
        except PortInUseError as exc:
            assert str(first.port) in str(exc)
        else:
            raise AssertionError("two gateways listened on one port")
    finally:
        await first.stop()


def test_accepted_connections_have_nagle_disabled() -> None:
    """Without TCP_NODELAY every answer waits ~40 ms for delayed ACKs (it did: the benchmark caught it).
    asyncio only sets it on sockets whose proto is TCP, so the listener must say so."""
    import socket

    from core.gateway.server import bind_socket

    listener = bind_socket("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP
        with socket.create_connection(listener.getsockname()[:2]):
            listener.setblocking(True)
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()
