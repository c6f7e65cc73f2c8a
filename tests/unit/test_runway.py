"""The Runway client against the fake Runway API: the requests (key, X-Runway-Version, model,
ratio, duration, reference image, data URIs), task statuses, errors, and through the stages:
THROTTLED waits, SAFETY.* fails the job naming the segment, INTERNAL.* and CANCELLED are
resubmitted a bounded number of times, and no task is ever paid for twice."""

from __future__ import annotations

import base64
import time

import boto3
import pytest
from moto import mock_aws

from tests.fakes.fixtures import runway_vars
from tests.fakes.runway_api import NO_FAILURE_CODE
from tests.helpers import record_paid, use
from videobot import usage
from videobot.data import gates
from videobot.data import segments as segment_rows
from videobot.errors import ConfigurationError, ContentRefused, VendorFailed, VendorUnavailable
from videobot.pipeline import GateId
from videobot.providers.base import ClipRequest, ImageRequest, TaskState
from videobot.providers.runway import RunwayClipGenerator, RunwayImageGenerator, image_input
from videobot.stages import generate_images
from videobot.stages.vendor_tasks import classify_failure

FAST_RETRY = {"retry-after-ms": "10"}
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def still(tmp_path):
    path = tmp_path / "still.png"
    path.write_bytes(PNG_1x1)
    return path.as_uri()


def test_image_requests_carry_the_documented_headers_ratio_and_reference(rt, runway_env, still):
    images = rt.images
    assert isinstance(images, RunwayImageGenerator)

    first = images.submit(ImageRequest(prompt="A cup of coffee, warm light, no text", ratio="16:9", seed=0))
    images.submit(ImageRequest(prompt="Beans on a table", ratio="9:16", seed=3, reference_image_url=still))

    a, b = runway_env.calls("POST /v1/text_to_image")
    assert a.headers["authorization"] == "Bearer key_test_fake_runway"
    assert a.headers["x-runway-version"] == "2024-11-06"
    assert a.json() == {
        "model": "gen4_image",
        "promptText": "A cup of coffee, warm light, no text",
        "ratio": "1280:720",
        "seed": 0,
    }
    body = b.json()
    assert body["ratio"] == "720:1280" and body["seed"] == 3
    assert body["referenceImages"] == [
        {"uri": "data:image/png;base64," + base64.b64encode(PNG_1x1).decode(), "tag": "opening"}
    ]
    assert body["promptText"].startswith("Same subject, palette and style as @opening.")
    assert runway_env.tasks[first].kind == "text_to_image"


def test_clip_requests_use_gen4_turbo_for_5_seconds_with_the_image_inline(rt, runway_env, still):
    clips = rt.clips
    assert isinstance(clips, RunwayClipGenerator)

    clips.submit(ClipRequest(prompt="Slow dolly in", ratio="16:9", image_url=still, duration=5, seed=2))
    with mock_aws():  # on AWS the stage hands over a presigned S3 GET, which Runway cannot HEAD
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="media-bucket")
        s3.put_object(Bucket="media-bucket", Key="x.png", Body=PNG_1x1)
        presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "media-bucket", "Key": "x.png"})
        clips.submit(ClipRequest(prompt="Pan left", ratio="9:16", image_url=presigned))

    a, b = (c.json() for c in runway_env.calls("POST /v1/image_to_video"))
    assert a == {
        "model": "gen4_turbo",
        "promptImage": image_input(still),
        "promptText": "Slow dolly in",
        "ratio": "1280:720",
        "duration": 5,
        "seed": 2,
    }
    assert a["promptImage"].startswith("data:image/png;base64,")
    assert b["promptImage"] == a["promptImage"]  # the presigned URL's bytes, inline
    assert b["ratio"] == "720:1280"


def test_task_states_are_read_in_runways_shapes(rt, runway_env):
    runway_env.plan("text_to_image", ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"])
    runway_env.plan("text_to_image", ["FAILED"], failure_code="SAFETY.INPUT.TEXT")
    runway_env.plan("text_to_image", ["FAILED"], failure_code="INTERNAL.BAD_OUTPUT.CODE01")
    images = rt.images
    ok = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    refused = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    bad_output = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))

    states = [images.get_task(ok) for _ in range(4)]
    assert [s.status for s in states] == ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"]
    assert states[2].progress == 0.5 and states[0].credits == 5 and states[3].credits == 5
    assert images.fetch_output(states[3].output_url).startswith(b"\x89PNG")
    failed = images.get_task(refused)
    # a FAILED task reports its cost: an input refused by moderation is billed, not refunded;
    # a bad output is refunded (0)
    assert (failed.status, failed.failure_code, failed.credits) == ("FAILED", "SAFETY.INPUT.TEXT", 5)
    assert images.get_task(bad_output).credits == 0


def test_a_429_on_create_is_retried_with_backoff_and_creates_one_task(rt, runway_env):
    runway_env.fail(
        "POST /v1/text_to_image",
        429,
        times=2,
        body={"error": "Too many concurrent requests"},
        headers={"Retry-After": "0"},
    )
    rt.images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    assert len(runway_env.calls("POST /v1/text_to_image")) == 3 and len(runway_env.tasks) == 1


def test_a_persistent_429_leaves_the_retry_to_the_state_machine(rt, runway_env, still):
    runway_env.fail(
        "POST /v1/image_to_video",
        429,
        times=10,
        body={"error": "Too many concurrent requests"},
        headers={"Retry-After": "0"},
    )
    with pytest.raises(VendorUnavailable, match="HTTP 429"):
        rt.clips.submit(ClipRequest(prompt="Pan", ratio="16:9", image_url=still))
    assert len(runway_env.calls("POST /v1/image_to_video")) == 4 and runway_env.tasks == {}


@pytest.mark.parametrize(
    "status, message", [(400, "HTTP 400 Validation of body failed"), (401, "HTTP 401 Invalid API key")]
)
def test_400_and_401_on_create_fail_without_a_retry(rt, runway_env, status, message):
    body = {"error": "Validation of body failed" if status == 400 else "Invalid API key"}
    runway_env.fail("POST /v1/text_to_image", status, body=body)
    with pytest.raises(VendorFailed, match=message):
        rt.images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    assert len(runway_env.calls("POST /v1/text_to_image")) == 1


def test_the_fake_checks_the_version_header_and_the_ratio(setup, rt, fake_runway):
    with use(setup, **{**runway_vars(fake_runway), "RUNWAY_API_VERSION": "2023-01-01"}) as tuned:
        with pytest.raises(VendorFailed, match="HTTP 400 X-Runway-Version"):
            tuned.images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    # An unknown model is refused at start-up, before any task.
    with pytest.raises(ConfigurationError, match="RUNWAY_VIDEO_MODEL: 'gen4_aleph' is not a known model"):
        rt.with_env(**{**runway_vars(fake_runway), "RUNWAY_VIDEO_MODEL": "gen4_aleph"})
    assert fake_runway.tasks == {}


def test_a_create_that_times_out_is_not_repeated(setup, rt, fake_runway):
    fake_runway.slow("POST /v1/text_to_image", 1.5)
    with use(setup, **{**runway_vars(fake_runway), "RUNWAY_TIMEOUT_SECONDS": "0.3"}) as tuned:
        with pytest.raises(VendorFailed, match="timed out"):
            tuned.images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    assert len(fake_runway.calls("POST /v1/text_to_image")) == 1


def test_poll_faults_are_retried_and_a_malformed_poll_is_vendor_unavailable(rt, runway_env):
    images = rt.images
    task = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    runway_env.fail("GET /v1/tasks/*", 500, headers=FAST_RETRY)
    assert images.get_task(task).status == "RUNNING"
    runway_env.malformed("GET /v1/tasks/*", times=10)
    with pytest.raises(VendorUnavailable, match="malformed"):
        images.get_task(task)


def test_an_image_too_big_for_a_data_uri_goes_as_an_ephemeral_upload(rt, runway_env, tmp_path):
    import os

    from PIL import Image

    path = tmp_path / "noise.png"
    Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3)).save(path)
    assert path.stat().st_size > 5 * 1024 * 1024
    clips = rt.clips
    task = clips.submit(ClipRequest(prompt="Pan", ratio="16:9", image_url=path.as_uri()))
    [start] = runway_env.calls("POST /v1/uploads")
    assert start.json() == {"filename": "image.png", "type": "ephemeral"}
    uri = runway_env.tasks[task].body["promptImage"]
    assert uri.startswith("runway://") and runway_env.uploads[uri] == path.read_bytes()
    with pytest.raises(VendorFailed, match="5 MB"):
        image_input(path.as_uri())  # without a client there is no upload


@pytest.mark.parametrize(
    "url, status, problem",
    [
        ("https://media-bucket.s3.amazonaws.com/x.png?X-Amz-Signature=abc", 403, "answered HTTP 403"),
        ("https://media-bucket.s3.amazonaws.com/y.png?X-Amz-Signature=abc", 307, "redirected (HTTP 307)"),
        ("https://media-bucket.s3.amazonaws.com/z.png?X-Amz-Security-Token=" + "t" * 2000, 200, "at most 2048"),
        ("https://unreachable.test/a.png", None, "could not be fetched"),
        ("runway://uploads/never-made", None, "unknown or expired upload"),
    ],
)
def test_the_fake_checks_https_inputs_as_runway_documents(fake_runway, url, status, problem):
    import requests

    if status is not None:
        fake_runway.web[url] = status
    body = {"model": "gen4_turbo", "promptImage": url, "ratio": "1280:720", "duration": 5}
    headers = {"Authorization": "Bearer key_test_fake_runway", "X-Runway-Version": "2024-11-06"}
    reply = requests.post(f"{fake_runway.url}/v1/image_to_video", json=body, headers=headers, timeout=10)
    assert reply.status_code == 400 and problem in reply.json()["issues"][0]["message"]
    fake_runway.web["https://cdn.example.com/a.png"] = 200  # a plain public URL is fine
    body["promptImage"] = "https://cdn.example.com/a.png"
    assert (
        requests.post(f"{fake_runway.url}/v1/image_to_video", json=body, headers=headers, timeout=10).status_code == 200
    )


# ---- through the stages ---------------------------------------------------------------------


def _run_image(rt, job_id: str, index: int, max_checks: int = 10) -> dict:
    result = generate_images.submit_image(rt, job_id, index, rt.settings.execution())
    while result["state"] != "done" and max_checks:
        result = generate_images.check_image(rt, job_id, index, result["attempt"], rt.settings.execution())
        max_checks -= 1
    return result


def test_images_are_stored_at_once_and_each_task_is_paid_once(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]
    runway_env.plan("text_to_image", ["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"], seed=1)

    assert _run_image(rt, job_id, 0)["state"] == "done"
    first = generate_images.submit_image(rt, job_id, 1, rt.settings.execution())  # THROTTLED means waiting
    assert first == {"state": "waiting", "attempt": 1, "wait_seconds": 0}  # no waits set: check at once
    # a retried submit polls, never pays
    assert generate_images.submit_image(rt, job_id, 1, rt.settings.execution())["state"] == "waiting"
    assert _run_image(rt, job_id, 1)["state"] == "done"

    assert len(runway_env.created("text_to_image")) == 2
    seg0, seg1 = segment_rows.get_segment(db, job_id, 0), segment_rows.get_segment(db, job_id, 1)
    assert rt.storage.get_bytes(seg1["image_path"]).startswith(b"\x89PNG")
    assert runway_env.tasks[seg1["image_runway_task_id"]].body["referenceImages"][0]["tag"] == "opening"
    assert "referenceImages" not in runway_env.tasks[seg0["image_runway_task_id"]].body
    rows = [r for r in usage.rows(db, job_id) if r["task_id"]]
    assert [(r["segment_index"], r["model"], r["credits"], r["state"]) for r in rows] == [
        (0, "gen4_image", 5, "settled"),
        (1, "gen4_image_turbo", 2, "settled"),  # made from segment 0's image: the reference model by default
    ]


def test_a_safety_refusal_pauses_the_segment_and_is_not_resubmitted(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]
    runway_env.plan("text_to_image", ["RUNNING", "FAILED"], seed=3, failure_code="SAFETY.INPUT.TEXT")
    _run_image(rt, job_id, 0)

    # The segment waits at its own gate (AwaitRefusedImage) for a new prompt, a retry or a cancel
    result = generate_images.submit_image(rt, job_id, 3, rt.settings.execution())
    for _ in range(10):
        if result["state"] != "waiting":
            break
        result = generate_images.check_image(rt, job_id, 3, result["attempt"], rt.settings.execution())
    assert result["state"] == "refused"
    seg = segment_rows.get_segment(db, job_id, 3)
    assert seg["status"] == "failed" and seg["error_message"] == "SAFETY.INPUT.TEXT"
    assert [t.body["seed"] for t in runway_env.created("text_to_image")] == [0, 3]


def test_a_safety_refusal_fails_the_job_once_the_segment_had_its_rounds(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]
    runway_env.plan("text_to_image", ["RUNNING", "FAILED"], seed=3, failure_code="SAFETY.INPUT.TEXT")
    _run_image(rt, job_id, 0)
    gates.open_gate(db, job_id, GateId.parse("refused_image_3"), "token")
    db.execute(
        f"UPDATE {gates.GATES} SET revisions = %s WHERE job_id = %s AND stage = 'refused_image_3'",
        (rt.settings.pipeline.max_gate_revisions, job_id),
    )

    with pytest.raises(ContentRefused, match=r"segment 4: .*SAFETY.INPUT.TEXT") as refused:
        _run_image(rt, job_id, 3)
    assert refused.value.segment_index == 3
    assert segment_rows.get_segment(db, job_id, 3)["status"] == "failed"
    assert [t.body["seed"] for t in runway_env.created("text_to_image")] == [0, 3]


@pytest.mark.parametrize("statuses, code", [(["FAILED"], "INTERNAL.BAD_OUTPUT.CODE01"), (["CANCELLED"], None)])
def test_internal_failures_and_cancels_are_resubmitted_a_bounded_number_of_times(
    rt, db, prompted_job, runway_env, statuses, code
):
    job_id = prompted_job["id"]
    _run_image(rt, job_id, 0)
    runway_env.plan("text_to_image", statuses, seed=2, failure_code=code, times=1)
    assert _run_image(rt, job_id, 2)["state"] == "done"  # one resubmit, then success
    assert segment_rows.get_segment(db, job_id, 2)["image_submissions"] == 2

    runway_env.plan("text_to_image", statuses, seed=5, failure_code=code, times=10)
    with pytest.raises(VendorFailed, match="segment 6"):
        _run_image(rt, job_id, 5)
    assert len([t for t in runway_env.created("text_to_image") if t.body["seed"] == 5]) == 3  # 1 + MAX_RESUBMITS
    assert usage.summary(db, job_id)["runway_tasks"] == 1 + 2 + 3


def test_a_create_refused_with_429_is_not_counted_as_a_submission(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]
    runway_env.fail(
        "POST /v1/text_to_image",
        429,
        times=4,
        body={"error": "Too many concurrent requests"},
        headers={"Retry-After": "0"},
    )
    with pytest.raises(VendorUnavailable):
        generate_images.submit_image(
            rt, job_id, 0, rt.settings.execution()
        )  # the state machine retries the stage later
    assert segment_rows.get_segment(db, job_id, 0)["image_submissions"] == 0 and runway_env.tasks == {}
    assert _run_image(rt, job_id, 0)["state"] == "done"
    assert segment_rows.get_segment(db, job_id, 0)["image_submissions"] == 1


def test_cancel_deletes_the_task_at_runway(rt, runway_env):
    images = rt.images
    task = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
    images.cancel(task)
    assert runway_env.calls("DELETE /v1/tasks/*")[0].path == f"/v1/tasks/{task}"
    assert images.get_task(task).status == "CANCELLED"


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"promptImage": "file:///tmp/still.png"}, "HTTPS URL, a runway:// upload or a data URI"),
        ({"promptImage": "http://example.test/still.png"}, "HTTPS URL, a runway:// upload or a data URI"),
        ({"promptImage": "data:image/png;base64," + "A" * (5 * 1024 * 1024)}, "under 5MB"),
        ({"duration": 7}, "duration"),
        ({"ratio": "1920:1080"}, "ratio"),
        ({"promptText": "x" * 1001}, "promptText"),
    ],
)
def test_the_fake_refuses_what_runway_refuses(fake_runway, change, problem):
    import requests

    fake_runway.web["https://x.test/a.png"] = 200

    body = {
        "model": "gen4_turbo",
        "promptImage": "https://x.test/a.png",
        "ratio": "1280:720",
        "duration": 5,
        **change,
    }
    headers = {"Authorization": "Bearer key_test_fake_runway", "X-Runway-Version": "2024-11-06"}
    reply = requests.post(f"{fake_runway.url}/v1/image_to_video", json=body, headers=headers, timeout=10)
    assert reply.status_code == 400 and problem in reply.json()["issues"][0]["message"]
    wrong_key = {**headers, "Authorization": "Bearer wrong"}
    assert (
        requests.post(f"{fake_runway.url}/v1/image_to_video", json=body, headers=wrong_key, timeout=10).status_code
        == 401
    )


def test_a_prompt_refused_at_input_preprocessing_is_not_retried_and_names_the_segment(rt, db, prompted_job, runway_env):
    """Runway's text moderation fails the task with INPUT_PREPROCESSING.SAFETY.TEXT: a refusal,
    like SAFETY.*; resubmitting the same prompt would fail (and bill) the same way. The segment
    pauses at its own gate; once its rounds are spent, the job fails naming it."""
    job_id = prompted_job["id"]
    _run_image(rt, job_id, 0)
    segment_rows.update_segment(db, job_id, 4, image_prompt="A bloodbath in the coffee shop")
    assert _run_image(rt, job_id, 4)["state"] == "refused"
    seg = segment_rows.get_segment(db, job_id, 4)
    assert seg["error_message"] == "INPUT_PREPROCESSING.SAFETY.TEXT" and seg["image_submissions"] == 1

    gates.open_gate(db, job_id, GateId.parse("refused_image_4"), "token")
    db.execute(
        f"UPDATE {gates.GATES} SET revisions = %s WHERE job_id = %s AND stage = 'refused_image_4'",
        (rt.settings.pipeline.max_gate_revisions, job_id),
    )
    segment_rows.update_segment(db, job_id, 4, image_runway_task_id=None, status="image_prompt_ready")
    with pytest.raises(ContentRefused, match=r"segment 5: .*INPUT_PREPROCESSING\.SAFETY\.TEXT") as refused:
        _run_image(rt, job_id, 4)
    assert refused.value.segment_index == 4
    assert [t.body["seed"] for t in runway_env.created("text_to_image")] == [0, 4, 4]


def test_input_preprocessing_internal_is_resubmitted_like_internal(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]
    _run_image(rt, job_id, 0)
    runway_env.plan("text_to_image", ["PENDING", "FAILED"], seed=6, failure_code="INPUT_PREPROCESSING.INTERNAL")
    assert _run_image(rt, job_id, 6)["state"] == "done"
    assert segment_rows.get_segment(db, job_id, 6)["image_submissions"] == 2


def test_the_fake_knows_only_documented_failure_codes(rt, fake_runway):
    with pytest.raises(ValueError, match="not a failure code Runway documents"):
        fake_runway.plan("text_to_image", ["FAILED"], failure_code="MODERATION")
    fake_runway.plan("text_to_image", ["FAILED"], failure_code="THIRD_PARTY.UNAVAILABLE")
    fake_runway.plan("text_to_image", ["FAILED"], failure_code=NO_FAILURE_CODE)  # failureCode: null
    images = rt.with_env(**runway_vars(fake_runway)).images
    third_party, no_code = (images.submit(ImageRequest(prompt="Coffee", ratio="16:9")) for _ in range(2))
    assert images.get_task(third_party).failure_code == "THIRD_PARTY.UNAVAILABLE"
    failed = images.get_task(no_code)
    assert failed.status == "FAILED" and failed.failure_code is None


@pytest.mark.parametrize(
    "status, code, outcome",
    [
        ("FAILED", "SAFETY.INPUT.TEXT", "refused"),
        ("FAILED", "SAFETY.OUTPUT.VIDEO", "refused"),
        ("FAILED", "INPUT_PREPROCESSING.SAFETY.TEXT", "refused"),
        ("FAILED", "INTERNAL.BAD_OUTPUT.CODE01", "resubmit"),
        ("CANCELLED", None, "resubmit"),
        ("FAILED", "INPUT_PREPROCESSING.INTERNAL", "resubmit_later"),
        ("FAILED", "INTERNAL", "resubmit_later"),
        ("FAILED", None, "resubmit_later"),
        ("FAILED", "THIRD_PARTY.UNAVAILABLE", "resubmit_later"),
        ("FAILED", "ASSET.INVALID", "fails"),
        ("FAILED", "SOMETHING.UNDOCUMENTED", "fails"),
    ],
)
def test_failure_codes_are_classified_as_documented(status, code, outcome):
    assert classify_failure(TaskState(status, failure_code=code)) == outcome


@pytest.mark.parametrize("code, delay", [("THIRD_PARTY.UNAVAILABLE", 60), (NO_FAILURE_CODE, 15)])
def test_a_task_failed_by_an_outage_is_resubmitted_after_a_wait_not_at_once(
    rt, db, prompted_job, runway_env, code, delay
):
    """Runway: THIRD_PARTY.UNAVAILABLE "do not retry immediately; wait and retry"; INTERNAL,
    INPUT_PREPROCESSING.INTERNAL and a failure without a code "may retry, but add a delay"."""
    job_id = prompted_job["id"]
    _run_image(rt, job_id, 0)
    runway_env.plan("text_to_image", ["RUNNING", "FAILED"], seed=7, failure_code=code, times=1)
    first = generate_images.submit_image(rt, job_id, 7, rt.settings.execution())
    failed = generate_images.check_image(rt, job_id, 7, first["attempt"], rt.settings.execution())
    assert failed == {"state": "waiting", "attempt": 0, "wait_seconds": delay}
    seg = segment_rows.get_segment(db, job_id, 7)
    assert seg["image_runway_task_id"] is None and seg["image_submissions"] == 1
    assert len([t for t in runway_env.created("text_to_image") if t.body["seed"] == 7]) == 1  # nothing new yet
    # the state machine waits `delay` seconds, then checks: the new task is submitted then
    assert _run_image(rt, job_id, 7)["state"] == "done"
    assert len([t for t in runway_env.created("text_to_image") if t.body["seed"] == 7]) == 2
    assert segment_rows.get_segment(db, job_id, 7)["image_submissions"] == 2

    runway_env.plan("text_to_image", ["FAILED"], seed=8, failure_code=code, times=10)
    with pytest.raises(VendorFailed, match=rf"segment 9: the image failed \({code or 'FAILED'}\)"):
        _run_image(rt, job_id, 8)
    assert len([t for t in runway_env.created("text_to_image") if t.body["seed"] == 8]) == 3  # 1 + MAX_RESUBMITS


def test_create_retries_end_before_the_deadline(setup, rt, fake_runway):
    """Slow 5xx answers: each try is started only when a whole request timeout still fits."""
    import time

    fake_runway.fail("POST /v1/text_to_image", 500, times=10, delay=0.6, headers={"retry-after-ms": "100"})
    with use(setup, **{**runway_vars(fake_runway), "RUNWAY_TIMEOUT_SECONDS": "1"}) as tuned:
        images = tuned.images
        started = time.monotonic()
        with pytest.raises(VendorUnavailable, match="no time left"):
            images.submit(ImageRequest(prompt="Coffee", ratio="16:9", deadline=started + 2.5))
        assert time.monotonic() - started <= 2.5
    assert 1 <= len(fake_runway.calls("POST /v1/text_to_image")) < 4 and fake_runway.tasks == {}


def test_no_create_starts_without_a_whole_timeout_left(rt, runway_env):
    import time

    with pytest.raises(VendorUnavailable, match="nothing was started"):
        rt.images.submit(ImageRequest(prompt="Coffee", ratio="16:9", deadline=time.monotonic() + 5))
    assert runway_env.calls("POST /v1/text_to_image") == []  # RUNWAY_TIMEOUT_SECONDS is 20


def test_the_submit_stage_bounds_its_create_by_the_time_its_lambda_has_left(setup, rt, db, prompted_job, fake_runway):
    """The create's retries end SUBMIT_RESERVE_SECONDS before the invocation does, however long
    the Submit function was given: its Lambda context says how long it has left."""
    import submit_image.app as submit_image_app

    from local.lambda_endpoint import LambdaContext

    fake_runway.fail("POST /v1/text_to_image", 503, times=10, delay=0.5, headers={"retry-after": "1"})
    tuned = rt.with_env(**runway_vars(fake_runway), RUNWAY_TIMEOUT_SECONDS="1", SUBMIT_RESERVE_SECONDS="9")
    event = {"job_id": prompted_job["id"], "segment_index": 0, "settings": tuned.settings.execution().model_dump()}
    started = time.monotonic()
    with pytest.raises(VendorUnavailable):
        submit_image_app.lambda_handler.run(tuned, event, LambdaContext("SubmitImageFunction", timeout_s=12))
    assert time.monotonic() - started < 12 - 9 + 0.5
    assert segment_rows.get_segment(db, prompted_job["id"], 0)["image_submissions"] == 0


@pytest.mark.parametrize(
    "model, sent_seconds, credits", [("gen4_turbo", 5, 25), ("gen4.5", 5, 60), ("veo3.1_fast", 6, 60)]
)
def test_each_video_model_gets_a_duration_it_accepts_and_its_own_credits(
    rt, runway_env, still, model, sent_seconds, credits
):
    clips = rt.clips
    request = ClipRequest(prompt="Pan", ratio="16:9", image_url=still, duration=5, model=model)
    task = clips.submit(request)
    assert runway_env.tasks[task].body["model"] == model and runway_env.tasks[task].body["duration"] == sent_seconds
    # the bot discards a clip's audio: veo3.1_fast is asked for none, and priced without it
    assert runway_env.tasks[task].body.get("audio") is (False if model == "veo3.1_fast" else None)
    assert clips.estimate(request) == {"vendor": "runway", "model": model, "seconds": sent_seconds, "credits": credits}
    assert clips.get_task(task).credits == credits  # the fake bills as Runway does


def test_the_fake_refuses_a_veo_duration_runway_refuses(runway_env, still):
    import requests

    body = {"model": "veo3.1_fast", "promptImage": image_input(still), "ratio": "1280:720", "duration": 5}
    headers = {"Authorization": "Bearer key_test_fake_runway", "X-Runway-Version": "2024-11-06"}
    reply = requests.post(f"{runway_env.url}/v1/image_to_video", json=body, headers=headers, timeout=10)
    assert reply.status_code == 400 and "duration: must be one of [4, 6, 8]" in reply.json()["issues"][0]["message"]


def test_gen4_image_turbo_only_for_images_made_from_a_reference(setup, rt, fake_runway, still):
    with use(setup, **{**runway_vars(fake_runway), "RUNWAY_REFERENCE_IMAGE_MODEL": "gen4_image_turbo"}) as tuned:
        images = tuned.images
        first = ImageRequest(prompt="Coffee", ratio="16:9", seed=0)
        later = ImageRequest(prompt="Beans", ratio="16:9", seed=1, reference_image_url=still)
        a, b = images.submit(first), images.submit(later)
        assert (fake_runway.tasks[a].body["model"], fake_runway.tasks[b].body["model"]) == (
            "gen4_image",
            "gen4_image_turbo",
        )
        assert (images.estimate(first)["credits"], images.estimate(later)["credits"]) == (5, 2)
    with pytest.raises(ConfigurationError, match="gen4_image_turbo requires reference images"):
        rt.with_env(**{**runway_vars(fake_runway), "RUNWAY_IMAGE_MODEL": "gen4_image_turbo"})
    import requests

    body = {"model": "gen4_image_turbo", "promptText": "Coffee", "ratio": "1280:720"}
    headers = {"Authorization": "Bearer key_test_fake_runway", "X-Runway-Version": "2024-11-06"}
    reply = requests.post(f"{fake_runway.url}/v1/text_to_image", json=body, headers=headers, timeout=10)
    assert reply.status_code == 400 and "requires at least one reference image" in reply.text


# ---- polling that follows the vendor's pace ---------------------------------------------------


def _checks(task_seconds: float, waits, fastest=None) -> list[float]:
    """The times (after the submission) at which the schedule checks a task of that duration."""
    from videobot.stages.vendor_tasks import next_wait

    t, checks = 0.0, [0.0]  # the submit stage polls once right away
    t += next_wait(0.0, waits, fastest)
    while True:
        checks.append(t)
        if t >= task_seconds:
            return checks
        t += next_wait(t, waits)


@pytest.mark.parametrize("fastest", [None, "learned"])
def test_the_schedule_sees_any_task_from_2_to_120_s_within_max_2_s_or_15_percent(fastest):
    from videobot.stages.vendor_tasks import PollWaits

    waits = PollWaits(interval=2, first=90)
    for tenths in range(20, 1201, 3):
        task = tenths / 10
        learned = task if fastest else None  # the model's fastest recent task: as fast as this one
        checks = _checks(task, waits, learned)
        delay = checks[-1] - task
        assert 0 <= delay <= max(2.0, 0.15 * task) + 1e-9, (task, checks)


def test_the_aws_share_stays_under_1_percent_of_the_vendor_cost():
    """Each check is a Wait, a Task (Lambda) and a Choice: 3 standard transitions (0.025 USD per
    1000) plus a 512 MB Lambda of about 0.3 s. Ten images (5 credits) and ten clips (25 credits).
    Once a model has history, at every pace; without (a model's first tasks), up to Runway's
    usual pace (images 30 s, clips 90 s): at 120 s for both it is 1.3% then."""
    from videobot.stages.vendor_tasks import PollWaits

    waits, transition, lambda_call = PollWaits(interval=2, first=90), 0.025 / 1000, 0.3 * 0.5 * 0.0000166667 + 2e-7
    for image_s, clip_s in ((3, 6), (10, 30), (30, 90), (120, 120)):
        for learned in (False, True) if clip_s <= 90 else (True,):
            checks = 10 * len(_checks(image_s, waits, image_s if learned else None)) + 10 * len(
                _checks(clip_s, waits, clip_s if learned else None)
            )
            aws = checks * (3 * transition + lambda_call)
            vendor = 10 * 5 * 0.01 + 10 * 25 * 0.01
            assert aws < 0.01 * vendor, (image_s, clip_s, learned, checks)


def test_the_first_check_learns_from_the_models_past_tasks_in_postgresql(db, prompted_job):
    from datetime import timedelta

    from videobot.stages.vendor_tasks import PollWaits, fastest_recent, next_wait

    model = f"learning-{prompted_job['id']}"  # the database outlives one test run
    for n, seconds in enumerate((31.0, 40.0, 55.0)):
        task = f"learn-{n}-{prompted_job['id']}"
        record_paid(db, prompted_job["id"], 0.25, model=model, task_id=task, seconds=5, credits=25)
        db.execute(
            "UPDATE ai_video_bot.vendor_usage SET running_at = recorded_at + %s, settled_at = recorded_at + %s"
            " WHERE task_id = %s",
            (timedelta(seconds=100), timedelta(seconds=100 + seconds), task),
        )
    assert sorted(usage.recent_task_seconds(db, model)) == [31.0, 40.0, 55.0]  # the queue's 100 s is not counted
    assert fastest_recent(db, f"learn-0-{prompted_job['id']}") == 31.0
    waits = PollWaits(interval=2, first=90)
    assert next_wait(0.0, waits, 31.0) == 24  # 80% of the fastest
    assert next_wait(0.0, PollWaits(interval=2, first=20), 31.0) == 20  # at most `first`
    assert next_wait(0.0, waits, None) == 2  # nothing learned: the shortest interval
    assert next_wait(40.0, waits) == 6  # then 15% of the task's age


def test_a_throttled_task_leaves_the_queue_when_a_poll_sees_it_running(rt, db, prompted_job, runway_env):
    runway_env.plan("text_to_image", ["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"], seed=0)
    _run_image(rt, prompted_job["id"], 0)
    task = segment_rows.get_segment(db, prompted_job["id"], 0)["image_runway_task_id"]
    [row] = [r for r in usage.rows(db, prompted_job["id"]) if r["task_id"] == task]
    assert row["recorded_at"] <= row["running_at"] <= row["settled_at"]


def test_a_throttled_task_tells_the_user_once_that_it_waits_in_runways_queue(rt, prompted_job, runway_env, monkeypatch):
    from tests.helpers import replace_part
    from videobot.notify import VendorQueued
    from videobot.telegram import texts

    sent = []

    class Recorder:
        def send(self, job, event):
            sent.append((job.id, event))

    replace_part(monkeypatch, rt, "notifier", Recorder())
    runway_env.plan("text_to_image", ["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"], seed=0)
    runway_env.plan("text_to_image", ["THROTTLED", "SUCCEEDED"], seed=1)
    _run_image(rt, prompted_job["id"], 0)
    _run_image(rt, prompted_job["id"], 1)
    queued = [event for _, event in sent if isinstance(event, VendorQueued)]
    assert queued == [VendorQueued("images")]  # once per job and stage, however many polls
    assert texts.text("ru", "vendor_queued", what=texts.text("ru", "vendor_queued_images")).startswith(
        "⏳ Изображения: часть задач ждёт в очереди у Runway"
    )
    assert "waiting in Runway's queue" in texts.text(
        "en", "vendor_queued", what=texts.text("en", "vendor_queued_videos")
    )


# ---- Runway's concurrency tiers (issue 14, item 7) ---------------------------------------------


def test_the_fake_queues_tasks_over_the_tier_as_throttled_and_runs_them_in_order(rt, runway_env, still):
    runway_env.concurrency = 2  # tier 1: 1-2 generations at once, per model
    clips = rt.clips
    ids = [clips.submit(ClipRequest(prompt="Pan", ratio="16:9", image_url=still, seed=i)) for i in range(3)]
    other = clips.submit(ClipRequest(prompt="Pan", ratio="16:9", image_url=still, model="gen4.5"))
    assert [clips.get_task(t).status for t in ids] == ["RUNNING", "RUNNING", "THROTTLED"]
    assert clips.get_task(other).status == "RUNNING"  # another model has its own slots
    assert clips.get_task(ids[2]).status == "THROTTLED"  # no slot has freed yet
    assert clips.get_task(ids[0]).status == "SUCCEEDED"
    assert [clips.get_task(ids[2]).status for _ in range(2)] == ["RUNNING", "SUCCEEDED"]
    assert runway_env.tasks[ids[2]].history == ["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"]
    # a cancelled task frees its slot as well
    more = [clips.submit(ClipRequest(prompt="Pan", ratio="16:9", image_url=still, seed=9)) for _ in range(2)]
    assert [clips.get_task(t).status for t in more] == ["RUNNING", "THROTTLED"]  # beside ids[1], still running
    clips.cancel(ids[1])
    assert clips.get_task(more[1]).status == "RUNNING"


def test_the_maps_run_no_more_segments_at_once_than_runways_tier():
    from videobot.config import Settings

    assert Settings().max_concurrency == 10  # offline: MAP_MAX_CONCURRENCY
    tier_1 = Settings(RUNWAYML_API_SECRET="k")
    assert tier_1.runway.concurrency == 2 and tier_1.execution().max_concurrency == 2
    assert Settings(RUNWAYML_API_SECRET="k", RUNWAY_CONCURRENCY=5).max_concurrency == 5
    assert Settings(RUNWAYML_API_SECRET="k", RUNWAY_CONCURRENCY=20).max_concurrency == 10  # the Map's own ceiling


def test_a_segment_runway_queues_shows_in_the_progress_and_status_until_it_runs(
    rt, db, prompted_job, runway_env, monkeypatch
):
    from tests.helpers import replace_part
    from videobot.data import jobs
    from videobot.notify import Progress
    from videobot.telegram import ui

    sent = []

    class Recorder:
        def send(self, job, event):
            sent.append(event)

    replace_part(monkeypatch, rt, "notifier", Recorder())
    runway_env.concurrency = 1
    job_id = prompted_job["id"]
    jobs.update_job(db, job_id, status="generating_images")
    assert _run_image(rt, job_id, 0)["state"] == "done"
    assert generate_images.submit_image(rt, job_id, 1, rt.settings.execution())["state"] == "waiting"  # it runs
    assert (
        generate_images.submit_image(rt, job_id, 2, rt.settings.execution())["state"] == "waiting"
    )  # it waits in Runway's queue
    assert [segment_rows.get_segment(db, job_id, i)["vendor_status"] for i in (0, 1, 2)] == [
        None,
        "RUNNING",
        "THROTTLED",
    ]
    progress = [e for e in sent if isinstance(e, Progress)]
    assert progress[-1] == Progress("images", 1, 10, queued=1)
    status = ui.status_text("ru", jobs.get_job(db, job_id), segment_rows.segment_counts(db, job_id), 10)
    assert "• Изображения: 1/10 · ⏳ в очереди у Runway: 1" in status.splitlines()

    assert generate_images.check_image(rt, job_id, 1, 1, rt.settings.execution())["state"] == "done"  # its slot frees
    assert generate_images.check_image(rt, job_id, 2, 1, rt.settings.execution())["state"] == "waiting"  # now running
    progress = [e for e in sent if isinstance(e, Progress)]
    assert progress[-2:] == [Progress("images", 2, 10, queued=1), Progress("images", 2, 10, queued=0)]
    assert segment_rows.get_segment(db, job_id, 2)["vendor_status"] == "RUNNING"
    status = ui.status_text("ru", jobs.get_job(db, job_id), segment_rows.segment_counts(db, job_id), 10)
    assert "• Изображения: 2/10" in status.splitlines()


def test_queue_time_is_not_generation_time_for_the_first_check_or_the_ones_after(
    rt, db, prompted_job, runway_env, monkeypatch
):
    from datetime import timedelta

    from videobot.stages import vendor_tasks

    monkeypatch.setattr(vendor_tasks, "fastest_recent", lambda db, task_id: 40.0)  # the model's fastest: 40 s
    waits = rt.settings.execution(poll_interval_seconds=2, image_first_poll_seconds=90)
    job_id = prompted_job["id"]
    runway_env.plan("text_to_image", ["THROTTLED", "THROTTLED", "RUNNING", "RUNNING", "SUCCEEDED"], seed=0)

    def back(column: str, seconds: int) -> None:
        table = "video_segments_enhanced" if column == "image_submitted_at" else "vendor_usage"
        where = "job_id = %s AND segment_index = 0"
        db.execute(
            f"UPDATE ai_video_bot.{table} SET {column} = {column} - %s WHERE {where}",
            (timedelta(seconds=seconds), job_id),
        )

    # Queued at the submission: no learned first check yet (it would be 80% of 40 s = 32 s)
    first = generate_images.submit_image(rt, job_id, 0, waits)
    assert first["wait_seconds"] == 2
    back("image_submitted_at", 100)  # 100 s in Runway's queue
    back("recorded_at", 100)
    assert generate_images.check_image(rt, job_id, 0, 1, waits)["wait_seconds"] == 15  # still queued: 15% of it
    # Seen running: the learned first check counts from now, not from the submission 100 s ago
    # (which would check after 15 s, 15% of an age that is mostly queue)
    assert generate_images.check_image(rt, job_id, 0, 2, waits)["wait_seconds"] in (31, 32)  # whole seconds
    back("running_at", 20)
    assert generate_images.check_image(rt, job_id, 0, 3, waits)["wait_seconds"] in (11, 12)  # 32 - 20 s generating
    back("running_at", 40)
    assert generate_images.check_image(rt, job_id, 0, 4, waits)["state"] == "done"
    task = segment_rows.get_segment(db, job_id, 0)["image_runway_task_id"]
    [row] = [r for r in usage.rows(db, job_id) if r["task_id"] == task]
    generated = (row["settled_at"] - row["running_at"]).total_seconds()
    assert 60 <= generated < 70 and (row["settled_at"] - row["recorded_at"]).total_seconds() >= 100
