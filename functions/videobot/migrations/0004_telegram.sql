-- The Telegram bot's own rows.
-- Updates already handled: Telegram redelivers an update until it gets a 2xx, and the
-- webhook claims each update_id once (a failed handling deletes its claim, so the retry runs).
CREATE TABLE ai_video_bot.telegram_updates (
    update_id   BIGINT      PRIMARY KEY,
    received_at TIMESTAMP   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    handled_at  TIMESTAMP
);
CREATE INDEX telegram_updates_received_idx ON ai_video_bot.telegram_updates (received_at);

-- What the pipeline's messages need to know about a chat: the language of its interface.
CREATE TABLE ai_video_bot.telegram_chats (
    chat_id       BIGINT      PRIMARY KEY,
    user_id       BIGINT,
    language_code VARCHAR(16),
    updated_at    TIMESTAMP   NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- One progress message per job and stage ("Изображения: 7/10 ▓▓▓▓▓▓▓░░░"), edited in place.
-- A Map's ten iterations report at once: the row elects who sends the first message and
-- who edits it, and keeps edits under Telegram's per-chat rate.
CREATE TABLE ai_video_bot.telegram_progress (
    job_id     VARCHAR(64) NOT NULL,
    stage      VARCHAR(32) NOT NULL,
    message_id BIGINT,
    done       INTEGER     NOT NULL DEFAULT 0,
    total      INTEGER     NOT NULL,
    edited_at  TIMESTAMP   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    PRIMARY KEY (job_id, stage)
);
