"""Translations for the tray, the windows and the CLI.

Source strings are English and are their own keys; other languages are catalogues of plain data in
`core/locale/`. The language comes from the `ui.language` setting, else from the locale environment
(LC_ALL, LC_MESSAGES, LANG, LANGUAGE). Placeholders use `str.format` names, which translators keep.
"""

from __future__ import annotations

import os

from core.locale import zh

LANGUAGES = {"en": "English", "zh": "中文"}
_CATALOGS: dict[str, dict[str, str]] = {"zh": zh.MESSAGES}
_language: str | None = None


def detect_language() -> str:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(name, "").strip()
        if value:
            code = value.split(":")[0].split("_")[0].split(".")[0].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def set_language(choice: str | None) -> str:
    """Use `choice` ("en", "zh"), or the locale's language for None/"auto". Returns the language in use."""
    global _language
    _language = choice if choice in LANGUAGES else detect_language()
    return _language


def language() -> str:
    return _language if _language is not None else set_language(None)


def tr(text: str, **values: object) -> str:
    """`text` in the current language, with `{placeholders}` filled from `values`."""
    template = _CATALOGS.get(language(), {}).get(text, text)
    return template.format(**values) if values else template


def translatable(text: str) -> str:
    """Marks a text kept in data (a module constant, a record field) for the catalogue; it is translated
    with `tr(text, ...)` where it is shown, so that it follows the language in use then."""
    return text


class Phrase(str):
    """A text with values kept in data that must read in English where it is data (API answers, logs) and in
    the language in use where a window shows it (`said`). It is the English text, so JSON and comparisons
    see a plain string; the template (marked `translatable` where it is written) and the values ride along."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> "Phrase":
        phrase = super().__new__(cls, template.format(**values) if values else template)
        phrase.template, phrase.values = template, values
        return phrase

    @classmethod
    def of(cls, text: str) -> "Phrase":
        """`text` as a phrase: itself when it is one, else a translatable constant kept in data."""
        return text if isinstance(text, Phrase) else cls(text)


def said(text: str) -> str:
    """`text` as a window shows it: a `Phrase` in the language in use (its phrase values too), any other text
    through the catalogue (a translatable constant kept in data)."""
    if isinstance(text, Phrase):
        return tr(text.template, **{name: said(value) if isinstance(value, Phrase) else value
                                    for name, value in text.values.items()})
    return tr(text)
