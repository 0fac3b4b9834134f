"""Copying what the official CLIs already hold into Quotagate's encrypted store.

The CLIs' files are only ever read (`read_json_object` opens them read-only); nothing here writes, renames or
touches them. When a provider rotates refresh tokens, the copy and the CLI share one session: whichever renews
first signs the other out — the windows say so and recommend signing in separately.

A missing file is "nothing to import"; a file that exists but cannot be used is an `ImportProblem` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.i18n import tr
from core.quota.credentials import CredentialFileError, jwt_claims, read_json_object, text_field
from core.quota.locations import Locations
from core.quota.parsing import epoch_millis
from core.quota.providers.antigravity import ACCOUNTS_FILE
from core.subscriptions.bundle import Tokens
from core.subscriptions.endpoints import codex_facts
from core.subscriptions.providers import PROVIDERS
from core.subscriptions.quota import quota_account_for
from core.subscriptions.store import SignIn


class ImportProblem(Exception):
    """A CLI's file exists but cannot be imported; the message names the file and says why."""


@dataclass(frozen=True)
class ImportSource:
    id: str          # as the API names it: "claude-code", "codex-cli", "opencode", …
    provider: str
    title: str       # "Claude Code", shown in "Import from Claude Code"
    path: Callable[[Locations], Path]
    read: Callable[[dict[str, Any], Locations, str], list[SignIn]]  # (file's JSON, locations, shown path)


def import_sign_ins(provider: str, source: str | None, locations: Locations | None = None) -> list[SignIn]:
    """The sign-ins found in `provider`'s CLI files (only `source`'s when given). Blocking file reads.
    Raises ImportProblem when a file is broken or nothing is found."""
    locations = locations or Locations()
    chosen = [s for s in SOURCES if s.provider == provider and (source is None or s.id == source)]
    if not chosen:
        raise ImportProblem(tr("Quotagate cannot import {provider} sign-ins from {source}.",
                               provider=_name(provider), source=source or tr("any tool")))
    found: list[SignIn] = []
    for item in chosen:
        path = item.path(locations)
        shown = locations.display(path)
        try:
            data = read_json_object(path)
        except CredentialFileError as exc:
            raise ImportProblem(tr("{file} cannot be imported: {reason}.", file=shown, reason=exc.reason)) from None
        if data is not None:
            found += item.read(data, locations, shown)
    if not found:
        where = ", ".join(locations.display(s.path(locations)) for s in chosen)
        raise ImportProblem(tr("No {provider} sign-in was found in {files}. Sign in with the tool first, or sign "
                               "in here.", provider=_name(provider), files=where))
    return found


def _name(provider: str) -> str:
    known = PROVIDERS.get(provider)
    return known.name if known else repr(provider[:40])


def sources_for(provider: str) -> list[ImportSource]:
    return [s for s in SOURCES if s.provider == provider]


# --- one reader per file format --------------------------------------------------------------------------
def _claude_code(data: dict[str, Any], locations: Locations, shown: str) -> list[SignIn]:
    """`{"claudeAiOauth": {"accessToken", "refreshToken", "expiresAt" (ms), "subscriptionType"}}`."""
    oauth = _entry(data, "claudeAiOauth", shown)
    tokens = Tokens(access_token=text_field(oauth, "accessToken"), refresh_token=text_field(oauth, "refreshToken"),
                    expires_at=_millis(oauth.get("expiresAt")))
    _require(tokens, shown, "claudeAiOauth.accessToken")
    plan = text_field(oauth, "subscriptionType")
    email = _claude_email(locations)
    return [SignIn("claude", tokens, email, plan.capitalize() if plan else None, shown,
                   quota_account_for("claude", tokens, email, "claude-code"))]


def _claude_email(locations: Locations) -> str | None:
    """Claude Code keeps the signed-in address in `.claude.json` (beside or above its config folder)."""
    config_dir = locations.env("CLAUDE_CONFIG_DIR")
    for path in ([Path(config_dir) / ".claude.json"] if config_dir else []) + [locations.home / ".claude.json"]:
        try:
            account = (read_json_object(path) or {}).get("oauthAccount")
        except CredentialFileError:
            continue
        email = text_field(account, "emailAddress")
        if email:
            return email
    return None


def _codex_cli(data: dict[str, Any], locations: Locations, shown: str) -> list[SignIn]:
    """`{"tokens": {"id_token", "access_token", "refresh_token", "account_id"}, "last_refresh"}`."""
    entry = _entry(data, "tokens", shown)
    tokens = Tokens(access_token=text_field(entry, "access_token"), refresh_token=text_field(entry, "refresh_token"),
                    id_token=text_field(entry, "id_token"), account_id=text_field(entry, "account_id"))
    _require(tokens, shown, "tokens.access_token")
    return [_codex(tokens, shown)]


def _codex(tokens: Tokens, shown: str) -> SignIn:
    tokens, email, plan = codex_facts(tokens)
    if tokens.expires_at is None and tokens.access_token:
        expiry = jwt_claims(tokens.access_token).get("exp")
        tokens = tokens.merged(Tokens(expires_at=float(expiry) if isinstance(expiry, (int, float)) else None))
    return SignIn("codex", tokens, email, plan, shown, quota_account_for("codex", tokens, email, shown))


def _gemini_cli(data: dict[str, Any], locations: Locations, shown: str) -> list[SignIn]:
    """`{"access_token", "refresh_token", "expiry_date" (ms), "id_token", "scope", "token_type"}`."""
    tokens = Tokens(access_token=text_field(data, "access_token"), refresh_token=text_field(data, "refresh_token"),
                    expires_at=_millis(data.get("expiry_date")), id_token=text_field(data, "id_token"))
    if not tokens.refresh_token and not tokens.access_token:
        raise ImportProblem(tr("{file} cannot be imported: it has no \"{field}\".", file=shown, field="refresh_token"))
    email = text_field(jwt_claims(tokens.id_token or ""), "email") or _gemini_active_email(locations)
    return [SignIn("gemini-cli", tokens, email, None, shown, quota_account_for("gemini-cli", tokens, email, shown))]


def _gemini_active_email(locations: Locations) -> str | None:
    try:
        return text_field(read_json_object(locations.gemini_dir / "google_accounts.json"), "active")
    except CredentialFileError:
        return None


def _opencode(provider: str, key: str) -> Callable[[dict[str, Any], Locations, str], list[SignIn]]:
    """OpenCode's `auth.json`: `{key: {"type": "oauth", "access", "refresh", "expires" (ms), "accountId"?}}`."""
    def read(data: dict[str, Any], locations: Locations, shown: str) -> list[SignIn]:
        entry = data.get(key)
        if entry is None:
            return []
        if not isinstance(entry, dict) or entry.get("type", "oauth") != "oauth":
            raise ImportProblem(tr("{file} cannot be imported: \"{field}\" is not an OAuth sign-in.", file=shown,
                                   field=key))
        tokens = Tokens(access_token=text_field(entry, "access"), refresh_token=text_field(entry, "refresh"),
                        expires_at=_millis(entry.get("expires")), account_id=text_field(entry, "accountId"))
        if provider == "github":  # `refresh` is the GitHub token; `access` an old Copilot token
            if not tokens.refresh_token:
                raise ImportProblem(tr("{file} cannot be imported: it has no \"{field}\".", file=shown,
                                       field=f"{key}.refresh"))
            return [SignIn("github", tokens, None, None, shown, quota_account_for("github", tokens, None, shown))]
        _require(tokens, shown, f"{key}.access")
        if provider == "codex":
            return [_codex(tokens, shown)]
        return [SignIn(provider, tokens, None, None, shown, quota_account_for(provider, tokens, None, "opencode"))]
    return read


def _antigravity_accounts(data: dict[str, Any], locations: Locations, shown: str) -> list[SignIn]:
    """OpenCode's Antigravity plugin: `{"accounts": [{"email", "refreshToken", "projectId"|"managedProjectId"}]}`."""
    entries = data.get("accounts")
    if not isinstance(entries, list):
        raise ImportProblem(tr("{file} cannot be imported: \"{field}\" is not a list.", file=shown, field="accounts"))
    found = []
    for entry in entries:
        refresh = text_field(entry, "refreshToken")
        if refresh:
            email = text_field(entry, "email")
            tokens = Tokens(refresh_token=refresh, project_id=text_field(entry, "projectId", "managedProjectId"))
            found.append(SignIn("antigravity", tokens, email, None, shown,
                                quota_account_for("antigravity", tokens, email, shown)))
    return found


def _entry(data: dict[str, Any], key: str, shown: str) -> dict[str, Any]:
    entry = data.get(key)
    if not isinstance(entry, dict):
        raise ImportProblem(tr("{file} cannot be imported: \"{field}\" is missing or not an object.", file=shown,
                               field=key))
    return entry


def _require(tokens: Tokens, shown: str, field: str) -> None:
    if not tokens.access_token:
        raise ImportProblem(tr("{file} cannot be imported: it has no \"{field}\".", file=shown, field=field))


def _millis(value: Any) -> float | None:
    moment = epoch_millis(value)
    return moment.timestamp() if moment else None


SOURCES: tuple[ImportSource, ...] = (
    ImportSource("claude-code", "claude", "Claude Code", lambda loc: loc.claude_credentials, _claude_code),
    ImportSource("opencode", "claude", "OpenCode", lambda loc: loc.opencode_auth, _opencode("claude", "anthropic")),
    ImportSource("codex-cli", "codex", "Codex CLI", lambda loc: loc.codex_auth, _codex_cli),
    ImportSource("opencode", "codex", "OpenCode", lambda loc: loc.opencode_auth, _opencode("codex", "openai")),
    ImportSource("opencode", "github", "OpenCode", lambda loc: loc.opencode_auth,
                 _opencode("github", "github-copilot")),
    ImportSource("opencode-antigravity", "antigravity", "OpenCode (Antigravity plugin)",
                 lambda loc: loc.opencode_config / ACCOUNTS_FILE, _antigravity_accounts),
    ImportSource("gemini-cli", "gemini-cli", "Gemini CLI", lambda loc: loc.gemini_dir / "oauth_creds.json",
                 _gemini_cli),
)
