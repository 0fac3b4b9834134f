"""What the gateway adds to every chat request: a global system prompt and a default thinking budget.

Both are put into the common form once, when the request is parsed (`RequestDefaults.apply`), so every
translated attempt encodes them as it encodes the client's own system text and thinking. A same-format
pass-through sends the client's payload instead: `for_passthrough` adds them to a fresh copy of it, per
attempt, in that format's own fields. Neither path can add them twice — not on a fallback attempt, not
when the client's system text already holds the prompt — and a request they do not touch keeps the
byte-exact pass-through (the relay looks for one `Call.meta` key, nothing more).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any, Callable

from core import settings
from core.gateway.dialects.common import ADDED_DEFAULTS, Call, Reasoning, Text, budget_for, effort_for


SYSTEM_PROMPT_DEFAULT: dict[str, Any] = {"enabled": False, "prompt": "", "position": "prefix"}
THINKING_BUDGET_DEFAULT: dict[str, Any] = {"mode": "off", "effort": "medium", "budgetTokens": 8192, "models": []}


def stored_value(store: Any, key: str) -> dict[str, Any]:
    """`settings.KEY_SYSTEM_PROMPT` or `KEY_THINKING_BUDGET` as stored, every field present (blocking): what the
    API answers and the settings window shows."""
    default = SYSTEM_PROMPT_DEFAULT if key == settings.KEY_SYSTEM_PROMPT else THINKING_BUDGET_DEFAULT
    value = store.get_setting(key)
    return {**default, **value} if isinstance(value, dict) and settings.usable(key, value) else dict(default)


@dataclass(frozen=True)
class SystemPrompt:
    text: str
    position: str  # "prefix": before the client's system text; "suffix": after it


@dataclass(frozen=True)
class ThinkingDefault:
    effort: str | None  # one of these two is set
    budget: int | None
    models: tuple[str, ...] = ()  # name patterns (`anthropic/*`); empty: every model

    def applies_to(self, model: str) -> bool:
        return not self.models or any(fnmatchcase(model, pattern) for pattern in self.models)

    def reasoning(self) -> Reasoning:
        return Reasoning(effort=self.effort) if self.effort else Reasoning(budget=self.budget)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Added:
    """What `apply` put into a call's common form that its payload does not carry."""

    system: SystemPrompt | None
    reasoning: bool


@dataclass(frozen=True)
class RequestDefaults:
    system: SystemPrompt | None = None
    thinking: ThinkingDefault | None = None

    @classmethod
    def from_settings(cls, system_value: Any, thinking_value: Any) -> "RequestDefaults":
        """From the stored settings; an unusable stored value counts as unset (it never stops a request)."""
        system = thinking = None
        if settings.usable(settings.KEY_SYSTEM_PROMPT, system_value) and system_value:
            value = settings.checked(settings.KEY_SYSTEM_PROMPT, system_value)
            if value["enabled"]:
                system = SystemPrompt(value["prompt"], value["position"])
        if settings.usable(settings.KEY_THINKING_BUDGET, thinking_value) and thinking_value:
            value = settings.checked(settings.KEY_THINKING_BUDGET, thinking_value)
            if value["mode"] != "off":
                thinking = ThinkingDefault(value["effort"] if value["mode"] == "effort" else None,
                                           value["budgetTokens"] if value["mode"] == "budget" else None,
                                           tuple(value["models"]))
        return cls(system, thinking)

    def apply(self, call: Call) -> None:
        """Put the defaults into `call`'s common form (once, at parse time); note what its payload lacks."""
        if self.system is None and self.thinking is None:
            return
        system = self.system
        if system is not None and system.text in "\n".join(part.text for part in call.system):
            system = None  # the client already sends it word for word
        if system is not None:
            call.system = [Text(system.text), *call.system] if system.position == "prefix" \
                else [*call.system, Text(system.text)]
        reasoning = (self.thinking is not None and call.reasoning is None and self.thinking.applies_to(call.model))
        if reasoning:
            call.reasoning = self.thinking.reasoning()  # type: ignore[union-attr]
        if system is not None or reasoning:
            call.meta[ADDED_DEFAULTS] = Added(system, reasoning)


def for_passthrough(call: Call, model: str) -> Call:
    """`call` with a payload that also carries what `apply` added (a copy: the client's payload stays as
    sent, so the next attempt starts from it again)."""
    added: Added | None = call.meta.get(ADDED_DEFAULTS)
    if added is None:
        return call
    payload = dict(call.payload)
    if added.system is not None:
        _SYSTEM[call.format](payload, added.system.text, added.system.position)
    if added.reasoning and call.reasoning is not None:
        _THINKING[call.format](payload, call, model)
    return replace(call, payload=payload)


# --- the system prompt in each format's own field ------------------------------------------------------


def _system_message(payload: dict[str, Any], text: str, position: str) -> None:
    """OpenAI Chat and Ollama: a system message first, or right after the client's last one."""
    messages = list(payload.get("messages") or [])
    entry = {"role": "system", "content": text}
    if position == "prefix":
        messages.insert(0, entry)
    else:
        last = max((i for i, m in enumerate(messages)
                    if isinstance(m, dict) and m.get("role") in ("system", "developer")), default=-1)
        messages.insert(last + 1, entry)
    payload["messages"] = messages


def _anthropic_system(payload: dict[str, Any], text: str, position: str) -> None:
    system = payload.get("system")
    if not system:
        payload["system"] = text
        return
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
    block = {"type": "text", "text": text}
    payload["system"] = [block, *blocks] if position == "prefix" else [*blocks, block]


def _responses_system(payload: dict[str, Any], text: str, position: str) -> None:
    instructions = payload.get("instructions")
    if not instructions:
        payload["instructions"] = text
    else:
        payload["instructions"] = f"{text}\n\n{instructions}" if position == "prefix" else f"{instructions}\n\n{text}"


def _gemini_system(payload: dict[str, Any], text: str, position: str) -> None:
    key = "system_instruction" if "system_instruction" in payload and "systemInstruction" not in payload \
        else "systemInstruction"
    current = payload.get(key)
    if isinstance(current, str):
        current = {"parts": [{"text": current}]}
    instruction = dict(current) if isinstance(current, dict) else {}
    parts = list(instruction.get("parts") or [])
    parts = [{"text": text}, *parts] if position == "prefix" else [*parts, {"text": text}]
    payload[key] = {**instruction, "parts": parts}


_SYSTEM: dict[str, Callable[[dict[str, Any], str, str], None]] = {
    "openai": _system_message, "ollama": _system_message, "anthropic": _anthropic_system,
    "responses": _responses_system, "gemini": _gemini_system,
}


# --- the default thinking in each format's own field ---------------------------------------------------
# Each mirrors what the format's translating encoder sends for the same `Call.reasoning`, so a request
# thinks the same whichever way it travels.


def _openai_thinking(payload: dict[str, Any], call: Call, model: str) -> None:
    from core.gateway.dialects.openai_chat import _NON_REASONING_MODELS

    if not model.lower().rsplit("/", 1)[-1].startswith(_NON_REASONING_MODELS):
        payload["reasoning_effort"] = effort_for(call.reasoning)  # type: ignore[arg-type]


def _responses_thinking(payload: dict[str, Any], call: Call, model: str) -> None:
    current = payload.get("reasoning") if isinstance(payload.get("reasoning"), dict) else {}
    payload["reasoning"] = {**current, "effort": effort_for(call.reasoning)}  # type: ignore[arg-type]


def _ollama_thinking(payload: dict[str, Any], call: Call, model: str) -> None:
    from core.gateway.dialects.ollama import _wire_think

    payload["think"] = _wire_think(call.reasoning, model)  # type: ignore[arg-type]


def _gemini_thinking(payload: dict[str, Any], call: Call, model: str) -> None:
    key = "generation_config" if "generation_config" in payload and "generationConfig" not in payload \
        else "generationConfig"
    config = dict(payload.get(key) or {})
    thinking = dict(config.get("thinkingConfig") or config.pop("thinking_config", None) or {})
    thinking["thinkingBudget"] = budget_for(call.reasoning)  # type: ignore[arg-type]
    config["thinkingConfig"] = thinking
    payload[key] = config


def _anthropic_thinking(payload: dict[str, Any], call: Call, model: str) -> None:
    """Anthropic's own rules, as its encoder applies them: a budget of at least 1,024 below max_tokens (or
    adaptive thinking on the newest models), none where thinking would be refused, and no sampling
    settings thinking does not allow."""
    from core.gateway.dialects.anthropic import MIN_THINKING_TOP_P, _thinking_fields

    messages = [{"role": m.get("role"), "content": m["content"] if isinstance(m.get("content"), list)
                 else [{"type": "text", "text": m.get("content")}]}
                for m in payload.get("messages") or [] if isinstance(m, dict)]
    fields, thinking = _thinking_fields(call, model, messages)
    if not thinking:
        return
    payload["max_tokens"] = fields["max_tokens"]
    payload["thinking"] = fields["thinking"]
    if "output_config" in fields:
        current = payload.get("output_config") if isinstance(payload.get("output_config"), dict) else {}
        payload["output_config"] = {**current, **fields["output_config"]}
    payload.pop("temperature", None)
    payload.pop("top_k", None)
    top_p = payload.get("top_p")
    if isinstance(top_p, (int, float)) and top_p < MIN_THINKING_TOP_P:
        payload.pop("top_p")


_THINKING: dict[str, Callable[[dict[str, Any], Call, str], None]] = {
    "openai": _openai_thinking, "responses": _responses_thinking, "ollama": _ollama_thinking,
    "gemini": _gemini_thinking, "anthropic": _anthropic_thinking,
}
