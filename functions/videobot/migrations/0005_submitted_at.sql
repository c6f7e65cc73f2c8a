-- When each vendor task was submitted: segments 1-9 time their wait for segment 0's image
-- (the reference) from it, and Status can show how long a task has been running.
ALTER TABLE ai_video_bot.video_segments_enhanced
    ADD COLUMN IF NOT EXISTS image_submitted_at TIMESTAMP,
    ADD COLUMN IF NOT EXISTS video_submitted_at TIMESTAMP;
