"""Model aliases on the Combos page: a name of your own for one model (the one-target case of a combo).

The page that holds this section reads the aliases with its combos; changes go through the configuration
service (the same checks as `/api/models/alias`), and the section shows its refusal in words.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from core.configuration import Configuration
from core.i18n import tr
from core.settings import ConfigError
from desktop.widgets.feedback import ConfirmBox, StatusLabel, cell, empty_state, hint, read_only_table, \
    select_row_with, selected_data, show_rows
from desktop.widgets.layouts import button_row, table_section
from desktop.widgets.saving_dialog import SavingDialog
from desktop.widgets.tasks import PageTasks


class AliasDialog(SavingDialog):
    """New alias (name and model), or a new model for an existing one (its name stays: clients use it)."""

    def __init__(self, parent: QWidget, alias: str | None, model: str, models: list[str],
                 save: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        super().__init__(parent, tr("Edit alias") if alias else tr("New alias"), save)
        self.setMinimumWidth(520)
        self.name_field = QLineEdit(alias or "")
        self.name_field.setPlaceholderText(tr("e.g. fast"))
        self.name_field.setReadOnly(alias is not None)
        self.model_field = QComboBox()
        self.model_field.setEditable(True)
        self.model_field.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_field.addItems(models)
        self.model_field.setEditText(model)
        self.model_field.lineEdit().setPlaceholderText(tr("provider/model"))
        form = QFormLayout()
        form.addRow(tr("Alias:"), self.name_field)
        form.addRow("", hint(tr("Clients ask for this name as the model.")))
        form.addRow(tr("Model:"), self.model_field)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        (self.model_field if alias else self.name_field).setFocus()

    def values(self) -> dict[str, Any]:
        return {"alias": self.name_field.text().strip(), "model": self.model_field.currentText().strip()}


class AliasesSection(QWidget):
    """The aliases table with New / Edit / Delete. `changed` is awaited after each change (the page reads
    its data again: combos may refer to aliases)."""

    def __init__(self, configuration: Callable[[], Configuration], tasks: PageTasks,
                 changed: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self._configuration = configuration
        self._tasks = tasks
        self._changed = changed
        self.aliases: dict[str, str] = {}
        self.models: list[str] = []
        self.dialog: AliasDialog | None = None
        self.confirm_box: ConfirmBox | None = None
        self.table = read_only_table([tr("Alias"), tr("Model")], stretch=1)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_dialog(self.selected()))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.empty = empty_state(tr("No aliases. An alias gives one model a name of your own, e.g. “fast” for "
                                    "groq/llama-3.3-70b-versatile."))
        self.add_button = QPushButton(tr("New alias…"))
        self.add_button.clicked.connect(lambda: self.open_dialog())
        self.edit_button = QPushButton(tr("Edit…"))
        self.edit_button.clicked.connect(lambda: self.open_dialog(self.selected()))
        self.delete_button = QPushButton(tr("Delete…"))
        self.delete_button.clicked.connect(self.confirm_delete)
        self.status = StatusLabel()
        section = table_section(tr("Aliases"), self.table, self.empty,
                                button_row(self.add_button, self.edit_button, self.delete_button), self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(section)
        self.show_aliases({}, [])

    def show_aliases(self, aliases: dict[str, str], models: list[str]) -> None:
        self.aliases, self.models = dict(aliases), models
        rows = [[cell(alias, data=alias), cell(model)] for alias, model in sorted(aliases.items())]
        show_rows(self.table, self.empty, rows, selected_data(self.table))
        self._update_buttons()

    def selected(self) -> str | None:
        return selected_data(self.table)

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def open_dialog(self, alias: str | None = None) -> AliasDialog:
        self.dialog = AliasDialog(self, alias, self.aliases.get(alias or "", ""), self.models,
                                  lambda values: self._save(alias, values))
        self.dialog.open()
        return self.dialog

    async def _save(self, alias: str | None, values: dict[str, Any]) -> None:
        name = alias if alias is not None else values["alias"]
        await self._configuration().set_alias(name, values["model"])
        await self._changed()
        select_row_with(self.table, name)
        self.status.ok(tr("Saved the alias {alias} → {model}.", alias=name, model=values["model"]))

    def confirm_delete(self) -> ConfirmBox | None:
        alias = self.selected()
        if alias is None:
            return None
        self.confirm_box = ConfirmBox(self, tr("Delete alias"), tr("Delete the alias “{alias}”?", alias=alias),
                                      tr("Delete"), lambda: self._tasks.start(self._delete(alias)),
                                      tr("Clients asking for “{alias}” will get an error afterwards.", alias=alias))
        self.confirm_box.open()
        return self.confirm_box

    async def _delete(self, alias: str) -> None:
        try:
            await self._configuration().delete_alias(alias)
        except ConfigError as exc:
            self.status.error(tr("Could not delete {name}: {error}", name=alias, error=exc))
            return
        await self._changed()
        self.status.ok(tr("Deleted {name}.", name=alias))
