"""`/api/evals`: a suite run against models and combos through the gateway's own request path (a fake
provider on loopback), scored, costed and kept in the store."""

from __future__ import annotations

import pytest

from core.evals.suites import Case, parse_suite
from core.providers import catalog
from core.settings import ConfigError
from core.store.models import UsageRow

SUITE = {"name": "greetings", "cases": [
    {"prompt": "Say hello", "contains": ["fake upstream"]},
    {"prompt": "Say hello again", "system": "Be brief.", "regex": [r"(?i)^hello\b"]},
    {"prompt": "What is 6 * 7?", "contains": ["42"]},
]}


async def test_a_suite_runs_against_a_model_and_a_combo_and_reports_pass_rate(services, client, upstream,
                                                                              openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await client.post("/api/combos", json={"name": "team", "strategy": "priority", "models": ["openai/gpt-4.1"]})
    response = await client.post("/api/evals", json={"suite": SUITE, "targets": ["openai/gpt-4.1", "team"]})
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["suite"] == "greetings" and isinstance(run["id"], int)
    for target, name in zip(run["targets"], ["openai/gpt-4.1", "team"]):
        assert target["target"] == name
        assert (target["passed"], target["total"], target["passRate"]) == (2, 3, 0.6667)
        assert [case["passed"] for case in target["cases"]] == [True, True, False]
        assert target["cases"][2]["reasons"] == ["does not contain “42”"]
        assert target["tokens"] == {"prompt": 36, "completion": 18}
        price = catalog.price_for("openai", "gpt-4.1")
        assert target["costUsd"] == pytest.approx(3 * catalog.cost_usd(price, 12, 6, 4), abs=1e-6)
        assert target["latencyMs"]["avg"] > 0 and target["answeredBy"] == ["openai/gpt-4.1"]
    sent = upstream.requests[-2].body  # the second case of the combo
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Say hello again"}]
    assert sent["temperature"] == 0
    assert services.store.writer.flush(10)
    assert UsageRow.select().count() == 6  # recorded like any client's requests


async def test_runs_and_saved_suites_are_listed_and_a_saved_suite_runs_by_name(services, client, upstream,
                                                                              openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    first = (await client.post("/api/evals", json={"suite": SUITE, "targets": ["openai/gpt-4.1"]})).json()
    again = await client.post("/api/evals", json={"suiteName": "greetings", "targets": ["openai/gpt-4.1"]})
    assert again.status_code == 200, again.text
    overview = (await client.get("/api/evals")).json()
    assert [s["name"] for s in overview["suites"]] == ["smoke", "greetings"]
    assert overview["suites"][0]["builtIn"] is True
    assert [r["id"] for r in overview["runs"]] == [again.json()["id"], first["id"]]
    assert "cases" not in overview["runs"][0]["targets"][0]
    detail = (await client.get(f"/api/evals/{first['id']}")).json()
    assert len(detail["targets"][0]["cases"]) == 3
    assert (await client.get("/api/evals/999")).status_code == 404


async def test_an_unreachable_target_fails_its_cases_with_the_gateways_words(services, client, upstream,
                                                                            openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-401")
    run = (await client.post("/api/evals", json={"suiteName": "smoke", "targets": ["openai/gpt-4.1",
                                                                                    "nobody/model"]})).json()
    broken, unknown = run["targets"]
    assert broken["passRate"] == 0 and broken["cases"][0]["error"].startswith("HTTP 401: fake failure 401")
    assert unknown["cases"][0]["error"].startswith("HTTP 404: Unknown provider prefix 'nobody'")


@pytest.mark.parametrize(("body", "words"), [
    ({"suiteName": "smoke"}, "`targets` must be a list"),
    ({"targets": ["openai/gpt-4.1"]}, "Send `suite`"),
    ({"suiteName": "nope", "targets": ["a/b"]}, "No evaluation suite “nope”"),
    ({"suite": {"name": "x", "cases": [{"prompt": "hi"}]}, "targets": ["a/b"]}, "cases[0] needs at least one"),
    ({"suite": {"name": "x", "cases": [{"prompt": "hi", "regex": ["("]}]}, "targets": ["a/b"]},
     "cases[0].regex[0] is not a valid pattern"),
    ({"suite": {"name": "smoke", "cases": [{"prompt": "hi", "contains": "x"}]}, "targets": ["a/b"]}, "built-in"),
])
async def test_a_bad_evaluation_request_is_refused_in_words(services, client, body, words) -> None:
    response = await client.post("/api/evals", json=body)
    assert response.status_code in (400, 404)
    assert words in response.json()["error"]


def test_a_case_passes_only_when_every_expectation_holds() -> None:
    case = Case("q", contains=("Paris",), regex=(r"\bFrance\b",), not_contains=("London",))
    assert case.failures("paris is in France") == []
    assert case.failures("Paris, London") == ["does not match /\\bFrance\\b/", "contains “London”"]


def test_a_suite_of_too_many_cases_is_refused() -> None:
    with pytest.raises(ConfigError, match="1 to 50 cases"):
        parse_suite({"name": "big", "cases": [{"prompt": "x", "contains": ["y"]}] * 51})
