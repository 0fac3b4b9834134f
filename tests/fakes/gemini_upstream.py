"""A strict fake of the Gemini API (`POST /v1beta/models/{model}:generateContent` and
`:streamGenerateContent`, `?alt=sse` or the JSON-array form) for the conformance matrix.

It checks that a request is in Gemini's own shape and refuses, with Google's error shape
(`{"error": {"code": 400, "message": ..., "status": "INVALID_ARGUMENT"}}`), what the real API refuses: no
`x-goog-api-key` (or `?key=`), a provider-prefixed model in the path, fields it does not know (the proto
parser answers "Unknown name"), roles other than user/model, parts that are not parts, function
declarations not in `functionDeclarations`, schema keywords the `parameters` Schema has no field for
(`additionalProperties`, `$schema`, `$ref`, ...), `functionResponse` parts without a `name` or not
answering the function call turn just before.

Answers follow `openai_tools_upstream.decide` ("Hello from gemini", a `functionCall` of the first tool
with {"city": "Paris"} carrying a thought signature as gemini-2.5 models do, "The tool said: ...", a 400
for `REFUSE_MARKER`);
streams are SSE events separated by CRLF CRLF as Google sends them, each split across writes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.openai_tools_upstream import (
    RecordingUpstream,
    REFUSAL_MESSAGE,
    REFUSE_MARKER,
    SPLIT_PAUSE,
    Decision,
    Refused,
    decide,
    text_pieces,
)

GEMINI_KEY = "gemini-conformance-key"
THOUGHT_SIGNATURE = "c2lnbmF0dXJlLWZyb20tZ2VtaW5p"  # opaque base64, as Gemini sends

_TOP_LEVEL = {"contents", "tools", "toolConfig", "safetySettings", "systemInstruction", "generationConfig",
              "cachedContent", "labels"}
_GENERATION = {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences",
               "responseMimeType", "responseSchema", "responseJsonSchema", "seed", "thinkingConfig",
               "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "responseModalities",
               "mediaResolution", "speechConfig", "enableEnhancedCivicAnswers"}
_PART_DATA = {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
              "codeExecutionResult"}
_PART_META = {"thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution"}
_SCHEMA = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
           "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
           "propertyOrdering", "default", "items", "minimum", "maximum"}
_TYPES = {"TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
_ACTION = re.compile(r"^(?P<model>[^:]+):(?P<action>generateContent|streamGenerateContent|countTokens)$")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _known(value: dict[str, Any], allowed: set[str], where: str) -> dict[str, Any]:
    """The object with snake_case names read as camelCase (the proto JSON parser takes both); an unknown
    name is refused as Google does."""
    out = {}
    for name, item in value.items():
        camel = _camel(name)
        if camel not in allowed:
            raise Refused(f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field.")
        out[camel] = item
    return out


@dataclass
class GeminiUpstream(RecordingUpstream):
    key: str = GEMINI_KEY

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1beta/models/{target:path}", self.model_action, methods=["POST"])])

    async def model_action(self, request: Request) -> Response:
        raw, body = await self.receive(request, with_query=True)
        try:
            self._check_auth(request)
            match = _ACTION.match(request.path_params["target"])
            if match is None or "/" in match["model"]:
                raise Refused(f"models/{request.path_params['target'].split(':')[0]} is not found for API version "
                              "v1beta, or is not supported for generateContent.", status=404)
            if not isinstance(body, dict):
                raise Refused("Invalid JSON payload received.")
            decision = self._check_body(body)
            if REFUSE_MARKER.encode() in raw:
                raise Refused(REFUSAL_MESSAGE)
        except Refused as refused:
            if str(refused) != REFUSAL_MESSAGE:
                self.refusals.append(str(refused))
            status = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}[refused.status]
            return JSONResponse({"error": {"code": refused.status, "message": str(refused), "status": status}},
                                status_code=refused.status)
        self._counter += 1
        model = match["model"]
        if match["action"] == "countTokens":
            return JSONResponse({"totalTokens": 12, "cachedContentTokenCount": 4})
        if match["action"] == "streamGenerateContent":
            sse = request.query_params.get("alt") == "sse"
            return StreamingResponse(self._stream(model, decision, sse),
                                     media_type="text/event-stream" if sse else "application/json")
        return JSONResponse(self._answer(model, _parts(decision), "STOP", _usage(4)))

    # --- checks ------------------------------------------------------------------------------------

    def _check_auth(self, request: Request) -> None:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if not key:
            raise Refused("Method doesn't allow unregistered callers (callers without established identity). "
                          "Please use API Key or other form of API consumer identity to call this API.", status=403)
        if key != self.key:
            raise Refused("API key not valid. Please pass a valid API key.")

    def _check_body(self, body: dict[str, Any]) -> Decision:
        body = _known(body, _TOP_LEVEL, "")
        system = ""
        if body.get("systemInstruction") is not None:
            instruction = _known(body["systemInstruction"], {"role", "parts"}, "system_instruction")
            system = "\n".join(self._parts(instruction.get("parts"), "system_instruction")["texts"])
        if body.get("generationConfig") is not None:
            _known(body["generationConfig"], _GENERATION, "generation_config")
        tool_names = self._check_tools(body.get("tools"))
        if body.get("toolConfig") is not None:
            config = _known(body["toolConfig"], {"functionCallingConfig", "retrievalConfig"}, "tool_config")
            calling = _known(config.get("functionCallingConfig") or {}, {"mode", "allowedFunctionNames"},
                             "tool_config.function_calling_config")
            if calling.get("mode") not in (None, "AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"):
                raise Refused(f"Invalid value at 'tool_config.function_calling_config.mode' "
                              f"(type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode)"
                              f", \"{calling.get('mode')}\"")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise Refused("* GenerateContentRequest.contents: contents is not specified")
        calls: list[str] = []  # function names called by the model turn just before
        results: list[str] = []
        for index, content in enumerate(contents):
            where = f"contents[{index}]"
            if not isinstance(content, dict):
                raise Refused(f"Invalid JSON payload received. Expected an object at '{where}'.")
            content = _known(content, {"role", "parts"}, where)
            role = content.get("role", "user")
            if role not in ("user", "model"):
                raise Refused(f"Please use a valid role: user, model. (got \"{role}\" at {where}.role)")
            parts = self._parts(content.get("parts"), where)
            if parts["responses"]:
                if role != "user" or not calls:
                    raise Refused("Please ensure that function response turn comes immediately after a function "
                                  "call turn.")
                if len(parts["responses"]) != len(calls):
                    raise Refused("Please ensure that the number of function response parts is equal to the number "
                                  "of function call parts of the function call turn.")
                for name, _ in parts["responses"]:
                    if name not in calls:
                        raise Refused(f"* GenerateContentRequest.{where}: function response `{name}` answers no "
                                      "function call of the turn before")
            elif calls:
                raise Refused("Please ensure that function call turn comes immediately before a function response "
                              "turn.")
            calls = parts["calls"] if role == "model" else []
            results = [text for _, text in parts["responses"]] if role == "user" else []
        return decide("gemini", tool_names, results, system)

    @staticmethod
    def _parts(parts: Any, where: str) -> dict[str, list[Any]]:
        if not isinstance(parts, list) or not parts:
            raise Refused(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.")
        found: dict[str, list[Any]] = {"texts": [], "calls": [], "responses": []}
        for n, part in enumerate(parts):
            at = f"{where}.parts[{n}]"
            if not isinstance(part, dict):
                raise Refused(f"Invalid JSON payload received. Expected an object at '{at}'.")
            part = _known(part, _PART_DATA | _PART_META, at)
            data = [name for name in part if name in _PART_DATA]
            if len(data) != 1:
                raise Refused(f"* GenerateContentRequest.{at}.data: required oneof field 'data' must have one "
                              "initialized field")
            kind = data[0]
            if kind == "text":
                if not isinstance(part["text"], str):
                    raise Refused(f"Invalid value at '{at}.text' (TYPE_STRING)")
                found["texts"].append(part["text"])
            elif kind == "inlineData":
                inline = _known(part["inlineData"], {"mimeType", "data", "displayName"}, f"{at}.inline_data")
                if not inline.get("mimeType") or not isinstance(inline.get("data"), str):
                    raise Refused(f"* GenerateContentRequest.{at}.inline_data: mime_type and data are required")
            elif kind == "functionCall":
                call = _known(part["functionCall"], {"id", "name", "args"}, f"{at}.function_call")
                if not isinstance(call.get("name"), str) or not call["name"]:
                    raise Refused(f"* GenerateContentRequest.{at}.function_call.name: name is not specified")
                if call.get("args") is not None and not isinstance(call["args"], dict):
                    raise Refused(f"Invalid value at '{at}.function_call.args' (type.googleapis.com/"
                                  "google.protobuf.Struct)")
                found["calls"].append(call["name"])
            elif kind == "functionResponse":
                response = _known(part["functionResponse"], {"id", "name", "response", "parts", "willContinue",
                                                             "scheduling"}, f"{at}.function_response")
                if not isinstance(response.get("name"), str) or not response["name"]:
                    raise Refused(f"* GenerateContentRequest.{at}.function_response.name: Name cannot be empty.")
                if not isinstance(response.get("response"), dict):
                    raise Refused(f"Invalid value at '{at}.function_response.response' (type.googleapis.com/"
                                  "google.protobuf.Struct)")
                found["responses"].append((response["name"], _response_text(response["response"])))
        return found

    def _check_tools(self, tools: Any) -> list[str]:
        if tools is None:
            return []
        if not isinstance(tools, list):
            raise Refused("Invalid JSON payload received. Expected a list at 'tools'.")
        names = []
        for n, tool in enumerate(tools):
            where = f"tools[{n}]"
            if not isinstance(tool, dict):
                raise Refused(f"Invalid JSON payload received. Expected an object at '{where}'.")
            tool = _known(tool, {"functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution",
                                 "urlContext", "computerUse", "fileSearch", "googleMaps"}, where)
            for m, declaration in enumerate(tool.get("functionDeclarations") or []):
                at = f"{where}.function_declarations[{m}]"
                declaration = _known(declaration, {"name", "description", "parameters", "parametersJsonSchema",
                                                   "response", "responseJsonSchema", "behavior"}, at)
                name = declaration.get("name")
                if not isinstance(name, str) or not re.match(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$", name):
                    raise Refused(f"* GenerateContentRequest.{at}.name: Invalid function name. Must start with a "
                                  "letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, "
                                  "colons and dashes, with a maximum length of 128.")
                if declaration.get("parameters") is not None and declaration.get("parametersJsonSchema") is not None:
                    raise Refused(f"* GenerateContentRequest.{at}: parameters and parameters_json_schema cannot "
                                  "both be set")
                if declaration.get("parameters") is not None:
                    _check_schema(declaration["parameters"], f"{at}.parameters")
                names.append(name)
        return names

    # --- answers -----------------------------------------------------------------------------------

    def _answer(self, model: str, parts: list[dict[str, Any]], finish: str | None,
                usage: dict[str, Any]) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model,
                "responseId": f"fakeResponse{self._counter}"}

    async def _stream(self, model: str, decision: Decision, sse: bool) -> AsyncIterator[bytes]:
        chunks: list[dict[str, Any]] = []
        if decision.text is not None:
            pieces = text_pieces(decision.text)
            for n, piece in enumerate(pieces):
                last = n == len(pieces) - 1
                chunks.append(self._answer(model, [{"text": piece}], "STOP" if last and not decision.calls
                                           else None, _usage(4 if last and not decision.calls else n + 1)))
        if decision.calls:
            chunks.append(self._answer(model, _parts(Decision(calls=decision.calls)), "STOP", _usage(4)))
        if sse:
            encoded = [f"data: {json.dumps(chunk)}\r\n\r\n".encode() for chunk in chunks]
        else:
            encoded = [(("[" if n == 0 else ",\r\n") + json.dumps(chunk, indent=2)).encode()
                       for n, chunk in enumerate(chunks)] + [b"]"]
        for event in encoded:  # each event split across writes, as real networks do
            yield event[:8]
            await asyncio.sleep(SPLIT_PAUSE)  # so that loopback delivers the halves apart
            yield event[8:]


def _check_schema(schema: Any, where: str) -> None:
    if not isinstance(schema, dict):
        raise Refused(f"Invalid JSON payload received. Expected an object at '{where}'.")
    schema = _known(schema, _SCHEMA, where)
    kind = schema.get("type")
    if kind is not None and (not isinstance(kind, str) or kind.upper() not in _TYPES):
        raise Refused(f"Invalid value at '{where}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta."
                      f"Type), {json.dumps(kind)}")
    for name, inner in (schema.get("properties") or {}).items():
        _check_schema(inner, f"{where}.properties[{name}].value")
    if schema.get("items") is not None:
        _check_schema(schema["items"], f"{where}.items")
    for n, inner in enumerate(schema.get("anyOf") or []):
        _check_schema(inner, f"{where}.any_of[{n}]")
    if schema.get("required") is not None and not isinstance(schema["required"], list):
        raise Refused(f"Invalid value at '{where}.required' (TYPE_STRING)")


def _response_text(response: dict[str, Any]) -> str:
    """The text of a function response: its one string value (`{"result": "..."}`, `{"output": ...}`,
    `{"content": ...}`), else the whole object as JSON."""
    strings = [value for value in response.values() if isinstance(value, str)]
    if len(response) == 1 and strings:
        return strings[0]
    return json.dumps(response)


def _parts(decision: Decision) -> list[dict[str, Any]]:
    text = [{"text": decision.text}] if decision.text is not None else []
    if not decision.calls:
        return text
    calls = [{"functionCall": {"name": name, "args": arguments}} for name, arguments in decision.calls]
    calls[0]["thoughtSignature"] = THOUGHT_SIGNATURE  # gemini-2.5 signs the first call of a turn
    return text + calls


def _usage(candidates: int) -> dict[str, Any]:
    # 12 prompt tokens, 4 of them cached; 4 answer tokens plus 2 of thinking (Gemini counts them apart)
    return {"promptTokenCount": 12, "candidatesTokenCount": candidates, "totalTokenCount": 12 + candidates + 2,
            "cachedContentTokenCount": 4, "thoughtsTokenCount": 2,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
            "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 4}]}
