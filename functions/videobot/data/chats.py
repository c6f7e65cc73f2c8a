"""What the pipeline's messages need to know about a chat (ai_video_bot.telegram_chats): the
language of its interface."""

from __future__ import annotations

from videobot.data.db import Database

CHATS = "ai_video_bot.telegram_chats"


def remember_chat(db: Database, chat_id: int, user_id: int | None, language_code: str | None) -> None:
    db.execute(
        f"INSERT INTO {CHATS} (chat_id, user_id, language_code) VALUES (%s, %s, %s)"
        " ON CONFLICT (chat_id) DO UPDATE SET user_id = EXCLUDED.user_id,"
        " language_code = EXCLUDED.language_code, updated_at = (now() AT TIME ZONE 'utc')",
        (chat_id, user_id, language_code),
    )


def chat_language(db: Database, chat_id: int) -> str | None:
    row = db.query_one(f"SELECT language_code FROM {CHATS} WHERE chat_id = %s", (chat_id,))
    return row["language_code"] if row else None
