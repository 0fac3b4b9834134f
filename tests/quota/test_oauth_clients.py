"""Google sign-ins are renewed with the OAuth client of the user's own install of the tool that made them,
read from its JavaScript as published (the client is a plain constant there); the environment overrides."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.quota import oauth_clients
from core.quota.locations import Locations
from core.quota.providers.antigravity import AntigravityProvider
from core.quota.providers.gemini import GeminiProvider
from tests.quota.conftest import fixture, make_jwt, query_one, write_json
from tests.quota.fakes import FakeServer

TOKEN = "/token"
PLUGIN_ID = "1234-plugin.apps.googleusercontent.com"
GEMINI_ID = "5678-gemini.apps.googleusercontent.com"


def _install_antigravity_plugin(home: Path) -> Path:
    """The plugin as OpenCode's Bun install leaves it (dist/src/constants.js of opencode-antigravity-auth)."""
    path = home / ".cache/opencode/node_modules/opencode-antigravity-auth/dist/src/constants.js"
    path.parent.mkdir(parents=True)
    path.write_text('/**\n * Constants used for Antigravity OAuth flows.\n */\n'
                    f'export const ANTIGRAVITY_CLIENT_ID = "{PLUGIN_ID}";\n'
                    '/** Client secret issued for the Antigravity OAuth application. */\n'
                    'export const ANTIGRAVITY_CLIENT_SECRET = "GOCSPX-plugin_secret-1";\n'
                    'export const ANTIGRAVITY_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"];\n')
    return path


def _install_gemini_bundle(root: Path) -> Path:
    """A global npm install of @google/gemini-cli: a bundle of chunks, one of which holds the client."""
    package = root / "@google" / "gemini-cli"
    write_json(package / "package.json", {"name": "@google/gemini-cli", "version": "0.61.0"})
    (package / "bundle").mkdir()
    (package / "bundle" / "chunk-AAAA.js").write_text("var x = 1;\n" * 1000)
    (package / "bundle" / "chunk-BBBB.js").write_text(
        "var OAUTH_SCOPE = ['https://www.googleapis.com/auth/cloud-platform'];\n"
        f'var OAUTH_CLIENT_ID = "{GEMINI_ID}";\nvar OAUTH_CLIENT_SECRET = "GOCSPX-gemini_secret-2";\n')
    (package / "bundle" / "gemini.js").write_text("#!/usr/bin/env node\nimport './chunk-BBBB.js';\n")
    return package


async def test_antigravity_sign_ins_are_renewed_with_the_installed_plugins_client(home: Path, fake: FakeServer) -> None:
    _install_antigravity_plugin(home)
    write_json(home / ".config/opencode/antigravity-accounts.json",
               {"version": 3, "accounts": [{"email": "dev@example.com", "refreshToken": "1//r", "projectId": "p"}]})
    fake.reply("POST", TOKEN, json={"access_token": "ya29.fresh", "expires_in": 3599})
    fake.reply("POST", "/v1internal:fetchAvailableModels", json=fixture("antigravity_models.json"))
    snapshot = await query_one(AntigravityProvider())
    assert snapshot.ok
    form = fake.received(TOKEN)[0].form()
    assert (form["client_id"], form["client_secret"]) == (PLUGIN_ID, "GOCSPX-plugin_secret-1")


async def test_without_the_plugin_the_error_says_how_to_get_it(home: Path, fake: FakeServer) -> None:
    write_json(home / ".config/opencode/antigravity-accounts.json",
               {"version": 3, "accounts": [{"email": "dev@example.com", "refreshToken": "1//r"}]})
    snapshot = await query_one(AntigravityProvider())
    assert snapshot.error_kind == "config" and fake.requests == []
    assert "Antigravity plugin" in (snapshot.error or "") and "QUOTAGATE_ANTIGRAVITY_CLIENT_ID" in (snapshot.error or "")


async def test_without_the_plugin_its_own_last_reading_is_shown_stale_with_the_reason(
        home: Path, fake: FakeServer) -> None:
    updated = time.time() - 1800
    write_json(home / ".config/opencode/antigravity-accounts.json", {"version": 4, "accounts": [{
        "email": "dev@example.com", "refreshToken": "1//r", "cachedQuotaUpdatedAt": int(updated * 1000),
        "cachedQuota": {"claude": {"remainingFraction": 0.4, "resetTime": "2099-01-01T00:00:00Z", "modelCount": 3},
                        "gemini-pro": {"remainingFraction": 1, "modelCount": 2},
                        "gemini-flash": {"modelCount": 2}}}]})
    snapshot = await query_one(AntigravityProvider())
    assert snapshot.stale and snapshot.error_kind == "config" and "Antigravity plugin" in (snapshot.error or "")
    assert abs(snapshot.fetched_at.timestamp() - updated) < 1 and fake.requests == []
    by_label = {w.label: w.remaining_percent for w in snapshot.windows}
    assert by_label == {"Claude": 40.0, "Gemini Pro": 100.0, "Gemini Flash": None}  # missing fraction: unknown


async def test_an_expired_gemini_sign_in_is_renewed_with_the_installed_gemini_clis_client(
        home: Path, fake: FakeServer) -> None:
    _install_gemini_bundle(home / ".npm-global" / "lib" / "node_modules")
    write_json(home / ".gemini" / "oauth_creds.json", {
        "access_token": "ya29.old", "refresh_token": "1//saved", "id_token": make_jwt({"email": "dev@example.com"}),
        "expiry_date": int((time.time() - 600) * 1000)})
    fake.reply("POST", TOKEN, json={"access_token": "ya29.renewed", "expires_in": 3599})
    fake.reply("POST", "/v1internal:loadCodeAssist", json=fixture("gemini_load_code_assist.json"))
    fake.reply("POST", "/v1internal:retrieveUserQuota", json=fixture("gemini_user_quota.json"))
    snapshot = await query_one(GeminiProvider())
    assert snapshot.ok
    form = fake.received(TOKEN)[0].form()
    assert (form["client_id"], form["client_secret"], form["refresh_token"]) == (
        GEMINI_ID, "GOCSPX-gemini_secret-2", "1//saved")


def test_the_gemini_command_on_path_leads_to_its_package(tmp_path: Path) -> None:
    package = _install_gemini_bundle(tmp_path / "prefix" / "lib" / "node_modules")
    bin_dir = tmp_path / "prefix" / "bin"
    bin_dir.mkdir()
    (package / "bundle" / "gemini.js").chmod(0o755)
    os.symlink(package / "bundle" / "gemini.js", bin_dir / "gemini")
    locations = Locations({"HOME": str(tmp_path / "home"), "PATH": str(bin_dir)})
    client = oauth_clients.GEMINI_CLI.find(locations)
    assert client is not None and client.client_id == GEMINI_ID


def test_current_opencode_keeps_plugins_per_spec_and_the_newest_install_wins(home: Path) -> None:
    cache = home / ".cache" / "opencode" / "packages"
    for spec, client, age in (("opencode-antigravity-auth@1.4.3", "1-old", 3600), ("opencode-antigravity-auth@latest",
                                                                                  "2-new", 0)):
        constants = cache / spec / "node_modules/opencode-antigravity-auth/dist/src/constants.js"
        constants.parent.mkdir(parents=True)
        constants.write_text(f'export const ANTIGRAVITY_CLIENT_ID = "{client}.apps.googleusercontent.com";\n')
        os.utime(constants, (time.time() - age, time.time() - age))
    client = oauth_clients.ANTIGRAVITY.find(Locations({"HOME": str(home)}))
    assert client is not None and client.client_id == "2-new.apps.googleusercontent.com"


def test_the_environment_wins_over_an_installed_client(home: Path) -> None:
    _install_antigravity_plugin(home)
    locations = Locations({"HOME": str(home), "QUOTAGATE_ANTIGRAVITY_CLIENT_ID": "mine.apps.googleusercontent.com"})
    client = oauth_clients.ANTIGRAVITY.find(locations)
    assert client is not None and (client.client_id, client.client_secret) == ("mine.apps.googleusercontent.com", "")


def test_an_updated_plugin_is_read_again(home: Path) -> None:
    constants = _install_antigravity_plugin(home)
    locations = Locations({"HOME": str(home)})
    assert oauth_clients.ANTIGRAVITY.find(locations).client_id == PLUGIN_ID  # type: ignore[union-attr]
    constants.write_text('export const ANTIGRAVITY_CLIENT_ID = "9999-new.apps.googleusercontent.com";\n')
    os.utime(constants, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    client = oauth_clients.ANTIGRAVITY.find(locations)
    assert client is not None and client.client_id == "9999-new.apps.googleusercontent.com"


@pytest.mark.parametrize("text", [
    "export const ANTIGRAVITY_CLIENT_ID = process.env.X;\n",  # not a literal
    'const ANTIGRAVITY_CLIENT_ID = "not-a-google-client";\n',
    "\x00\xff binary \xfe",
])
def test_files_without_a_usable_client_are_passed_over(home: Path, text: str) -> None:
    constants = _install_antigravity_plugin(home)
    constants.write_bytes(text.encode("latin-1"))
    assert oauth_clients.ANTIGRAVITY.find(Locations({"HOME": str(home)})) is None
