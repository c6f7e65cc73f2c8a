"""Voice topics: the transcription client against the fake OpenAI (`POST /v1/audio/transcriptions`),
the webhook's quick checks (nothing downloaded or transcribed there), the TranscribeVoiceTopic
stage (getFile, the file download, the transcription, the echo, the failures) and voice
feedback at a gate through the asynchronous worker, spoken through the fake Bot API. The whole
state machine from a voice note is in tests/integration/telegram/."""

from __future__ import annotations

import json

import pytest
from handle_slow_update.app import lambda_handler as handle_slow_update

from tests.fakes.fixtures import openai_vars
from tests.fakes.telegram_fixtures import TelegramUser, lambda_poster
from tests.helpers import new_job, use
from tests.reliability_support import sfn  # noqa: F401
from videobot import lifecycle, usage
from videobot.data import gates, jobs
from videobot.errors import VendorFailed, VendorUnavailable, VoiceEmpty, VoiceNotDownloadable, VoiceNotUnderstood
from videobot.pipeline import GateId
from videobot.providers.openai_transcribe import OpenAITranscriber
from videobot.stages.transcribe_voice_topic import transcribe_voice_topic
from videobot.telegram import texts
from videobot.telegram.files import TelegramFiles

OGG = b"OggS\x00\x02" + bytes(range(256)) * 20  # stands in for a voice note's OGG/Opus bytes


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def voice_update(user: TelegramUser, file_id: str = "AwACAgIAAxkBAAIC-voice", file_size: int = len(OGG)) -> dict:
    update = user.message_update(template="telegram_message_voice")
    update["message"]["voice"].update({"file_id": file_id, "file_size": file_size})
    return update


def test_the_transcription_request_follows_the_documented_shape(setup, rt, fake_openai):
    fake_openai.transcribe_next("  Реклама   кофе на рассвете ")
    with use(setup, **openai_vars(fake_openai)) as tuned:
        transcript = OpenAITranscriber(tuned.settings).transcribe(OGG, filename="file_7.oga", language="ru")

    [call] = fake_openai.calls("POST /v1/audio/transcriptions")
    assert call.headers["authorization"] == "Bearer sk-test-fake-openai"
    assert call.headers["content-type"].startswith("multipart/form-data")
    [sent] = fake_openai.transcribed
    assert sent == {
        "model": "gpt-transcribe",
        "response_format": "json",
        "language": "ru",
        "filename": "file_7.ogg",  # Telegram's .oga is not in the endpoint's formats: the same Ogg, as .ogg
        "size": len(OGG),
    }
    assert transcript.text == "Реклама кофе на рассвете" and transcript.model == "gpt-transcribe"
    # gpt-transcribe is billed by the minute: its usage says the audio's duration
    assert transcript.seconds is not None and transcript.seconds > 0


def test_transcription_errors_become_ours(setup, rt, fake_openai):
    with use(setup, **{**openai_vars(fake_openai), "OPENAI_MAX_RETRIES": "0"}) as tuned:
        with pytest.raises(VendorFailed, match="HTTP 400 Unsupported file format txt"):
            OpenAITranscriber(tuned.settings).transcribe(OGG, filename="voice.txt")
        fake_openai.fail(
            "POST /v1/audio/transcriptions",
            429,
            body={"error": {"message": "Rate limit reached", "type": "requests", "code": None}},
        )
        with pytest.raises(VendorUnavailable):
            OpenAITranscriber(tuned.settings).transcribe(OGG)
        with pytest.raises(VendorFailed):
            OpenAITranscriber(tuned.settings).transcribe(b"")
    with use(setup, **{**openai_vars(fake_openai), "OPENAI_API_KEY": "sk-wrong"}) as tuned:
        with pytest.raises(VendorFailed, match="HTTP 401"):
            OpenAITranscriber(tuned.settings).transcribe(OGG)


def test_without_a_key_voice_gets_a_clear_answer_and_nothing_is_downloaded(db, user):
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG)
    assert user.post(voice_update(user)) == 200
    assert user.texts() == [texts.text("ru", "voice_needs_key")]
    assert user.fake.calls_to("getFile", "downloadFile") == []
    assert jobs.latest_job_for_chat(db, user.chat_id) is None


def test_a_voice_note_over_20_mb_is_refused_at_once_without_a_download(setup, db, user, fake_openai, sfn):
    with use(setup, **openai_vars(fake_openai)):
        # Telegram says how big it is: nothing is asked for, nothing is started
        assert user.post(voice_update(user, file_size=21 * 1024 * 1024)) == 200
    assert user.texts() == [texts.text("ru", "voice_too_big", limit_mb="20")]
    assert user.fake.calls_to("getFile", "downloadFile") == []
    assert sfn.named("StartExecution") == []
    assert jobs.latest_job_for_chat(db, user.chat_id) is None


def test_telegrams_20_mb_is_20_000_000_bytes(setup, rt, user, fake_openai, sfn):
    """getFile's "20MB" (Bot API: "bots can download files of up to 20MB in size") is 20,000,000
    bytes: a voice note of 20,000,001 bytes, under 20 MiB, is refused at once by the webhook's
    check, and by getFile when the message did not say its size."""
    with use(setup, **openai_vars(fake_openai)) as tuned:
        assert user.post(voice_update(user, file_size=20_000_001)) == 200
        assert user.texts() == [texts.text("ru", "voice_too_big", limit_mb="20")]
        assert sfn.named("StartExecution") == []
        user.fake.add_file("AwACAgIAAxkBAAIC-big", OGG, file_size=20_000_001)
        user.fake.add_file("AwACAgIAAxkBAAIC-fits", OGG, file_size=20_000_000)
        files = TelegramFiles(tuned.settings)
        with pytest.raises(VoiceNotDownloadable, match=r"(?i)file is too big"):
            files.download("AwACAgIAAxkBAAIC-big", max_bytes=10**9)
        assert files.download("AwACAgIAAxkBAAIC-fits", max_bytes=10**9).data == OGG


def test_a_voice_topic_starts_a_job_without_downloading_or_transcribing_in_the_webhook(
    setup, db, user, fake_openai, sfn
):
    with use(setup, **openai_vars(fake_openai)):
        update = voice_update(user, file_id="AwACAgIAAxkBAAIC-slow")
        assert user.post(update) == 200
    # The webhook did only the quick work: no getFile, no download, no transcription
    assert user.fake.calls_to("getFile", "downloadFile") == []
    assert fake_openai.calls("POST /v1/audio/transcriptions") == []
    job = jobs.latest_job_for_chat(db, user.chat_id)
    assert job.voice_file_id == "AwACAgIAAxkBAAIC-slow" and job.prompt == ""
    assert job.source_update_id == update["update_id"]
    # Its execution starts with TranscribeVoiceTopic (the ASL's TopicSource reads "voice")
    [start] = sfn.named("StartExecution")
    assert start["name"] == job.id and json.loads(start["input"])["voice"] is True
    [accepted] = user.texts()
    assert accepted.startswith(f"✅ Запрос принят! ID: {job.id}")


def test_a_voice_topic_over_the_daily_limit_starts_nothing(setup, db, user, fake_openai, sfn):
    with use(setup, **{**openai_vars(fake_openai), "MAX_JOBS_PER_USER_PER_DAY": "1"}):
        done = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
        jobs.finish_job(db, done["id"], "completed")
        assert user.post(voice_update(user)) == 200
    assert user.texts()[-1].startswith("⛔ Лимит — 1 ролик в сутки, и он исчерпан.")
    assert sfn.named("StartExecution") == []
    assert jobs.latest_job_for_chat(db, user.chat_id).id == done["id"]


def _voice_job(db, user, file_id: str = "AwACAgIAAxkBAAIC-voice") -> dict:
    return new_job(db, "", user_id=user.user_id, chat_id=user.chat_id, voice_file_id=file_id)


def test_the_stage_transcribes_stores_the_topic_and_says_what_it_heard_once(setup, rt, db, user, fake_openai):
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG, file_path="voice/file_3.oga")
    fake_openai.transcribe_next("Реклама кофе на рассвете")
    job = _voice_job(db, user)
    with use(setup, **openai_vars(fake_openai)) as tuned:
        assert transcribe_voice_topic(tuned, job["id"]) == {"topic_chars": 24}
        # a retried Lambda (crash after the work) transcribes nothing and says nothing again
        assert transcribe_voice_topic(tuned, job["id"]) == {"topic_chars": 24}
    assert jobs.get_job(db, job["id"]).prompt == "Реклама кофе на рассвете"
    assert [c.params["file_path"] for c in user.fake.calls_to("downloadFile")] == ["voice/file_3.oga"]
    [sent] = fake_openai.transcribed
    assert sent["filename"] == "file_3.ogg"
    assert user.texts() == ["🎙 Распознано: «Реклама кофе на рассвете»"]
    assert [r["stage"] for r in usage.rows(db, job["id"])] == ["transcribe_topic"]


@pytest.mark.parametrize(
    "fault, error, expected",
    [
        ("too_big", VoiceNotDownloadable, "voice_too_big"),
        ("refused", VoiceNotUnderstood, "voice_failed"),
        ("silence", VoiceEmpty, "voice_empty"),
    ],
)
def test_a_voice_topic_that_cannot_be_heard_fails_the_job_with_the_voices_message(
    setup, rt, db, user, fake_openai, fault, error, expected
):
    if fault == "too_big":  # the message did not say, and getFile refuses it ("file is too big")
        user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG, file_size=25 * 1024 * 1024)
    else:
        user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG, file_path="voice/file_3.oga")
    if fault == "refused":
        fake_openai.fail(
            "POST /v1/audio/transcriptions",
            400,
            body={
                "error": {
                    "message": "Audio file might be corrupted or unsupported",
                    "type": "invalid_request_error",
                    "param": "file",
                    "code": "invalid_value",
                }
            },
        )
    elif fault == "silence":
        fake_openai.transcribe_next("   ")
    job = _voice_job(db, user)
    with use(setup, **openai_vars(fake_openai)) as tuned:
        with pytest.raises(error) as raised:
            transcribe_voice_topic(tuned, job["id"])
        # the state machine's Catch hands the error to RecordFailure (its Cause is Lambda's JSON)
        cause = json.dumps({"errorType": error.__name__, "errorMessage": str(raised.value)})
        lifecycle.record_failure(tuned, job["id"], {"Error": error.__name__, "Cause": cause})
        lifecycle.record_failure(tuned, job["id"], {"Error": error.__name__, "Cause": cause})  # said once
    assert user.texts() == [texts.text("ru", expected, limit_mb="20")]
    ended = jobs.get_job(db, job["id"])
    assert ended.status == "failed" and ended.error_message.startswith(error.__name__)
    assert jobs.active_job_for_chat(db, user.chat_id) is None  # nothing blocks the chat
    if fault == "too_big":
        assert len(user.fake.calls_to("getFile", failed=True)) == 1 and user.fake.calls_to("downloadFile") == []
        assert fake_openai.calls("POST /v1/audio/transcriptions") == []


def test_a_voice_note_at_an_open_gate_is_feedback_like_a_typed_one(setup, rt, db, user, fake_openai, slow_worker):
    from tests.helpers import new_job

    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], status="awaiting_image_approval")
    gates.open_gate(db, job["id"], GateId("images"), "token-" + job["id"])
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG)
    fake_openai.transcribe_next("переделай сорок два")
    with use(setup, **openai_vars(fake_openai)) as tuned:
        update = voice_update(user)
        assert user.post(update) == 200
        # the webhook answered before any download: the worker was invoked asynchronously
        assert slow_worker.invocations == ["HandleSlowUpdateFunction"]
        assert slow_worker.wait_idle(30)
        # Lambda runs the same event again (an async retry): nothing is done twice
        assert handle_slow_update.run(
            tuned,
            {"kind": "voice_feedback", "message": update["message"], "lang": "ru", "update_id": update["update_id"]},
        ) == {"handled": False, "duplicate": True}
    assert slow_worker.async_runs == [("HandleSlowUpdateFunction", 0, "ok")]
    assert user.texts() == [
        "🎙 Распознано: «переделай сорок два»",
        texts.text("ru", "redo_hint", what="изображения", count=10),
    ]
    assert len(fake_openai.transcribed) == 1
    assert gates.get_gate(db, job["id"], GateId("images"))["decided_at"] is None


def test_a_voice_note_over_the_daily_budget_is_not_transcribed_and_says_why(
    setup, rt, db, user, fake_openai, slow_worker
):
    from tests.helpers import record_paid

    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], status="awaiting_image_approval")
    gates.open_gate(db, job["id"], GateId("images"), "token-" + job["id"])
    record_paid(db, job["id"], 1.0)  # the user's day is spent
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG)
    with use(setup, **openai_vars(fake_openai), MAX_USD_PER_USER_PER_DAY="1"):
        assert user.post(voice_update(user)) == 200
        assert slow_worker.wait_idle(30)
    assert slow_worker.async_runs == [("HandleSlowUpdateFunction", 0, "ok")]  # answered, not retried
    assert user.texts() == ["⛔ Дневной бюджет исчерпан: голосовое сообщение не распознано. Напишите текстом."]
    assert fake_openai.transcribed == []  # the transcription was never paid for
    assert [r["stage"] for r in usage.rows(db, job["id"])] == ["generate_clips"]  # nothing reserved
