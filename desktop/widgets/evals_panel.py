"""The Dashboard's Evaluations tab: run a suite against models or combos and compare the latest runs — pass
rate, latency, tokens and cost per target. The work is `core.evals` (the same as `/api/evals`)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from core.evals.service import Evaluations
from core.i18n import tr
from core.services import CoreServices
from core.settings import ConfigError
from desktop.widgets import format as fmt
from desktop.widgets.feedback import ERROR_COLOR, StatusLabel, cell, empty_state, hint, read_only_table, show_rows
from desktop.widgets.long_action import LongAction
from desktop.widgets.tasks import PageTasks

log = logging.getLogger(__name__)


class EvalsPanel(QWidget):
    def __init__(self, services: CoreServices) -> None:
        super().__init__()
        self.services = services
        self.tasks = PageTasks("Evaluations panel")
        self.destroyed.connect(self.tasks.cancel_all)
        self.suite_field = QComboBox()
        self.targets_field = QLineEdit()
        self.targets_field.setPlaceholderText(tr("Models or combos, comma-separated (e.g. openai/gpt-4.1, coding)"))
        self.run_button = QPushButton(tr("Run"))
        self.run_button.clicked.connect(self.run)
        self.targets_field.returnPressed.connect(self.run)
        controls = QHBoxLayout()
        controls.addWidget(self.suite_field)
        controls.addWidget(self.targets_field, 1)
        self.status = StatusLabel()
        self.running = LongAction(self.tasks, self.status, self)  # a suite takes a while: seconds and Cancel
        self.running.running_changed.connect(lambda busy: self.run_button.setEnabled(not busy))
        controls.addWidget(self.running.button_slot(self.run_button))
        self.table = read_only_table([tr("When"), tr("Suite"), tr("Target"), tr("Passed"), tr("Latency"),
                                      tr("Tokens in"), tr("Tokens out"), tr("Cost")], stretch=2)
        self.empty = empty_state(tr("No evaluation has run yet. Pick a suite, name the models or combos to compare, "
                                    "and press Run."))
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(hint(tr("Each case goes through the gateway like any client's request (and is counted in "
                                 "the usage). Add suites of your own with POST /api/evals.")))
        show_rows(self.table, self.empty, [])

    def evaluations(self) -> Evaluations | None:
        services = self.services
        if services.configuration is None or services.runtime is None:
            return None
        runtime = services.runtime
        return Evaluations(services.configuration, lambda: (services.gateway_state.host, services.gateway_state.port),
                           lambda: runtime.config.price_overrides)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        if self.services.store is not None:
            self.tasks.start(self.refresh())
        super().showEvent(event)

    async def refresh(self) -> None:
        evaluations = self.evaluations()
        if evaluations is None:
            return
        try:
            overview = await evaluations.overview()
        except (ConfigError, OSError) as exc:
            self.status.error(tr("Could not read the evaluations: {error}", error=exc))
            return
        chosen = self.suite_field.currentText()
        self.suite_field.clear()
        for suite in overview["suites"]:
            self.suite_field.addItem(suite["name"])
        if chosen:
            self.suite_field.setCurrentText(chosen)
        self.show_runs(overview["runs"])

    def show_runs(self, runs: list[dict[str, Any]]) -> None:
        rows = []
        for run in runs:
            for target in run["targets"]:
                rate = tr("{passed}/{total} ({percent} %)", passed=target["passed"], total=target["total"],
                          percent=round(target["passRate"] * 100))
                color = ERROR_COLOR if target["passRate"] < 1 else None
                rows.append([cell(fmt.timestamp(run["startedAt"])), cell(run["suite"]), cell(target["target"]),
                             cell(rate, align_right=True, color=color),
                             cell(fmt.milliseconds(target["latencyMs"]["p50"]), align_right=True),
                             cell(fmt.count(target["tokens"]["prompt"]), align_right=True),
                             cell(fmt.count(target["tokens"]["completion"]), align_right=True),
                             cell(fmt.usd(target["costUsd"]), align_right=True)])
        show_rows(self.table, self.empty, rows)

    def run(self) -> Any:
        suite = self.suite_field.currentText()
        targets = [name.strip() for name in self.targets_field.text().split(",") if name.strip()]

        async def work() -> dict[str, Any]:
            evaluations = self.evaluations()
            if evaluations is None:
                raise ConfigError(tr("Quotagate is not running its gateway right now."))
            result = await evaluations.run({"suiteName": suite, "targets": targets})
            await self.refresh()
            return result

        def done(result: dict[str, Any], _seconds: float) -> None:
            summary = ", ".join(f"{t['target']} {t['passed']}/{t['total']}" for t in result["targets"])
            self.status.ok(tr("Done: {summary}.", summary=summary))

        def failed(exc: Exception) -> str:
            return tr("Not run: {error}", error=exc)

        return self.running.start(tr("Running “{suite}”…", suite=suite), work, done,
                                  lambda seconds: tr("{name}: cancelled after {seconds} s.", name=suite,
                                                     seconds=seconds), failed)
