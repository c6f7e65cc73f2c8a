-- Messages that matter arrive at least once (issue 21, items 5, 6, 8).
-- A notification is claimed (claimed_at) before it is sent and recorded as sent (sent_at) only
-- once Telegram confirmed it; a claim whose sender died is taken over after its lease.
ALTER TABLE ai_video_bot.notifications
    ADD COLUMN claimed_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc');
ALTER TABLE ai_video_bot.notifications ALTER COLUMN sent_at DROP NOT NULL;
ALTER TABLE ai_video_bot.notifications ALTER COLUMN sent_at DROP DEFAULT;

-- A job's end is recorded together with what the user is to be told (end_notice) and, once
-- Telegram confirmed it, when they were told (end_told_at). The reconciler tells the rest.
ALTER TABLE ai_video_bot.video_jobs_enhanced ADD COLUMN end_notice JSONB;
ALTER TABLE ai_video_bot.video_jobs_enhanced ADD COLUMN end_told_at TIMESTAMP;
CREATE INDEX video_jobs_untold_idx ON ai_video_bot.video_jobs_enhanced (completed_at)
    WHERE end_notice IS NOT NULL AND end_told_at IS NULL;

-- A gate's question that Telegram did not take is asked again by the reconciler, with backoff
-- (ask_attempts, next_ask_at), until the gate is decided or times out.
ALTER TABLE ai_video_bot.approval_gates ADD COLUMN ask_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ai_video_bot.approval_gates ADD COLUMN next_ask_at TIMESTAMP;
CREATE INDEX approval_gates_unasked_idx ON ai_video_bot.approval_gates (next_ask_at)
    WHERE next_ask_at IS NOT NULL AND decided_at IS NULL;
