"""Connecting a tool sets only what it needs and keeps every other byte; disconnecting gives the file back."""

from __future__ import annotations

import json
import threading
import tomllib
from pathlib import Path

import pytest

from core import cli_tools
from core.cli_tools import jsonc
from core.cli_tools.base import Choice
from tests.cli_tools import samples
from tests.cli_tools.conftest import GATEWAY, write

CHOICE = Choice(model="openai/gpt-4.1", small_model="fast")


def parse_jsonc(path: Path) -> dict:
    return jsonc.parse(path.read_text(encoding="utf-8"), comments=True).value


# --- Claude Code -----------------------------------------------------------------------------------


def test_claude_code_gets_the_gateway_in_its_env_block_and_keeps_the_rest(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    write(path, samples.CLAUDE_SETTINGS)
    state = cli_tools.connect("claude", GATEWAY, CHOICE, data)
    settings = json.loads(path.read_text(encoding="utf-8"))
    assert settings["env"] == {"DISABLE_TELEMETRY": "1", "ANTHROPIC_BASE_URL": "http://127.0.0.1:20128",
                               "ANTHROPIC_AUTH_TOKEN": "quotagate", "ANTHROPIC_MODEL": "openai/gpt-4.1",
                               "ANTHROPIC_SMALL_FAST_MODEL": "fast"}
    original = json.loads(samples.CLAUDE_SETTINGS)
    assert {k: v for k, v in settings.items() if k != "env"} == {k: v for k, v in original.items() if k != "env"}
    text = path.read_text(encoding="utf-8")
    assert '\t"permissions": {"allow": ["Bash(git diff:*)", "Read(~/.zshrc)"], "deny": []},' in text  # not reflowed
    assert '"caf\\u00e9 ☕"' in text
    assert state["connected"] and state["baseUrl"] == GATEWAY.base_url and state["model"] == "openai/gpt-4.1"


def test_claude_code_disconnect_gives_back_the_exact_bytes(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    before = write(path, samples.CLAUDE_SETTINGS)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    state = cli_tools.disconnect("claude", GATEWAY, data)
    assert path.read_bytes() == before
    assert not state["connected"] and state["baseUrl"] == "https://proxy.example.com"


def test_claude_config_dir_is_honoured(home: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = home / "elsewhere"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(folder))
    state = cli_tools.connect("claude", GATEWAY, Choice(), data)
    assert state["configPath"] == str(folder / "settings.json")
    assert json.loads((folder / "settings.json").read_text())["env"]["ANTHROPIC_BASE_URL"] == GATEWAY.base_url
    assert not (home / ".claude").exists()


def test_a_missing_file_is_created_owner_only_and_removed_again(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    cli_tools.connect("claude", GATEWAY, Choice(api_key="qg-secret"), data)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == "qg-secret"
    cli_tools.disconnect("claude", GATEWAY, data)
    assert not path.exists() and not (home / ".claude").exists()


def test_after_a_user_edit_only_our_values_are_removed_and_theirs_restored(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    write(path, samples.CLAUDE_SETTINGS)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    edited = path.read_text(encoding="utf-8").replace('"model": "opus"', '"model": "sonnet"')
    path.write_text(edited, encoding="utf-8")
    cli_tools.disconnect("claude", GATEWAY, data)
    settings = json.loads(path.read_text(encoding="utf-8"))
    expected = json.loads(samples.CLAUDE_SETTINGS)
    expected["model"] = "sonnet"
    assert settings == expected  # the user's base URL is back, our token and models are gone


def test_a_value_the_user_changed_since_is_theirs_and_stays(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    write(path, samples.CLAUDE_SETTINGS)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    path.write_text(path.read_text().replace('"openai/gpt-4.1"', '"claude-opus-4-1"'), encoding="utf-8")
    cli_tools.disconnect("claude", GATEWAY, data)
    env = json.loads(path.read_text())["env"]
    assert env == {"DISABLE_TELEMETRY": "1", "ANTHROPIC_BASE_URL": "https://proxy.example.com",
                   "ANTHROPIC_MODEL": "claude-opus-4-1"}


def test_reconnecting_with_another_model_still_undoes_to_the_original(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    before = write(path, samples.CLAUDE_SETTINGS)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    cli_tools.connect("claude", GATEWAY, Choice(model="fast"), data)
    env = json.loads(path.read_text())["env"]
    assert env["ANTHROPIC_MODEL"] == "fast" and env["ANTHROPIC_SMALL_FAST_MODEL"] == "fast"
    cli_tools.disconnect("claude", GATEWAY, data)
    assert path.read_bytes() == before


def test_the_file_mode_is_kept(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    write(path, samples.CLAUDE_SETTINGS, mode=0o640)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    assert path.stat().st_mode & 0o777 == 0o640
    cli_tools.disconnect("claude", GATEWAY, data)
    assert path.stat().st_mode & 0o777 == 0o640


def test_the_original_is_kept_owner_only_in_the_data_folder(home: Path, data: Path) -> None:
    write(home / ".claude" / "settings.json", samples.CLAUDE_SETTINGS)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    record = data / "cli-tools" / "claude.json"
    assert record.stat().st_mode & 0o777 == 0o600
    assert (data / "cli-tools").stat().st_mode & 0o777 == 0o700


# --- Codex CLI -------------------------------------------------------------------------------------


def test_codex_gets_a_responses_provider_selected_as_model_provider(home: Path, data: Path) -> None:
    path = home / ".codex" / "config.toml"
    write(path, samples.CODEX_CONFIG)
    state = cli_tools.connect("codex", GATEWAY, Choice(model="openai/gpt-4.1", api_key="qg-key"), data)
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    assert config["model_provider"] == "quotagate" and config["model"] == "openai/gpt-4.1"
    assert config["model_providers"]["quotagate"] == {"name": "Quotagate", "base_url": "http://127.0.0.1:20128/v1",
                                                      "wire_api": "responses",
                                                      "experimental_bearer_token": "qg-key"}
    assert config["model_providers"]["work"]["env_key"] == "WORK_KEY"
    assert config["mcp_servers"]["docs"]["args"] == ["-y", "@upstash/context7-mcp"]
    text = path.read_text(encoding="utf-8")
    assert "# Codex settings — hand-written" in text and "# my other gateway" in text
    assert state["connected"] and state["model"] == "openai/gpt-4.1"


def test_codex_disconnect_gives_back_the_exact_bytes(home: Path, data: Path) -> None:
    path = home / ".codex" / "config.toml"
    before = write(path, samples.CODEX_CONFIG)
    cli_tools.connect("codex", GATEWAY, CHOICE, data)
    cli_tools.disconnect("codex", GATEWAY, data)
    assert path.read_bytes() == before


def test_codex_after_a_user_edit_keeps_their_edit_and_drops_ours(home: Path, data: Path) -> None:
    path = home / ".codex" / "config.toml"
    write(path, samples.CODEX_CONFIG)
    cli_tools.connect("codex", GATEWAY, CHOICE, data)
    path.write_text(path.read_text() + '\n[mcp_servers.more]\ncommand = "more-mcp"\n', encoding="utf-8")
    cli_tools.disconnect("codex", GATEWAY, data)
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "model_provider" not in config and "quotagate" not in config["model_providers"]
    assert config["model"] == "gpt-5-codex" and config["mcp_servers"]["more"] == {"command": "more-mcp"}
    assert "# the default" in path.read_text()


def test_codex_home_is_honoured(home: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(home / "codex-home"))
    cli_tools.connect("codex", GATEWAY, Choice(), data)
    config = tomllib.loads((home / "codex-home" / "config.toml").read_text())
    assert config["model_provider"] == "quotagate" and "model" not in config


# --- OpenCode --------------------------------------------------------------------------------------


def test_opencode_gets_a_provider_with_the_gateway_models_and_keeps_comments(home: Path, data: Path) -> None:
    path = home / ".config" / "opencode" / "opencode.json"
    write(path, samples.OPENCODE_CONFIG)
    cli_tools.connect("opencode", GATEWAY, CHOICE, data)
    config = parse_jsonc(path)
    provider = config["provider"]["quotagate"]
    assert provider["npm"] == "@ai-sdk/openai-compatible"
    assert provider["options"] == {"baseURL": "http://127.0.0.1:20128/v1", "apiKey": "quotagate"}
    assert set(provider["models"]) == {"openai/gpt-4.1", "fast"}
    assert config["model"] == "quotagate/openai/gpt-4.1" and config["small_model"] == "quotagate/fast"
    assert config["provider"]["ollama"]["models"] == {"llama3": {}}
    text = path.read_text()
    assert "// OpenCode config, with comments as OpenCode allows" in text and "/* MCP servers */" in text
    state = cli_tools.state("opencode", GATEWAY, data)
    assert state["connected"] and state["model"] == "openai/gpt-4.1"


def test_opencode_disconnect_gives_back_the_exact_bytes(home: Path, data: Path) -> None:
    path = home / ".config" / "opencode" / "opencode.json"
    before = write(path, samples.OPENCODE_CONFIG)
    cli_tools.connect("opencode", GATEWAY, CHOICE, data)
    cli_tools.disconnect("opencode", GATEWAY, data)
    assert path.read_bytes() == before


def test_opencode_after_a_user_edit_only_our_entries_go(home: Path, data: Path) -> None:
    path = home / ".config" / "opencode" / "opencode.json"
    write(path, samples.OPENCODE_CONFIG)
    cli_tools.connect("opencode", GATEWAY, CHOICE, data)
    path.write_text(path.read_text().replace('"tokyonight"', '"nord"'), encoding="utf-8")
    cli_tools.disconnect("opencode", GATEWAY, data)
    config = parse_jsonc(path)
    assert set(config["provider"]) == {"ollama"} and "small_model" not in config
    assert config["model"] == "anthropic/claude-sonnet-4-5" and config["theme"] == "nord"
    assert "/* MCP servers */" in path.read_text()


def test_opencode_config_variables_are_honoured(home: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCODE_CONFIG_DIR", str(home / "oc"))
    write(home / "oc" / "opencode.jsonc", "{}\n")
    assert cli_tools.state("opencode", GATEWAY, data)["configPath"] == str(home / "oc" / "opencode.jsonc")
    monkeypatch.setenv("OPENCODE_CONFIG", str(home / "custom.json"))
    cli_tools.connect("opencode", GATEWAY, Choice(), data)
    assert parse_jsonc(home / "custom.json")["provider"]["quotagate"]["options"]["baseURL"].endswith("/v1")


# --- Gemini CLI ------------------------------------------------------------------------------------


def test_gemini_cli_gets_the_base_url_in_its_env_file_and_api_key_sign_in(home: Path, data: Path) -> None:
    env, settings = home / ".gemini" / ".env", home / ".gemini" / "settings.json"
    env_before, settings_before = write(env, samples.GEMINI_ENV), write(settings, samples.GEMINI_SETTINGS)
    state = cli_tools.connect("gemini", GATEWAY, Choice(model="fast"), data)
    text = env.read_text()
    assert "GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:20128\n" in text and "GEMINI_API_KEY=quotagate\n" in text
    assert "GEMINI_MODEL=fast\n" in text and 'OTHER="keep me"' in text and "# my env" in text
    assert parse_jsonc(settings)["security"] == {"auth": {"selectedType": "gemini-api-key"}}
    assert "// Gemini CLI settings" in settings.read_text()
    assert state["connected"] and state["model"] == "fast"
    cli_tools.disconnect("gemini", GATEWAY, data)
    assert env.read_bytes() == env_before and settings.read_bytes() == settings_before


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tool,relative,broken,line", [
    ("claude", ".claude/settings.json", '{\n  "env": {\n    "A": "1",\n  }\n}\n', 4),
    ("codex", ".codex/config.toml", 'model = "x"\n[broken\n', 2),
    ("opencode", ".config/opencode/opencode.json", '{\n  // ok\n  "a": 1\n  "b": 2\n}\n', 4),
])
def test_a_file_that_does_not_parse_is_refused_naming_it_and_the_line(home: Path, data: Path, tool: str,
                                                                       relative: str, broken: str, line: int) -> None:
    path = home / relative
    before = write(path, broken)
    with pytest.raises(cli_tools.ToolFileError) as refused:
        cli_tools.connect(tool, GATEWAY, CHOICE, data)
    assert str(path) in refused.value.message and f"line {line}" in refused.value.message
    assert path.read_bytes() == before and not (data / "cli-tools" / f"{tool}.json").exists()
    assert cli_tools.state(tool, GATEWAY, data)["error"]


def test_a_symbolic_link_is_refused_and_left_alone(home: Path, data: Path) -> None:
    target = home / "dotfiles" / "settings.json"
    before = write(target, samples.CLAUDE_SETTINGS)
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").symlink_to(target)
    with pytest.raises(cli_tools.ToolFileError, match="symbolic link"):
        cli_tools.connect("claude", GATEWAY, CHOICE, data)
    assert target.read_bytes() == before and (home / ".claude" / "settings.json").is_symlink()


def test_a_read_only_file_is_refused_clearly(home: Path, data: Path) -> None:
    path = home / ".codex" / "config.toml"
    before = write(path, samples.CODEX_CONFIG, mode=0o444)
    with pytest.raises(cli_tools.ToolFileError, match="read-only"):
        cli_tools.connect("codex", GATEWAY, CHOICE, data)
    assert path.read_bytes() == before


def test_a_refusal_in_one_file_writes_none_of_the_others(home: Path, data: Path) -> None:
    env = home / ".gemini" / ".env"
    settings = home / ".gemini" / "settings.json"
    env_before = write(env, samples.GEMINI_ENV)
    settings_before = write(settings, '{"ui": {,}}')
    with pytest.raises(cli_tools.ToolFileError):
        cli_tools.connect("gemini", GATEWAY, CHOICE, data)
    assert env.read_bytes() == env_before and settings.read_bytes() == settings_before


def test_disconnect_refuses_a_file_broken_since_and_keeps_the_record(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    write(path, samples.CLAUDE_SETTINGS)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    path.write_text(path.read_text() + "oops", encoding="utf-8")
    broken = path.read_bytes()
    with pytest.raises(cli_tools.ToolFileError, match="line"):
        cli_tools.disconnect("claude", GATEWAY, data)
    assert path.read_bytes() == broken and (data / "cli-tools" / "claude.json").exists()


def test_a_hand_made_connection_is_not_undone(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    before = write(path, '{"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:20128"}}')
    with pytest.raises(cli_tools.ToolFileError, match="by hand"):
        cli_tools.disconnect("claude", GATEWAY, data)
    assert path.read_bytes() == before


def test_a_gateway_that_requires_keys_needs_one_to_connect(home: Path, data: Path) -> None:
    gateway = cli_tools.Gateway(GATEWAY.base_url, requires_key=True)
    with pytest.raises(cli_tools.ToolFileError, match="client key"):
        cli_tools.connect("claude", gateway, Choice(), data)
    assert not (home / ".claude").exists()


def test_concurrent_connects_end_in_one_consistent_file(home: Path, data: Path) -> None:
    path = home / ".config" / "opencode" / "opencode.json"
    before = write(path, samples.OPENCODE_CONFIG)
    errors: list[Exception] = []

    def connect(model: str) -> None:
        try:
            cli_tools.connect("opencode", GATEWAY, Choice(model=model), data)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=connect, args=(f"m{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    config = parse_jsonc(path)
    assert set(config["provider"]) == {"ollama", "quotagate"} and config["model"].startswith("quotagate/m")
    assert path.read_text().count('"quotagate": {') == 1
    cli_tools.disconnect("opencode", GATEWAY, data)
    assert path.read_bytes() == before


# --- detection -------------------------------------------------------------------------------------


def test_a_tool_on_path_is_installed_and_runnable(home: Path, data: Path) -> None:
    command = home / "bin" / "codex"
    command.write_text("#!/bin/sh\n")
    command.chmod(0o755)
    state = cli_tools.state("codex", GATEWAY, data)
    assert state["installed"] and state["runnable"] and state["commandPath"] == str(command)
    assert state["runtimeMode"] == "path" and state["reason"] is None and not state["connected"]


def test_a_config_folder_alone_means_installed_but_not_runnable(home: Path, data: Path) -> None:
    (home / ".claude").mkdir()
    state = cli_tools.state("claude", GATEWAY, data)
    assert state["installed"] and not state["runnable"] and "claude" in state["reason"]


def test_nothing_there_is_not_installed(data: Path) -> None:
    states = {s["tool"]: s for s in cli_tools.states(GATEWAY, data)}
    assert set(states) == {"claude", "codex", "opencode", "gemini"}
    assert not any(s["installed"] or s["connected"] for s in states.values())


def test_snippets_name_the_gateway_for_each_editor() -> None:
    found = {s["tool"]: s for s in cli_tools.snippets(GATEWAY, Choice(model="fast"))}
    assert set(found) == {"cursor", "cline", "continue", "zed"}
    assert all("http://127.0.0.1:20128/v1" in s["snippet"] and "fast" in s["snippet"] for s in found.values())
    assert json.loads(found["zed"]["snippet"])["language_models"]["openai_compatible"]["Quotagate"]["api_url"]


def test_a_setting_of_the_wrong_shape_is_refused_not_overwritten(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    before = write(path, '{"env": "not an object"}')
    with pytest.raises(cli_tools.ToolFileError, match="cannot take"):
        cli_tools.connect("claude", GATEWAY, CHOICE, data)
    assert path.read_bytes() == before


def test_an_unusual_toml_layout_round_trips(home: Path, data: Path) -> None:
    path = home / ".codex" / "config.toml"
    before = write(path, 'model="o3"\r\nmodel_providers = { other = { base_url = "http://x/v1" } }\r\n'
                         '[tui]\r\n  notifications=true   # indented\r\n')
    cli_tools.connect("codex", GATEWAY, CHOICE, data)
    config = tomllib.loads(path.read_text())
    assert config["model_providers"]["quotagate"]["wire_api"] == "responses"
    assert config["model_providers"]["other"] == {"base_url": "http://x/v1"} and config["tui"]["notifications"]
    cli_tools.disconnect("codex", GATEWAY, data)
    assert path.read_bytes() == before


def test_reconnecting_after_a_user_edit_keeps_that_edit_on_disconnect(home: Path, data: Path) -> None:
    path = home / ".claude" / "settings.json"
    write(path, samples.CLAUDE_SETTINGS)
    cli_tools.connect("claude", GATEWAY, CHOICE, data)
    path.write_text(path.read_text().replace('"model": "opus"', '"model": "sonnet"'), encoding="utf-8")
    cli_tools.connect("claude", GATEWAY, Choice(model="fast"), data)
    cli_tools.disconnect("claude", GATEWAY, data)
    expected = json.loads(samples.CLAUDE_SETTINGS)
    expected["model"] = "sonnet"
    assert json.loads(path.read_text()) == expected


def test_xdg_config_home_is_honoured(home: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    state = cli_tools.connect("opencode", GATEWAY, Choice(), data)
    assert state["configPath"] == str(home / "xdg" / "opencode" / "opencode.json") and state["connected"]
    assert not (home / ".config" / "opencode").exists()


@pytest.mark.parametrize("tool,header,value", [("claude", "authorization", "Bearer qg-k"),
                                               ("codex", "authorization", "Bearer qg-k"),
                                               ("opencode", "authorization", "Bearer qg-k"),
                                               ("gemini", "x-goog-api-key", "qg-k")])
def test_try_it_sends_the_key_the_way_the_tool_does(home: Path, data: Path, tool: str, header: str,
                                                    value: str) -> None:
    cli_tools.connect(tool, GATEWAY, Choice(model="fast", api_key="qg-k"), data)
    trial = cli_tools.TOOLS[tool].trial("hi")
    assert trial.headers[header] == value and trial.model == "fast"
    assert trial.url.startswith(GATEWAY.base_url)


def test_gemini_after_a_user_edit_only_our_lines_go(home: Path, data: Path) -> None:
    env, settings = home / ".gemini" / ".env", home / ".gemini" / "settings.json"
    write(env, samples.GEMINI_ENV)
    write(settings, samples.GEMINI_SETTINGS)
    cli_tools.connect("gemini", GATEWAY, Choice(model="fast"), data)
    env.write_text(env.read_text() + "DEBUG=1\n", encoding="utf-8")
    cli_tools.disconnect("gemini", GATEWAY, data)
    assert env.read_text() == samples.GEMINI_ENV + "DEBUG=1\n"  # their model line is back, ours are gone
    assert settings.read_text() == samples.GEMINI_SETTINGS
