"""Reliability matrix, security: the webhook's secret compared in constant time, a per-user
daily job limit with a clear message, secrets redacted from every log line, media links
that expire within the hour, storage keys that cannot leave their job's folder."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

import pytest

from tests.fakes.telegram_fixtures import SECRET, TelegramUser, fake_telegram, lambda_poster, telegram  # noqa: F401
from tests.helpers import use
from tests.reliability_support import sfn  # noqa: F401
from videobot import observability, storage
from videobot.config import Settings
from videobot.data import jobs
from videobot.data import updates as update_rows
from videobot.errors import ConfigurationError
from videobot.telegram import webhook


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


# ---- the webhook's secret ---------------------------------------------------------------


def test_the_secret_is_compared_in_constant_time(telegram, monkeypatch):
    seen = []
    real = webhook.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhook.hmac, "compare_digest", spy)
    for given, expected in [(SECRET, None), ("x" * len(SECRET), 403), (SECRET[:-1], 403), ("é" * 5, 403)]:
        assert webhook.verify_secret(SECRET, {"X-Telegram-Bot-Api-Secret-Token": given}) == expected
    # every comparison, right or wrong, equal length or not, went through hmac.compare_digest
    assert len(seen) == 4 and all(b == SECRET.encode() for _, b in seen)
    assert webhook.verify_secret(SECRET, {}) == 401 and len(seen) == 4  # missing: refused before comparing


# ---- the per-user daily job limit ---------------------------------------------------------


def test_a_user_over_the_daily_limit_is_told_when_and_starts_nothing(setup, db, user, sfn):
    made = [user.message_update("Первая"), user.message_update("Вторая")]
    with use(setup, MAX_JOBS_PER_USER_PER_DAY="2"):
        for update in made:
            assert user.post(update) == 200
            jobs.update_job(db, jobs.active_job_for_chat(db, user.chat_id)["id"], status="completed")
        assert user.say("Третья") == 200
        # A redelivery of an update that made a job still finds its job, over the limit or not:
        # its claim released (as after a transient failure), Telegram delivers it again
        db.execute(f"DELETE FROM {update_rows.UPDATES} WHERE update_id = %s", (made[0]["update_id"],))
        assert user.post(made[0]) == 200
        first_update = user.message_update("Четвёртая")
    texts = user.texts()
    assert [t.split("!")[0] for t in texts[:2]] == ["✅ Запрос принят"] * 2
    assert texts[2].startswith("⛔ Лимит — 2 ролика в сутки, и он исчерпан.") and " UTC." in texts[2]
    first_job = jobs.job_for_update(db, made[0]["update_id"])
    assert len(texts) == 4 and not texts[3].startswith("⛔") and first_job["id"] in texts[3]  # its own job
    assert len(sfn.named("StartExecution")) == 2
    assert len(db.query(f"SELECT id FROM {jobs.JOBS} WHERE user_id = %s", (user.user_id,))) == 2

    # Jobs older than 24 hours leave the window
    db.execute(
        f"UPDATE {jobs.JOBS} SET created_at = created_at - interval '25 hours' WHERE user_id = %s", (user.user_id,)
    )
    with use(setup, MAX_JOBS_PER_USER_PER_DAY="2"):
        assert user.post(first_update) == 200
    assert user.texts()[-1].startswith("✅ Запрос принят!") and len(sfn.named("StartExecution")) == 3


def test_the_limit_counts_cancelled_jobs_and_zero_means_none(setup, db, user, sfn):
    with use(setup, MAX_JOBS_PER_USER_PER_DAY="1"):
        assert user.say("Первая") == 200
        jobs.update_job(db, jobs.active_job_for_chat(db, user.chat_id)["id"], status="cancelled")
        assert user.say("Вторая") == 200
    with use(setup, MAX_JOBS_PER_USER_PER_DAY="0"):
        assert user.say("Третья") == 200
    texts = user.texts()
    assert texts[0].startswith("✅") and texts[1].startswith("⛔") and texts[2].startswith("✅")
    from videobot.config import settings_from_environ

    with pytest.raises(ConfigurationError, match="MAX_JOBS_PER_USER_PER_DAY"):
        settings_from_environ({"MAX_JOBS_PER_USER_PER_DAY": "-1"})


# ---- secrets in logs ----------------------------------------------------------------------


def test_log_records_of_any_library_are_redacted():
    observability.register_secrets("sk-secret-in-a-log-1234")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record) + json.dumps(record.__dict__, default=str))

    other = logging.getLogger("some.sdk")
    handler = Keep()
    other.addHandler(handler)
    other.setLevel(logging.DEBUG)
    ours = logging.getLogger(observability.logger.name)
    ours.addHandler(handler)
    try:
        other.debug("POST %s", "https://api.telegram.org/bot123456789:AAE-abc_DEF/sendMessage")
        other.info("key=%s", "sk-secret-in-a-log-1234")
        other.warning("file https://api.telegram.org/file/bot42:XYZ/photos/1.jpg")
        observability.logger.warning("stage failed", extra={"error": "Bearer sk-secret-in-a-log-1234 refused"})
    finally:
        other.removeHandler(handler)
        ours.removeHandler(handler)
    joined = "\n".join(records)
    assert "Bearer <redacted> refused" in joined
    assert "/bot<redacted>/sendMessage" in joined and "/file/bot<redacted>/photos" in joined
    assert "AAE-abc_DEF" not in joined and "XYZ" not in joined and "sk-secret-in-a-log-1234" not in joined


def test_invalid_settings_never_echo_a_secret():
    from videobot.config import settings_from_environ

    with pytest.raises(ConfigurationError) as err:
        settings_from_environ(
            {
                "TELEGRAM_BOT_TOKEN": "123:very-secret-token",
                "PRESIGN_SECONDS": "999999",
                "OPENAI_API_KEY": "sk-very-secret",
            }
        )
    assert "very-secret" not in str(err.value) and "PRESIGN_SECONDS" in str(err.value)


# ---- media links and keys -----------------------------------------------------------------


def test_presigned_links_expire_within_the_hour():
    from moto import mock_aws

    assert Settings().storage.presign_seconds <= 3600
    with pytest.raises(ValueError):
        Settings(PRESIGN_SECONDS=3601)
    with mock_aws():
        import boto3

        boto3.client("s3").create_bucket(Bucket="media")
        for seconds in (60, 3600):
            url = storage.S3Storage("media", seconds).url(storage.segment_key("abc", "clips", 0, "mp4"))
            query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
            if "X-Amz-Expires" in query:  # SigV4: a lifetime
                assert int(query["X-Amz-Expires"][0]) == seconds
            else:  # SigV2: an expiry time
                assert int(query["Expires"][0]) - time.time() == pytest.approx(seconds, abs=5)


@pytest.mark.parametrize("hostile", ["../../etc", "../..", "a/../../../b"])
def test_a_key_cannot_leave_the_media_folder(tmp_path, hostile):
    local = storage.LocalStorage(tmp_path / "media")
    with pytest.raises(ValueError, match="escapes"):
        local.put_bytes(storage.job_key(hostile, "x"), b"x")


def test_the_s3_storage_writes_and_deletes_only_under_jobs():
    """#29 for S3Storage (the class AWS runs): a key no id makes is refused before any call, for
    writes, uploads and deletes; a job's own keys work (moto's S3)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="media")
        s3 = storage.S3Storage("media")
        key = storage.job_key("0123456789abcdef", "final.mp4")
        assert s3.put_bytes(key, b"video") == key and s3.get_bytes(key) == b"video"
        for hostile in ("../../etc", "../..", "a/../../../b", "a//b", "a\\..\\b", "a\x00b"):
            with pytest.raises(ValueError, match="escapes"):
                s3.put_bytes(storage.job_key(hostile, "x"), b"x")
            with pytest.raises(ValueError, match="escapes"):
                s3.put_file(storage.job_key(hostile, "x"), __file__)
            with pytest.raises(ValueError, match="escapes"):
                s3.delete_prefix(storage.job_prefix(hostile))
        with pytest.raises(ValueError, match="escapes"):
            s3.put_bytes("music/bed.mp3", b"x")  # outside jobs/: not a key an id makes
        assert s3.delete_prefix(storage.job_prefix("0123456789abcdef")) == 1
        listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="media")
        assert listed.get("KeyCount", 0) == 0  # nothing hostile was written


# ---- least privilege for S3 (template.yaml) --------------------------------------------------

S3_ACCESS = {  # what each function does with media, and so all it may do
    "WebhookFunction": {"MediaReadPolicy", "MediaDeletePolicy"},  # a gate's "покажи" reads, a cancel deletes
    "HandleSlowUpdateFunction": {"MediaReadPolicy"},  # /history's resend reads the video
    "TranscribeVoiceTopicFunction": set(),
    "RequestApprovalFunction": {"MediaReadPolicy"},
    "DeliverVideoFunction": {"MediaReadPolicy"},
    "CancelJobFunction": {"MediaDeletePolicy"},
    "ReconcileExecutionFunction": {"MediaDeletePolicy"},
    "GenerateScriptFunction": set(),
    "SplitIntoSegmentsFunction": set(),
    "WriteImagePromptsFunction": set(),
    "WriteAnimationPromptsFunction": set(),
    "RecordFailureFunction": set(),
    "RecordApprovalTimeoutFunction": set(),
    "MigrateDatabaseFunction": set(),
}
WRITERS = {
    "SubmitImageFunction",
    "CheckImageFunction",
    "SubmitClipFunction",
    "CheckClipFunction",
    "RecordVoiceoverFunction",
    "AssembleVideoFunction",
    "ReviseStageFunction",
}


def test_each_function_gets_only_the_s3_access_it_needs():
    from local import template as tpl

    resources = tpl.load_template()["Resources"]
    media = {"MediaReadPolicy", "MediaWritePolicy", "MediaDeletePolicy"}
    functions = {n: r for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(functions) == set(S3_ACCESS) | WRITERS
    for name, res in functions.items():
        policies = res["Properties"].get("Policies", [])
        assert not any(isinstance(p, dict) and "S3CrudPolicy" in p for p in policies), name
        granted = {p["Ref"] for p in policies if isinstance(p, dict) and p.get("Ref") in media}
        assert granted == (media if name in WRITERS else S3_ACCESS[name]), name
    write = resources["MediaWritePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in write] == [["s3:PutObject", "s3:AbortMultipartUpload"]]
    assert "s3:DeleteObject" not in str(resources["MediaReadPolicy"])


def test_the_bucket_denies_every_s3_action_over_plain_http():
    from local import template as tpl

    (statement,) = tpl.load_template()["Resources"]["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statement["Resource"]) == 2  # the bucket and every object in it
