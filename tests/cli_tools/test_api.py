"""`/api/cli-tools/*` on the real gateway: state, connect, disconnect, refusals, snippets."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from core.gateway.management.cli_tools import base_url
from core.services import CoreServices
from tests.cli_tools import samples
from tests.cli_tools.conftest import write


async def test_every_tool_is_listed_with_the_reference_fields(client) -> None:
    response = await client.get("/api/cli-tools")
    assert response.status_code == 200
    tools = {t["tool"]: t for t in response.json()["tools"]}
    assert set(tools) == {"claude", "codex", "opencode", "gemini"}
    for field in ("installed", "runnable", "command", "commandPath", "runtimeMode", "reason", "connected",
                  "configPath", "baseUrl", "model"):
        assert field in tools["claude"]


async def test_connect_and_disconnect_claude_code_through_the_api(services: CoreServices, client,
                                                                  home: Path) -> None:
    path = home / ".claude" / "settings.json"
    before = write(path, samples.CLAUDE_SETTINGS)
    response = await client.post("/api/cli-tools/claude-settings", json={"model": "openai/gpt-4.1"})
    assert response.status_code == 200, response.text
    state = response.json()
    assert state["connected"] and state["baseUrl"] == services.gateway_state.url
    assert json.loads(path.read_text())["env"]["ANTHROPIC_BASE_URL"] == services.gateway_state.url
    assert (await client.get("/api/cli-tools/claude-settings")).json()["connected"]
    response = await client.delete("/api/cli-tools/claude-settings")
    assert response.status_code == 200 and not response.json()["connected"]
    assert path.read_bytes() == before


async def test_codex_connects_to_the_live_port_with_a_combo(services: CoreServices, client, home: Path) -> None:
    path = home / ".codex" / "config.toml"
    before = write(path, samples.CODEX_CONFIG)
    response = await client.post("/api/cli-tools/codex-settings", json={"combo": "my-combo"})
    assert response.status_code == 200, response.text
    config = tomllib.loads(path.read_text())
    assert config["model"] == "my-combo"
    assert config["model_providers"]["quotagate"]["base_url"] == f"{services.gateway_state.url}/v1"
    await client.delete("/api/cli-tools/codex-settings")
    assert path.read_bytes() == before


async def test_a_broken_file_is_a_409_naming_it_and_is_not_touched(client, home: Path) -> None:
    path = home / ".codex" / "config.toml"
    before = write(path, "model = \n")
    response = await client.post("/api/cli-tools/codex-settings", json={})
    assert response.status_code == 409 and str(path) in response.json()["error"]
    assert "line 1" in response.json()["error"] and path.read_bytes() == before


async def test_an_unknown_tool_is_a_404(client) -> None:
    response = await client.get("/api/cli-tools/vim-settings")
    assert response.status_code == 404 and "claude" in response.json()["error"]


async def test_fields_are_checked(client) -> None:
    response = await client.post("/api/cli-tools/claude-settings", json={"model": 5})
    assert response.status_code == 400 and "model" in response.json()["error"]


async def test_a_gateway_requiring_keys_needs_an_active_client_key(client, home: Path) -> None:
    assert (await client.patch("/api/settings", json={"requireApiKey": True})).status_code == 200
    key = (await client.post("/api/keys", json={"name": "tools"})).json()
    response = await client.post("/api/cli-tools/claude-settings", json={})
    assert response.status_code == 400 and "apiKey" in response.json()["error"]
    response = await client.post("/api/cli-tools/claude-settings", json={"apiKey": "qg-wrong"})
    assert response.status_code == 400 and not (home / ".claude").exists()
    response = await client.post("/api/cli-tools/claude-settings", json={"apiKey": key["key"]})
    assert response.status_code == 200, response.text
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["env"]["ANTHROPIC_AUTH_TOKEN"] == key["key"]


async def test_snippets_point_at_the_live_gateway(services: CoreServices, client) -> None:
    response = await client.get("/api/cli-tools/snippets", params={"model": "fast"})
    assert response.status_code == 200
    body = response.json()
    assert body["baseUrl"] == services.gateway_state.url
    assert {s["tool"] for s in body["snippets"]} == {"cursor", "cline", "continue", "zed"}


def test_a_wildcard_listener_is_reached_on_loopback() -> None:
    assert base_url("0.0.0.0", 20128) == "http://127.0.0.1:20128"
    assert base_url("::", 20128) == "http://[::1]:20128"
    assert base_url("192.168.1.5", 8080) == "http://192.168.1.5:8080"
