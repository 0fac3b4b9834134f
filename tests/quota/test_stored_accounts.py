"""Which accounts stored in Quotagate the quota glance polls, and the one order accounts are listed in."""

from __future__ import annotations

from core.gateway.accounts import Account
from core.quota.accounts import has_quota
from core.quota.model import QuotaSnapshot
from core.quota.order import display_order
from core.quota.runtime import stored_quota_accounts


def account(provider: str, key: str, active: bool = True) -> Account:
    return Account(id=1, provider=provider, name="Work", api_key=key, active=active)


def test_api_keys_stored_for_the_gateway_are_not_subscriptions() -> None:
    stored = stored_quota_accounts([account("openai", "sk-proj-0123456789"), account("gemini", "AIzaSy0123456789"),
                                    account("zai", "zai-0123456789"), account("zhipu", "zhipu-0123456789"),
                                    account("copilot", "gho_0123456789"), account("deepseek", "sk-ds-0123456789")])
    assert [s.provider for s in stored] == ["zai", "zhipu", "copilot"]


def test_inactive_or_keyless_accounts_are_left_out() -> None:
    assert stored_quota_accounts([account("zai", "zai-0123", active=False), account("zai", "")]) == []


def test_keys_with_a_quota_endpoint_and_subscription_tokens_have_quota() -> None:
    catalogue = {"openai", "gemini", "zai", "zhipu"}
    assert [p for p in ("openai", "gemini", "zai", "zhipu", "claude", "antigravity") if has_quota(p, catalogue)] == [
        "zai", "zhipu", "claude", "antigravity"]


def test_accounts_are_listed_by_provider_then_name_whatever_their_numbers_or_errors() -> None:
    snapshots = [QuotaSnapshot.failure("zai", "k", "Work", "auth", "rejected"),
                 QuotaSnapshot("claude", "b", "bob@example.com"), QuotaSnapshot("claude", "a", "Alice@example.com"),
                 QuotaSnapshot("openai", "x", "sam@example.com"), QuotaSnapshot("someday", "s", "New provider")]
    assert [s.key for s in display_order(snapshots)] == ["openai/x", "claude/a", "claude/b", "zai/k", "someday/s"]
