"""What each paid call is charged, in its vendor's own unit (videobot.usage): the estimate a call
reserves before it is made and the figure it is settled at after, from the vendor's prices
(usage.py's tables, checked 2026-12-04). These are the amounts the budgets count, so each is
asserted to the cent's fraction it is, not only as "more than zero". A call made here reserves
with the test's runtime settings (no budget, no daily cap): the worker's database holds the
spending of every test before it, Runway's generations of the day included."""

from __future__ import annotations

import pytest

from tests.helpers import new_job, record_paid
from videobot import usage
from videobot.config import Settings
from videobot.data import ledger
from videobot.providers.base import Speech, Transcript

M = 1_000_000


def approx(usd: float):
    """Equal to the float's rounding: a price off by a millionth is another price."""
    return pytest.approx(usd, rel=1e-9, abs=1e-12)


OPENAI = {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test"}


def test_llm_tokens_are_priced_per_million_in_and_out_by_the_models_prefix():
    assert usage.llm_usd("gpt-5.4-mini", M, 0) == approx(0.75)
    assert usage.llm_usd("gpt-5.4-mini", 0, M) == approx(4.50)
    assert usage.llm_usd("gpt-5.4-mini-2026-03-01", 2_000, 3_000) == approx((2_000 * 0.75 + 3_000 * 4.50) / M)
    assert usage.llm_usd("gpt-4.1-mini", M, M) == approx(0.40 + 1.60)
    assert usage.llm_usd("a-model-not-listed", M, M) == approx(1.25 + 10.0)  # the fallback
    assert usage.llm_usd("gpt-5.4-mini", 0, 0) == 0.0


def test_character_billed_voices_are_priced_per_million_characters():
    assert usage.speech_price("offline", "anything") == 0.0
    assert usage.speech_price("polly", "Maxim") == 4.0  # no engine named: standard
    assert usage.speech_price("polly", "neural:Tatyana") == 16.0
    assert usage.speech_price("polly", "standard:Tatyana") == 4.0
    assert usage.speech_price("polly", "neural") == 16.0  # the engine alone, as the estimate names it
    assert usage.speech_price("openai", "tts-1") == 15.0
    assert usage.speech_price("openai", "tts-1-hd") == 30.0
    assert usage.speech_price("openai", "a-voice-not-listed") == 20.0


def test_realtime_speech_is_priced_by_its_text_and_audio_tokens():
    assert usage.realtime_usd("gpt-realtime-2.1-mini", M) == approx(20.0)
    assert usage.realtime_usd("gpt-realtime-2.1-mini", 0, M, 0) == approx(0.60)
    assert usage.realtime_usd("gpt-realtime-2.1-mini", 0, 0, M) == approx(2.40)
    assert usage.realtime_usd("a-realtime-not-listed", M, M, M) == approx(4.0 + 16.0 + 64.0)


def test_a_spoken_part_costs_its_realtime_tokens_plus_the_characters_another_voice_read():
    realtime = {"realtime_model": "gpt-realtime-2.1-mini", "audio_tokens": 1_000}
    # read by the realtime model: its tokens only, never its characters
    assert usage.speech_usd(Speech(b"", "wav", characters=500, vendor="openai", **realtime)) == approx(0.02)
    tokens = Speech(b"", "wav", 500, "openai", realtime_model="gpt-realtime-2.1-mini", text_tokens_in=M)
    assert usage.speech_usd(tokens) == approx(0.60)
    out = Speech(b"", "wav", 500, "openai", realtime_model="gpt-realtime-2.1-mini", text_tokens_out=M)
    assert usage.speech_usd(out) == approx(2.40)
    # the realtime model tried, then Polly read it: both
    both = Speech(b"", "wav", characters=500, vendor="polly", model="neural:Tatyana", **realtime)
    assert usage.speech_usd(both) == approx(0.02 + 500 * 16.0 / M)
    # Polly alone: its characters; offline: nothing
    assert usage.speech_usd(Speech(b"", "wav", characters=M, vendor="polly", model="Maxim")) == approx(4.0)
    assert usage.speech_usd(Speech(b"", "wav", characters=M)) == 0.0


def test_a_transcript_is_priced_by_the_minute_else_by_its_tokens_else_not_at_all():
    assert usage.transcript_usd(Transcript("", "gpt-transcribe", seconds=90.0)) == approx(1.5 * 0.0045)
    assert usage.transcript_usd(Transcript("", "whisper-1", 500, 50, seconds=30.0)) == approx(0.5 * 0.006)
    # a duration for a model priced by the minute in no table: its tokens
    tokens = Transcript("", "gpt-4o-mini-transcribe-x", input_tokens=M, output_tokens=M)
    assert usage.transcript_usd(tokens) == approx(1.25 + 5.00)
    assert usage.transcript_usd(Transcript("", "a-model-not-listed", 0, M, seconds=60.0)) == approx(10.0)
    assert usage.transcript_usd(Transcript("", "gpt-4o-transcribe", input_tokens=M)) == approx(2.50)
    assert usage.transcript_usd(Transcript("", "gpt-transcribe")) is None  # neither: the estimate stands


def test_an_llm_call_reserves_its_roles_calls_at_the_configured_model():
    settings = Settings(**OPENAI)
    # the script writer may write twice: 2 x (1,500 in, 1,500 out) at gpt-5.4-mini
    assert usage.llm_estimate(settings, "script") == approx((3_000 * 0.75 + 3_000 * 4.50) / M)
    assert usage.llm_estimate(settings, "image_prompts") == approx((3_500 * 0.75 + 3_000 * 4.50) / M)
    call = usage.llm_call(settings, "job-1", "generate_script", "script")
    assert (call.job_id, call.stage, call.vendor, call.model) == ("job-1", "generate_script", "openai", "gpt-5.4-mini")
    assert call.usd == approx(usage.llm_estimate(settings, "script"))
    assert call.key.startswith("job-1:generate_script:") and call.user_id is None and call.segment_index is None
    assert call.key != usage.llm_call(settings, "job-1", "generate_script", "script").key  # each call its own
    offline = usage.llm_call(Settings(), "job-1", "generate_script", "script")
    assert (offline.vendor, offline.model, offline.usd) == ("offline", "offline", 0.0)


def test_a_spoken_parts_estimate_covers_each_verbatim_try_and_the_fallback_voice():
    chars = 140  # 10 s of speech: 200 audio tokens; the text in and out a third of the characters each
    one_try = (46 * 0.60 + 46 * 2.40 + 200 * 20.0) / M
    polly = chars * 4.0 / M
    settings = Settings(TTS_PROVIDER="openai", OPENAI_API_KEY="sk-test", OPENAI_TTS_VERBATIM_RETRIES=2)
    assert usage.speech_estimate(settings, "openai", chars) == (
        "gpt-realtime-2.1-mini",
        approx(3 * one_try + polly),
    )
    alone = settings.with_values(TTS_FALLBACK_PROVIDER="none", OPENAI_TTS_VERBATIM_RETRIES=0)
    assert usage.speech_estimate(alone, "openai", chars) == ("gpt-realtime-2.1-mini", approx(one_try))
    neural = Settings(TTS_PROVIDER="polly", POLLY_ENGINE="neural")
    assert usage.speech_estimate(neural, "polly", M) == ("neural", approx(16.0))
    assert usage.speech_estimate(Settings(), "offline", chars) == ("offline", 0.0)

    call = usage.speech_call(neural, "job-1", 3, "x" * 1_000)
    assert (call.job_id, call.stage, call.vendor, call.model) == ("job-1", "record_voiceover", "polly", "neural")
    assert (call.segment_index, call.units, call.usd) == (3, {"characters": 1_000}, approx(1_000 * 16.0 / M))
    assert call.key.startswith("job-1:record_voiceover:")


def test_a_voice_notes_transcription_reserves_its_minutes_from_its_size():
    settings = Settings(**OPENAI)
    call = usage.transcription_call(settings, None, "transcribe_voice_topic", 240_000, user_id=42)
    # 240 KB of Opus at 2 KB/s: two minutes at 0.0045 USD; no job, so the user's budget
    assert call.usd == approx(2 * 0.0045)
    assert (call.job_id, call.user_id, call.vendor, call.model) == (None, 42, "openai", "gpt-transcribe")
    assert call.units == {"seconds": 120.0} and call.key.startswith("None:transcribe_voice_topic:")
    assert usage.transcription_call(settings, "job-1", "s", 10).units == {"seconds": 1.0}  # at least a second
    by_tokens = settings.with_values(OPENAI_TRANSCRIBE_MODEL="a-model-not-listed")
    # a model priced in tokens: about 10 tokens of audio a second in, 200 out
    assert usage.transcription_call(by_tokens, "job-1", "s", 20_000).usd == approx(
        usage.llm_usd("a-model-not-listed", 100, 200)
    )


def test_a_vendor_task_reserves_its_credits_keyed_by_segment_and_submission():
    estimate = {"vendor": "runway", "model": "gen4_turbo", "seconds": 5, "credits": 25}
    call = usage.task_call("job-1", "generate_clips", 4, 2, estimate, "clip")
    assert call.key == "job-1:clip:4:2"
    assert (call.job_id, call.stage, call.vendor, call.model, call.segment_index) == (
        "job-1",
        "generate_clips",
        "runway",
        "gen4_turbo",
        4,
    )
    assert call.usd == approx(0.25) and call.units == {"seconds": 5.0, "credits": 25.0}
    image = usage.task_call("job-1", "generate_images", 0, 1, {"vendor": "runway", "model": "m", "credits": 5}, "image")
    assert image.units == {"seconds": 0.0, "credits": 5.0}
    with pytest.raises(KeyError):  # no price: never reserved as free
        usage.task_call("job-1", "generate_images", 0, 1, {"vendor": "runway", "model": "m"}, "image")


def test_the_budgets_and_runways_daily_cap_come_from_the_settings():
    settings = Settings(MAX_USD_PER_USER_PER_DAY=3, MAX_USD_PER_DAY=40, RUNWAY_DAILY_GENERATIONS=50)
    assert usage.budgets(settings) == ledger.Budgets(3.0, 40.0)
    runway = ledger.Call("k", "j", "generate_clips", "runway", "gen4_turbo", 0.25)
    openai = ledger.Call("k2", "j", "generate_script", "openai", "gpt-5.4-mini", 0.01)
    assert usage.daily_caps(settings, [runway, openai]) == {"gen4_turbo": 50}
    assert usage.daily_caps(settings.with_values(RUNWAY_DAILY_GENERATIONS=0), [runway]) == {}
    # a revision at a gate asks its USD and its generations, against the same budgets and caps
    assert usage.ask(settings, 0.5, {"gen4_turbo": 3}) == ledger.Ask(
        0.5, ledger.Budgets(3.0, 40.0), {"gen4_turbo": 3}, {"gen4_turbo": 50}
    )
    assert usage.ask(settings.with_values(RUNWAY_DAILY_GENERATIONS=0), 0.5, {"gen4_turbo": 3}).caps == {}


@pytest.mark.parametrize(
    ("settle", "stored"),
    [
        # an LLM method: its reported tokens at its model
        (
            lambda bill: bill.llm(
                {"calls": 2, "model": "gpt-4.1-mini", "input_tokens": 10_000, "output_tokens": 5_000}
            ),
            {
                "amount_usd": (10_000 * 0.40 + 5_000 * 1.60) / M,
                "calls": 2,
                "input_tokens": 10_000,
                "output_tokens": 5_000,
            },
        ),
        # a reply whose usage counted no tokens: none
        (
            lambda bill: bill.llm({"calls": 1, "model": "gpt-4.1-mini"}),
            {"amount_usd": 0.0, "calls": 1, "input_tokens": 0, "output_tokens": 0},
        ),
        # no usage (offline) or no call made: free
        (lambda bill: bill.llm(None), {"amount_usd": 0.0, "calls": 1, "input_tokens": 0}),
        (lambda bill: bill.llm({"calls": 0, "input_tokens": 9}), {"amount_usd": 0.0, "input_tokens": 0}),
        # a spoken part read by Polly: its characters
        (
            lambda bill: bill.speech(Speech(b"", "wav", characters=2_000, vendor="polly", model="neural:Tatyana")),
            {"amount_usd": 2_000 * 16.0 / M, "characters": 2_000, "vendor": "polly", "model": "neural:Tatyana"},
        ),
        # a transcript by the minute, and one with no usage at all: the estimate stands
        (
            lambda bill: bill.transcript(Transcript("", "gpt-transcribe", seconds=120.0)),
            {"amount_usd": 2 * 0.0045, "audio_seconds": 120.0},
        ),
        (lambda bill: bill.transcript(Transcript("", "gpt-transcribe")), {"amount_usd": 0.5, "audio_seconds": 0.0}),
        # a body that settles nothing: the estimate
        (lambda bill: None, {"amount_usd": 0.5, "state": "settled"}),
    ],
)
def test_a_paid_call_is_stored_settled_at_what_the_vendor_reported(rt, db, settle, stored):
    job = new_job(db)
    call = ledger.Call(f"{job['id']}:t", job["id"], "generate_script", "openai", "gpt-5.4-mini", 0.5)
    with usage.paid_call(db, rt.settings, call) as bill:
        settle(bill)
    [row] = usage.rows(db, job["id"])
    assert row["state"] == "settled"
    assert {k: float(row[k]) if k == "amount_usd" else row[k] for k in stored} == {
        k: approx(v) if k == "amount_usd" else v for k, v in stored.items()
    }


def test_a_jobs_summary_counts_each_call_once_by_its_kind_and_model(db):
    """What /status, the delivered video's cost line and the demo's printout say a job used:
    settled calls and calls in flight at their amounts; released calls and a Map's generations
    reserved but not yet submitted, nothing."""
    job_id = new_job(db)["id"]
    record_paid(db, job_id, 0.01, stage="generate_script", vendor="openai", model="gpt-5.4-mini",
                calls=2, input_tokens=1_000, output_tokens=500)  # fmt: skip
    record_paid(db, job_id, 0.002, stage="write_image_prompts", vendor="openai", model="gpt-5.4-mini",
                input_tokens=300, output_tokens=200)  # fmt: skip
    record_paid(db, job_id, 0.00312, stage="record_voiceover", vendor="polly", model="standard:Maxim", characters=300)
    record_paid(db, job_id, 0.0011, stage="record_voiceover", vendor="polly", model="standard:Maxim", characters=200)
    record_paid(db, job_id, 0.25, task_id="t-1", credits=25, seconds=5)  # two Runway clips
    record_paid(db, job_id, 0.1, task_id="t-3", credits=10, seconds=4)
    record_paid(
        db, job_id, 0.05, stage="generate_images", vendor="other", model="m", task_id="t-2", credits=5, seconds=1
    )
    in_flight = ledger.Call(f"{job_id}:llm", job_id, "revise_stage", "openai", "gpt-5.4-mini", 0.00437)
    planned = ledger.Call(f"{job_id}:image:3:1", job_id, "generate_images", "runway", "gen4_image", 0.05)
    released = ledger.Call(f"{job_id}:gone", job_id, "generate_script", "openai", "gpt-5.4-mini", 0.5)
    ledger.reserve(db, [in_flight, planned, released], ledger.Budgets())
    ledger.release(db, released.key)

    assert usage.summary(db, job_id) == {
        "llm_calls": 2 + 1 + 1,
        "llm_input_tokens": 1_300,
        "llm_output_tokens": 700,
        "tts_characters": 500,
        "runway_tasks": 2,
        "runway_credits": 35.0,
        "runway_seconds": 9.0,
        "by_model": {
            "openai:gpt-5.4-mini": {"calls": 4, "credits": 0.0, "seconds": 0.0, "tokens": 2_000, "characters": 0},
            "polly:standard:Maxim": {"calls": 2, "credits": 0.0, "seconds": 0.0, "tokens": 0, "characters": 500},
            "runway:gen4_turbo": {"calls": 2, "credits": 35.0, "seconds": 9.0, "tokens": 0, "characters": 0},
            "other:m": {"calls": 1, "credits": 5.0, "seconds": 1.0, "tokens": 0, "characters": 0},
        },
        "estimated_usd": 0.4206,  # 0.42059, to the hundredth of a cent
        "narration_usd": 0.0042,  # 0.00422
    }
    assert usage.summary(db, new_job(db)["id"])["estimated_usd"] == 0.0


class _Killed(BaseException):
    """The Lambda's sandbox ending mid-call."""


class _MayHaveSpent(Exception):
    may_have_spent = True  # a create that timed out: the vendor may have started the task


@pytest.mark.parametrize(
    ("error", "state"),
    [(ValueError("refused"), "released"), (_Killed(), "released"), (_MayHaveSpent("timed out"), "reserved")],
)
def test_a_paid_call_that_raised_is_released_unless_it_may_have_spent(rt, db, error, state):
    job = new_job(db)
    call = ledger.Call(f"{job['id']}:t", job["id"], "generate_clips", "runway", "gen4_turbo", 0.25)
    with pytest.raises(type(error)), usage.paid_call(db, rt.settings, call):
        raise error
    [row] = usage.rows(db, job["id"])
    assert (row["state"], float(row["reserved_usd"])) == (state, 0.25)
    assert float(row["amount_usd"]) == (0.0 if state == "released" else 0.25)


def test_a_vendor_task_stays_reserved_until_a_poll_sees_it_end_then_counts_what_it_reported(rt, db):
    job = new_job(db)
    estimate = {"vendor": "runway", "model": "gen4_turbo", "seconds": 5, "credits": 25}
    for index, task_id in ((0, "t-0"), (1, "t-1")):
        with usage.paid_call(
            db, rt.settings, usage.task_call(job["id"], "generate_clips", index, 1, estimate, "clip")
        ) as bill:
            bill.task(task_id)
    assert [(r["task_id"], r["state"]) for r in usage.rows(db, job["id"])] == [("t-0", "reserved"), ("t-1", "reserved")]
    usage.settle_task(db, job["id"], "t-0", 12)  # Runway's `cost`
    usage.settle_task(db, job["id"], "t-1", None)  # none reported: the estimate
    usage.settle_task(db, job["id"], "t-0", 99)  # seen ending again: counted once
    usage.settle_task(db, job["id"], "t-unknown", 99)
    rows = usage.rows(db, job["id"])
    assert [(r["state"], float(r["amount_usd"]), r["credits"]) for r in rows] == [
        ("settled", approx(0.12), 12.0),
        ("settled", approx(0.25), 25.0),
    ]
