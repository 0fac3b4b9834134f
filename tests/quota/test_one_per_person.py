"""The same subscription reached through two tools is one quota and is listed once."""

from __future__ import annotations

from pathlib import Path

from core.quota import QuotaSnapshot, QuotaWindow
from core.quota.model import one_per_person
from core.quota.providers.copilot import CopilotProvider
from tests.quota.conftest import fixture, query, write_json
from tests.quota.fakes import FakeServer, Reply

USER = "/copilot_internal/user"
BILLING = "/users/OctoCat/settings/billing/premium_request/usage"
TOKEN = "/copilot_internal/v2/token"


def _both_paths_for_octocat(home: Path, fake: FakeServer) -> None:
    write_json(home / ".config/opencode/copilot-quota-token.json",
               {"token": "github_pat_x", "username": "OctoCat", "tier": "pro"})
    write_json(home / ".local/share/opencode/auth.json", {"github-copilot": {
        "type": "oauth", "refresh": "gho_0123456789abcdef", "access": "gho_0123456789abcdef", "expires": 0}})
    fake.reply("GET", BILLING, json={**fixture("copilot_billing_usage.json"), "user": "OctoCat"})


async def test_copilot_signed_in_on_both_paths_as_one_user_is_shown_once_with_the_richer_reading(
        home: Path, fake: FakeServer) -> None:
    _both_paths_for_octocat(home, fake)
    fake.reply("GET", USER, json=fixture("copilot_user_pro.json"))
    [shown] = await query(CopilotProvider())
    assert shown.account == "@octocat" and shown.account_key.startswith("oauth:")
    assert {w.id for w in shown.windows} >= {"premium", "chat"}
    assert fake.received(BILLING)  # both were asked: either may be the one that works


async def test_when_the_internal_path_fails_the_billing_reading_of_the_same_user_is_shown(
        home: Path, fake: FakeServer) -> None:
    _both_paths_for_octocat(home, fake)
    fake.reply("GET", USER, Reply(401, json={"message": "Bad credentials"}))
    fake.reply("GET", TOKEN, Reply(401, json={"message": "Bad credentials"}))
    snapshots = await query(CopilotProvider())
    working = [s for s in snapshots if s.windows]
    assert [s.account_key for s in working] == ["billing:octocat"]
    assert [s.error_kind for s in snapshots if not s.windows] == ["auth"]  # the failing sign-in still says so


def _snapshot(provider: str, key: str, identity: str, windows: int) -> QuotaSnapshot:
    return QuotaSnapshot(provider, key, identity,
                         windows=tuple(QuotaWindow.from_remaining(f"w{i}", f"W{i}", 50.0) for i in range(windows)))


def test_only_identities_naming_a_person_and_readings_with_numbers_are_merged() -> None:
    codex = _snapshot("openai", "codex", "me@example.com", 2)
    opencode = _snapshot("openai", "opencode", "Me@Example.com", 2)
    other_person = _snapshot("openai", "work", "work@example.com", 2)
    other_provider = _snapshot("claude", "claude", "me@example.com", 2)
    tool_named = [_snapshot("claude", f"k{i}", "Claude Code", 2) for i in range(2)]
    failed = QuotaSnapshot.failure("openai", "broken", "me@example.com", "auth", "Sign in again")
    everything = [codex, opencode, other_person, other_provider, *tool_named, failed]
    assert one_per_person(everything) == [codex, other_person, other_provider, *tool_named, failed]
