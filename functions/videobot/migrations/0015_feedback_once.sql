-- Feedback at a gate is keyed by the Telegram update that carried it: a redelivery, a retried
-- worker or a lost answer never revises (and pays) twice.
ALTER TABLE ai_video_bot.approval_gates ADD COLUMN revised_by_update BIGINT;
