"""A strict fake of Deepgram's pre-recorded transcription API (`POST /v1/listen?model=…`), as documented:
`Authorization: Token <key>`, the raw audio as the body with its audio media type, the answer
`{"metadata": {"duration", …}, "results": {"channels": [{"detected_language", "alternatives": [{"transcript",
…}]}]}}`, errors `{"err_code", "err_msg", "request_id"}`. `GET /v1/projects` answers a valid key (the Test
button's check). The key `DEEPGRAM_BUSY_KEY` answers 429 with Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEEPGRAM_KEY = "dg-fake-key-0123456789"
DEEPGRAM_BUSY_KEY = "dg-busy-key-0123456789"
DEEPGRAM_TRANSCRIPT = "Hello, this is the transcribed audio content."
DEEPGRAM_DURATION = 12.5
_MODELS = {"nova-3", "nova-2", "nova", "enhanced", "base", "whisper"}
_QUERY = {"model", "language", "detect_language", "smart_format", "punctuate", "diarize", "utterances"}


@dataclass
class Listened:
    query: dict[str, str]
    headers: dict[str, str]
    audio: bytes


@dataclass
class DeepgramUpstream:
    calls: list[Listened] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/listen", self.listen, methods=["POST"]),
                                 Route("/v1/projects", self.projects, methods=["GET"])])

    async def listen(self, request: Request) -> Response:
        audio = await request.body()
        self.calls.append(Listened(dict(request.query_params), dict(request.headers), audio))
        refused = self._auth(request)
        if refused is not None:
            return refused
        unknown = set(request.query_params) - _QUERY
        if unknown:
            return _error(400, "Bad Request", f"Unknown query parameter: {sorted(unknown)[0]}")
        if request.query_params.get("model") not in _MODELS:
            return _error(400, "Bad Request", "No such model/language/tier combination found.")
        media = request.headers.get("content-type", "")
        if not media.startswith(("audio/", "video/")) or audio.startswith(b"--") or not audio:
            return _error(400, "Bad Request", "failed to process audio: corrupt or unsupported data")
        language = request.query_params.get("language") or "en"
        channel = {"alternatives": [{"transcript": DEEPGRAM_TRANSCRIPT, "confidence": 0.99, "words": []}]}
        if request.query_params.get("detect_language") == "true":
            channel["detected_language"] = language
            channel["language_confidence"] = 0.98
        return JSONResponse({
            "metadata": {"request_id": "req-1", "created": "2026-01-01T00:00:00Z", "duration": DEEPGRAM_DURATION,
                         "channels": 1, "models": ["model-uuid"]},
            "results": {"channels": [channel]}})

    async def projects(self, request: Request) -> Response:
        return self._auth(request) or JSONResponse({"projects": [{"project_id": "p1", "name": "Fake"}]})

    def _auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if header == f"Token {DEEPGRAM_BUSY_KEY}":
            return _error(429, "TOO_MANY_REQUESTS", "Too many requests. Please try again later.", {"retry-after": "2"})
        if header != f"Token {DEEPGRAM_KEY}":
            return _error(401, "INVALID_AUTH", "Invalid credentials.")
        return None


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"err_code": code, "err_msg": message, "request_id": "req-err"}, status_code=status,
                        headers=headers)
