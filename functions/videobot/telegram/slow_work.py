"""The webhook's slow work, handed to HandleSlowUpdateFunction: the webhook answers Telegram
within its 29 s and invokes the worker asynchronously (Lambda Invoke, InvocationType=Event,
answered 202 at once); Lambda runs it in the background and retries a failed run twice.

Two kinds: /history's resend of a finished video (a sendVideo of up to 50 MB) and a voice note
at an open gate (a download of up to 20 MB and its transcription). Each is idempotent against
Lambda's retries: what was sent is recorded (ai_video_bot.notifications) before sending, and a
retry finds it."""

from __future__ import annotations

from telegram import Message

from videobot.runtime import Runtime
from videobot.telegram import bot as bots
from videobot.telegram import history, voice
from videobot.telegram.handover import RESEND_VIDEO, VOICE_FEEDBACK


def handle(rt: Runtime, event: dict) -> dict:
    """HandleSlowUpdateFunction's work: one of the kinds above."""
    kind = event.get("kind")
    if kind == RESEND_VIDEO:
        return bots.run(
            lambda bot: history.resend_now(
                rt, bot, event["chat_id"], event["lang"], event["job_id"], event["request_id"]
            ),
            rt.settings,
        )
    if kind == VOICE_FEEDBACK:
        return bots.run(
            lambda bot: voice.voice_at_gate(
                rt, bot, Message.de_json(event["message"], bot), event["lang"], event["update_id"]
            ),
            rt.settings,
        )
    raise ValueError(f"unknown slow work {kind!r}")
