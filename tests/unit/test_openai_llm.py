"""The OpenAI Responses client against the fake OpenAI API: the request it sends (key, model,
strict JSON schema, the versioned role prompt), the script rules with one re-ask, and the
error handling (429/5xx retried with backoff, 400 never)."""

from __future__ import annotations

import generate_script.app as generate_script
import pytest
import split_into_segments.app as split_into_segments
import write_animation_prompts.app as write_animation_prompts
import write_image_prompts.app as write_image_prompts

from tests.helpers import new_job
from videobot import usage
from videobot.data import gates
from videobot.data import segments as segment_rows
from videobot.errors import VendorFailed, VendorUnavailable
from videobot.pipeline import IMAGE, GateId
from videobot.providers.base import LongPart
from videobot.providers.openai_llm import OpenAILLM, role_prompt, script_problems
from videobot.stages.revise_stage import revise_stage

FAST_RETRY = {"retry-after-ms": "10"}
TEN_RU = [f"Ароматный кофе согревает утро и дарит бодрость на весь день номер {i}." for i in range(10)]


def test_the_script_request_follows_the_responses_api(rt, openai_env):
    llm = rt.llm
    assert isinstance(llm, OpenAILLM)

    script = llm.write_script("Реклама кофе")

    [call] = openai_env.calls("POST /v1/responses")
    body = call.json()
    assert call.headers["authorization"] == "Bearer sk-test-fake-openai"
    assert body["model"] == "gpt-5.4-mini"
    assert body["instructions"] == role_prompt("script") and "Role: script writer (v1)" in body["instructions"]
    assert body["input"] == "Topic: Реклама кофе"
    assert body["text"]["format"]["type"] == "json_schema" and body["text"]["format"]["strict"] is True
    assert body["text"]["format"]["schema"]["properties"]["segments"]["maxItems"] == 10
    assert body["store"] is False and body["reasoning"] == {"effort": "low"}
    assert script.language == "ru" and len(script.segments) == 10
    assert script.segments[0].startswith("Реклама кофе:")
    assert script.usage["calls"] == 1 and script.usage["input_tokens"] > 0 and script.usage["output_tokens"] > 0


def test_an_english_topic_gets_an_english_script(rt, openai_env):
    script = rt.llm.write_script("Coffee advert")
    assert script.language == "en" and script_problems(script.segments, "Coffee advert") == []


def test_a_script_breaking_the_rules_is_asked_for_once_more(rt, openai_env):
    openai_env.reply_next({"language": "ru", "segments": TEN_RU[:9]})

    script = rt.llm.write_script("Реклама кофе")

    first, second = openai_env.calls("POST /v1/responses")
    assert "exactly 10 segments, not 9" in second.json()["input"]
    assert second.json()["input"].startswith(first.json()["input"])
    assert len(script.segments) == 10 and script.usage["calls"] == 2


def test_a_script_broken_twice_fails_after_two_calls(rt, openai_env):
    openai_env.reply_next({"language": "en", "segments": ["Coffee is good for you every morning."] * 10})
    openai_env.reply_next({"language": "en", "segments": ["Coffee is good for you every morning."] * 10})

    with pytest.raises(VendorFailed, match="topic's language"):
        rt.llm.write_script("Реклама кофе")
    assert len(openai_env.calls("POST /v1/responses")) == 2


def test_segments_a_little_long_after_the_re_ask_are_kept_for_the_voice_over_to_fit(rt, openai_env):
    long = ["Очень длинный сегмент " + "слово " * 20 + "конец.", *TEN_RU[1:]]
    openai_env.reply_next({"language": "ru", "segments": long})
    openai_env.reply_next({"language": "ru", "segments": long})

    script = rt.llm.write_script("Реклама кофе")
    assert script.segments[0].endswith("конец.") and script.usage["calls"] == 2


def test_an_incomplete_or_malformed_reply_counts_as_a_broken_script(rt, openai_env):
    openai_env.reply_next('{"language": "ru", "segm', status="incomplete")
    script = rt.llm.write_script("Реклама кофе")
    assert len(script.segments) == 10 and len(openai_env.calls("POST /v1/responses")) == 2


def test_429_and_500_are_retried_with_backoff(rt, openai_env):
    openai_env.fail("POST /v1/responses", 429, body={"error": {"message": "Rate limit reached"}}, headers=FAST_RETRY)
    openai_env.fail("POST /v1/responses", 500, body={"error": {"message": "server error"}}, headers=FAST_RETRY)

    assert len(rt.llm.write_script("Реклама кофе").segments) == 10
    assert len(openai_env.calls("POST /v1/responses")) == 3


def test_persistent_5xx_becomes_vendor_unavailable_for_the_state_machine(rt, openai_env):
    openai_env.fail("POST /v1/responses", 503, times=10, body={"error": {"message": "overloaded"}}, headers=FAST_RETRY)
    with pytest.raises(VendorUnavailable):
        rt.llm.write_script("Реклама кофе")
    assert len(openai_env.calls("POST /v1/responses")) == 3  # the first try and two retries


@pytest.mark.parametrize("status", [400, 401])
def test_a_400_or_401_is_never_retried(rt, openai_env, status):
    openai_env.fail("POST /v1/responses", status, body={"error": {"message": "Invalid schema"}})
    with pytest.raises(VendorFailed, match=f"HTTP {status} Invalid schema"):
        rt.llm.write_script("Реклама кофе")
    assert len(openai_env.calls("POST /v1/responses")) == 1


def test_a_malformed_json_body_fails_cleanly(rt, openai_env):
    openai_env.malformed("POST /v1/responses")
    with pytest.raises(VendorFailed, match="malformed"):
        rt.llm.write_script("Реклама кофе")


def test_a_reply_slower_than_the_timeout_is_vendor_unavailable(rt, fake_openai):
    from tests.fakes.fixtures import openai_vars

    fake_openai.slow("POST /v1/responses", 1.5)
    rt = rt.with_env(**openai_vars(fake_openai), OPENAI_TIMEOUT_SECONDS="0.3", OPENAI_MAX_RETRIES="0")
    with pytest.raises(VendorUnavailable):
        rt.llm.write_script("Реклама кофе")


def test_image_and_animation_prompts_come_from_one_call_with_the_whole_script(rt, openai_env):
    segments = [f"Сегмент {i}: кофе, утро и хорошее настроение." for i in range(10)]

    prompts = rt.llm.write_image_prompts("Реклама кофе", segments)

    [call] = openai_env.calls("POST /v1/responses")
    body = call.json()
    assert all(s in body["input"] for s in segments)
    assert body["instructions"] == role_prompt("image_prompts") and role_prompt("animation_prompts") in body["input"]
    assert len(prompts.items) == 10 and len(prompts.animation) == 10 and prompts.usage["calls"] == 1
    assert all("no text" in p for p in prompts.items)


def test_the_stages_use_at_most_three_calls_and_record_the_tokens(rt, db, openai_env):
    # Given a job whose script needs one re-ask
    job = new_job(db)
    openai_env.reply_next({"language": "ru", "segments": TEN_RU[:3]})

    # When the three LLM stages run (and a stage is retried)
    for handler in (
        generate_script,
        split_into_segments,
        write_image_prompts,
        write_animation_prompts,
        write_animation_prompts,
    ):
        handler.lambda_handler.run(rt, {"job_id": job["id"]})

    # Then three calls were made, the animation prompts came from the image-prompt call
    assert len(openai_env.calls("POST /v1/responses")) == 3
    segments = segment_rows.get_segments(db, job["id"])
    assert [s["animation_prompt"] for s in segments] == [s["animation_prompt_draft"] for s in segments]
    assert all(s["status"] == "animation_prompt_ready" for s in segments)
    totals = usage.summary(db, job["id"])
    assert totals["llm_calls"] == 3 and totals["llm_input_tokens"] > 0 and totals["estimated_usd"] > 0


def test_clips_are_animated_from_prompts_written_for_the_images_that_exist(rt, db, openai_env):
    """Images 3 and 7 made again after the animation prompts were drafted (a redo at the gate,
    a new prompt for a refused image): WriteAnimationPrompts rewrites exactly those two, in one
    call that names their new image prompts; the others keep their drafts."""
    job = new_job(db)
    for handler in (generate_script, split_into_segments, write_image_prompts):
        handler.lambda_handler.run(rt, {"job_id": job["id"]})
    drafts = {s["segment_index"]: s["animation_prompt_draft"] for s in segment_rows.get_segments(db, job["id"])}
    for index, prompt in ((2, "A brighter cafe counter at noon, cinematic, no text"), (6, "A red cup, no text")):
        segment_rows.redo_media(db, job["id"], index, IMAGE, prompt=prompt)
    calls = len(openai_env.calls("POST /v1/responses"))

    write_animation_prompts.lambda_handler.run(rt, {"job_id": job["id"]})
    write_animation_prompts.lambda_handler.run(rt, {"job_id": job["id"]})  # a retry writes nothing more

    [call] = openai_env.calls("POST /v1/responses")[calls:]
    body = call.json()
    assert body["instructions"] == role_prompt("animation_prompts")
    assert "1. A brighter cafe counter at noon" in body["input"] and "2. A red cup, no text" in body["input"]
    rows = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    assert rows[2]["animation_prompt"].endswith("for: A brighter cafe counter at noon, cinemat")
    assert rows[6]["animation_prompt"].endswith("for: A red cup, no text")
    assert all(rows[i]["animation_prompt"] == drafts[i] for i in range(10) if i not in (2, 6))
    assert usage.summary(db, job["id"])["llm_calls"] == calls + 1  # recorded at the same seam


def test_a_wish_for_images_is_worked_into_their_prompts_in_one_call(rt, db, openai_env):
    """ "переделай 3 7 ярче" at the image gate: RedoImages rewrites images 3 and 7's prompts with
    the wish through the LLM, in one call that shows the video's other prompts (its visual world),
    instead of appending Russian words to English prompts; a retried RedoImages calls nothing."""
    job = new_job(db)
    for handler in (generate_script, split_into_segments, write_image_prompts):
        handler.lambda_handler.run(rt, {"job_id": job["id"]})
    before = {s["segment_index"]: s["image_prompt"] for s in segment_rows.get_segments(db, job["id"])}
    gates.open_gate(db, job["id"], GateId("images"), "token")
    gates.revise_gate(db, job["id"], GateId("images"), feedback="ярче", segments=[2, 6], limit=5)
    calls = len(openai_env.calls("POST /v1/responses"))

    assert revise_stage(rt, job["id"], GateId("images"))["segments"] == [2, 6]
    revise_stage(rt, job["id"], GateId("images"))  # a retry

    [call] = openai_env.calls("POST /v1/responses")[calls:]
    body = call.json()
    assert body["instructions"] == role_prompt("revise_image_prompts")
    assert "The user's wish: ярче" in body["input"] and all(p in body["input"] for p in before.values())
    rows = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    for i in (2, 6):
        assert rows[i]["image_prompt"].startswith(before[i][:60]) and "ярче" not in rows[i]["image_prompt"]
        assert 100 <= len(rows[i]["image_prompt"]) <= 200 and rows[i]["image_prompt"].endswith("no text")
        assert rows[i]["image_path"] is None and rows[i]["animation_prompt_draft"] is None
    assert all(rows[i]["image_prompt"] == before[i] for i in range(10) if i not in (2, 6))
    assert usage.summary(db, job["id"])["llm_calls"] == calls + 1


def test_a_wish_for_clips_is_worked_into_their_motion_prompts_in_one_call(rt, db, openai_env):
    """ "сделай клип 3 медленнее" at the clip gate: RedoClips rewrites clip 3's motion prompt with
    the wish through the LLM, in one call beside the picture it animates, instead of appending
    Russian words to an English prompt; a retried RedoClips calls nothing."""
    job = new_job(db)
    for handler in (generate_script, split_into_segments, write_image_prompts):
        handler.lambda_handler.run(rt, {"job_id": job["id"]})
    for i in range(10):
        segment_rows.update_segment(db, job["id"], i, animation_prompt=f"Slow dolly in, steam rising, shot {i + 1}")
    rows = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    gates.open_gate(db, job["id"], GateId("videos"), "token")
    gates.revise_gate(db, job["id"], GateId("videos"), feedback="медленнее", segments=[2], limit=5)
    calls = len(openai_env.calls("POST /v1/responses"))

    assert revise_stage(rt, job["id"], GateId("videos"))["segments"] == [2]
    revise_stage(rt, job["id"], GateId("videos"))  # a retry

    [call] = openai_env.calls("POST /v1/responses")[calls:]
    body = call.json()
    assert body["instructions"] == role_prompt("revise_animation_prompts")
    assert body["text"]["format"]["name"] == "revised_animation_prompts"
    assert "The user's wish: медленнее" in body["input"] and rows[2]["image_prompt"] in body["input"]
    assert "Animation prompts to rewrite:\n1. Slow dolly in, steam rising, shot 3" in body["input"]
    after = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    assert after[2]["animation_prompt"] == "Slow dolly in, steam rising, shot 3, reworked as the user asked"
    assert after[2]["video_path"] is None and after[2]["status"] == "animation_prompt_ready"
    assert all(after[i]["animation_prompt"] == rows[i]["animation_prompt"] for i in range(10) if i != 2)
    assert usage.summary(db, job["id"])["llm_calls"] == calls + 1


LONG_EN = "Every single morning our baristas grind fresh beans by hand and pour each cup slowly with care and love."


def test_the_parts_too_long_are_shortened_in_one_call_with_the_whole_script_in_view(rt, openai_env):
    script = [f"Coffee warms the morning, part {i}." for i in range(10)]
    script[2] = script[7] = LONG_EN
    parts = [LongPart(2, LONG_EN, 7.9, 6.1, 12), LongPart(7, LONG_EN, 7.9, 6.1, 9)]

    rewrites = rt.llm.shorten_narration("Coffee advert", "en", script, parts)

    [call] = openai_env.calls("POST /v1/responses")
    body = call.json()
    assert body["instructions"] == role_prompt("shorten_narration")
    assert body["metadata"] == {"role": "shorten_narration", "prompt_version": "v1"}
    schema = body["text"]["format"]["schema"]["properties"]["parts"]
    assert body["text"]["format"]["strict"] is True and schema["minItems"] == schema["maxItems"] == 2
    assert "10. Coffee warms the morning, part 9." in body["input"]  # the whole script
    assert "Segment 3 (at most 12 words; now 19 words, 7.9 s spoken where 6.1 s fit): Every" in body["input"]
    assert "Segment 8 (at most 9 words" in body["input"]
    assert sorted(rewrites.parts) == [2, 7]
    assert len(rewrites.parts[2].split()) == 12 and len(rewrites.parts[7].split()) == 9
    assert rewrites.usage["calls"] == 1 and rewrites.usage["output_tokens"] > 0


@pytest.mark.parametrize(
    "reply, problem",
    [
        ({"parts": [{"segment": 3, "text": "Fresh beans."}]}, "did not name the parts asked for"),  # one left out
        ({"parts": [{"segment": 3, "text": "Fresh beans."}, {"segment": 4, "text": "Hot."}]}, "did not name"),
        ({"parts": [{"segment": 3, "text": " "}, {"segment": 8, "text": "Hot."}]}, "segment 3 is empty"),
        ({"parts": [{"segment": 3, "text": "Свежие зёрна."}, {"segment": 8, "text": "Hot."}]}, "not in en"),
        ("not json", "did not name"),
    ],
)
def test_a_rewrite_that_is_not_the_parts_asked_for_is_refused(rt, openai_env, reply, problem):
    openai_env.reply_next(reply)
    parts = [LongPart(2, LONG_EN, 7.9, 6.1, 12), LongPart(7, LONG_EN, 7.9, 6.1, 9)]
    with pytest.raises(VendorFailed, match=problem):
        rt.llm.shorten_narration("Coffee advert", "en", [LONG_EN] * 10, parts)
