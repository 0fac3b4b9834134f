"""Requests: what the gateway adds to every chat request — a global system prompt (before or after the
client's own) and a default thinking budget for requests that ask for none. Saved through the configuration
service, checked by the same rules as `PUT /api/settings/system-prompt` and `/thinking-budget`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
)

from core import settings
from core.gateway.request_defaults import stored_value
from core.i18n import tr, translatable
from core.services import CoreServices
from desktop.widgets.commit import CommitBar, configuration_of
from desktop.widgets.feedback import hint
from desktop.widgets.field_error import FieldError
from desktop.widgets.tasks import RefreshOnShowPage, off_loop

log = logging.getLogger(__name__)


class RequestsPage(RefreshOnShowPage):
    def __init__(self, services: CoreServices) -> None:
        super().__init__("Requests page")
        self.services = services

        # Global system prompt
        self.prompt_enabled = QCheckBox(tr("Add this system prompt to every chat request"))
        self.prompt_text = QPlainTextEdit()
        self.prompt_text.setPlaceholderText(tr("e.g. Answer in British English."))
        self.prompt_position = QComboBox()
        self.prompt_position.addItem(tr("Before the client's own system prompt"), "prefix")
        self.prompt_position.addItem(tr("After the client's own system prompt"), "suffix")
        prompt_layout = QVBoxLayout()
        prompt_layout.addWidget(self.prompt_enabled)
        prompt_layout.addWidget(self.prompt_text, 1)
        self.prompt_error = FieldError()
        prompt_layout.addWidget(self.prompt_error)
        prompt_layout.addWidget(self.prompt_position)
        prompt_layout.addWidget(hint(tr("Sent once per request in every API format; a client whose system "
                                        "prompt already contains it word for word does not get it twice.")))
        prompt_box = QGroupBox(tr("Global system prompt"))
        prompt_box.setLayout(prompt_layout)

        # Default thinking
        self.thinking_mode = QComboBox()
        for label, mode in ((tr("Off: leave requests as they are"), "off"), (tr("An effort level"), "effort"),
                            (tr("A token budget"), "budget")):
            self.thinking_mode.addItem(label, mode)
        self.thinking_effort = QComboBox()
        for label, effort in ((tr("Minimal"), "minimal"), (tr("Low"), "low"), (tr("Medium"), "medium"),
                              (tr("High"), "high")):
            self.thinking_effort.addItem(label, effort)
        self.thinking_budget = QSpinBox()
        self.thinking_budget.setRange(1024, 128_000)
        self.thinking_budget.setSingleStep(1024)
        self.thinking_budget.setSuffix(tr(" tokens"))
        self.thinking_models = QLineEdit()
        self.thinking_models.setPlaceholderText(tr("Every model (or e.g. anthropic/*, gemini/gemini-2.5-*)"))
        thinking_form = QFormLayout()
        thinking_form.addRow(tr("Default thinking:"), self.thinking_mode)
        thinking_form.addRow(tr("Effort:"), self.thinking_effort)
        thinking_form.addRow(tr("Budget:"), self.thinking_budget)
        thinking_form.addRow(tr("Only for models:"), self.thinking_models)
        thinking_form.addRow(hint(tr("For requests that do not ask for thinking themselves; sent as each provider "
                                     "expects it (Anthropic budget_tokens, OpenAI reasoning_effort, Gemini "
                                     "thinkingBudget).")))
        thinking_box = QGroupBox(tr("Thinking"))
        thinking_box.setLayout(thinking_form)

        self.commit = CommitBar(self.tasks, self.values, lambda values: self.show_values(*values), self._save)
        self.commit.add_field(settings.KEY_SYSTEM_PROMPT, self.prompt_text, self.prompt_error,
                              self.prompt_text.textChanged, self.prompt_enabled.toggled)
        self.commit.watch(self.prompt_position.currentIndexChanged, self.thinking_mode.currentIndexChanged,
                          self.thinking_effort.currentIndexChanged, self.thinking_budget.valueChanged,
                          self.thinking_models.textChanged)
        self.feedback = self.commit.status

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(prompt_box, 1)
        layout.addWidget(thinking_box)
        layout.addWidget(self.commit)

        self.thinking_mode.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()
        self.refresh_soon()

    # -- loading -----------------------------------------------------------------------------------
    def refresh_on_show(self) -> bool:
        return not self.commit.dirty  # never overwrite what the user is editing

    def can_refresh(self) -> bool:
        return self.services.store is not None

    async def refresh(self) -> None:
        store = self.services.store
        if store is None:
            return
        try:
            prompt = await off_loop(stored_value, store, settings.KEY_SYSTEM_PROMPT)
            thinking = await off_loop(stored_value, store, settings.KEY_THINKING_BUDGET)
        except Exception as exc:
            log.exception("Reading the request settings failed")
            self.feedback.error(tr("Could not read the request settings: {error}", error=exc))
            return
        if not self.commit.dirty and not self.commit.saving():  # the user's edits win over what was read
            self.show_values(prompt, thinking)
            self.commit.reset()

    def show_values(self, prompt: dict[str, Any], thinking: dict[str, Any]) -> None:
        self.prompt_enabled.setChecked(prompt["enabled"])
        self.prompt_text.setPlainText(prompt["prompt"])
        self.prompt_position.setCurrentIndex(max(0, self.prompt_position.findData(prompt["position"])))
        self.thinking_mode.setCurrentIndex(max(0, self.thinking_mode.findData(thinking["mode"])))
        self.thinking_effort.setCurrentIndex(max(0, self.thinking_effort.findData(thinking["effort"])))
        self.thinking_budget.setValue(thinking["budgetTokens"])
        self.thinking_models.setText(", ".join(thinking["models"]))

    def values(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """What the fields say, in the settings' own shape (checked by core when saved)."""
        prompt = {"enabled": self.prompt_enabled.isChecked(), "prompt": self.prompt_text.toPlainText(),
                  "position": self.prompt_position.currentData()}
        models = [name.strip() for name in self.thinking_models.text().split(",") if name.strip()]
        thinking = {"mode": self.thinking_mode.currentData(), "effort": self.thinking_effort.currentData(),
                    "budgetTokens": self.thinking_budget.value(), "models": models}
        return prompt, thinking

    # -- saving ------------------------------------------------------------------------------------
    def save(self) -> asyncio.Task[bool]:
        return self.commit.start_save()

    async def _save(self) -> str:
        configuration = configuration_of(self.services)
        prompt, thinking = self.values()
        await configuration.update_settings(
            {settings.KEY_SYSTEM_PROMPT: prompt, settings.KEY_THINKING_BUDGET: thinking},
            {settings.KEY_SYSTEM_PROMPT: tr("System prompt"), settings.KEY_THINKING_BUDGET: tr("Thinking")},
            reason=translatable("changing the request defaults"))
        return tr("Saved. New requests use these settings.")

    def _update_enabled(self, *_: Any) -> None:
        mode = self.thinking_mode.currentData()
        self.thinking_effort.setEnabled(mode == "effort")
        self.thinking_budget.setEnabled(mode == "budget")
        self.thinking_models.setEnabled(mode != "off")
