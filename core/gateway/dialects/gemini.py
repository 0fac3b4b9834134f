"""Google Gemini API `generateContent` / `streamGenerateContent` (v1beta): wire format "gemini".

What the route must know:
- The model and the stream flag live in the path (`/v1beta/models/{model}:generateContent` or
  `:streamGenerateContent`); the route passes them to `parse_request`. google-genai sends model names with a
  slash unescaped (`models/openai/gpt-4.1:generateContent`), so the route must split on the last `:`.
- `call.meta["sse"]`: the route sets it to whether the client asked `alt=sse`. Without it (the default of the
  REST API, not of the SDKs) the stream is one JSON array written element by element, served as
  `application/json`. A missing key counts as `True`: every official SDK asks for SSE.
- `call.meta[common.UNTRANSLATABLE]`: what the common form could not carry (built-in tools, cached content,
  non-image media, ...): one reason per item. A same-format attempt passes the payload through and loses
  nothing; the relay refuses to translate a call that has any.
- `call.meta["include_thoughts"]`: the client asked `thinkingConfig.includeThoughts`; thought text reaches it
  only then (as on the real API), signatures always.

Signatures: `thoughtSignature` is a bytes field (base64 in JSON) that the SDKs decode and re-encode, so a
foreign signature travels as base64 of `common.wrap_signature(...)`, which survives that round trip.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
import secrets
from typing import Any, Callable, Iterator

from core.gateway.dialects import common
from core.gateway.dialects.common import (
    Answer, BlockStart, BlockStop, Call, Delta, Event, Finish, Image, Message, Part, Reasoning, ResponseFormat,
    SignatureDelta, Start, StopReason, StreamError, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult,
    UpstreamRequest, Usage,
)
from core.gateway.dialects import fields
from core.gateway.dialects.fields import bad
from core.gateway.sse import EventSplitter, event_json

NAME = "gemini"
DUMMY_SIGNATURE = "skip_thought_signature_validator"  # Google's documented sentinel for foreign history
_REDACTED = ":redacted"  # origin suffix of a wrapped Anthropic redacted_thinking blob

# --- small helpers -------------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _get(obj: dict[str, Any], name: str) -> Any:
    """A field by its camelCase name or its snake_case twin: the REST API takes both and google-genai sends
    a mix (`inlineData.mime_type`, `thinkingConfig.include_thoughts`)."""
    value = obj.get(name)
    return obj.get(_snake(name)) if value is None else value


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], path: str, what: str) -> Any:
    """An optional field read by `_get`, checked as `fields.optional` does."""
    return fields.optional(_get(obj, name), kind, f"{path}.{name}" if path else name, what)


def _model_name(model: str) -> str:
    return model[len("models/"):] if model.startswith("models/") else model


def _path(model: str, stream: bool, sse: bool) -> str:
    if not stream:
        return f"/models/{_model_name(model)}:generateContent"
    return f"/models/{_model_name(model)}:streamGenerateContent" + ("?alt=sse" if sse else "")


# --- signatures ----------------------------------------------------------------------------------------


def client_signature(signature: str, origin: str | None) -> str:
    """What a Gemini client gets in `thoughtSignature`: ours as is, a foreign one wrapped and base64-encoded
    (the field is bytes: the SDK would reject the plain wrapper)."""
    if origin in (None, NAME):
        return signature
    return base64.b64encode(common.wrap_signature(signature, origin).encode()).decode()


def read_signature(value: str) -> tuple[str, str]:
    """(signature, origin) of a `thoughtSignature` a client sent back; SDKs may re-encode it url-safe."""
    try:
        raw = base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return value, NAME
    if raw.startswith(b"qg1."):
        try:
            return common.unwrap_signature(raw.decode(), NAME)
        except UnicodeDecodeError:
            pass
    return value, NAME


# --- schemas -------------------------------------------------------------------------------------------

_SCHEMA_KEYS = frozenset({
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
    "propertyOrdering", "items", "minimum", "maximum",
})
_SIMPLE_KEYS = _SCHEMA_KEYS - {"type", "format", "nullable", "enum", "properties", "required", "anyOf", "items",
                               "propertyOrdering"}
_FORMATS = {"STRING": {"enum", "date-time"}, "NUMBER": {"float", "double"}, "INTEGER": {"int32", "int64"}}
_MAX_REF_DEPTH = 8


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema reduced to the OpenAPI subset Gemini's `Schema` accepts: local `$ref`s inlined (cycles
    and depth cut), nullable types folded, `const` as `enum`, unknown keywords dropped."""
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        if isinstance(schema.get(key), dict):
            defs.update(schema[key])
    return _clean(schema, defs, ())


def _clean(node: Any, defs: dict[str, Any], refs: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        target = defs.get(name)
        rest = {key: value for key, value in node.items() if key != "$ref"}
        if not isinstance(target, dict):
            node = rest
        elif name in refs or len(refs) >= _MAX_REF_DEPTH:
            return _cut(target)
        else:
            node, refs = {**target, **rest}, refs + (name,)
    out: dict[str, Any] = {}
    types, nullable = _types(node)
    _clean_enum(node, out)
    nullable = nullable or out.pop("nullable", False)
    members = node.get("anyOf", node.get("oneOf"))
    if isinstance(members, list):
        kept = [member for member in members if not (isinstance(member, dict) and member.get("type") == "null")]
        nullable = nullable or len(kept) < len(members)
        cleaned = [_clean(member, defs, refs) for member in kept]
        if len(cleaned) == 1:
            out.update({key: value for key, value in cleaned[0].items() if key not in out})
        elif cleaned:
            out["anyOf"] = cleaned
    if len(types) == 1:
        out["type"] = types[0].upper()
    elif len(types) > 1 and "anyOf" not in out:
        out["anyOf"] = [{"type": kind.upper()} for kind in types]
    elif not types and "type" not in out and "anyOf" not in out:
        if "enum" in out:
            out["type"] = "STRING"  # Gemini's enums are strings (and `const` came without a type)
        elif "properties" in node:
            out["type"] = "OBJECT"
        elif "items" in node:
            out["type"] = "ARRAY"
    _clean_children(node, out, defs, refs)
    for key in _SIMPLE_KEYS:
        if key in node and key not in out:
            out[key] = node[key]
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS.get(out.get("type", ""), ()):
        out["format"] = fmt
    for member in node.get("allOf", ()) if isinstance(node.get("allOf"), list) else ():
        _merge(out, _clean(member, defs, refs))
    if nullable:
        out["nullable"] = True
    return out


def _types(node: dict[str, Any]) -> tuple[list[str], bool]:
    """The node's non-null type names and whether null is allowed."""
    kind = node.get("type")
    listed = kind if isinstance(kind, list) else [kind]
    kinds = [k.lower() for k in listed if isinstance(k, str)]
    nullable = "null" in kinds or node.get("nullable") is True
    return [k for k in kinds if k != "null"], nullable


def _clean_enum(node: dict[str, Any], out: dict[str, Any]) -> None:
    """`enum` / `const` as Gemini's string enum; a null member becomes `nullable`."""
    values = node["enum"] if isinstance(node.get("enum"), list) else [node["const"]] if "const" in node else None
    if values is None:
        return
    if None in values:
        out["nullable"] = True
    out["enum"] = [value if isinstance(value, str) else json.dumps(value) for value in values if value is not None]


def _clean_children(node: dict[str, Any], out: dict[str, Any], defs: dict[str, Any], refs: tuple[str, ...]) -> None:
    properties = node.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {name: _clean(value, defs, refs) for name, value in properties.items()}
        required = node.get("required")
        if isinstance(required, list):
            out["required"] = [name for name in required if name in out["properties"]]
        ordering = node.get("propertyOrdering")
        if isinstance(ordering, list) and all(name in out["properties"] for name in ordering):
            out["propertyOrdering"] = ordering
    items = node.get("items")
    if isinstance(items, list):
        items = items[0] if items else {}
    if isinstance(items, dict):
        out["items"] = _clean(items, defs, refs)


def _cut(target: dict[str, Any]) -> dict[str, Any]:
    """Where a recursive `$ref` is cut: the referenced schema's type and description, no structure."""
    types, _ = _types(target)
    out: dict[str, Any] = {"type": types[0].upper() if types else "OBJECT"}
    if isinstance(target.get("description"), str):
        out["description"] = target["description"]
    return out


def _merge(out: dict[str, Any], member: dict[str, Any]) -> None:
    """An `allOf` member folded into its parent (Gemini has no `allOf`)."""
    if "properties" in member:
        out["properties"] = {**out.get("properties", {}), **member["properties"]}
    if "required" in member:
        out["required"] = list(dict.fromkeys(out.get("required", []) + member["required"]))
    for key, value in member.items():
        out.setdefault(key, value)


def json_schema(schema: Any) -> dict[str, Any]:
    """Gemini's OpenAPI-style `Schema` (upper-case types, `nullable`) as the JSON schema the common form holds."""
    if not isinstance(schema, dict):
        return {}
    out: dict[str, Any] = {}
    for raw_key, value in schema.items():
        key = _camel(raw_key)
        if key == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: json_schema(sub) for name, sub in value.items()}
        elif key == "items":
            out["items"] = json_schema(value)
        elif key == "anyOf" and isinstance(value, list):
            out["anyOf"] = [json_schema(sub) for sub in value]
        elif key == "example":
            out["examples"] = [value]
        elif key not in ("nullable", "propertyOrdering"):
            out[key] = value
    if _get(schema, "nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "anyOf" in out:
            out["anyOf"].append({"type": "null"})
        if isinstance(out.get("enum"), list):
            out["enum"] = out["enum"] + [None]
    return out


# --- client side: parsing ------------------------------------------------------------------------------

_LEVELS: dict[str, common.Effort] = {"MINIMAL": "minimal", "LOW": "low", "MEDIUM": "medium", "HIGH": "high",
                                     "XHIGH": "high"}
_MODES = {"AUTO": "auto", "VALIDATED": "auto", "NONE": "none", "ANY": "required"}


class _Parser:
    """One request's parse: the calls seen so far, so each `functionResponse` pairs with its call."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.unanswered: list[ToolCall] = []
        self.untranslatable: list[str] = []
        self.dropped_tools: list[str] = []

    def messages(self) -> list[Message]:
        contents = _get(self.payload, "contents")
        if not isinstance(contents, list) or not contents:
            raise bad("contents", "must be a non-empty array of Content objects")
        return [self.message(content, f"contents[{i}]", i) for i, content in enumerate(contents)]

    def message(self, content: Any, path: str, position: int) -> Message:
        fields.check(content, dict, path, "an object")
        role = content.get("role") or "user"
        if role not in ("user", "model", "function"):
            raise bad(f"{path}.role", "must be \"user\" or \"model\"")
        raw_parts = content.get("parts")
        if not isinstance(raw_parts, list):
            raise bad(f"{path}.parts", "must be an array of Part objects")
        parts: list[Part] = []
        for j, part in enumerate(raw_parts):
            parts.extend(self.part(fields.check(part, dict, f"{path}.parts[{j}]", "an object"), f"{path}.parts[{j}]",
                                   role == "model", f"{position}_{j}"))
        return Message("assistant" if role == "model" else "user", parts)

    def part(self, part: dict[str, Any], path: str, model: bool, position: str) -> list[Part]:
        signature = _field(part, "thoughtSignature", str, path, "a base64 string")
        call = _get(part, "functionCall")
        if call is not None:
            if not model:
                raise bad(f"{path}.functionCall", "belongs in a \"model\" turn")
            return [self.tool_call(fields.check(call, dict, f"{path}.functionCall", "an object"),
                                   f"{path}.functionCall", position, signature)]
        response = _get(part, "functionResponse")
        if response is not None:
            if model:
                raise bad(f"{path}.functionResponse", "belongs in a \"user\" turn")
            return [self.tool_result(fields.check(response, dict, f"{path}.functionResponse", "an object"),
                                     f"{path}.functionResponse", position)]
        text = _field(part, "text", str, path, "a string")
        if text is not None:
            return _text_parts(text, part.get("thought") is True and model, signature)
        media = _media(part, path)
        if media is not None:
            return self.media(media, path)
        for key in ("executableCode", "codeExecutionResult", "toolCall", "toolResponse"):
            if _get(part, key) is not None:
                self.untranslatable.append(f"{path}.{key}: output of a Gemini built-in tool")
                return []
        if signature is not None:
            return _text_parts("", False, signature)
        raise bad(path, "must hold text, inlineData, fileData, functionCall or functionResponse")

    def media(self, image: Image, path: str) -> list[Part]:
        if (image.media_type or "").startswith("image/"):
            return [image]
        self.untranslatable.append(f"{path}: {image.media_type} media (only images translate)")
        return []

    def tool_call(self, call: dict[str, Any], path: str, position: str, signature: str | None) -> ToolCall:
        name = _field(call, "name", str, path, "a string")
        if not name:
            raise bad(f"{path}.name", "is required")
        args = _field(call, "args", dict, path, "an object") or {}
        call_id = _field(call, "id", str, path, "a string") or f"call_{position}"
        sig, origin = read_signature(signature) if signature else (None, None)
        tool_call = ToolCall(call_id, name, common.dumps(args).decode(), sig, origin)
        self.unanswered.append(tool_call)
        return tool_call

    def tool_result(self, response: dict[str, Any], path: str, position: str) -> ToolResult:
        name = _field(response, "name", str, path, "a string")
        if not name:
            raise bad(f"{path}.name", "is required")
        body = _field(response, "response", dict, path, "an object") or {}
        call_id = _field(response, "id", str, path, "a string")
        match = next((c for c in self.unanswered if c.id == call_id), None) if call_id else None
        match = match or next((c for c in self.unanswered if c.name == name), None)
        if match is not None:
            self.unanswered.remove(match)
        content: list[Text | Image] = [Text(common.dumps(body).decode())]
        for k, extra in enumerate(_field(response, "parts", list, path, "an array") or []):
            media = _media(fields.check(extra, dict, f"{path}.parts[{k}]", "an object"), f"{path}.parts[{k}]")
            if media is not None:
                content.extend(p for p in self.media(media, f"{path}.parts[{k}]") if isinstance(p, Image))
        return ToolResult(match.id if match else call_id or f"call_{position}", content,
                          is_error=set(body) == {"error"}, name=name)

    def system(self) -> list[Text]:
        instruction = _get(self.payload, "systemInstruction")
        if instruction is None:
            return []
        if isinstance(instruction, str):
            return [Text(instruction)]
        fields.check(instruction, dict, "systemInstruction", "a Content object")
        parts = fields.check(instruction.get("parts", []), list, "systemInstruction.parts", "an array")
        texts = []
        for j, part in enumerate(parts):
            path = f"systemInstruction.parts[{j}]"
            text = _field(fields.check(part, dict, path, "an object"), "text", str, path, "a string")
            if text is None:
                raise bad(f"{path}.text", "is required: a system instruction holds text only")
            texts.append(Text(text))
        return texts

    def tools(self) -> list[Tool]:
        tools = []
        for i, entry in enumerate(_field(self.payload, "tools", list, "", "an array of Tool objects") or []):
            path = f"tools[{i}]"
            fields.check(entry, dict, path, "an object")
            for key in entry:
                if _camel(key) != "functionDeclarations":  # googleSearch, codeExecution…: Gemini runs them
                    self.dropped_tools.append(_camel(key))
            declarations = _field(entry, "functionDeclarations", list, path, "an array") or []
            tools.extend(_tool(declaration, f"{path}.functionDeclarations[{j}]")
                         for j, declaration in enumerate(declarations))
        return tools


def _text_parts(text: str, thought: bool, signature: str | None) -> list[Part]:
    """A text or thought part; a signature on a plain text part becomes a signature-only thinking part in
    front of it, so every signature lives on a `Thinking` (the form has no signature on `Text`)."""
    sig, origin = read_signature(signature) if signature else (None, None)
    if thought:
        if origin and origin.endswith(_REDACTED):
            return [Thinking("", origin=origin[:-len(_REDACTED)], redacted=sig)]
        return [Thinking(text, sig, origin)]
    parts: list[Part] = [Thinking("", sig, origin)] if sig else []
    return parts + [Text(text)] if text or not parts else parts


def _media(part: dict[str, Any], path: str) -> Image | None:
    inline = _get(part, "inlineData")
    if inline is not None:
        fields.check(inline, dict, f"{path}.inlineData", "an object")
        data = _field(inline, "data", str, f"{path}.inlineData", "a base64 string")
        mime = _field(inline, "mimeType", str, f"{path}.inlineData", "a string")
        if data is None or not mime:
            raise bad(f"{path}.inlineData", "needs mimeType and data")
        return Image(media_type=mime, data=data)
    file = _get(part, "fileData")
    if file is not None:
        fields.check(file, dict, f"{path}.fileData", "an object")
        uri = _field(file, "fileUri", str, f"{path}.fileData", "a string")
        if not uri:
            raise bad(f"{path}.fileData.fileUri", "is required")
        mime = _field(file, "mimeType", str, f"{path}.fileData", "a string")
        return Image(media_type=mime or mimetypes.guess_type(uri)[0] or "image/jpeg", url=uri)
    return None


def _tool(declaration: Any, path: str) -> Tool:
    fields.check(declaration, dict, path, "an object")
    name = _field(declaration, "name", str, path, "a string")
    if not name:
        raise bad(f"{path}.name", "is required")
    raw = _field(declaration, "parametersJsonSchema", dict, path, "an object")
    if raw is None:
        gemini = _field(declaration, "parameters", dict, path, "an object")
        raw = json_schema(gemini) if gemini is not None else {"type": "object", "properties": {}}
    return Tool(name, _field(declaration, "description", str, path, "a string"), raw)


def _tool_choice(payload: dict[str, Any], tools: list[Tool]) -> tuple[ToolChoice | None, list[Tool]]:
    """`functionCallingConfig` as a choice; several allowed names narrow the tool list instead (the common
    form names at most one tool)."""
    config = _field(payload, "toolConfig", dict, "", "an object") or {}
    calling = _field(config, "functionCallingConfig", dict, "toolConfig", "an object")
    if not calling:
        return None, tools
    path = "toolConfig.functionCallingConfig"
    mode = (_field(calling, "mode", str, path, "a string") or "AUTO").upper()
    if mode not in _MODES:
        raise bad(f"{path}.mode", "must be AUTO, ANY, NONE or VALIDATED")
    names = _field(calling, "allowedFunctionNames", list, path, "an array of names") or []
    if mode != "ANY" or not names:
        return ToolChoice(_MODES[mode]), tools  # type: ignore[arg-type]
    unknown = [name for name in names if name not in {tool.name for tool in tools}]
    if unknown:
        raise bad(f"{path}.allowedFunctionNames", f"names undeclared functions: {', '.join(map(str, unknown))}")
    if len(names) == 1:
        return ToolChoice("tool", names[0]), tools
    return ToolChoice("required"), [tool for tool in tools if tool.name in names]


def _reasoning(config: dict[str, Any]) -> tuple[Reasoning | None, bool]:
    thinking = _field(config, "thinkingConfig", dict, "generationConfig", "an object")
    if thinking is None:
        return None, False
    path = "generationConfig.thinkingConfig"
    include = bool(_field(thinking, "includeThoughts", bool, path, "a boolean"))
    budget = _field(thinking, "thinkingBudget", int, path, "an integer")
    level = _field(thinking, "thinkingLevel", str, path, "a string")
    if level is not None and level.upper() not in _LEVELS:
        raise bad(f"{path}.thinkingLevel", "must be MINIMAL, LOW, MEDIUM or HIGH")
    if budget is not None and budget < -1:
        raise bad(f"{path}.thinkingBudget", "must be -1 (dynamic), 0 (off) or a token count")
    if budget == 0:
        return Reasoning(enabled=False), include
    if budget is None and level is None and not include:
        return None, include
    return Reasoning(budget=budget if budget and budget > 0 else None,
                     effort=_LEVELS[level.upper()] if level else None), include


def _response_format(config: dict[str, Any], untranslatable: list[str]) -> ResponseFormat | None:
    path = "generationConfig"
    mime = _field(config, "responseMimeType", str, path, "a string")
    raw = _field(config, "responseJsonSchema", dict, path, "an object") or config.get("_responseJsonSchema")
    schema = raw if isinstance(raw, dict) else None
    gemini = _field(config, "responseSchema", dict, path, "an object")
    if schema is None and gemini is not None:
        schema = json_schema(gemini)
    if schema is not None:
        return ResponseFormat("json_schema", schema=schema)
    if mime == "application/json":
        return ResponseFormat("json_object")
    if mime not in (None, "text/plain"):
        untranslatable.append(f"generationConfig.responseMimeType: {mime} has no counterpart in other formats")
    return None


def _generation(call: Call, payload: dict[str, Any], untranslatable: list[str]) -> None:
    config = _field(payload, "generationConfig", dict, "", "an object") or {}
    path = "generationConfig"
    count = _field(config, "candidateCount", int, path, "an integer")
    if count is not None and count > 1:
        raise bad(f"{path}.candidateCount", "greater than 1 is not supported by this gateway")
    call.temperature = _field(config, "temperature", (int, float), path, "a number")
    call.top_p = _field(config, "topP", (int, float), path, "a number")
    call.top_k = _field(config, "topK", int, path, "an integer")
    call.max_tokens = _field(config, "maxOutputTokens", int, path, "an integer")
    call.seed = _field(config, "seed", int, path, "an integer")
    stop = _field(config, "stopSequences", list, path, "an array of strings") or []
    call.stop = [fields.check(s, str, f"{path}.stopSequences[{i}]", "a string") for i, s in enumerate(stop)]
    call.reasoning, call.meta["include_thoughts"] = _reasoning(config)
    call.response_format = _response_format(config, untranslatable)
    modalities = _field(config, "responseModalities", list, path, "an array") or []
    if any(str(m).upper() not in ("TEXT",) for m in modalities):
        untranslatable.append(f"{path}.responseModalities: only TEXT output translates")


def parse_request(payload: dict[str, Any], *, model: str | None = None, stream: bool | None = None) -> Call:
    """A generateContent body (model and stream from the path) in the common form."""
    if not isinstance(payload, dict):
        raise bad("body", "must be a GenerateContentRequest object")
    fields.model(model, "is missing from the path (`models/{model}:generateContent`)")
    parser = _Parser(payload)
    call = Call(format=NAME, model=_model_name(model), messages=parser.messages(), stream=bool(stream),
                system=parser.system(), payload=payload)
    tools = parser.tools()
    call.tool_choice, call.tools = _tool_choice(payload, tools)
    _generation(call, payload, parser.untranslatable)
    if _get(payload, "cachedContent"):
        parser.untranslatable.append("cachedContent: a Gemini context cache has no counterpart elsewhere")
    if parser.untranslatable:
        call.meta[common.UNTRANSLATABLE] = parser.untranslatable
    if parser.dropped_tools:
        call.meta[common.DROPPED_TOOLS] = parser.dropped_tools
    return call


# --- client side: answers ------------------------------------------------------------------------------

_FINISH_OUT: dict[str, str] = {"end": "STOP", "max_tokens": "MAX_TOKENS", "tool_calls": "STOP",
                               "stop_sequence": "STOP", "content_filter": "SAFETY", "refusal": "SAFETY"}


def usage_metadata(usage: Usage) -> dict[str, int]:
    """Common usage in Gemini's counting: `candidatesTokenCount` leaves thoughts out."""
    out = {"promptTokenCount": usage.prompt, "candidatesTokenCount": usage.completion - usage.reasoning,
           "totalTokenCount": usage.total}
    if usage.reasoning:
        out["thoughtsTokenCount"] = usage.reasoning
    if usage.cached:
        out["cachedContentTokenCount"] = usage.cached
    return out


def _thought_part(text: str, signature: str | None) -> dict[str, Any]:
    part: dict[str, Any] = {"text": text, "thought": True}
    if signature:
        part["thoughtSignature"] = signature
    return part


def _thinking_part(thinking: Thinking, include: bool) -> dict[str, Any] | None:
    """A thought part for a client; the text only if it asked for thoughts, a signature always."""
    if thinking.redacted is not None:
        origin = (thinking.origin or "anthropic") + _REDACTED
        return _thought_part("", client_signature(thinking.redacted, origin))
    signature = client_signature(thinking.signature, thinking.origin) if thinking.signature else None
    text = thinking.text if include else ""
    return _thought_part(text, signature) if text or signature else None


def _call_part(call: ToolCall) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": call.name, "args": common.arguments_object(call.arguments),
                                             "id": call.id}}
    if call.signature:
        part["thoughtSignature"] = client_signature(call.signature, call.origin)
    return part


def _answer_parts(parts: list[Part], include: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, Text):
            out.append({"text": part.text})
        elif isinstance(part, Thinking):
            thought = _thinking_part(part, include)
            if thought is not None:
                out.append(thought)
        elif isinstance(part, ToolCall):
            out.append(_call_part(part))
    return out


def _chunk(parts: list[dict[str, Any]], model: str, response_id: str, finish: str | None = None,
           usage: Usage | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"} if parts else {"role": "model"}}
    if finish:
        candidate["finishReason"] = finish
    candidate["index"] = 0
    body: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        body["usageMetadata"] = usage_metadata(usage)
    body["modelVersion"] = model
    body["responseId"] = response_id
    return body


def encode_answer(answer: Answer, call: Call) -> dict[str, Any]:
    parts = _answer_parts(answer.parts, bool(call.meta.get("include_thoughts")))
    return _chunk(parts, call.model, answer.id, _FINISH_OUT[answer.stop], answer.usage)


class _StreamEncoder:
    """Common events -> GenerateContentResponse chunks, as SSE events or as elements of one JSON array.
    A tool call is whole in Gemini: its argument fragments wait for its BlockStop."""

    def __init__(self, call: Call) -> None:
        self.model, self.sse = call.model, bool(call.meta.get("sse", True))
        self.include = bool(call.meta.get("include_thoughts"))
        self.response_id = ""
        self.opened = self.closed = False
        self.kinds: dict[int, BlockStart] = {}
        self.arguments: dict[int, list[str]] = {}
        self.signatures: dict[int, SignatureDelta] = {}

    def encode(self, events: list[Event]) -> bytes:
        return b"".join(self._event(event) for event in events)

    def _event(self, event: Event) -> bytes:
        if isinstance(event, Start):
            self.response_id = event.id
        elif isinstance(event, BlockStart):
            return self._block_start(event)
        elif isinstance(event, Delta):
            return self._delta(event)
        elif isinstance(event, SignatureDelta):
            return self._signature(event)
        elif isinstance(event, BlockStop):
            return self._block_stop(event)
        elif isinstance(event, Finish):
            body = _chunk([{"text": ""}], self.model, self.response_id, _FINISH_OUT[event.stop], event.usage)
            return self._frame(body) + self._end()
        elif isinstance(event, StreamError):
            return self.fail(event.message)
        return b""

    def _block_start(self, event: BlockStart) -> bytes:
        self.kinds[event.index] = event
        if event.kind == "tool_call":
            self.arguments[event.index] = []
        elif event.kind == "thinking" and event.redacted is not None:
            thought = _thinking_part(Thinking("", origin=event.origin, redacted=event.redacted), self.include)
            return self._parts([thought] if thought else [])
        return b""

    def _delta(self, event: Delta) -> bytes:
        kind = self.kinds[event.index].kind
        if kind == "tool_call":
            self.arguments[event.index].append(event.text)
        elif kind == "text" and event.text:
            return self._parts([{"text": event.text}])
        elif kind == "thinking" and event.text and self.include:
            return self._parts([_thought_part(event.text, None)])
        return b""

    def _signature(self, event: SignatureDelta) -> bytes:
        kind = self.kinds[event.index].kind
        if kind == "tool_call":
            self.signatures[event.index] = event
            return b""
        signature = client_signature(event.signature, event.origin)
        part = _thought_part("", signature) if kind == "thinking" else {"text": "", "thoughtSignature": signature}
        return self._parts([part])

    def _block_stop(self, event: BlockStop) -> bytes:
        start = self.kinds[event.index]
        if start.kind != "tool_call":
            return b""
        sig = self.signatures.pop(event.index, None)
        call = ToolCall(start.id or f"call_{event.index}", start.name or "", "".join(self.arguments.pop(event.index)),
                        sig.signature if sig else None, sig.origin if sig else None)
        return self._parts([_call_part(call)])

    def _parts(self, parts: list[dict[str, Any]]) -> bytes:
        return self._frame(_chunk(parts, self.model, self.response_id)) if parts else b""

    def _frame(self, body: dict[str, Any]) -> bytes:
        if self.closed:
            return b""
        if self.sse:
            return b"data: " + common.dumps(body) + b"\r\n\r\n"
        lead, self.opened = (b",\r\n" if self.opened else b"["), True
        return lead + common.dumps(body) + b"\n"

    def _end(self) -> bytes:
        ending = b"" if self.sse or self.closed else (b"" if self.opened else b"[") + b"]"
        self.closed = True
        return ending

    def fail(self, message: str) -> bytes:
        return self._frame(error_body(500, message, "stream_interrupted")) + self._end()


def error_body(status: int, message: str, code: str) -> dict[str, Any]:
    """Google's error shape: `{"error": {"code", "message", "status"}}` with the canonical status name."""
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status) or (
        "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")}}


_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           408: "DEADLINE_EXCEEDED", 409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED",
           500: "INTERNAL", 501: "UNIMPLEMENTED", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
           504: "DEADLINE_EXCEEDED"}


# --- upstream side: requests ---------------------------------------------------------------------------

_MODES_OUT = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}


def _image_part(image: Image) -> dict[str, Any]:
    if image.data is not None:
        return {"inlineData": {"mimeType": image.media_type or "image/png", "data": image.data}}
    url = image.url or ""
    match = re.match(r"data:([^;,]+)?(?:;[^,]*)?;base64,(.*)", url, re.S)
    if match:
        return {"inlineData": {"mimeType": match.group(1) or "image/png", "data": match.group(2)}}
    return {"fileData": {"mimeType": image.media_type or mimetypes.guess_type(url)[0] or "image/jpeg",
                         "fileUri": url}}


def _tool_response(result: ToolResult, name: str) -> list[dict[str, Any]]:
    """A `functionResponse` (an object: the result's own JSON object, else `{"output"}` / `{"error"}` as
    Google documents), followed by the result's images as parts of the same turn."""
    text = common.content_text(result.content)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        response = {"error": parsed} if result.is_error and "error" not in parsed else parsed
    else:
        response = {"error" if result.is_error else "output": text}
    parts = [{"functionResponse": {"id": result.call_id, "name": name, "response": response}}]
    return parts + [_image_part(part) for part in result.content if isinstance(part, Image)]


def _upstream_parts(message: Message, names: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pending: str | None = None  # a gemini signature that came on its own, for the text part after it
    for part in message.parts:
        if isinstance(part, Thinking):
            if part.signature and part.origin == NAME:
                if part.text:
                    out.append(_thought_part(part.text, part.signature))
                else:
                    pending = part.signature
            continue
        if pending and not isinstance(part, Text):
            out.append(_thought_part("", pending))
        if isinstance(part, Text):
            out.append({"text": part.text, "thoughtSignature": pending} if pending else {"text": part.text})
        elif isinstance(part, Image):
            out.append(_image_part(part))
        elif isinstance(part, ToolCall):
            out.append(_upstream_call(part))
        elif isinstance(part, ToolResult):
            out.extend(_tool_response(part, part.name or names.get(part.call_id) or "unknown"))
        pending = None
    if pending:
        out.append(_thought_part("", pending))
    return out


def _upstream_call(call: ToolCall) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"id": call.id, "name": call.name,
                                             "args": common.arguments_object(call.arguments)}}
    if call.signature and call.origin == NAME:
        part["thoughtSignature"] = call.signature
    return part


def _sign_first_call(parts: list[dict[str, Any]]) -> None:
    """Gemini 3 refuses a model turn whose function calls carry no signature; history from another model
    gets Google's documented sentinel on the turn's first call."""
    calls = [part for part in parts if "functionCall" in part]
    if calls and not any("thoughtSignature" in part for part in calls):
        calls[0]["thoughtSignature"] = DUMMY_SIGNATURE


def _contents(call: Call) -> list[dict[str, Any]]:
    names = call.tool_names()
    contents: list[dict[str, Any]] = []
    for message in call.messages:
        parts = _upstream_parts(message, names)
        if not parts:
            continue
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    for content in contents:
        if content["role"] == "model":
            _sign_first_call(content["parts"])
    return contents


def _declaration(tool: Tool) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": tool.name}
    if tool.description:
        declaration["description"] = tool.description
    parameters = clean_schema(tool.parameters)
    parameters.setdefault("type", "OBJECT")
    if parameters["type"] != "OBJECT" or parameters.get("properties"):
        declaration["parameters"] = parameters  # Gemini refuses an OBJECT with no properties: leave it out
    return declaration


_MAX_OUTPUT_TOKENS = 65536  # the Gemini 2.5 and 3 models' output limit


def _generation_config(call: Call) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key, value in (("temperature", call.temperature), ("topP", call.top_p), ("topK", call.top_k),
                       ("maxOutputTokens", call.max_tokens), ("seed", call.seed)):
        if value is not None:
            config[key] = value
    if call.stop:
        config["stopSequences"] = call.stop
    if call.response_format is not None:
        config["responseMimeType"] = "application/json"
        if call.response_format.kind == "json_schema" and call.response_format.schema:
            config["responseSchema"] = clean_schema(call.response_format.schema)
    reasoning = call.reasoning
    if reasoning is not None:
        if not reasoning.enabled:
            config["thinkingConfig"] = {"thinkingBudget": 0}
        else:
            dynamic = reasoning.budget is None and reasoning.effort is None
            budget = -1 if dynamic else common.budget_for(reasoning)
            config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": True}
            if budget > 0 and call.max_tokens is not None:
                # Gemini counts thoughts against maxOutputTokens: keep the client's answer allowance whole.
                config["maxOutputTokens"] = min(call.max_tokens + budget, _MAX_OUTPUT_TOKENS)
    return config


def encode_request(call: Call, model: str) -> UpstreamRequest:
    body: dict[str, Any] = {"contents": _contents(call)}
    if call.system:
        body["systemInstruction"] = {"parts": [{"text": text.text} for text in call.system]}
    if call.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(tool) for tool in call.tools]}]
    if call.tool_choice is not None:
        calling: dict[str, Any] = {"mode": _MODES_OUT[call.tool_choice.mode]}
        if call.tool_choice.mode == "tool" and call.tool_choice.name:
            calling["allowedFunctionNames"] = [call.tool_choice.name]
        body["toolConfig"] = {"functionCallingConfig": calling}
    config = _generation_config(call)
    if config:
        body["generationConfig"] = config
    return UpstreamRequest(_path(model, call.stream, True), common.dumps(body))


def passthrough_request(call: Call, model: str) -> UpstreamRequest:
    """The client's body unchanged (its model is in the path) and its own stream framing."""
    return UpstreamRequest(_path(model, call.stream, bool(call.meta.get("sse", True))), common.dumps(call.payload))


# --- upstream side: answers ----------------------------------------------------------------------------

_FILTERED = {"SAFETY", "RECITATION", "LANGUAGE", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
             "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"}


def usage_of(metadata: Any) -> Usage:
    """`usageMetadata` in the common meaning: completion includes thoughts, prompt includes tool-use input."""
    if not isinstance(metadata, dict):
        return Usage()

    def count(name: str) -> int:
        value = _get(metadata, name)
        return value if isinstance(value, int) else 0

    thoughts = count("thoughtsTokenCount")
    return Usage(prompt=count("promptTokenCount") + count("toolUsePromptTokenCount"),
                 completion=count("candidatesTokenCount") + thoughts, cached=count("cachedContentTokenCount"),
                 reasoning=thoughts)


def _stop(reason: str | None, tool_calls: bool) -> StopReason:
    if reason == "MAX_TOKENS":
        return "max_tokens"
    if reason in _FILTERED:
        return "content_filter"
    return "tool_calls" if tool_calls else "end"


class _Reader:
    """Whole GenerateContentResponse objects -> common events: consecutive text in one block, thoughts in
    thinking blocks (one signature each), every functionCall a block of its own."""

    def __init__(self) -> None:
        self.started = self.finished = False
        self.open: tuple[int, str] | None = None
        self.next_index = self.calls = 0
        self.usage = Usage()
        self.id_base = ""

    def handle(self, chunk: Any) -> list[Event]:
        if self.finished or not isinstance(chunk, dict):
            return []
        if isinstance(chunk.get("error"), dict):
            self.finished = True
            return self._close() + [StreamError(error_message(chunk, b""), "upstream_error")]
        events: list[Event] = []
        if not self.started:
            self.started = True
            response_id = _get(chunk, "responseId")
            self.id_base = re.sub(r"[^A-Za-z0-9_-]", "", response_id or "") or secrets.token_hex(6)
            events.append(Start(response_id or f"gemini-{self.id_base}", _get(chunk, "modelVersion") or ""))
        if _get(chunk, "usageMetadata") is not None:
            self.usage = usage_of(_get(chunk, "usageMetadata"))
        candidates = chunk.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else {}
        content = candidate.get("content") if isinstance(candidate, dict) else None
        for part in content.get("parts") or [] if isinstance(content, dict) else []:
            if isinstance(part, dict):
                events.extend(self._part(part))
        reason = _get(candidate, "finishReason") if isinstance(candidate, dict) else None
        feedback = _get(chunk, "promptFeedback")
        if not reason and isinstance(feedback, dict) and _get(feedback, "blockReason"):
            reason = "SAFETY"
        if reason:
            self.finished = True
            events += self._close() + [Finish(_stop(reason, self.calls > 0), self.usage)]
        return events

    def _part(self, part: dict[str, Any]) -> list[Event]:
        signature = _get(part, "thoughtSignature")
        call = _get(part, "functionCall")
        if isinstance(call, dict):
            return self._call(call, signature)
        text = _get(part, "text")
        text = text if isinstance(text, str) else ""
        if part.get("thought") is True:
            if not text and not signature:
                return []
            events = self._ensure("thinking") + ([Delta(self.open[0], text)] if text and self.open else [])
            return events + (self._sign(signature) + self._close() if signature else [])
        events = self._ensure("thinking") + self._sign(signature) + self._close() if signature else []
        if text:
            events += self._ensure("text")
            events.append(Delta(self.open[0] if self.open else 0, text))
        return events

    def _call(self, call: dict[str, Any], signature: str | None) -> list[Event]:
        events = self._close()
        index, self.calls = self.next_index, self.calls + 1
        self.next_index += 1
        call_id = _get(call, "id") or f"call_{self.id_base}_{self.calls - 1}"
        args = _get(call, "args")
        events += [BlockStart(index, "tool_call", id=call_id, name=_get(call, "name") or ""),
                   Delta(index, common.dumps(args if isinstance(args, dict) else {}).decode())]
        if signature:
            events.append(SignatureDelta(index, signature, NAME))
        return events + [BlockStop(index)]

    def _ensure(self, kind: str) -> list[Event]:
        if self.open and self.open[1] == kind:
            return []
        events = self._close()
        self.open = (self.next_index, kind)
        self.next_index += 1
        return events + [BlockStart(self.open[0], kind)]  # type: ignore[arg-type]

    def _sign(self, signature: str) -> list[Event]:
        return [SignatureDelta(self.open[0], signature, NAME)] if self.open else []

    def _close(self) -> list[Event]:
        if self.open is None:
            return []
        index, self.open = self.open[0], None
        return [BlockStop(index)]

    def end(self) -> list[Event]:
        if self.finished:
            return []
        self.finished = True
        return self._close() + [StreamError("the Gemini stream ended without a finishReason")]


class _JsonObjects:
    """Top-level JSON objects out of bytes cut anywhere: the `[{…}\\n,\\r\\n{…}\\n]` stream of a request
    without `alt=sse` (or a bare error object). Brace counting is safe on UTF-8 bytes."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.scanned = self.depth = 0
        self.start = -1
        self.in_string = self.escaped = False

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        self.buffer += chunk
        for i in range(self.scanned, len(self.buffer)):
            byte = self.buffer[i]
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif byte == 0x5C:
                    self.escaped = True
                elif byte == 0x22:
                    self.in_string = False
            elif byte == 0x22 and self.depth:
                self.in_string = True
            elif byte == 0x7B:
                self.start = i if self.depth == 0 else self.start
                self.depth += 1
            elif byte == 0x7D and self.depth:
                self.depth -= 1
                if self.depth == 0:
                    yield bytes(self.buffer[self.start:i + 1])
        keep = self.start if self.depth else len(self.buffer)
        del self.buffer[:keep]
        self.start, self.scanned = (0 if self.depth else -1), len(self.buffer)


class _StreamDecoder:
    """Upstream stream bytes, SSE (`alt=sse`) or a JSON array (told apart by the first byte), -> events."""

    def __init__(self) -> None:
        self.reader = _Reader()
        self.mode: str | None = None
        self.splitter = EventSplitter()
        self.objects = _JsonObjects()

    def feed(self, chunk: bytes) -> list[Event]:
        if self.mode is None:
            head = chunk.lstrip()
            if not head:
                return []
            self.mode = "json" if head[:1] in (b"[", b"{") else "sse"
        events: list[Event] = []
        for payload in self._payloads(chunk):
            events += self.reader.handle(payload)
        return events

    def _payloads(self, chunk: bytes) -> Iterator[Any]:
        if self.mode == "json":
            for raw in self.objects.feed(chunk):
                try:
                    yield json.loads(raw)
                except ValueError:
                    continue
        else:
            for event in self.splitter.feed(chunk):
                yield event_json(event)

    def close(self) -> list[Event]:
        events: list[Event] = []
        rest = self.splitter.rest() if self.mode == "sse" else None
        if rest:
            events += self.reader.handle(event_json(rest))
        return events + self.reader.end()


def decode_answer(payload: dict[str, Any]) -> Answer:
    """A whole response read as a one-chunk stream, so answers and streams are decoded the same way."""
    answer = Answer(id="", model="", parts=[])
    reader = _Reader()
    events = reader.handle(payload) + reader.end()
    blocks: dict[int, Part] = {}
    for event in events:
        if isinstance(event, Start):
            answer.id, answer.model = event.id, event.model
        elif isinstance(event, BlockStart):
            blocks[event.index] = (ToolCall(event.id or "", event.name or "", "") if event.kind == "tool_call"
                                   else Thinking("") if event.kind == "thinking" else Text(""))
            answer.parts.append(blocks[event.index])
        elif isinstance(event, Delta):
            _append(blocks[event.index], event.text)
        elif isinstance(event, SignatureDelta):
            block = blocks[event.index]
            if isinstance(block, (Thinking, ToolCall)):
                block.signature, block.origin = event.signature, event.origin
        elif isinstance(event, Finish):
            answer.stop, answer.usage = event.stop, event.usage
        elif isinstance(event, StreamError):  # a response without finishReason: take what it holds
            answer.usage = reader.usage
            answer.stop = "tool_calls" if reader.calls else "end"
    return answer


def _append(block: Part, text: str) -> None:
    if isinstance(block, ToolCall):
        block.arguments += text
    elif isinstance(block, (Text, Thinking)):
        block.text += text


def error_message(payload: Any, body: bytes) -> str:
    """Google's own words: `error.message` (also inside the one-element array a non-SSE stream sends)."""
    if isinstance(payload, list) and payload:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return body.decode("utf-8", "replace").strip()[:500]


def event_usage(event: bytes) -> Usage | None:
    """Usage from one pass-through chunk: an SSE event or an element of the JSON-array stream."""
    payload = event_json(event)
    if payload is None:
        try:
            payload = json.loads(event.strip().strip(b"[],\r\n"))
        except ValueError:
            return None
    metadata = _get(payload, "usageMetadata") if isinstance(payload, dict) else None
    return usage_of(metadata) if isinstance(metadata, dict) else None


def answer_usage(payload: dict[str, Any]) -> Usage:
    return usage_of(_get(payload, "usageMetadata"))


class GeminiDialect:
    """This module's functions as the `common.Dialect` interface."""

    name = NAME
    stream_media_type = "text/event-stream"
    usage_marker = b'"usageMetadata"'

    def passthrough_chunk_filter(self, call: Call) -> Callable[[bytes], bytes | None] | None:
        return None  # relayed as it is

    parse_request = staticmethod(parse_request)
    encode_answer = staticmethod(encode_answer)
    stream_encoder = staticmethod(_StreamEncoder)
    error_body = staticmethod(error_body)
    encode_request = staticmethod(encode_request)
    passthrough_request = staticmethod(passthrough_request)
    decode_answer = staticmethod(decode_answer)
    stream_decoder = staticmethod(_StreamDecoder)
    error_message = staticmethod(error_message)
    answer_usage = staticmethod(answer_usage)
    event_usage = staticmethod(event_usage)


DIALECT = GeminiDialect()
