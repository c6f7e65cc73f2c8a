-- The seed's schema (../shared/seed/enhanced-pipeline.*.md), with the columns the pipeline
-- needs beside it. Telegram ids are BIGINT. Timestamps are UTC.
CREATE SCHEMA IF NOT EXISTS ai_video_bot;

CREATE TABLE ai_video_bot.video_jobs_enhanced (
    -- the seed's columns
    id                   VARCHAR(64)  PRIMARY KEY,
    user_id              BIGINT       NOT NULL,
    chat_id              BIGINT       NOT NULL,
    prompt               TEXT         NOT NULL,
    status               VARCHAR(32)  NOT NULL DEFAULT 'pending',
    script_text          TEXT,
    script_approved      INTEGER      NOT NULL DEFAULT 0,   -- 0 waiting, 1 approved, -1 rejected
    audio_path           VARCHAR(1024),
    final_video_path     VARCHAR(1024),
    created_at           TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at           TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    completed_at         TIMESTAMP,
    -- what the pipeline adds
    language             VARCHAR(8),
    aspect_ratio         VARCHAR(8)   NOT NULL DEFAULT '16:9',
    script_segments      JSONB,                             -- the script as its 10 narration parts
    script_generated_at  TIMESTAMP,
    audio_duration       DOUBLE PRECISION,
    final_video_size_mb  DOUBLE PRECISION,
    final_video_duration DOUBLE PRECISION,
    execution_arn        VARCHAR(2048),
    error_message        TEXT,
    source_update_id     BIGINT UNIQUE,                     -- the Telegram update that created it
    CONSTRAINT video_jobs_status_valid CHECK (status IN (
        'pending', 'generating_script', 'awaiting_script_approval', 'script_approved',
        'generating_images', 'awaiting_image_approval', 'images_approved',
        'generating_videos', 'awaiting_video_approval', 'videos_approved',
        'assembling', 'delivering', 'completed', 'cancelled', 'failed', 'timed_out')),
    CONSTRAINT video_jobs_script_approved_valid CHECK (script_approved IN (-1, 0, 1)),
    CONSTRAINT video_jobs_aspect_ratio_valid CHECK (aspect_ratio IN ('16:9', '9:16'))
);
CREATE INDEX video_jobs_chat_created_idx ON ai_video_bot.video_jobs_enhanced (chat_id, created_at DESC);
CREATE INDEX video_jobs_created_idx ON ai_video_bot.video_jobs_enhanced (created_at DESC);

CREATE TABLE ai_video_bot.video_segments_enhanced (
    -- the seed's columns
    id                            SERIAL       PRIMARY KEY,
    job_id                        VARCHAR(64)  NOT NULL
                                  REFERENCES ai_video_bot.video_jobs_enhanced (id) ON DELETE CASCADE,
    segment_index                 INTEGER      NOT NULL,
    text                          TEXT         NOT NULL,
    start_time                    FLOAT        NOT NULL,
    end_time                      FLOAT        NOT NULL,
    image_prompt                  TEXT,
    image_prompt_generated_at     TIMESTAMP,
    image_path                    VARCHAR(1024),
    image_runway_task_id          VARCHAR(128),
    image_generated_at            TIMESTAMP,
    animation_prompt              TEXT,
    animation_prompt_generated_at TIMESTAMP,
    video_path                    VARCHAR(1024),
    video_runway_task_id          VARCHAR(128),
    video_duration                FLOAT,
    video_generated_at            TIMESTAMP,
    status                        VARCHAR(32)  NOT NULL DEFAULT 'pending',
    -- what the pipeline adds
    narration_path                VARCHAR(1024),
    narration_duration            FLOAT,                    -- seconds of speech before fitting
    image_submissions             INTEGER      NOT NULL DEFAULT 0,
    video_submissions             INTEGER      NOT NULL DEFAULT 0,
    error_message                 TEXT,
    updated_at                    TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT video_segments_job_index_unique UNIQUE (job_id, segment_index),
    CONSTRAINT video_segments_index_valid CHECK (segment_index BETWEEN 0 AND 9),
    CONSTRAINT video_segments_status_valid CHECK (status IN (
        'pending', 'image_prompt_ready', 'image_ready', 'animation_prompt_ready', 'video_ready', 'failed'))
);

-- One row per approval gate a job reached. The Step Functions task token lives here, never
-- in a Telegram button; approving or rejecting claims the row once (decided_at IS NULL).
CREATE TABLE ai_video_bot.approval_gates (
    job_id      VARCHAR(64)  NOT NULL REFERENCES ai_video_bot.video_jobs_enhanced (id) ON DELETE CASCADE,
    stage       VARCHAR(16)  NOT NULL,
    task_token  TEXT         NOT NULL,
    opened_at   TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    notified_at TIMESTAMP,
    decision    VARCHAR(16),
    decided_at  TIMESTAMP,
    PRIMARY KEY (job_id, stage),
    CONSTRAINT approval_gates_stage_valid CHECK (stage IN ('script', 'images', 'videos')),
    CONSTRAINT approval_gates_decision_valid CHECK (
        decision IS NULL OR decision IN ('approved', 'rejected', 'timed_out', 'abandoned'))
);
