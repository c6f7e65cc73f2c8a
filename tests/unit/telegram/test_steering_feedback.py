"""Feedback at a gate, the parts that need no state machine: reading "переделай 3", the
bounded number of revisions, a hint for text that names no segment, and the stage that acts
on a revision (the script rewritten, only the named segments cleared). The loops themselves
run in tests/integration/telegram/test_steering_conversation.py."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, lambda_poster
from tests.helpers import StartingStepFunctions, job_at_gate, new_job, offered, replace_part
from tests.reliability_support import sfn  # noqa: F401
from videobot import usage
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.data.db import NOW
from videobot.pipeline import GateId
from videobot.stages.generate_script import generate_script as generate_script_stage
from videobot.stages.revise_stage import revise_stage
from videobot.telegram import texts
from videobot.telegram.feedback import parse_redo


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("переделай 3", ([2], "", None)),
        ("Переделай 3 5", ([2, 4], "", None)),
        ("redo 3 5", ([2, 4], "", None)),
        ("переделай 2, 4 и 7: светлее и теплее", ([1, 3, 6], "светлее и теплее", None)),
        ("redo 10 brighter", ([9], "brighter", None)),
        ("переделай", None),
        ("переделай 0", None),
        ("redo 11", None),
        ("переделай все", None),
        ("сделай 3", None),
        ("сделай клип 3 медленнее", ([2], "медленнее", "clip")),
        ("переделай клипы 3 и 5 быстрее", ([2, 4], "быстрее", "clip")),
        ("make clip 3 slower", ([2], "slower", "clip")),
        ("переделай картинку 2 светлее", ([1], "светлее", "image")),
        ("redo image 4", ([3], "", "image")),
        ("сделай ярче", None),
        ("3", None),
        # a noun with no numbers: all of that kind, with the wish (offered with its price)
        ("сделай клипы медленнее", (None, "медленнее", "clip")),
        ("make clips slower", (None, "slower", "clip")),
        ("сделай картинки ярче", (None, "ярче", "image")),
        ("make images brighter", (None, "brighter", "image")),
        ("переделай все клипы плавнее", None),  # "все" first: redo_all_words' phrase, not this one
        ("переделай клипы все плавнее", (None, "плавнее", "clip")),
        ("redo clips", (None, "", "clip")),
        ("сделай клип 11 медленнее", None),
        # ranges, with either noun and either verb
        ("make clips 3-5 slower", ([2, 3, 4], "slower", "clip")),
        ("сделай клипы 3–5 медленнее", ([2, 3, 4], "медленнее", "clip")),
        ("переделай картинки с 3 по 5 ярче", ([2, 3, 4], "ярче", "image")),
        ("redo images 3 to 5 brighter", ([2, 3, 4], "brighter", "image")),
        ("redo 2, 6-7 and 9", ([1, 5, 6, 8], "", None)),
        ("переделай 8-10", ([7, 8, 9], "", None)),
        ("переделай 5-3", None),
        ("redo 3-11", None),
    ],
)
def test_redo_names_segments_one_based(text, expected):
    assert parse_redo(text, 10) == expected


@pytest.mark.parametrize(
    "said, wish",
    [
        ("сделай картинки ярче", "ярче"),
        ("make images brighter", "brighter"),
        ("переделай изображения теплее", "теплее"),
    ],
)
def test_a_noun_with_no_numbers_offers_all_ten_with_the_wish_and_its_price(db, user, sfn, said, wish):
    job = job_at_gate(db, user, "images")
    assert user.say(said) == 200
    [offer] = user.sent("sendMessage")
    assert offer.params["text"].startswith(f"🔁 Переделать все 10 изображений с пожеланием «{wish}»? Это будет стоить")
    assert sfn.calls == [] and gates.get_gate(db, job["id"], GateId("images"))["offered_feedback"] == wish


def test_clips_with_no_numbers_at_the_clip_gate_are_offered_all_ten(db, user, sfn):
    job = job_at_gate(db, user, "videos")
    assert user.say("make clips slower") == 200
    [offer] = user.sent("sendMessage")
    assert offer.params["text"].startswith("🔁 Переделать все 10 клипов с пожеланием «slower»?")
    assert sfn.calls == [] and gates.get_gate(db, job["id"], GateId("videos"))["offered_feedback"] == "slower"


@pytest.mark.parametrize(
    "stage, said, told",
    [
        ("images", "сделай клип 3 медленнее", "wrong_stage_images"),
        ("images", "make clips 3-5 slower", "wrong_stage_images"),
        ("videos", "переделай картинку 3 светлее", "wrong_stage_videos"),
        ("videos", "сделай картинки ярче", "wrong_stage_videos"),
        ("script", "сделай клип 3 медленнее", "wrong_stage_script"),
        # a number out of 1..10 at another stage's gate: still that stage's answer, never the
        # numbers hint of the open stage, nor (at the script gate) a paid rewrite with the words
        ("images", "сделай клип 11 медленнее", "wrong_stage_images"),
        ("script", "сделай клип 11 медленнее", "wrong_stage_script"),
        ("videos", "переделай картинку 12 светлее", "wrong_stage_videos"),
    ],
)
def test_a_noun_of_another_stage_is_told_which_stage_is_open_and_nothing_changes(db, user, sfn, stage, said, told):
    job = job_at_gate(db, user, stage)
    assert user.say(said) == 200
    assert user.texts() == [texts.text("ru", told, count=10)]
    gate = gates.get_gate(db, job["id"], GateId(stage))
    assert sfn.calls == [] and gate["decided_at"] is None and gate["offered_feedback"] is None
    assert gate["revisions"] == 0


def test_a_number_out_of_range_at_its_own_gate_gets_the_numbers_hint(db, user, sfn):
    job = job_at_gate(db, user, "videos")
    assert user.say("сделай клип 11 медленнее") == 200
    assert user.texts() == [texts.text("ru", "redo_hint", what=texts.text("ru", "redo_what_videos"), count=10)]
    assert sfn.calls == [] and gates.get_gate(db, job["id"], GateId("videos"))["revisions"] == 0


def test_the_wrong_stage_answers_read_in_both_languages():
    for lang in ("ru", "en"):
        assert "✅" in texts.text(lang, "wrong_stage_script", count=10)
        for stage in ("images", "videos"):
            said = texts.text(lang, f"wrong_stage_{stage}", count=10)
            assert "1 " in said and "10" in said and "2-4" in said
    assert texts.text("en", "wrong_stage_images", count=10).startswith("🖼 The images are up for approval now")


def test_revisions_are_bounded_per_gate(db, user):
    job = job_at_gate(db, user, "script", revisions=5)
    assert user.say("перепиши: сделай веселее") == 200
    assert user.texts() == [texts.text("ru", "revise_limit", limit=5)]
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["decided_at"] is None and gate["revisions"] == 5  # still waiting for ✅ or ❌


def test_text_at_the_image_gate_that_names_no_segment_gets_a_hint(db, user):
    job = job_at_gate(db, user, "images")
    assert user.say("переделай 42") == 200
    assert user.texts() == [texts.text("ru", "redo_hint", what="изображения", count=10)]
    assert gates.get_gate(db, job["id"], GateId("images"))["decided_at"] is None


def _revised(db, job_id: str, stage: str, feedback: str | None, segments: list[int] | None = None) -> None:
    db.execute(
        f"UPDATE {gates.GATES} SET decision = 'revised', decided_at = now(), revisions = 1, feedback = %s,"
        " redo_segments = %s WHERE job_id = %s AND stage = %s",
        (feedback, segments, job_id, stage),
    )


def test_revise_script_rewrites_it_with_the_feedback(rt, db):
    job = new_job(db, "Реклама кофе")
    generate_script_stage(rt, job["id"])
    before = jobs.get_job(db, job["id"])["script_text"]
    gates.open_gate(db, job["id"], GateId("script"), "token")
    _revised(db, job["id"], "script", "Зелёный чай")
    assert revise_stage(rt, job["id"], GateId("script")) == {"stage": "script", "revision": 1}
    after = jobs.get_job(db, job["id"])
    assert after["script_text"] != before and "Зелёный чай" in after["script_text"]
    assert len(after["script_segments"]) == 10


def test_redo_clips_clears_exactly_the_named_clips_and_revises_their_motion_with_the_wish(rt, db):
    job = new_job(db, "Реклама кофе")
    segment_rows.create_segments(db, job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    for i in range(10):
        segment_rows.update_segment(
            db,
            job["id"],
            i,
            image_path=f"i{i}.png",
            animation_prompt=f"Gentle pan {i} across the scene, smooth and steady",
            video_path=f"v{i}.mp4",
            video_runway_task_id=f"task-{i}",
            video_generated_at=NOW,
            status="video_ready",
        )
    before = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    gates.open_gate(db, job["id"], GateId("videos"), "token")
    _revised(db, job["id"], "videos", "медленнее", [2, 4])

    assert revise_stage(rt, job["id"], GateId("videos"))["segments"] == [2, 4]
    after = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    assert {i for i in range(10) if after[i] != before[i]} == {2, 4}
    for i in (2, 4):
        assert after[i]["video_path"] is None and after[i]["video_runway_task_id"] is None
        assert after[i]["status"] == "animation_prompt_ready" and after[i]["image_path"] == f"i{i}.png"
        # the wish, rewritten into the motion by the (offline) LLM: its pace, not its words appended
        assert after[i]["animation_prompt"] == f"Very slow and calm: pan {i} across the scene"
    assert jobs.get_job(db, job["id"])["status"] == "generating_videos"
    # in one LLM call, through the ledger
    [call] = [r for r in usage.rows(db, job["id"]) if r["stage"] == "revise_stage"]
    assert call["calls"] == 1
    # A retried invocation changes nothing more and calls nothing
    revise_stage(rt, job["id"], GateId("videos"))
    assert (
        segment_rows.get_segment(db, job["id"], 2)["animation_prompt"] == "Very slow and calm: pan 2 across the scene"
    )
    assert len([r for r in usage.rows(db, job["id"]) if r["stage"] == "revise_stage"]) == 1


def test_each_gate_loops_back_visibly_in_the_state_machine():
    import json
    from pathlib import Path

    definition = json.loads(
        (Path(__file__).resolve().parents[3] / "statemachine" / "video_pipeline.asl.json").read_text(encoding="utf-8")
    )
    top = definition["States"]
    visuals = top["ProduceClipsAndVoiceover"]["Branches"][0]["States"]
    for states, gate, decision, revise, back, approved in (
        (top, "AwaitScriptApproval", "ScriptDecision", "ReviseScript", "AwaitScriptApproval", "SplitIntoSegments"),
        (visuals, "AwaitImageApproval", "ImagesDecision", "RedoImages", "GenerateImages", "WriteAnimationPrompts"),
        (visuals, "AwaitVideoApproval", "ClipsDecision", "RedoClips", "AnimateClips", "ClipsApproved"),
    ):
        assert states[gate]["ResultPath"] == "$.gate" and states[gate]["Next"] == decision
        [rule] = states[decision]["Choices"]
        assert rule == {"Variable": "$.gate.revise", "IsPresent": True, "Next": revise}
        assert states[decision]["Default"] == approved
        assert states[revise]["Parameters"]["FunctionName"] == "${ReviseStageFunctionArn}"
        assert states[revise]["Next"] == back


def test_a_retried_revise_script_does_not_rewrite_twice(rt, db):
    job = new_job(db, "Реклама кофе")
    generate_script_stage(rt, job["id"])
    gates.open_gate(db, job["id"], GateId("script"), "token")
    _revised(db, job["id"], "script", "Зелёный чай")
    revise_stage(rt, job["id"], GateId("script"))
    first = jobs.get_job(db, job["id"])
    revise_stage(rt, job["id"], GateId("script"))
    assert jobs.get_job(db, job["id"])["script_generated_at"] == first["script_generated_at"]


class _StepFunctions:
    """Stands in for the boto3 client: records calls, reading the gate as the next Lambda would."""

    def __init__(self, db, job_id: str, error_code: str | None = None):
        self.db, self.job_id, self.error_code, self.calls = db, job_id, error_code, []

    def send_task_success(self, **kwargs):
        from botocore.exceptions import ClientError

        self.calls.append({**kwargs, "gate": gates.get_gate(self.db, self.job_id, GateId("images"))})
        if self.error_code:
            raise ClientError({"Error": {"Code": self.error_code, "Message": "x"}}, "SendTaskSuccess")
        return {}


def test_revise_claims_the_gate_before_step_functions_hears_and_a_failed_call_reopens_it(rt, db, user, monkeypatch):
    import json

    from videobot import control
    from videobot.errors import ControlUnavailable

    job = job_at_gate(db, user, "images")
    failing = _StepFunctions(db, job["id"], "ThrottlingException")
    replace_part(monkeypatch, rt, "sfn", failing)
    with pytest.raises(ControlUnavailable):  # Step Functions throttled: the user is asked to try again
        control.revise(rt, job["id"], GateId("images"), segments=[2])
    gate = gates.get_gate(db, job["id"], GateId("images"))
    assert gate["decided_at"] is None and gate["revisions"] == 0  # the user can ask again

    sfn = _StepFunctions(db, job["id"])
    replace_part(monkeypatch, rt, "sfn", sfn)
    assert control.revise(rt, job["id"], GateId("images"), feedback="светлее", segments=[2, 4]).reason == "revised"
    [call] = sfn.calls
    assert call["taskToken"] == "token-" + job["id"]
    assert json.loads(call["output"]) == {
        "approved": False,
        "stage": "images",
        "revise": {"feedback": "светлее", "segments": [2, 4]},
    }
    assert call["gate"]["decision"] == "revised" and call["gate"]["redo_segments"] == [2, 4]
    # A second message changes nothing until the gate opens again
    assert control.revise(rt, job["id"], GateId("images"), segments=[1]).reason == "not_waiting" and len(sfn.calls) == 1


def test_the_next_job_is_made_with_the_users_settings(rt, db, user, monkeypatch):

    from videobot import control, preferences

    replace_part(monkeypatch, rt, "sfn", StartingStepFunctions())
    for field, value in (
        ("aspect_ratio", "9:16"),
        ("voice", "male"),
        ("narration_language", "en"),
        ("subtitles", False),
    ):
        preferences.choose(db, user.user_id, field, value, **offered(rt))
    rt = rt.with_env(STATE_MACHINE_ARN="arn:aws:states:us-east-1:123456789012:stateMachine:vp")
    job, created = control.start_job(rt, user_id=user.user_id, chat_id=user.chat_id, prompt="Реклама кофе")
    other, _ = control.start_job(rt, user_id=user.user_id + 1, chat_id=user.chat_id + 1, prompt="Реклама чая")
    assert created
    assert (job["aspect_ratio"], job["voice"], job["language"], job["subtitles"]) == ("9:16", "male", "en", False)
    assert (other["aspect_ratio"], other["voice"], other["language"], other["subtitles"]) == ("16:9", None, None, None)


def test_redo_images_offline_works_the_wish_into_the_prompt_within_its_rules(rt, db):
    job = new_job(db, "Реклама кофе")
    segment_rows.create_segments(db, job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    long_prompt = "Cinematic photo of a cosy cafe counter, " + "warm light, " * 12 + "no text"
    for i in range(10):
        segment_rows.update_segment(db, job["id"], i, image_prompt=long_prompt, image_path=f"i{i}.png")
    gates.open_gate(db, job["id"], GateId("images"), "token")
    _revised(db, job["id"], "images", "ярче " * 30, [2])
    revise_stage(rt, job["id"], GateId("images"))
    prompt = segment_rows.get_segment(db, job["id"], 2)["image_prompt"]
    assert prompt.startswith("Cinematic photo of a cosy cafe counter") and prompt.endswith(", no text")
    assert len(prompt) <= 200 and prompt.count("no text") == 1
    assert segment_rows.get_segment(db, job["id"], 3)["image_prompt"] == long_prompt
