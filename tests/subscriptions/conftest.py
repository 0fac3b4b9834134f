"""Subscription tests: the fake auth services on loopback, and a real store with its secret box."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import paths
from core.gateway.accounts import AccountStore
from core.secrets import SecretBox
from core.store import Store
from core.subscriptions.bundle import Tokens
from core.subscriptions.service import Subscriptions
from core.subscriptions.store import SignIn
from tests.fakes.oauth_servers import GOOGLE_CLIENT, GOOGLE_SECRET, FakeAuthServices
from tests.gateway.conftest import client, services  # noqa: F401  (the running gateway, a client for it)


@pytest.fixture
def auth(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAuthServices]:
    with FakeAuthServices() as fake:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", fake.host_map())
        yield fake


@pytest.fixture
def google_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Gemini CLI's and the Antigravity plugin's OAuth client, as the user's environment names it."""
    for prefix in ("QUOTAGATE_GEMINI", "QUOTAGATE_ANTIGRAVITY"):
        monkeypatch.setenv(f"{prefix}_CLIENT_ID", GOOGLE_CLIENT)
        monkeypatch.setenv(f"{prefix}_CLIENT_SECRET", GOOGLE_SECRET)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    folder = paths.ensure_private_dir(tmp_path / "data")
    opened = Store.open(folder)
    opened.use_secrets(SecretBox.for_data_folder(folder))
    yield opened
    opened.close()


@pytest.fixture
async def subscriptions(store: Store, auth: FakeAuthServices) -> AsyncIterator[Subscriptions]:
    box = SecretBox.for_data_folder(store.path.parent)
    service = Subscriptions(AccountStore(box), lambda: store, None,
                            callback_ports={"codex": 0, "antigravity": 0})  # tests take any free port
    yield service
    await service.aclose()


@dataclass(frozen=True)
class Target:
    """A routing target as the gateway's resilience and quota gate see one."""

    provider: str
    model: str
    account_id: int | None
    account_name: str
    quota_key: str | None = None


async def signed_in(service: Subscriptions, provider: str, identity: str = "someone@example.com",
                    **tokens: object) -> int:
    """An account as a sign-in leaves it, stored through the service."""
    account = await service.save(SignIn(provider, Tokens.from_dict(dict(tokens)), identity, None, "signed-in",
                                        identity))
    return account.id
