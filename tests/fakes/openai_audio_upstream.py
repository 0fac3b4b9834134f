"""A strict fake of OpenAI's `POST /v1/audio/transcriptions`: Bearer key, multipart `file` and `model` (no
provider prefix), `response_format` json (`{"text", "usage"}`) or, for Whisper, verbose_json (`language`,
`duration` too); other fields refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

OPENAI_AUDIO_KEY = "sk-audio-fake"
OPENAI_TRANSCRIPT = "Hello from OpenAI."
_FIELDS = {"file", "model", "language", "prompt", "response_format", "temperature"}


@dataclass
class OpenAIAudioUpstream:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/audio/transcriptions", self.transcribe, methods=["POST"])])

    async def transcribe(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {OPENAI_AUDIO_KEY}":
            return _error(401, "Incorrect API key provided.")
        form = await request.form()
        upload = form.get("file")
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        audio = await upload.read() if isinstance(upload, UploadFile) else b""
        self.calls.append({"fields": fields, "filename": getattr(upload, "filename", None),
                           "content_type": getattr(upload, "content_type", None), "audio": audio})
        if set(form.keys()) - _FIELDS:
            return _error(400, f"Unrecognized request argument supplied: {sorted(set(form.keys()) - _FIELDS)[0]}")
        if not audio or "/" in fields.get("model", "/"):
            return _error(400, "Invalid file format or model.")
        if fields.get("response_format") == "verbose_json":
            if not fields["model"].startswith("whisper"):
                return _error(400, f"response_format 'verbose_json' is not compatible with model '{fields['model']}'.")
            return JSONResponse({"task": "transcribe", "language": "english", "duration": 3.2,
                                 "text": OPENAI_TRANSCRIPT, "segments": []})
        return JSONResponse({"text": OPENAI_TRANSCRIPT,
                             "usage": {"type": "tokens", "input_tokens": 40, "output_tokens": 6, "total_tokens": 46}})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                   "code": None}}, status_code=status)
