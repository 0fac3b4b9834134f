"""No peer can exhaust the gateway's listener: headers must arrive in time and stay small, stalled bodies
end, idle sockets past the cap make room for real clients, and each refusal is logged once per interval.
Real sockets on 127.0.0.1 against the real server class, with short limits so the tests stay quick."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import socket
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.gateway.server import GatewayServer, ServerLimits, raise_open_file_limit

LIMITS = ServerLimits(header_timeout=0.5, body_timeout=0.5, max_header_bytes=8 * 1024, max_headers=20,
                      max_connections=20, log_interval=60)


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"ok": True, "size": len(body)})


@pytest.fixture
async def server():
    app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"]),
                           Route("/v1/messages", echo, methods=["POST"])])
    running = GatewayServer(app, "127.0.0.1", 0, grace_seconds=0.5, limits=LIMITS)
    await running.start()
    yield running
    await running.stop()


async def exchange(port: int, raw: bytes, wait: float = 3.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(-1), wait)
    finally:
        writer.close()


def status_and_json(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


async def test_headers_larger_than_the_limit_are_a_431_in_json(server) -> None:
    answer = await exchange(server.port, b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
    status, body = status_and_json(answer)
    assert status == 431 and body["error"]["code"] == "headers_too_large"


async def test_too_many_headers_are_a_431(server) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(50))
    status, _ = status_and_json(await exchange(server.port, b"GET /echo HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"))
    assert status == 431


async def test_headers_that_do_not_arrive_in_time_are_a_408(server) -> None:
    started = time.monotonic()
    answer = await exchange(server.port, b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert status_and_json(answer)[0] == 408
    assert time.monotonic() - started < 2


async def test_a_connection_that_never_sends_is_closed(server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    assert await asyncio.wait_for(reader.read(-1), 3) == b""  # closed by the server, nothing said
    writer.close()


async def test_a_body_that_stalls_ends_the_request_with_a_408(server) -> None:
    answer = await exchange(server.port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    assert status_and_json(answer)[0] == 408


async def test_malformed_http_is_a_400_in_json(server) -> None:
    status, body = status_and_json(await exchange(server.port, b"NOT HTTP AT ALL\r\n\r\n"))
    assert status == 400 and "message" in body["error"]


async def test_idle_sockets_past_the_cap_do_not_stop_a_real_client(server) -> None:
    idle = []
    for _ in range(LIMITS.max_connections * 3):  # a slowloris crowd, three times the cap
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")  # and never finishes
        idle.append(sock)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=2) as client:
            for _ in range(5):
                started = time.monotonic()
                response = await client.post("/echo", content=b"hello")
                assert response.status_code == 200 and response.json() == {"ok": True, "size": 5}
                assert time.monotonic() - started < 0.25
    finally:
        for sock in idle:
            sock.close()


async def test_refusals_are_logged_once_per_interval_not_per_socket(server, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="core.gateway.server")
    await asyncio.gather(*(exchange(server.port, b"BROKEN\r\n\r\n") for _ in range(30)))
    assert len([r for r in caplog.records if "malformed" in r.getMessage()]) == 1


def test_the_soft_open_file_limit_is_raised() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    try:
        raised = raise_open_file_limit()
        assert raised == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert raised == (min(65536, hard) if hard != resource.RLIM_INFINITY else 65536)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# Refusals sent before routing are in the shape of the path they were sent to, like the routes' own errors.

async def test_a_431_on_a_management_path_is_in_the_management_shape(server) -> None:
    answer = await exchange(server.port, b"PUT /api/settings HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000
                            + b"\r\n\r\n")
    status, body = status_and_json(answer)
    assert status == 431 and isinstance(body["error"], str) and "headers" in body["error"]


async def test_a_431_on_an_anthropic_path_is_in_the_anthropic_shape(server) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(50))
    status, body = status_and_json(await exchange(server.port, b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n"
                                                  + headers + b"\r\n"))
    assert status == 431 and body["type"] == "error" and body["error"]["type"] == "invalid_request_error"


async def test_a_431_on_a_gemini_path_is_in_the_gemini_shape(server) -> None:
    target = b"/v1beta/models/gemini-pro:generateContent"
    answer = await exchange(server.port, b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000
                            + b"\r\n\r\n")
    status, body = status_and_json(answer)
    assert status == 431 and body["error"]["code"] == 431 and body["error"]["status"] == "INVALID_ARGUMENT"


async def test_a_request_line_too_long_for_the_limit_still_gets_its_path_shape(server) -> None:
    answer = await exchange(server.port, b"GET /api/usage/logs?q=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    status, body = status_and_json(answer)
    assert status == 431 and isinstance(body["error"], str)


async def test_malformed_http_on_a_management_path_is_in_the_management_shape(server) -> None:
    answer = await exchange(server.port, b"GET /api/settings HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
    status, body = status_and_json(answer)
    assert status == 400 and isinstance(body["error"], str)


async def test_headers_too_slow_on_a_management_path_are_a_408_in_the_management_shape(server) -> None:
    status, body = status_and_json(await exchange(server.port, b"GET /api/keys HTTP/1.1\r\nHost: x\r\nX-Slow: "))
    assert status == 408 and isinstance(body["error"], str)


async def test_a_stalled_body_on_an_anthropic_path_is_a_408_in_the_anthropic_shape(server) -> None:
    answer = await exchange(server.port, b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    status, body = status_and_json(answer)
    assert status == 408 and body["type"] == "error" and "stalled" in body["error"]["message"]


async def test_a_websocket_upgrade_on_a_management_path_is_refused_in_the_management_shape(server) -> None:
    answer = await exchange(server.port, b"GET /api/settings HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                                         b"Upgrade: websocket\r\n\r\n")
    status, body = status_and_json(answer)
    assert status == 400 and isinstance(body["error"], str)


async def test_a_refusal_with_no_path_at_all_stays_openai_shaped(server) -> None:
    status, body = status_and_json(await exchange(server.port, b"\x16\x03\x01 not http\r\n\r\n"))
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
