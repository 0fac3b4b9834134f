"""Saved evaluation suites and past runs in the store (blocking: call these off the event loop)."""

from __future__ import annotations

import json
import time
from typing import Any

from core.evals.suites import BUILT_IN, Suite, parse_suite
from core.settings import NotFound
from core.store.models import EvalRunRow, EvalSuiteRow

KEEP_RUNS = 200  # older runs are dropped as new ones are saved


def suites() -> list[Suite]:
    """The built-in suites, then the saved ones by name."""
    saved = [parse_suite({"name": row.name, "cases": json.loads(row.cases)})
             for row in EvalSuiteRow.select().order_by(EvalSuiteRow.name)]
    return [*BUILT_IN.values(), *saved]


def suite(name: str) -> Suite:
    found = next((s for s in suites() if s.name == name), None)
    if found is None:
        raise NotFound(f"No evaluation suite “{name[:100]}”; GET /api/evals lists them.")
    return found


def save_suite(suite: Suite) -> None:
    """Add the suite, or replace the saved one of that name (in the caller's transaction)."""
    now = time.time()
    cases = json.dumps([case.public() for case in suite.cases])
    updated = EvalSuiteRow.update(cases=cases, updated_at=now).where(EvalSuiteRow.name == suite.name).execute()
    if not updated:
        EvalSuiteRow.create(name=suite.name, cases=cases, created_at=now, updated_at=now)


def delete_suite(name: str) -> None:
    if not EvalSuiteRow.delete().where(EvalSuiteRow.name == name).execute():
        raise NotFound(f"No saved evaluation suite “{name[:100]}”.")


def save_run(run: dict[str, Any]) -> dict[str, Any]:
    """Keep a run's results (and only the latest `KEEP_RUNS`); returns the run with its id."""
    row = EvalRunRow.create(suite=run["suite"], started_at=run["startedAt"], finished_at=run["finishedAt"],
                            results=json.dumps(run["targets"]))
    cutoff = EvalRunRow.select(EvalRunRow.id).order_by(EvalRunRow.id.desc()).offset(KEEP_RUNS).limit(1).scalar()
    if cutoff is not None:
        EvalRunRow.delete().where(EvalRunRow.id <= cutoff).execute()
    return {"id": row.id, **run}


def runs(limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first, each target summarised (its cases left out)."""
    rows = EvalRunRow.select().order_by(EvalRunRow.id.desc()).limit(limit)
    return [{**_run(row), "targets": [{k: v for k, v in t.items() if k != "cases"} for t in json.loads(row.results)]}
            for row in rows]


def run(run_id: int) -> dict[str, Any]:
    row = EvalRunRow.get_or_none(EvalRunRow.id == run_id)
    if row is None:
        raise NotFound(f"No evaluation run {run_id}; GET /api/evals lists the latest.")
    return {**_run(row), "targets": json.loads(row.results)}


def _run(row: EvalRunRow) -> dict[str, Any]:
    return {"id": row.id, "suite": row.suite, "startedAt": row.started_at, "finishedAt": row.finished_at}
