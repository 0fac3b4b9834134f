"""`POST /v1/audio/transcriptions`: Deepgram, AssemblyAI and OpenAI each reached in their own API's shape
(strict fakes on loopback), answered `{text, task, language, duration}`; uploads that are too big, not
multipart, missing a field or not audio are refused in words."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from core.gateway import transcription
from core.store.models import UsageRow
from tests.fakes.assemblyai_upstream import ASSEMBLYAI_KEY, ASSEMBLYAI_TRANSCRIPT, CORRUPT_AUDIO, AssemblyAIUpstream
from tests.fakes.deepgram_upstream import (
    DEEPGRAM_BUSY_KEY,
    DEEPGRAM_DURATION,
    DEEPGRAM_KEY,
    DEEPGRAM_TRANSCRIPT,
    DeepgramUpstream,
)
from tests.fakes.openai_audio_upstream import OPENAI_AUDIO_KEY, OPENAI_TRANSCRIPT, OpenAIAudioUpstream
from tests.fakes.server import ThreadedServer

AUDIO = b"ID3\x04\x00fake mp3 frames " + bytes(range(256)) * 4


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch):
    deepgram, assemblyai, openai = DeepgramUpstream(), AssemblyAIUpstream(), OpenAIAudioUpstream()
    with ThreadedServer(deepgram.app()) as dg, ThreadedServer(assemblyai.app()) as aai, \
            ThreadedServer(openai.app()) as oai:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.deepgram.com={dg.url},api.assemblyai.com={aai.url},"
                                                 f"api.openai.com={oai.url}")
        monkeypatch.setattr(transcription, "POLL_INTERVAL", 0.02)
        yield {"deepgram": deepgram, "assemblyai": assemblyai, "openai": openai}


async def connect(services, provider: str, *keys: str) -> None:
    for priority, key in enumerate(keys):
        services.accounts.create_account(provider, f"{provider}-{priority}", key, priority=priority)
    await services.reload_gateway_config()


def upload(model: str, filename: str = "recording.mp3", data: bytes = AUDIO, **fields: str) -> dict:
    return {"files": {"file": (filename, data, "application/octet-stream")}, "data": {"model": model, **fields}}


async def test_deepgram_gets_the_raw_audio_with_its_token_and_model(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_KEY)
    response = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3"))
    assert response.status_code == 200, response.text
    assert response.json() == {"text": DEEPGRAM_TRANSCRIPT, "task": "transcribe", "language": "en",
                               "duration": DEEPGRAM_DURATION}
    sent = fakes["deepgram"].calls[-1]
    assert sent.audio == AUDIO
    assert sent.headers["authorization"] == f"Token {DEEPGRAM_KEY}"
    assert sent.headers["content-type"] == "audio/mpeg"
    assert sent.query["model"] == "nova-3" and sent.query["detect_language"] == "true"
    assert response.headers["x-quotagate-provider"] == "deepgram"


async def test_a_named_language_goes_to_deepgram_instead_of_detection(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_KEY)
    response = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3", "a.wav", language="de"))
    assert response.json()["language"] == "de"
    assert fakes["deepgram"].calls[-1].query == {"model": "nova-3", "smart_format": "true", "language": "de"}
    assert fakes["deepgram"].calls[-1].headers["content-type"] == "audio/wav"


async def test_assemblyai_uploads_creates_and_polls_until_completed(services, client, fakes) -> None:
    await connect(services, "assemblyai", ASSEMBLYAI_KEY)
    fakes["assemblyai"].polls_needed = 3
    response = await client.post("/v1/audio/transcriptions", **upload("assemblyai/best", "talk.flac"))
    assert response.status_code == 200, response.text
    assert response.json() == {"text": ASSEMBLYAI_TRANSCRIPT, "task": "transcribe", "language": "en",
                               "duration": 7.0}
    fake = fakes["assemblyai"]
    assert list(fake.uploads.values()) == [AUDIO]
    assert fake.jobs[0]["speech_model"] == "best" and fake.jobs[0]["language_detection"] is True
    assert fake.polls == 3


async def test_audio_assemblyai_cannot_transcribe_is_a_400_in_its_words(services, client, fakes) -> None:
    await connect(services, "assemblyai", ASSEMBLYAI_KEY)
    response = await client.post("/v1/audio/transcriptions",
                                 **upload("assemblyai/best", "x.ogg", data=CORRUPT_AUDIO + b" noise"))
    assert response.status_code == 400
    assert "does not appear to contain audio" in response.json()["error"]["message"]


async def test_a_transcript_that_never_finishes_times_out(services, client, fakes, monkeypatch) -> None:
    await connect(services, "assemblyai", ASSEMBLYAI_KEY)
    fakes["assemblyai"].polls_needed = None
    monkeypatch.setattr(transcription, "POLL_TIMEOUT", 0.2)
    response = await client.post("/v1/audio/transcriptions", **upload("assemblyai/nano", "x.webm"))
    assert response.status_code == 504
    assert "did not finish transcript tr-1 within 0.2 s" in response.json()["error"]["message"]


async def test_openai_gets_the_multipart_request_with_its_own_model_name(services, client, fakes) -> None:
    await connect(services, "openai", OPENAI_AUDIO_KEY)
    response = await client.post("/v1/audio/transcriptions", **upload("openai/gpt-4o-transcribe", "memo.m4a",
                                                                       prompt="Quotagate"))
    assert response.status_code == 200, response.text
    assert response.json() == {"text": OPENAI_TRANSCRIPT, "task": "transcribe", "language": None, "duration": None}
    sent = fakes["openai"].calls[-1]
    assert sent["fields"] == {"model": "gpt-4o-transcribe", "response_format": "json", "prompt": "Quotagate"}
    assert (sent["filename"], sent["content_type"], sent["audio"]) == ("memo.m4a", "audio/mp4", AUDIO)
    assert services.store.writer.flush(10)
    row = UsageRow.select().order_by(UsageRow.id.desc()).get()
    assert (row.path, row.provider, row.model, row.tokens_in, row.tokens_out) == (
        "/v1/audio/transcriptions", "openai", "gpt-4o-transcribe", 40, 6)


async def test_whisper_answers_language_and_duration(services, client, fakes) -> None:
    await connect(services, "openai", OPENAI_AUDIO_KEY)
    response = await client.post("/v1/audio/transcriptions", **upload("openai/whisper-1"))
    assert response.json() == {"text": OPENAI_TRANSCRIPT, "task": "transcribe", "language": "english",
                               "duration": 3.2}
    assert fakes["openai"].calls[-1]["fields"]["response_format"] == "verbose_json"


async def test_a_busy_account_passes_the_audio_to_the_next(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_BUSY_KEY, DEEPGRAM_KEY)
    response = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3", response_format="text"))
    assert response.status_code == 200
    assert response.text == DEEPGRAM_TRANSCRIPT and response.headers["x-quotagate-fallbacks"] == "1"
    assert [c.headers["authorization"] for c in fakes["deepgram"].calls] == [f"Token {DEEPGRAM_BUSY_KEY}",
                                                                              f"Token {DEEPGRAM_KEY}"]
    assert services.store.writer.flush(10)
    row = UsageRow.select().order_by(UsageRow.id.desc()).get()
    assert (row.path, row.status, row.account_id) == ("/v1/audio/transcriptions", 200, 2)
    assert [attempt["status"] for attempt in row.attempts] == [429, 200]


async def test_every_account_rate_limited_answers_429(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_BUSY_KEY)
    response = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3"))
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert "Too many requests" in response.json()["error"]["message"]


async def test_an_upload_over_the_size_limit_is_a_413_that_says_so(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_KEY)
    assert (await client.put("/api/settings", json={"maxBodyMb": 0.001})).status_code == 200
    response = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3", data=AUDIO * 2))
    assert response.status_code == 413
    assert "larger than the gateway's limit of 1 KiB" in response.json()["error"]["message"]
    assert fakes["deepgram"].calls == []


@pytest.mark.parametrize(("request_options", "words"), [
    ({"json": {"model": "deepgram/nova-3"}}, "multipart/form-data"),
    ({"data": {"model": "deepgram/nova-3"}, "files": {"other": ("a.mp3", b"x")}}, "`file` is missing"),
    ({"files": {"file": ("a.mp3", AUDIO)}}, "`model` is missing"),
    (upload("deepgram/nova-3", "notes.txt"), "not a supported audio file"),
    (upload("deepgram/nova-3", data=b""), "`file` is empty"),
    (upload("deepgram/nova-3", response_format="srt"), "`response_format` must be one of json, text"),
    ({"content": b"--nope\r\ngarbage", "headers": {"content-type": "multipart/form-data; boundary=xyz"}},
     "multipart body could not be read: Invalid multipart data."),
    ({"content": b"x", "headers": {"content-type": "multipart/form-data"}}, "multipart body could not be read"),
])
async def test_a_bad_upload_is_refused_in_words(services, client, fakes, request_options, words) -> None:
    await connect(services, "deepgram", DEEPGRAM_KEY)
    response = await client.post("/v1/audio/transcriptions", **request_options)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]
    assert fakes["deepgram"].calls == []


async def test_a_chat_request_for_a_transcription_model_is_refused(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_KEY)
    response = await client.post("/v1/chat/completions", json={
        "model": "deepgram/nova-3", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400
    assert "only transcribes audio" in response.json()["error"]["message"]


async def test_the_test_button_checks_a_deepgram_and_an_assemblyai_key(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_KEY)
    await connect(services, "assemblyai", "wrong-key")
    providers = (await client.get("/api/providers")).json()["connections"]
    results = {p["provider"]: (await client.post(f"/api/providers/{p['id']}/test")).json() for p in providers}
    assert results["deepgram"]["valid"] is True
    assert results["assemblyai"]["valid"] is False


async def test_a_client_that_hangs_up_stops_the_polling(services, fakes) -> None:
    await connect(services, "assemblyai", ASSEMBLYAI_KEY)
    fakes["assemblyai"].polls_needed = None  # never finishes; POLL_TIMEOUT stays at its default
    async with httpx.AsyncClient(base_url=services.gateway_state.url, timeout=0.5) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post("/v1/audio/transcriptions", **upload("assemblyai/best"))
    await asyncio.sleep(0.2)
    polls = fakes["assemblyai"].polls
    await asyncio.sleep(0.4)
    assert polls > 0 and fakes["assemblyai"].polls == polls


async def test_a_routing_policy_blocks_transcription_as_it_blocks_chat(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_KEY)
    await client.post("/api/policies", json={"name": "no-deepgram", "blockProviders": ["deepgram"]})
    response = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3"))
    assert response.status_code == 403 and "no-deepgram" in response.json()["error"]["message"]
    assert fakes["deepgram"].calls == []


async def test_a_cooling_transcriber_is_skipped_and_named_when_nothing_is_left(services, client, fakes) -> None:
    await connect(services, "deepgram", DEEPGRAM_BUSY_KEY)
    first = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3"))
    calls = len(fakes["deepgram"].calls)
    second = await client.post("/v1/audio/transcriptions", **upload("deepgram/nova-3"))
    assert first.status_code == 429 and second.status_code == 429
    assert "can take a request now" in second.json()["error"]["message"]
    assert len(fakes["deepgram"].calls) == calls  # skipped without a request
