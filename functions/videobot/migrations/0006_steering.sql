-- Steering: each user's /settings, applied to their next job.
-- NULL means "the deployment's default" (ASPECT_RATIO, the TTS provider's voice, SUBTITLES);
-- narration_language 'auto' lets the script follow the topic's language.
CREATE TABLE IF NOT EXISTS ai_video_bot.user_settings (
    user_id            BIGINT      PRIMARY KEY,
    aspect_ratio       VARCHAR(8)  CHECK (aspect_ratio IN ('16:9', '9:16')),
    voice              VARCHAR(64),
    narration_language VARCHAR(8)  NOT NULL DEFAULT 'auto' CHECK (narration_language IN ('auto', 'ru', 'en')),
    subtitles          BOOLEAN,
    updated_at         TIMESTAMP   NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- What a job was asked for, read by its stages: the narration voice (record_voiceover) and
-- whether the segment texts are burned in (the clip preparation). NULL: the defaults.
ALTER TABLE ai_video_bot.video_jobs_enhanced
    ADD COLUMN IF NOT EXISTS voice VARCHAR(64),
    ADD COLUMN IF NOT EXISTS subtitles BOOLEAN;

-- /history: a user's latest jobs.
CREATE INDEX IF NOT EXISTS video_jobs_user_created_idx ON ai_video_bot.video_jobs_enhanced (user_id, created_at DESC);
