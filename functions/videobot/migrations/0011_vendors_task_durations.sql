-- How long each vendor task took, to place the first checks of the next ones: when a poll
-- first saw it RUNNING (its time in Runway's queue, THROTTLED or PENDING, is not generation
-- time) and when a poll saw it end.
ALTER TABLE ai_video_bot.vendor_usage
    ADD COLUMN IF NOT EXISTS running_at TIMESTAMP,
    ADD COLUMN IF NOT EXISTS settled_at TIMESTAMP;
CREATE INDEX IF NOT EXISTS vendor_usage_model_settled_idx
    ON ai_video_bot.vendor_usage (model, settled_at) WHERE settled_at IS NOT NULL;
