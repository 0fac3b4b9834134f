"""A strict fake of AssemblyAI's asynchronous transcription API, as documented: the bare key in
`Authorization`; `POST /v2/upload` takes the raw audio (application/octet-stream) and answers `upload_url`;
`POST /v2/transcript` takes `{"audio_url", "speech_model", …}` and answers the queued transcript;
`GET /v2/transcript/{id}` goes queued -> processing -> completed (after `polls_needed` looks) with `text`,
`language_code` and `audio_duration`, or -> error when the audio holds `CORRUPT_AUDIO`. Errors are `{"error": …}`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ASSEMBLYAI_KEY = "aai0123456789abcdef0123456789abcd"
ASSEMBLYAI_TRANSCRIPT = "Hello from AssemblyAI."
CORRUPT_AUDIO = b"CORRUPT"
_JOB_FIELDS = {"audio_url", "speech_model", "language_code", "language_detection", "punctuate", "format_text"}
_SPEECH_MODELS = {"best", "nano", "universal", "slam-1"}


@dataclass
class AssemblyAIUpstream:
    polls_needed: int = 2  # looks at a transcript before it is completed (None: it never finishes)
    uploads: dict[str, bytes] = field(default_factory=dict)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/upload", self.upload, methods=["POST"]),
                                 Route("/v2/transcript", self.create, methods=["POST"]),
                                 Route("/v2/transcript", self.listing, methods=["GET"]),
                                 Route("/v2/transcript/{id}", self.get, methods=["GET"])])

    async def upload(self, request: Request) -> Response:
        if not self._authorized(request):
            return _unauthorized()
        audio = await request.body()
        if request.headers.get("content-type") != "application/octet-stream" or not audio:
            return JSONResponse({"error": "Upload the raw file as application/octet-stream."}, status_code=400)
        url = f"https://cdn.assemblyai.com/upload/{next(self._ids)}"
        self.uploads[url] = audio
        return JSONResponse({"upload_url": url})

    async def create(self, request: Request) -> Response:
        if not self._authorized(request):
            return _unauthorized()
        job = await request.json()
        unknown = set(job) - _JOB_FIELDS
        if unknown:
            return JSONResponse({"error": f"Invalid field: {sorted(unknown)[0]}"}, status_code=400)
        if job.get("audio_url") not in self.uploads:
            return JSONResponse({"error": "Download error, unable to download the audio_url"}, status_code=400)
        if job.get("speech_model", "best") not in _SPEECH_MODELS:
            return JSONResponse({"error": "Invalid speech_model"}, status_code=400)
        job = {**job, "id": f"tr-{len(self.jobs) + 1}", "status": "queued"}
        self.jobs.append(job)
        return JSONResponse(self._public(job))

    async def get(self, request: Request) -> Response:
        if not self._authorized(request):
            return _unauthorized()
        job = next((j for j in self.jobs if j["id"] == request.path_params["id"]), None)
        if job is None:
            return JSONResponse({"error": "Transcript not found"}, status_code=404)
        self.polls += 1
        if CORRUPT_AUDIO in self.uploads[job["audio_url"]]:
            job["status"] = "error"
        elif self.polls_needed is not None and self.polls >= self.polls_needed:
            job["status"] = "completed"
        else:
            job["status"] = "processing"
        return JSONResponse(self._public(job))

    async def listing(self, request: Request) -> Response:
        if not self._authorized(request):
            return _unauthorized()
        return JSONResponse({"transcripts": [], "page_details": {"limit": 1, "result_count": 0}})

    def _public(self, job: dict[str, Any]) -> dict[str, Any]:
        answer = {"id": job["id"], "status": job["status"], "audio_url": job["audio_url"],
                  "speech_model": job.get("speech_model"), "text": None, "language_code": None,
                  "audio_duration": None, "error": None}
        if job["status"] == "completed":
            answer.update(text=ASSEMBLYAI_TRANSCRIPT, language_code=job.get("language_code") or "en",
                          audio_duration=7)
        if job["status"] == "error":
            answer["error"] = "Transcoding failed. File does not appear to contain audio."
        return answer

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == ASSEMBLYAI_KEY


def _unauthorized() -> JSONResponse:
    return JSONResponse({"error": "Authentication error, API token missing/invalid"}, status_code=401)
