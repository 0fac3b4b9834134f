"""`POST /v1/audio/transcriptions`: OpenAI's speech-to-text request (multipart `file` and `model`), answered
`{text, task, language, duration}` whichever provider transcribes it:

- OpenAI-format providers (OpenAI's `gpt-4o-transcribe`, `whisper-1`; Groq's Whisper): the multipart request
  passed on to `{base}/audio/transcriptions`;
- Deepgram (`deepgram/nova-3`): the raw audio to `{base}/listen?model=…`, `Authorization: Token …`;
- AssemblyAI (`assemblyai/best`): the audio uploaded to `{base}/upload`, a transcript created at
  `{base}/transcript`, then polled until it is completed or failed (within `POLL_TIMEOUT`).

The model is routed like any other (accounts in priority order, combos, cooldowns, quota): an account that is
rate-limited, refused or down passes the request to the next, and every attempt is recorded in the usage.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import httpx
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from core.gateway import dialects
from core.gateway.admission import attempts_for, route_for
from core.gateway.dialects.common import Call, Usage
from core.gateway.errors import GatewayError
from core.gateway.relay import (
    FALLBACK_STATUSES,
    Exchange,
    attempt_failed,
    identity_headers,
    observe_attempt,
    record_request,
)
from core.gateway.requests import client_key_id, read_body
from core.gateway.proxy_routes import unless_client_leaves
from core.gateway.routing import Upstream
from core.gateway.runtime import GatewayRuntime
from core.gateway.upstream import describe_transport_error, is_timeout
from core.logs import redact

PATH = "/v1/audio/transcriptions"
# The formats the reference gateway documents, by file extension, with the media type providers expect.
AUDIO_TYPES = {"mp3": "audio/mpeg", "mpga": "audio/mpeg", "mpeg": "audio/mpeg", "wav": "audio/wav",
               "m4a": "audio/mp4", "mp4": "audio/mp4", "flac": "audio/flac", "ogg": "audio/ogg",
               "oga": "audio/ogg", "webm": "audio/webm"}
_EXTENSION_OF = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav",
                 "audio/wave": "wav", "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/m4a": "m4a",
                 "audio/flac": "flac", "audio/x-flac": "flac", "audio/ogg": "ogg", "audio/webm": "webm",
                 "video/webm": "webm"}
ANSWER_FORMATS = ("json", "text", "verbose_json")
POLL_INTERVAL = 1.0  # seconds between two looks at an AssemblyAI transcript
POLL_TIMEOUT = 600.0  # seconds an AssemblyAI transcript may take before the request gives up on it


@dataclass(frozen=True)
class Audio:
    data: bytes
    filename: str
    media_type: str
    language: str | None  # ISO-639-1, when the client named it
    prompt: str | None  # OpenAI's `prompt` (context for the transcriber), passed on to OpenAI-format providers


class _Failed(Exception):
    """An attempt failed; `status` and `retry_after` decide whether the next account gets the request."""

    def __init__(self, status: int, message: str, retry_after: str | None = None, timed_out: bool = False,
                 fall_back: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after, self.timed_out = status, message, retry_after, timed_out
        self.fall_back = fall_back  # the next target may go whatever the status (this one cannot take audio)


def transcription_routes(runtime: Callable[[], GatewayRuntime]) -> list[Route]:
    async def transcriptions(request: Request) -> Response:
        return await transcribe(request, runtime())

    return [Route(PATH, transcriptions, methods=["POST"])]


async def transcribe(request: Request, runtime: GatewayRuntime) -> Response:
    started = time.perf_counter()
    config = runtime.config
    key_id = client_key_id(request, config.key_hashes, config.require_keys)
    fields, audio = await read_upload(request, config.max_body_bytes)
    model, answer_format = fields["model"], fields.get("response_format") or "json"
    route = route_for(runtime, key_id, model)  # limits and policies, as for every other request
    attempts, skipped = attempts_for(runtime, route)
    exchange = Exchange(Call(format="openai", model=model, messages=[]), dialects.get("openai"), route, key_id,
                        PATH, started, "transcription", tuple(attempts), runtime.stats, runtime.resilience,
                        tuple(skipped))
    # A client that hangs up stops the work (an AssemblyAI transcript may be polled for minutes).
    return await unless_client_leaves(request, _attempt_each(runtime, exchange, attempts, audio, answer_format))


async def _attempt_each(runtime: GatewayRuntime, exchange: Exchange, attempts: list[Upstream], audio: Audio,
                        answer_format: str) -> Response:
    failures: list[_Failed] = []
    for index, upstream in enumerate(attempts):
        exchange.fallbacks = index
        attempt_started = time.perf_counter()
        transcriber = TRANSCRIBERS.get(upstream.wire_format)
        try:
            if transcriber is None:  # a combo may name chat models too: they are passed over
                raise _Failed(400, "does not transcribe audio", fall_back=True)
            result, tokens = await transcriber(runtime.clients.client_for(upstream.proxy), upstream, audio)
        except httpx.HTTPError as exc:
            failed = _Failed(504 if is_timeout(exc) else 502, describe_transport_error(exc), timed_out=is_timeout(exc))
            failures.append(failed)
            attempt_failed(exchange, upstream, failed.message, attempt_started)
            observe_attempt(exchange, upstream, False, attempt_started)
            continue
        except _Failed as failed:
            failures.append(failed)
            attempt_failed(exchange, upstream, failed.message, attempt_started, failed.status)
            if failed.fall_back or failed.status in FALLBACK_STATUSES:
                if transcriber is not None:
                    observe_attempt(exchange, upstream, False, attempt_started, failed.status, failed.retry_after)
                continue
            observe_attempt(exchange, upstream, True, attempt_started)  # it answered: the request was at fault
            record_request(runtime.usage, exchange, upstream, failed.status, Usage(), error=failed.message, answered=False)
            raise GatewayError(failed.status, f"{upstream.provider} refused the audio: {failed.message}",
                               f"upstream_{failed.status}") from None
        observe_attempt(exchange, upstream, True, attempt_started)
        record_request(runtime.usage, exchange, upstream, 200, tokens)
        headers = {**identity_headers(upstream), "x-quotagate-fallbacks": str(index)}
        answer = {"text": result["text"], "task": "transcribe", "language": result.get("language") or audio.language,
                  "duration": result.get("duration")}
        if answer_format == "text":
            return PlainTextResponse(answer["text"], headers=headers)
        return JSONResponse(answer, headers=headers)
    raise _all_failed(runtime, exchange, attempts, failures)


# --- reading the upload --------------------------------------------------------------------------------


async def read_upload(request: Request, limit_bytes: int) -> tuple[dict[str, str], Audio]:
    """The form fields and the audio, or a 400/413 that says what is wrong."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise GatewayError(400, "Send the audio as multipart/form-data with the fields `file` and `model` (e.g. "
                                "curl -F file=@recording.mp3 -F model=deepgram/nova-3).", "invalid_request")
    body = await read_body(request, limit_bytes, _too_large)

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=20)
    except Exception as exc:  # python-multipart's and Starlette's refusals have no common base worth naming
        detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise GatewayError(400, f"The multipart body could not be read: {str(detail).rstrip('.')}.",
                           "invalid_request") from None
    try:
        return await _audio_of(form)
    finally:
        await form.close()  # the parser may have spooled the file to disk


async def _audio_of(form: FormData) -> tuple[dict[str, str], Audio]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise GatewayError(400, "`file` is missing: send the audio file as the multipart field `file`.",
                           "invalid_request")
    fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
    if not fields.get("model", "").strip():
        raise GatewayError(400, "`model` is missing: name a transcription model such as deepgram/nova-3, "
                                "assemblyai/best or openai/gpt-4o-transcribe.", "invalid_request")
    if fields.get("response_format", "json") not in ANSWER_FORMATS:
        raise GatewayError(400, f"`response_format` must be one of {', '.join(ANSWER_FORMATS)}.", "invalid_request")
    data = await upload.read()
    if not data:
        raise GatewayError(400, "`file` is empty.", "invalid_request")
    filename = upload.filename or "audio"
    extension = filename.rpartition(".")[2].lower() if "." in filename else \
        _EXTENSION_OF.get((upload.content_type or "").split(";")[0].strip().lower(), "")
    if extension not in AUDIO_TYPES:
        raise GatewayError(400, f"'{filename[:100]}' is not a supported audio file: send mp3, wav, m4a, flac, ogg "
                                "or webm.", "unsupported_audio_format")
    language = fields.get("language", "").strip() or None
    return fields, Audio(data, filename, AUDIO_TYPES[extension], language, fields.get("prompt") or None)


def _too_large(limit_bytes: int) -> GatewayError:
    size = f"{limit_bytes / 2**20:.4g} MiB" if limit_bytes >= 2**20 else f"{limit_bytes / 1024:.0f} KiB"
    return GatewayError(413, f"The audio upload is larger than the gateway's limit of {size}; "
                             "send a shorter or more compressed file, or raise maxBodyMb in PUT /api/settings.",
                        "request_too_large")


# --- one transcriber per provider API ------------------------------------------------------------------

Result = tuple[dict[str, Any], Usage]


async def _openai(client: httpx.AsyncClient, upstream: Upstream, audio: Audio) -> Result:
    verbose = "whisper" in upstream.model.lower()  # only Whisper answers the language and duration
    data = {"model": upstream.model, "response_format": "verbose_json" if verbose else "json"}
    if audio.language:
        data["language"] = audio.language
    if audio.prompt:
        data["prompt"] = audio.prompt
    response = await client.post(upstream.base_url + "/audio/transcriptions", headers=upstream.headers, data=data,
                                 files={"file": (audio.filename, audio.data, audio.media_type)})
    answer = _answer(response, "openai")
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    tokens = Usage(prompt=_whole(usage.get("input_tokens")), completion=_whole(usage.get("output_tokens")))
    return {"text": _text(answer.get("text")), "language": answer.get("language"),
            "duration": _seconds(answer.get("duration"))}, tokens


async def _deepgram(client: httpx.AsyncClient, upstream: Upstream, audio: Audio) -> Result:
    params = {"model": upstream.model, "smart_format": "true"}
    params.update({"language": audio.language} if audio.language else {"detect_language": "true"})
    response = await client.post(upstream.base_url + "/listen", params=params, content=audio.data,
                                 headers={**upstream.headers, "content-type": audio.media_type})
    answer = _answer(response, "deepgram")
    try:
        channel = answer["results"]["channels"][0]
        text = channel["alternatives"][0]["transcript"]
    except (KeyError, IndexError, TypeError):
        raise _Failed(502, "Deepgram answered without a transcript") from None
    duration = answer.get("metadata", {}).get("duration") if isinstance(answer.get("metadata"), dict) else None
    return {"text": _text(text), "language": channel.get("detected_language") or audio.language,
            "duration": _seconds(duration)}, Usage()


async def _assemblyai(client: httpx.AsyncClient, upstream: Upstream, audio: Audio) -> Result:
    uploaded = _answer(await client.post(upstream.base_url + "/upload", content=audio.data,
                                         headers={**upstream.headers, "content-type": "application/octet-stream"}),
                       "assemblyai")
    job: dict[str, Any] = {"audio_url": uploaded.get("upload_url"), "speech_model": upstream.model}
    job.update({"language_code": audio.language} if audio.language else {"language_detection": True})
    transcript = _answer(await client.post(upstream.base_url + "/transcript", json=job, headers=upstream.headers),
                         "assemblyai")
    transcript_id = transcript.get("id")
    if not isinstance(transcript_id, str) or not transcript_id:
        raise _Failed(502, "AssemblyAI answered without a transcript id")
    deadline = time.monotonic() + POLL_TIMEOUT
    while transcript.get("status") not in ("completed", "error"):
        if time.monotonic() > deadline:
            raise _Failed(504, f"AssemblyAI did not finish transcript {transcript_id} within {POLL_TIMEOUT:g} s",
                          timed_out=True)
        await asyncio.sleep(POLL_INTERVAL)
        transcript = _answer(await client.get(f"{upstream.base_url}/transcript/{transcript_id}",
                                              headers=upstream.headers), "assemblyai")
    if transcript["status"] == "error":  # the audio itself could not be transcribed: another account won't help
        raise _Failed(400, str(transcript.get("error") or "the transcription failed"))
    return {"text": _text(transcript.get("text")), "language": transcript.get("language_code"),
            "duration": _seconds(transcript.get("audio_duration"))}, Usage()


TRANSCRIBERS: dict[str, Callable[[httpx.AsyncClient, Upstream, Audio], Awaitable[Result]]] = {
    "openai": _openai, "deepgram": _deepgram, "assemblyai": _assemblyai,
}


def _answer(response: httpx.Response, api: str) -> dict[str, Any]:
    """The JSON object of a successful answer, or `_Failed` in the provider's own words (keys masked)."""
    try:
        payload = json.loads(response.content) if response.content else None
    except ValueError:
        payload = None
    if response.status_code >= 400:
        raise _Failed(response.status_code, _error_words(payload, response.text),
                      response.headers.get("retry-after"))
    if not isinstance(payload, dict):
        raise _Failed(502, f"{api} answered something that is not a JSON object")
    return payload


def _error_words(payload: Any, text: str) -> str:
    """OpenAI `{error: {message}}`, Deepgram `{err_msg}`, AssemblyAI `{error}`; else the body's text."""
    words = None
    if isinstance(payload, dict):
        error = payload.get("error")
        words = error.get("message") if isinstance(error, dict) else error
        words = words or payload.get("err_msg") or payload.get("message")
    return redact(str(words or text or "(empty body)"))[:500]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), 3)


# --- when no attempt succeeded -------------------------------------------------------------------------


def _all_failed(runtime: GatewayRuntime, exchange: Exchange, attempts: list[Upstream],
                failures: list[_Failed]) -> GatewayError:
    words = [f"{u.provider}/{u.model} ({u.account_name}): {f.message}" for u, f in zip(attempts, failures)]
    message = f"Every attempt to transcribe with '{exchange.route.requested}' failed: " + "; ".join(words) + "."
    record_request(runtime.usage, exchange, attempts[-1], failures[-1].status, Usage(), error=message, answered=False)
    if all(f.status == 429 for f in failures):
        waits = [float(f.retry_after) for f in failures if f.retry_after and f.retry_after.isdigit()]
        return GatewayError(429, message, "rate_limited", {"retry-after": str(math.ceil(min(waits)) if waits else 1)})
    if len(failures) == 1 and failures[0].status < 500:
        return GatewayError(failures[0].status, message, f"upstream_{failures[0].status}")
    return GatewayError(504 if all(f.timed_out for f in failures) else 502, message, "upstream_unavailable")

