"""Voice topics: the transcription client against the fake OpenAI (`POST /v1/audio/transcriptions`),
and the bot's answers to a voice note, spoken through the fake Bot API (getFile, the file
download). Starting the job from the transcription is in tests/integration/telegram/."""

from __future__ import annotations

import pytest

from tests.fakes.fixtures import openai_vars, vendor_env
from tests.fakes.telegram_fixtures import TelegramUser, lambda_poster
from videobot.data import gates, jobs
from videobot.errors import VendorFailed, VendorUnavailable
from videobot.providers.openai_transcribe import OpenAITranscriber
from videobot.telegram import texts

OGG = b"OggS\x00\x02" + bytes(range(256)) * 20  # stands in for a voice note's OGG/Opus bytes


@pytest.fixture
def user(telegram):
    return TelegramUser(telegram, lambda_poster())


def voice_update(user: TelegramUser, file_id: str = "AwACAgIAAxkBAAIC-voice", file_size: int = len(OGG)) -> dict:
    update = user.message_update(template="telegram_message_voice")
    update["message"]["voice"].update({"file_id": file_id, "file_size": file_size})
    return update


def test_the_transcription_request_follows_the_documented_shape(fake_openai):
    fake_openai.transcribe_next("  Реклама   кофе на рассвете ")
    with vendor_env(openai_vars(fake_openai)):
        transcript = OpenAITranscriber().transcribe(OGG, filename="file_7.oga", language="ru")

    [call] = fake_openai.calls("POST /v1/audio/transcriptions")
    assert call.headers["authorization"] == "Bearer sk-test-fake-openai"
    assert call.headers["content-type"].startswith("multipart/form-data")
    [sent] = fake_openai.transcribed
    assert sent == {"model": "gpt-transcribe", "response_format": "json", "language": "ru",
                    "filename": "file_7.oga", "size": len(OGG)}
    assert transcript.text == "Реклама кофе на рассвете" and transcript.model == "gpt-transcribe"
    assert transcript.input_tokens > 0 and transcript.output_tokens > 0


def test_transcription_errors_become_ours(fake_openai):
    with vendor_env({**openai_vars(fake_openai), "OPENAI_MAX_RETRIES": "0"}):
        with pytest.raises(VendorFailed, match="Invalid file format"):
            OpenAITranscriber().transcribe(OGG, filename="voice.txt")
        fake_openai.fail("POST /v1/audio/transcriptions", 429, body={"error": {"message": "Rate limit reached",
                                                                              "type": "requests", "code": None}})
        with pytest.raises(VendorUnavailable):
            OpenAITranscriber().transcribe(OGG)
        with pytest.raises(VendorFailed):
            OpenAITranscriber().transcribe(b"")
    with vendor_env({**openai_vars(fake_openai), "OPENAI_API_KEY": "sk-wrong"}):
        with pytest.raises(VendorFailed, match="HTTP 401"):
            OpenAITranscriber().transcribe(OGG)


def test_without_a_key_voice_gets_a_clear_answer_and_nothing_is_downloaded(user):
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG)
    assert user.post(voice_update(user)) == 200
    assert user.texts() == [texts.text("ru", "voice_needs_key")]
    assert user.fake.calls_to("getFile", "downloadFile") == []
    assert jobs.latest_job_for_chat(user.chat_id) is None


def test_a_voice_note_over_20_mb_is_refused_before_and_by_getfile(user, fake_openai):
    with vendor_env(openai_vars(fake_openai)):
        # Telegram says how big it is: nothing is asked for
        assert user.post(voice_update(user, file_size=21 * 1024 * 1024)) == 200
        assert user.fake.calls_to("getFile") == []
        # The message does not say, and getFile refuses it ("file is too big")
        user.fake.add_file("big-voice", OGG, file_size=25 * 1024 * 1024)
        assert user.post(voice_update(user, file_id="big-voice", file_size=0)) == 200
        assert len(user.fake.calls_to("getFile", failed=True)) == 1
    too_big = texts.text("ru", "voice_too_big", limit_mb="20")
    assert user.texts() == [too_big, too_big]
    assert fake_openai.calls("POST /v1/audio/transcriptions") == []
    assert jobs.latest_job_for_chat(user.chat_id) is None


@pytest.mark.parametrize("fault, expected", [("refused", "voice_failed"), ("silence", "voice_empty")])
def test_a_failed_or_empty_transcription_starts_nothing(user, fake_openai, fault, expected):
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG, file_path="voice/file_3.oga")
    if fault == "refused":
        fake_openai.fail("POST /v1/audio/transcriptions", 400, body={"error": {
            "message": "Audio file might be corrupted or unsupported", "type": "invalid_request_error",
            "param": "file", "code": "invalid_value"}})
    else:
        fake_openai.transcribe_next("   ")
    with vendor_env(openai_vars(fake_openai)):
        assert user.post(voice_update(user)) == 200
    # The file was fetched from the Bot API (getFile, then /file/bot<token>/<file_path>)
    assert [c.params["file_path"] for c in user.fake.calls_to("downloadFile")] == ["voice/file_3.oga"]
    assert user.texts() == [texts.text("ru", expected)]
    assert jobs.latest_job_for_chat(user.chat_id) is None


def test_a_voice_note_at_an_open_gate_is_feedback_like_a_typed_one(user, fake_openai):
    from tests.helpers import new_job

    job = new_job("Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(job["id"], status="awaiting_image_approval")
    gates.open_gate(job["id"], "images", "token-" + job["id"])
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", OGG)
    fake_openai.transcribe_next("переделай сорок два")
    with vendor_env(openai_vars(fake_openai)):
        assert user.post(voice_update(user)) == 200
    assert user.texts() == ["🎙 Распознано: «переделай сорок два»",
                            texts.text("ru", "redo_hint", what="изображения", count=10)]
    assert gates.get_gate(job["id"], "images")["decided_at"] is None
