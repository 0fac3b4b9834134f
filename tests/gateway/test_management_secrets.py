"""Secrets given to the management API — provider keys, custom endpoint keys and header values, proxy
passwords, the login password, client keys after creation — appear in no answer and in no log line.

The secrets here deliberately avoid the shapes the log redactor knows (`sk-…`, `Bearer …`), so this test
proves they are never logged rather than that the redactor caught them."""

from __future__ import annotations

import logging

import pytest

from core.logs import setup_logging
from core.services import CoreServices
from tests.fakes.proxies import HttpProxy

PROVIDER_KEY = "provZq8SECRETprovider0001"
ACCOUNT_PROXY_PASSWORD = "pwConnection7781X"
NODE_KEY = "nodeSECRETkey9090abc"
NODE_HEADER = "hdrSECRETnode4242xyz"
GLOBAL_PROXY_PASSWORD = "pwGlobal5151Y"
PROVIDER_PROXY_PASSWORD = "pwProvider6262Z"
LOGIN_PASSWORD = "loginSECRETpass3030"


class LogFile:
    """The app's real log file, at DEBUG level, for the length of a test."""

    def __init__(self, folder) -> None:
        self._setup = setup_logging(folder, verbose=True)
        self._open = True

    def read(self) -> str:
        self.close()
        return self._setup.log_file.read_text()

    def close(self) -> None:
        if self._open:
            self._open = False
            self._setup.close()


@pytest.fixture
def log_file(services: CoreServices):
    level = logging.getLogger().level
    log = LogFile(services.data_folder)
    yield log
    log.close()
    logging.getLogger().setLevel(level)


async def test_no_secret_reaches_any_answer_or_the_log_file(services: CoreServices, client, upstream,
                                                            openai_via_fake, log_file) -> None:
    answers = []

    async def call(method: str, path: str, **kwargs):
        response = await client.request(method, path, **kwargs)
        assert response.status_code < 500, (path, response.text)
        answers.append(response)
        return response

    with HttpProxy(credentials=("alice", GLOBAL_PROXY_PASSWORD)) as proxy:
        connection = (await call("POST", "/api/providers", json={
            "provider": "openai", "apiKey": PROVIDER_KEY, "name": "work",
            "proxy": f"http://alice:{ACCOUNT_PROXY_PASSWORD}@127.0.0.1:9"})).json()["connection"]
        endpoint = (await call("POST", "/api/provider-nodes", json={
            "prefix": "mine", "baseUrl": f"{upstream.url}/v1", "apiKey": NODE_KEY,
            "headers": {"X-Secret": NODE_HEADER}})).json()["node"]
        await call("PUT", "/api/settings/proxy", json={
            "global": proxy.url, "providers": {"groq": f"socks5://bob:{PROVIDER_PROXY_PASSWORD}@127.0.0.1:9"}})
        client_key = (await client.post("/api/keys", json={"name": "ide"})).json()["key"]
        login = await call("PUT", "/api/settings/require-login", json={"requireLogin": True,
                                                                      "password": LOGIN_PASSWORD})
        token = login.json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        await call("POST", "/api/auth/login", json={"password": "wrong password"})
        await call("POST", "/api/auth/login", json={"password": LOGIN_PASSWORD})
        await call("POST", "/v1/chat/completions", json={"model": "mine/x", "messages": [{"role": "user"}]})
        await call("PUT", f"/api/providers/{connection['id']}", json={**connection, "name": "renamed"})
        await call("PUT", f"/api/provider-nodes/{endpoint['id']}", json={**endpoint, "name": "renamed"})
        await call("POST", f"/api/providers/{connection['id']}/test")
        await call("GET", f"/api/providers/{connection['id']}/models")
        await call("POST", "/api/settings/proxy/test", json={"proxy": proxy.url})
        await call("POST", "/api/settings/proxy/test",
                   json={"proxy": f"socks5://bob:{PROVIDER_PROXY_PASSWORD}@127.0.0.1:9"})
        await call("PUT", "/api/settings/proxy", json={"global": f"ftp://x:{GLOBAL_PROXY_PASSWORD}@h:1"})
        for path in ["/api/providers", f"/api/providers/{connection['id']}", "/api/providers/catalog",
                     "/api/provider-nodes", f"/api/provider-nodes/{endpoint['id']}", "/api/keys", "/api/settings",
                     "/api/settings/proxy", "/api/settings/require-login", "/api/models/alias",
                     "/api/usage/history", "/api/usage/logs", "/api/telemetry/summary", "/api/monitoring/health"]:
            await call("GET", path)
    services.store.writer.flush()
    logged = log_file.read()

    secrets = [PROVIDER_KEY, ACCOUNT_PROXY_PASSWORD, NODE_KEY, NODE_HEADER, GLOBAL_PROXY_PASSWORD,
               PROVIDER_PROXY_PASSWORD, LOGIN_PASSWORD, client_key]
    for response in answers:
        for secret in secrets:
            assert secret not in response.text, (secret, response.request.url, response.text)
    assert "Provider connection" in logged  # the changes were logged, without their secrets
    for secret in secrets:
        assert secret not in logged, secret
