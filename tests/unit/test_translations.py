"""Every string the program translates has a Chinese translation with the same placeholders, and the
language follows the setting or the locale."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from core import i18n
from core.locale import zh

ROOT = Path(__file__).resolve().parents[2]


def translated_literals() -> dict[str, str]:
    """Every literal passed to `tr(...)` or `translatable(...)` in core/ and desktop/, with where it was found."""
    found: dict[str, str] = {}
    for folder in ("core", "desktop"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in ("tr", "translatable")
                        and node.args and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_translated_string_has_a_chinese_translation() -> None:
    missing = {text: where for text, where in translated_literals().items() if text not in zh.MESSAGES}
    assert not missing, "\n".join(f"{where}: {text!r}" for text, where in sorted(missing.items(), key=lambda i: i[1]))


def test_translations_keep_their_placeholders() -> None:
    broken = [text for text, translation in zh.MESSAGES.items() if placeholders(text) != placeholders(translation)]
    assert not broken


def test_the_catalogue_has_no_strings_the_code_no_longer_uses() -> None:
    unused = set(zh.MESSAGES) - set(translated_literals())
    assert not unused, sorted(unused)


@pytest.mark.parametrize("env,expected", [("zh_CN.UTF-8", "zh"), ("zh_TW", "zh"), ("de_DE.UTF-8", "en"),
                                          ("C.UTF-8", "en")])
def test_the_language_follows_the_locale(monkeypatch: pytest.MonkeyPatch, env: str, expected: str) -> None:
    monkeypatch.setenv("LANG", env)
    assert i18n.set_language("auto") == expected


def test_the_setting_wins_over_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    i18n.set_language("en")
    assert i18n.tr("Quit") == "Quit"
    i18n.set_language("zh")
    assert i18n.tr("Quit") == "退出"
    assert i18n.tr("{percent} % left", percent=62) == "剩余 62%"


@pytest.mark.parametrize("label,expected", [
    ("Session (5-hour)", "会话 (5小时)"),
    ("Tokens · Weekly", "Token · 每周"),
    ("Tool calls · Monthly", "工具调用 · 每月"),
    ("Gemini Pro", "Gemini Pro"),
    ("Weekly · Sonnet", "每周 · Sonnet"),
])
def test_window_labels_are_translated_for_display(label: str, expected: str) -> None:
    from core.quota.model import QuotaWindow
    from core.quota.text import window_label

    i18n.set_language("zh")
    assert window_label(QuotaWindow("w", label)) == expected
    i18n.set_language("en")
    assert window_label(QuotaWindow("w", label)) == label


def test_no_string_is_translated_in_two_catalogues() -> None:
    """The merged catalogue would silently keep only one of them."""
    seen: dict[str, str] = {}
    twice = []
    for name, catalogue in zh.CATALOGUES.items():
        for key in catalogue:
            if key in seen:
                twice.append(f"{key!r} in {seen[key]} and {name}")
            seen[key] = name
    assert not twice, "\n".join(twice)
