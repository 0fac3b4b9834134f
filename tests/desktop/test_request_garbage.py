"""Requests through the desktop app's gateway leave no cyclic garbage.

The desktop app raises the collector's young-generation threshold and freezes what it built at start
(desktop/app.py): that is only safe while a request's objects are freed by reference counting alone. Here
the collector keeps everything it finds unreachable (DEBUG_SAVEALL) while a client in another process sends
plain and streamed chat requests through the app's gateway to a fake upstream in a third process, so only
the app's own garbage is counted.
"""

from __future__ import annotations

import collections
import gc
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.processes import wait_for_port
from tests.bench.setup_store import prepare
from tests.conftest import free_port

REQUESTS = 300
# One keep-alive connection: asyncio's transport for it is a small cycle freed when it closes (5 objects).
PER_CONNECTION_ALLOWANCE = 10

CLIENT = r"""
import http.client, json, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for index in range(count):
    body = {"model": "bench/fake-model", "stream": index % 3 == 0,
            "messages": [{"role": "user", "content": "Say hello"}]}
    connection.request("POST", "/v1/chat/completions", body=json.dumps(body),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        sys.exit(f"request {index}: {response.status} {data[:200]!r}")
connection.close()
"""


@pytest.fixture
def fake_upstream_url():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.bench.fake_upstream", "--port", str(port)],
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def send_requests(port: int, count: int) -> None:
    result = subprocess.run([sys.executable, "-c", CLIENT, str(port), str(count)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_chat_requests_through_the_desktop_gateway_leave_no_cyclic_garbage(make_desktop, qloop, data_dir,
                                                                           fake_upstream_url) -> None:
    prepare(data_dir, fake_upstream_url)
    desktop = make_desktop()
    state = qloop.run_until_complete(desktop.start())
    assert state.running
    qloop.run_until_complete(qloop.run_in_executor(None, send_requests, state.port, 30))  # warm-up

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        qloop.run_until_complete(qloop.run_in_executor(None, send_requests, state.port, REQUESTS))
        gc.collect()
        garbage = collections.Counter(type(item).__qualname__ for item in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert sum(garbage.values()) <= PER_CONNECTION_ALLOWANCE, garbage.most_common(15)
