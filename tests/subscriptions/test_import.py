"""Importing the official CLIs' sign-ins: each file format, the facts read from it, a broken file named in the
error, and the files left byte-for-byte as they were."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from core.subscriptions.service import Subscriptions
from core.subscriptions.signin import SignInError
from tests.fakes.oauth_servers import codex_id_token, make_jwt

NOW_MS = int(time.time() * 1000)


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    os.utime(path, (1_700_000_000, 1_700_000_000))  # a recognisable mtime that a write would change
    return path


def untouched(path: Path, before: bytes) -> bool:
    return path.read_bytes() == before and path.stat().st_mtime == 1_700_000_000


@pytest.fixture
def cli_files(isolated_environment: Path) -> dict[str, Path]:
    home = isolated_environment
    opencode = home / ".local" / "share" / "opencode" / "auth.json"
    return {
        "claude": write(home / ".claude" / ".credentials.json", {"claudeAiOauth": {
            "accessToken": "sk-ant-oat01-access", "refreshToken": "sk-ant-ort01-refresh", "expiresAt": NOW_MS + 3_600_000,
            "scopes": ["user:inference", "user:profile"], "subscriptionType": "max"}}),
        "claude-config": write(home / ".claude.json", {"oauthAccount": {"emailAddress": "me@example.com"}}),
        "codex": write(home / ".codex" / "auth.json", {"OPENAI_API_KEY": None, "tokens": {
            "id_token": codex_id_token("coder@example.com", "acct-42", "pro"), "access_token": make_jwt(
                {"exp": int(time.time()) + 3600}), "refresh_token": "rt-codex", "account_id": "acct-42"},
            "last_refresh": "2026-11-29T10:00:00Z"}),
        "gemini": write(home / ".gemini" / "oauth_creds.json", {
            "access_token": "ya29.access", "refresh_token": "1//refresh", "scope": "openid", "token_type": "Bearer",
            "id_token": make_jwt({"email": "gem@example.com"}), "expiry_date": NOW_MS + 3_000_000}),
        "opencode": write(opencode, {
            "anthropic": {"type": "oauth", "access": "oc-claude-access", "refresh": "oc-claude-refresh",
                          "expires": NOW_MS + 3_600_000},
            "openai": {"type": "oauth", "access": make_jwt({"exp": int(time.time()) + 3600, "https://api.openai.com/auth":
                                                           {"chatgpt_account_id": "acct-oc"}}),
                       "refresh": "oc-codex-refresh", "expires": NOW_MS + 3_600_000},
            "github-copilot": {"type": "oauth", "refresh": "gho_imported", "access": "tid=old", "expires": 0}}),
        "antigravity": write(home / ".config" / "opencode" / "antigravity-accounts.json", {"version": 3, "accounts": [
            {"email": "one@gmail.com", "refreshToken": "1//agy-one", "projectId": "proj-one"},
            {"email": "two@gmail.com", "refreshToken": "1//agy-two", "managedProjectId": "proj-two"},
            {"email": "no-token@gmail.com"}]}),
    }


async def test_claude_code_credentials_are_imported_with_plan_and_email(subscriptions: Subscriptions, cli_files):
    before = cli_files["claude"].read_bytes()
    [account] = await subscriptions.import_from("claude", "claude-code")
    shown = account.public()
    assert (shown["kind"], shown["identity"], shown["plan"], shown["source"]) == \
        ("subscription", "me@example.com", "Max", "~/.claude/.credentials.json")
    assert shown["renewable"] is True and shown["expiresAt"] is not None and shown["apiKey"] == ""
    assert account.tokens["access_token"] == "sk-ant-oat01-access"
    assert account.tokens["refresh_token"] == "sk-ant-ort01-refresh"
    assert untouched(cli_files["claude"], before)


async def test_claude_config_dir_is_honoured(subscriptions: Subscriptions, cli_files, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch):
    elsewhere = write(tmp_path / "claude-config" / ".credentials.json",
                      {"claudeAiOauth": {"accessToken": "from-config-dir", "refreshToken": "r"}})
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(elsewhere.parent))
    [account] = await subscriptions.import_from("claude", "claude-code")
    assert account.tokens["access_token"] == "from-config-dir"


async def test_codex_auth_is_imported_with_account_id_and_plan(subscriptions: Subscriptions, cli_files,
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    before = cli_files["codex"].read_bytes()
    [account] = await subscriptions.import_from("codex", "codex-cli")
    assert (account.public()["identity"], account.public()["plan"]) == ("coder@example.com", "Pro")
    assert account.tokens["account_id"] == "acct-42" and account.tokens["refresh_token"] == "rt-codex"
    assert untouched(cli_files["codex"], before)
    moved = write(tmp_path / "codex-home" / "auth.json", json.loads(before))
    monkeypatch.setenv("CODEX_HOME", str(moved.parent))
    [again] = await subscriptions.import_from("codex", "codex-cli")
    assert again.id == account.id  # the same person: one account, not two


async def test_gemini_cli_credentials_are_imported(subscriptions: Subscriptions, cli_files):
    before = cli_files["gemini"].read_bytes()
    [account] = await subscriptions.import_from("gemini-cli")
    assert account.public()["identity"] == "gem@example.com"
    assert account.tokens["refresh_token"] == "1//refresh" and account.tokens["access_token"] == "ya29.access"
    assert untouched(cli_files["gemini"], before)


async def test_opencode_auth_entries_are_imported_per_provider(subscriptions: Subscriptions, cli_files):
    before = cli_files["opencode"].read_bytes()
    [claude] = await subscriptions.import_from("claude", "opencode")
    [codex] = await subscriptions.import_from("codex", "opencode")
    [copilot] = await subscriptions.import_from("github")
    assert claude.tokens["refresh_token"] == "oc-claude-refresh"
    assert codex.tokens["account_id"] == "acct-oc"
    assert copilot.tokens["refresh_token"] == "gho_imported"  # the GitHub token; the Copilot one is exchanged
    assert untouched(cli_files["opencode"], before)


async def test_every_antigravity_account_with_a_refresh_token_is_imported(subscriptions: Subscriptions, cli_files):
    before = cli_files["antigravity"].read_bytes()
    accounts = await subscriptions.import_from("antigravity")
    assert [(a.public()["identity"], a.tokens["project_id"]) for a in accounts] == \
        [("one@gmail.com", "proj-one"), ("two@gmail.com", "proj-two")]
    assert untouched(cli_files["antigravity"], before)


async def test_a_broken_file_is_named_in_the_error_and_nothing_is_stored(subscriptions: Subscriptions,
                                                                        isolated_environment: Path):
    broken = write(isolated_environment / ".codex" / "auth.json", '{"tokens": {"access_token": ')
    before = broken.read_bytes()
    with pytest.raises(SignInError, match=r"~/\.codex/auth\.json cannot be imported: it is not valid JSON"):
        await subscriptions.import_from("codex", "codex-cli")
    assert subscriptions.store.subscriptions() == []
    assert untouched(broken, before)


async def test_a_file_without_the_sign_in_says_what_is_missing(subscriptions: Subscriptions,
                                                              isolated_environment: Path):
    write(isolated_environment / ".claude" / ".credentials.json", {"mcpOAuth": {}})
    with pytest.raises(SignInError, match=r"~/\.claude/\.credentials\.json cannot be imported: \"claudeAiOauth\""):
        await subscriptions.import_from("claude", "claude-code")


async def test_no_file_at_all_says_where_it_looked(subscriptions: Subscriptions):
    with pytest.raises(SignInError, match=r"No Gemini CLI sign-in was found in ~/\.gemini/oauth_creds\.json"):
        await subscriptions.import_from("gemini-cli")


async def test_importing_again_updates_the_same_account_even_without_an_email(subscriptions: Subscriptions,
                                                                             cli_files):
    cli_files["claude-config"].unlink()  # no email to recognise the person by
    [first] = await subscriptions.import_from("claude", "claude-code")
    [again] = await subscriptions.import_from("claude", "claude-code")
    assert again.id == first.id and len(subscriptions.store.subscriptions()) == 1


async def test_an_imported_github_token_is_named_by_github(subscriptions: Subscriptions, cli_files):
    [copilot] = await subscriptions.import_from("github", "opencode")
    assert copilot.public()["identity"] == "@octocat"
