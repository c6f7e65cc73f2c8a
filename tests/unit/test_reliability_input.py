"""Reliability matrix, bad input: the webhook fuzzed with hypothesis. Whatever arrives, the
answer is 200 or a 4xx (a 5xx only when Telegram should redeliver), nothing crashes, every
topic gets exactly one plain-text reply, and user text reaches PostgreSQL only as a
parameter, storage keys only through ids, and FFmpeg only inside an escaped ASS file."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import threading

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fakes.telegram_fixtures import SECRET, TelegramUser, event, fake_telegram, lambda_poster, telegram  # noqa: F401
from tests.reliability_support import sfn  # noqa: F401
from videobot import media, storage
from videobot.data import jobs
from videobot.telegram.handlers import storable_text
from videobot.telegram.webhook import handle_event, parse_body

FFMPEG = media.FFmpeg()  # the bundled imageio-ffmpeg, as in the local runner

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JOB_ID = re.compile(r"^[0-9a-f]{16}$")
# hypothesis seeds `random` per example, so users get ids from a counter, not new_chat_id()
_user_ids = itertools.count(8_100_000_000 + os.getpid() * 1000)
_update_ids = itertools.count(7_100_000_000 + os.getpid() * 100_000)

# Topics crafted against the places user text could leak into.
HOSTILE_TOPICS = [
    "\u202eтекст справа налево\u202c مرحبا بالعالم",  # RTL override, Arabic
    "ко\u200bфе\u200d\u200c\ufeff",  # zero-width characters
    "☕🔥🎬👩‍👩‍👧‍👦🇷🇺",  # emoji only, ZWJ sequences, flags
    "а" * 10_000,  # 10 000 characters
    "'; DROP TABLE ai_video_bot.video_jobs_enhanced; --",  # SQL
    "x' OR '1'='1",
    "../../../../etc/passwd",  # file paths
    "..\\..\\windows\\system32\\config",
    "/tmp/$(rm -rf ~)`id`",
    "[0:v]drawtext=text='pwn':fontfile=/etc/passwd[out];movie=/etc/passwd",  # FFmpeg filter graph
    "subtitles=filename='/etc/passwd',scale=1:1",
    "{\\pos(0,0)\\fs200}Большие\\Nбуквы\\h{\\b1}",  # ASS override tags
    "Dialogue: 0,0:00:00.00,9:00:00.00,Default,,0,0,0,,injected\n[Events]",
    "%s %d %n {job_id} {0} ${HOME}",  # format strings
    "<b>html</b> *markdown* _x_ [link](http://e.x)",  # parse modes
    "кофе\x00ноль",  # NUL
    "\ud800 одинокий суррогат",  # a lone surrogate (valid JSON)
    "\x1b[31mansi\x1b[0m\r\n\t",
]


def _api(body: str, *, b64: bool = False) -> dict:
    api = event("apigw_http_v2_webhook")
    api["body"] = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode() if b64 else body
    api["isBase64Encoded"] = b64
    api["headers"]["x-telegram-bot-api-secret-token"] = SECRET
    return api


def _status(rt, api: dict) -> int:
    return handle_event(rt, api)["statusCode"]


def _answered_as_parsed(rt, api: dict) -> int:
    """The status, checked against what parse_body decided (a 400 exactly when it refused the
    body) and with the webhook's catch-all never reached: no crash was papered over."""
    from unittest import mock

    from videobot.telegram import webhook

    refused = parse_body(dict(api)) is None
    with mock.patch.object(webhook.logger, "exception") as crashed:
        status = _status(rt, api)
    assert not crashed.called, crashed.call_args
    assert status == (400 if refused else 200)
    return status


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(body=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_random_bodies_are_refused_with_400_never_a_crash(rt, telegram, body):
    sent = len(telegram.calls)
    assert _answered_as_parsed(rt, _api(body)) in (200, 400)
    assert _answered_as_parsed(rt, _api(body, b64=True)) in (200, 400)
    assert len(telegram.calls) == sent  # nothing is said for a body that is not an update


# JSON values shaped like an update (a valid update_id, anything else beside it): these reach
# the handler, where json_values alone almost never do.
update_shaped = st.fixed_dictionaries(
    {"update_id": st.integers(1, 2**62)},
    optional={"message": json_values, "edited_message": json_values, "callback_query": json_values},
)


@FUZZ
@given(value=json_values)
def test_any_json_value_is_answered_without_a_crash(rt, telegram, value):
    sent = len(telegram.calls)
    assert _answered_as_parsed(rt, _api(json.dumps(value))) in (200, 400)
    assert len(telegram.calls) == sent


@FUZZ
@given(value=update_shaped)
def test_any_update_shaped_value_reaches_the_handler_and_never_crashes_it(rt, telegram, value):
    """#12: a valid update_id with any JSON beside it is handled (200, finished), the webhook's
    catch-all never reached and nothing said (no such update comes from a private chat)."""
    from unittest import mock

    from videobot.telegram import handlers

    said = [c for c in telegram.calls if c.method != "getMe"]  # a new thread's Bot says getMe
    value = {**value, "update_id": next(_update_ids)}  # a new update each time, never a duplicate
    with mock.patch.object(handlers, "handle_update", wraps=handlers.handle_update) as handled:
        assert _answered_as_parsed(rt, _api(json.dumps(value))) == 200
    assert handled.called
    assert [c for c in telegram.calls if c.method != "getMe"] == said


@pytest.mark.parametrize("update_id", [True, False, 2**63, 2**64 + 5, -(2**63) - 1, -1, 1.5, "7", None, [1]])
def test_update_ids_that_are_not_telegram_ids_are_refused(rt, telegram, update_id):
    assert _status(rt, _api(json.dumps({"update_id": update_id, "message": {}}))) == 400


def test_oversized_and_invalid_json_is_refused(rt, telegram):
    huge = json.dumps({"update_id": 1, "message": {"text": "x" * 2_000_000}})
    assert _status(rt, _api(huge[:-1])) == 400  # truncated
    assert _status(rt, _api("{" * 50_000)) == 400  # unterminated (deep nesting: test_reliability_telegram)
    assert _status(rt, _api("\ufeff{}")) == 400  # BOM
    assert _status(rt, _api("", b64=True)) == 400
    assert _status(rt, _api("not base64!", b64=False)) == 400
    assert telegram.calls == []


def _mutations():
    """A real message update with fields removed or given the wrong type."""
    paths = [
        ("message",),
        ("message", "from"),
        ("message", "chat"),
        ("message", "chat", "id"),
        ("message", "chat", "type"),
        ("message", "text"),
        ("message", "date"),
        ("message", "message_id"),
        ("message", "from", "id"),
        ("message", "entities"),
    ]
    return st.tuples(st.sampled_from(paths), st.sampled_from(["delete"]) | json_values)


@FUZZ
@given(mutation=_mutations())
# dates no clock can hold (found by this test): python-telegram-bot's datetime raises OSError or
# OverflowError, which are not ValueError
@example(mutation=(("message", "date"), 6.77680361916768e16))
@example(mutation=(("message", "date"), -(10**20)))
def test_missing_fields_and_wrong_types_never_crash_the_webhook(setup, rt, db, telegram, sfn, mutation):
    path, replacement = mutation
    user = TelegramUser(telegram, lambda_poster(lambda: setup.rt), user_id=next(_user_ids))
    update = user.message_update("/help")
    parent = update
    for key in path[:-1]:
        parent = parent[key]
    if replacement == "delete":
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = replacement
    from unittest import mock

    from videobot.telegram import webhook

    with mock.patch.object(webhook.logger, "exception") as crashed:  # the catch-all's line
        assert user.post(update) == 200  # a well-formed update_id: answered, never redelivered for ever
    assert not crashed.called, crashed.call_args  # handled, not a crash papered over
    row = db.query_one(
        "SELECT handled_at FROM ai_video_bot.telegram_updates WHERE update_id = %s", (update["update_id"],)
    )
    assert row["handled_at"] is not None  # finished: a redelivery would be a duplicate
    assert len(user.sent("sendMessage")) <= 1  # at most the one answer /help gives
    assert user.post(update) == 200 and len(user.sent("sendMessage")) <= 1


topics = (
    st.sampled_from(HOSTILE_TOPICS)
    | st.text(min_size=1, max_size=200)
    | st.text(alphabet=st.sampled_from("\u200b\u200c\u200d\u2060\u202e\u202d\u061c\ufeff "), max_size=20)
    | st.text(alphabet=st.characters(categories=["So", "Sk", "Mn", "Cf"]), min_size=1, max_size=30)
)


@FUZZ
@given(topic=topics)
def test_any_topic_gets_one_plain_reply_and_is_stored_only_as_data(setup, rt, db, telegram, sfn, topic):
    user = TelegramUser(telegram, lambda_poster(lambda: setup.rt), user_id=next(_user_ids))
    before = db.query_one(f"SELECT count(*) AS n FROM {jobs.JOBS}")["n"]
    update = user.message_update(topic)

    assert user.post(json.loads(json.dumps(update))) == 200

    # Exactly one answer, sent as plain text (no parse mode user text could break)
    replies = user.sent("sendMessage")
    assert len(replies) == 1, [c.params for c in user.fake.calls]
    assert "parse_mode" not in replies[0].params
    job = jobs.latest_job_for_chat(db, user.chat_id)
    after = db.query_one(f"SELECT count(*) AS n FROM {jobs.JOBS}")["n"]
    if job is None:
        assert after == before and not replies[0].params["text"].startswith("✅")
        return
    # The job's id is ours, not the user's; the text is stored verbatim as data
    assert after == before + 1 and replies[0].params["text"].startswith("✅ Запрос принят! ID: " + job["id"])
    assert JOB_ID.match(job["id"]) and storage.job_prefix(job["id"]) == f"jobs/{job['id']}/"
    assert job["prompt"] == storable_text(topic).strip()
    (started,) = [c for c in sfn.named("StartExecution") if c["name"] == job["id"]]
    given = json.loads(started["input"])  # the execution carries ids and numbers, never the text
    assert set(given) == {"job_id", "settings"} and given["job_id"] == job["id"]
    assert all(isinstance(v, int) for v in given["settings"].values())


@FUZZ
@given(text=st.sampled_from(HOSTILE_TOPICS) | st.text(max_size=300))
def test_subtitles_cannot_escape_their_dialogue_line(text):
    ass = media.subtitle_ass(text, aspect_ratio="16:9", seconds=5.0)
    events = ass.split("[Events]\n", 1)[1].splitlines()
    assert len(events) == 2 and events[1].startswith("Dialogue: 0,0:00:00.00,0:00:05.00,Default,,0,0,0,,")
    dialogue = events[1].split(",,0,0,0,,", 1)[1]
    assert "{" not in dialogue and "}" not in dialogue and "\\" not in dialogue  # no override tags, no \N
    lines = ass.splitlines()
    assert lines.count("[Events]") == 1 and len([x for x in lines if x.startswith("Dialogue:")]) == 1


def test_a_hostile_text_is_burned_in_as_text_and_reads_no_file(tmp_path):
    from PIL import Image

    still = tmp_path / "still.png"
    Image.new("RGB", (320, 180), "navy").save(still)
    # The bait is a named pipe: if anything opened it for reading, a writer could open it too
    # (opening a pipe's write end without blocking fails with ENXIO while no one reads it).
    bait = tmp_path / "bait"
    os.mkfifo(bait)
    text = (
        f"subtitles=filename='{bait}',movie={bait}[x];[x]drawtext=textfile={bait}:text=%{{pts}}"
        " {\\fs300}'; DROP TABLE x; -- ../../etc/passwd \u202eRTL ☕ "
        f"\\N[Events] {bait} file:{bait}"
    )
    opened, done = [], threading.Event()

    def watch():
        while not done.is_set():
            try:
                fd = os.open(bait, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                done.wait(0.002)
                continue
            opened.append(fd)
            os.close(fd)  # the reader gets EOF rather than blocking

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        out = FFMPEG.prepare_segment(still, tmp_path / "seg.mp4", text=text, seconds=1.0)
    finally:
        done.set()
        watcher.join()
    assert opened == []  # ffmpeg and libass read no file the text named
    info = FFMPEG.probe(out)
    assert info.has_video and info.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("invisible", ["\u200b\u200c\u200d", "\u202e\u202c", "\ufeff \u2060", "\u3000\u00a0"])
def test_a_topic_with_nothing_visible_is_an_empty_topic(setup, rt, db, telegram, sfn, invisible):
    user = TelegramUser(telegram, lambda_poster(lambda: setup.rt), user_id=next(_user_ids))
    assert user.say(invisible) == 200
    assert user.texts() == ["Описание пустое. Напишите, о чём должен быть ролик, например: Реклама кофе"]
    assert jobs.latest_job_for_chat(db, user.chat_id) is None and sfn.named("StartExecution") == []
