"""Quota tests: a fake service on loopback for every quota host, credential files in the test's own HOME."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from core.quota import QuotaEngine, QuotaSnapshot, StoredAccount
from core.quota.providers import QuotaProvider
from tests.quota.fakes import FakeServer

FIXTURES = Path(__file__).parent / "fixtures"
from tests.conftest import QUOTA_HOSTS


@pytest.fixture
def home(isolated_environment: Path) -> Path:
    return isolated_environment


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """One fake server answering for every quota host, through QUOTAGATE_HOST_MAP."""
    server = FakeServer().start()
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", ",".join(f"{host}={server.url}" for host in QUOTA_HOSTS))
    yield server
    server.stop()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def make_jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


async def query(provider: QuotaProvider[Any], *, timeout: float = 3.0,
                stored: Sequence[StoredAccount] = ()) -> list[QuotaSnapshot]:
    """Everything `provider` reports, through the real engine and client."""
    async with QuotaEngine([provider], timeout=timeout, account_source=lambda: stored) as engine:
        return await engine.refresh_now()


async def query_one(provider: QuotaProvider[Any], **kwargs: Any) -> QuotaSnapshot:
    snapshots = await query(provider, **kwargs)
    assert len(snapshots) == 1, snapshots
    return snapshots[0]
