-- A voice topic is transcribed by the state machine's first state (TranscribeVoiceTopic), not
-- by the webhook: the job row keeps the Telegram file id of the voice note until then, and
-- its prompt is filled in by that stage.
ALTER TABLE ai_video_bot.video_jobs_enhanced
    ADD COLUMN IF NOT EXISTS voice_file_id TEXT;
