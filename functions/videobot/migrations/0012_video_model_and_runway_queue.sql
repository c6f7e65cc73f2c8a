-- Issue 14, items 6 and 7.
-- Each user's video model (/settings; NULL: the deployment's RUNWAY_VIDEO_MODEL), and the model a
-- job was started with (control.start_job copies it): the clip stage, the estimate and the
-- budget all read the job's, so a setting changed mid-job changes nothing of it.
ALTER TABLE ai_video_bot.user_settings
    ADD COLUMN IF NOT EXISTS video_model VARCHAR(64);
ALTER TABLE ai_video_bot.video_jobs_enhanced
    ADD COLUMN IF NOT EXISTS video_model VARCHAR(64);

-- What the last poll of a segment's vendor task answered while it was unfinished (PENDING,
-- THROTTLED, RUNNING; NULL once it ended or before the first poll): progress and /status say
-- "в очереди у Runway" for the segments whose task Runway holds as THROTTLED.
ALTER TABLE ai_video_bot.video_segments_enhanced
    ADD COLUMN IF NOT EXISTS vendor_status VARCHAR(16);

-- The queued count the progress message last showed, so a change of it edits the message.
ALTER TABLE ai_video_bot.telegram_progress
    ADD COLUMN IF NOT EXISTS queued INTEGER NOT NULL DEFAULT 0;
