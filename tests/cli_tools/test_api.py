"""`/api/cli-tools/*` on the real gateway: state, connect, disconnect, refusals, snippets, Try it."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path

import pytest

from core.cli_tools import Choice
from core.cli_tools.service import base_url, for_services
from core.cli_tools.trial import PROMPT
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


async def test_the_window_and_the_api_connecting_at_once_agree(services: CoreServices, client, home: Path) -> None:
    path = home / ".codex" / "config.toml"
    before = write(path, samples.CODEX_CONFIG)
    window = for_services(services)  # what the Tools page calls
    results = await asyncio.gather(
        *(client.post("/api/cli-tools/codex-settings", json={"model": f"api-{n}"}) for n in range(4)),
        *(window.connect("codex", Choice(model=f"window-{n}")) for n in range(4)))
    assert all(response.status_code == 200 for response in results[:4]), [r.text for r in results[:4]]
    config = tomllib.loads(path.read_text())
    assert config["model_provider"] == "quotagate" and config["model"].startswith(("api-", "window-"))
    assert path.read_text().count("[model_providers.quotagate]") == 1
    await window.disconnect("codex")
    assert path.read_bytes() == before


@pytest.mark.parametrize("tool,path", [("claude", "/v1/messages"), ("codex", "/v1/responses"),
                                       ("opencode", "/v1/chat/completions"),
                                       ("gemini", "/v1beta/models/openai/gpt-4.1:streamGenerateContent?alt=sse")])
async def test_try_it_sends_one_request_in_the_tools_own_dialect(services: CoreServices, client, upstream,
                                                                 openai_via_fake, tool: str, path: str) -> None:
    await openai_via_fake(services, "sk-ok")
    assert (await client.post(f"/api/cli-tools/{tool}-settings", json={"model": "openai/gpt-4.1"})).status_code == 200
    response = await client.post(f"/api/cli-tools/{tool}-settings/try")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] and result["answer"] == "Hello from the fake upstream.", result
    assert result["url"] == services.gateway_state.url + path and result["model"] == "openai/gpt-4.1"
    assert result["status"] == 200 and result["seconds"] > 0 and result["error"] == ""
    sent = upstream.requests[-1].body
    assert sent["model"] == "gpt-4.1" and sent["stream"] is True
    assert PROMPT in json.dumps(sent["messages"])


async def test_try_it_reports_the_gateways_error_in_words(services: CoreServices, client, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-500")
    await client.post("/api/cli-tools/opencode-settings", json={"model": "openai/gpt-4.1"})
    result = (await client.post("/api/cli-tools/opencode-settings/try")).json()
    assert not result["ok"] and result["status"] >= 500 and "fake failure 500" in result["error"], result


async def test_try_it_sends_the_configured_client_key_as_the_tool_does(services: CoreServices, client, upstream,
                                                                       openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    assert (await client.patch("/api/settings", json={"requireApiKey": True})).status_code == 200
    key = (await client.post("/api/keys", json={"name": "tools"})).json()["key"]
    for tool in ("claude", "codex", "gemini"):
        response = await client.post(f"/api/cli-tools/{tool}-settings", json={"model": "openai/gpt-4.1",
                                                                              "apiKey": key})
        assert response.status_code == 200, response.text
        result = (await client.post(f"/api/cli-tools/{tool}-settings/try")).json()
        assert result["ok"], (tool, result)


async def test_try_it_refuses_a_tool_that_does_not_point_at_the_gateway(client, home: Path) -> None:
    write(home / ".claude" / "settings.json", samples.CLAUDE_SETTINGS)  # points at proxy.example.com
    response = await client.post("/api/cli-tools/claude-settings/try")
    assert response.status_code == 409 and "connect it first" in response.json()["error"]


async def test_try_it_without_a_model_says_to_choose_one(client) -> None:
    await client.post("/api/cli-tools/claude-settings", json={})
    response = await client.post("/api/cli-tools/claude-settings/try")
    assert response.status_code == 409 and "no model set" in response.json()["error"]
