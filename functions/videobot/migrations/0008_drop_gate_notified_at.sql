-- Gates no longer record when the user was asked: ai_video_bot.notifications holds what was
-- sent, once per job and key (a gate's question per round).
ALTER TABLE ai_video_bot.approval_gates DROP COLUMN IF EXISTS notified_at;
