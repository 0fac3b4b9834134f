"""Evaluation suites: prompts and what each answer must (or must not) contain, checked once, here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.i18n import tr
from core.settings import ConfigError

MAX_CASES = 50
MAX_TARGETS = 10
MAX_TEXT = 20_000  # characters of a prompt or a system text
MAX_EXPECTATION = 500  # characters of one expected substring or pattern
MAX_EXPECTATIONS = 20  # per kind, per case
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


@dataclass(frozen=True)
class Case:
    prompt: str
    system: str | None = None
    contains: tuple[str, ...] = ()  # every one must appear in the answer (case-insensitive)
    regex: tuple[str, ...] = ()  # every pattern must match somewhere (re.search)
    not_contains: tuple[str, ...] = ()  # none may appear (case-insensitive)

    def failures(self, answer: str) -> list[str]:
        """Why `answer` fails this case, in words; empty when it passes."""
        lowered = answer.casefold()
        reasons = [tr("does not contain “{expected}”", expected=text) for text in self.contains
                   if text.casefold() not in lowered]
        reasons += [tr("does not match /{pattern}/", pattern=pattern) for pattern in self.regex
                    if re.search(pattern, answer) is None]
        reasons += [tr("contains “{expected}”", expected=text) for text in self.not_contains if text.casefold() in lowered]
        return reasons

    def public(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "system": self.system, "contains": list(self.contains),
                "regex": list(self.regex), "notContains": list(self.not_contains)}


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...]
    built_in: bool = False

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "builtIn": self.built_in, "cases": [case.public() for case in self.cases]}


# A first suite that works against any chat model: quick to run, unambiguous answers.
SMOKE = Suite("smoke", (
    Case("What is 17 + 25? Answer with the number only.", contains=("42",)),
    Case("Reply with the single word PONG.", regex=(r"(?i)\bpong\b",)),
    Case("What is the capital of France? Answer in one word.", regex=(r"(?i)\bparis\b",)),
), built_in=True)
BUILT_IN = {SMOKE.name: SMOKE}


def suite_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value.strip()):
        raise ConfigError(tr("`name` must be 1 to 100 letters, digits, spaces, '.', '_' or '-'."))
    name = value.strip()
    if name in BUILT_IN:
        raise ConfigError(tr("“{name}” is a built-in suite; give yours another name.", name=name))
    return name


def parse_suite(value: Any) -> Suite:
    """A suite as the API and the windows send it: `{"name", "cases": [{"prompt", "system", "contains",
    "regex", "notContains"}]}`; a `ConfigError` naming the field that is wrong."""
    if not isinstance(value, dict):
        raise ConfigError(tr("`suite` must be an object with `name` and `cases`."))
    name = suite_name(value.get("name"))
    cases = value.get("cases")
    if not isinstance(cases, list) or not 0 < len(cases) <= MAX_CASES:
        raise ConfigError(tr("`cases` must be a list of 1 to {count} cases.", count=MAX_CASES))
    return Suite(name, tuple(_case(case, f"cases[{i}]") for i, case in enumerate(cases)))


def parse_targets(value: Any) -> list[str]:
    """The models or combos to run a suite against (names as clients send them, e.g. `openai/gpt-4.1`)."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_TARGETS or not all(
            isinstance(t, str) and t.strip() and len(t) <= 256 for t in value):
        raise ConfigError(tr("`targets` must be a list of 1 to {count} model or combo names.", count=MAX_TARGETS))
    return list(dict.fromkeys(t.strip() for t in value))


def _case(value: Any, where: str) -> Case:
    if not isinstance(value, dict) or set(value) - {"prompt", "system", "contains", "regex", "notContains"}:
        raise ConfigError(tr("{field} must be an object with `prompt` and `contains`, `regex` or `notContains`.",
                             field=where))
    prompt, system = value.get("prompt"), value.get("system")
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_TEXT:
        raise ConfigError(tr("{field}.prompt must be text of 1 to {count} characters.", field=where, count=MAX_TEXT))
    if system is not None and (not isinstance(system, str) or len(system) > MAX_TEXT):
        raise ConfigError(tr("{field}.system must be text of at most {count} characters.", field=where,
                             count=MAX_TEXT))
    contains = _texts(value.get("contains"), f"{where}.contains")
    regex = _texts(value.get("regex"), f"{where}.regex")
    not_contains = _texts(value.get("notContains"), f"{where}.notContains")
    for k, pattern in enumerate(regex):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(tr("{field}.regex[{index}] is not a valid pattern: {error}.", field=where, index=k,
                                 error=exc)) from None
    if not (contains or regex or not_contains):
        raise ConfigError(tr("{field} needs at least one of `contains`, `regex` or `notContains`.", field=where))
    return Case(prompt, system or None, contains, regex, not_contains)


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_EXPECTATIONS or not all(
            isinstance(v, str) and 0 < len(v) <= MAX_EXPECTATION for v in value):
        raise ConfigError(tr("{field} must be a list of at most {count} texts of 1 to {length} characters.",
                             field=where, count=MAX_EXPECTATIONS, length=MAX_EXPECTATION))
    return tuple(value)
