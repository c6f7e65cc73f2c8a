-- Vendor usage per job: LLM tokens, TTS characters, Runway credits by model and
-- seconds. One row per paid vendor call or task. A Runway task is recorded once, by its
-- task id, when it is submitted (estimated credits), and settled with the cost Runway
-- reports when it ends. Rows outlive a cancelled job's cleared content: the money is spent.
CREATE TABLE ai_video_bot.vendor_usage (
    id             BIGSERIAL        PRIMARY KEY,
    job_id         VARCHAR(64)      NOT NULL
                   REFERENCES ai_video_bot.video_jobs_enhanced (id) ON DELETE CASCADE,
    stage          VARCHAR(32)      NOT NULL,
    segment_index  INTEGER,
    vendor         VARCHAR(16)      NOT NULL,
    model          VARCHAR(64)      NOT NULL,
    calls          INTEGER          NOT NULL DEFAULT 1,
    input_tokens   INTEGER          NOT NULL DEFAULT 0,
    output_tokens  INTEGER          NOT NULL DEFAULT 0,
    characters     INTEGER          NOT NULL DEFAULT 0,
    seconds        DOUBLE PRECISION NOT NULL DEFAULT 0,
    credits        DOUBLE PRECISION NOT NULL DEFAULT 0,
    credits_final  BOOLEAN          NOT NULL DEFAULT false,
    task_id        VARCHAR(128)     UNIQUE,
    recorded_at    TIMESTAMP        NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
CREATE INDEX vendor_usage_job_idx ON ai_video_bot.vendor_usage (job_id);

-- The animation prompts written in the same LLM call as the image prompts wait here until
-- the images are approved; WriteAnimationPrompts then moves them into animation_prompt.
ALTER TABLE ai_video_bot.video_segments_enhanced ADD COLUMN animation_prompt_draft TEXT;
