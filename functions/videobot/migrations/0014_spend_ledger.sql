-- The spend ledger (videobot.data.ledger). vendor_usage becomes it: every paid call reserves
-- its estimate here, in one transaction with the budget check, before it is made; after it,
-- the row is settled to what the vendor reported (usd) or released (0). A job's estimate is
-- held at acceptance (state 'held'; each call draws its estimate from the hold) and the rest
-- released when the job ends. `amount_usd` is what a row counts against the budgets now:
-- the hold left, a reservation in flight, the settled cost, or 0.
ALTER TABLE ai_video_bot.vendor_usage
    ADD COLUMN IF NOT EXISTS user_id      BIGINT,
    ADD COLUMN IF NOT EXISTS call_key     VARCHAR(200),
    ADD COLUMN IF NOT EXISTS state        VARCHAR(10)   NOT NULL DEFAULT 'settled',
    ADD COLUMN IF NOT EXISTS reserved_usd NUMERIC(12, 6) NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS amount_usd   NUMERIC(12, 6) NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS audio_seconds DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE ai_video_bot.vendor_usage
    ADD CONSTRAINT vendor_usage_state_check CHECK (state IN ('held', 'reserved', 'settled', 'released'));
CREATE UNIQUE INDEX IF NOT EXISTS vendor_usage_call_key_idx ON ai_video_bot.vendor_usage (call_key);
-- Rows recorded before the ledger: their user, and Runway's credits at 0.01 USD (the LLM and
-- speech lines of those days were cents).
UPDATE ai_video_bot.vendor_usage AS u
   SET user_id = j.user_id,
       amount_usd = CASE WHEN u.vendor = 'runway' THEN u.credits * 0.01 ELSE 0 END,
       reserved_usd = CASE WHEN u.vendor = 'runway' THEN u.credits * 0.01 ELSE 0 END
  FROM ai_video_bot.video_jobs_enhanced AS j
 WHERE j.id = u.job_id AND u.user_id IS NULL;
-- Runway's daily generation cap is per model: generations of the last 24 hours.
CREATE INDEX IF NOT EXISTS vendor_usage_generations_idx
    ON ai_video_bot.vendor_usage (model, recorded_at) WHERE vendor = 'runway' AND state <> 'released';
-- A voice note transcribed while no job is open (its words become a topic) is paid for with no
-- job: the user's own line.
ALTER TABLE ai_video_bot.vendor_usage ALTER COLUMN job_id DROP NOT NULL;
-- A task id is the vendor's: looked up within its job (settled when a poll sees it end).
ALTER TABLE ai_video_bot.vendor_usage DROP CONSTRAINT IF EXISTS vendor_usage_task_id_key;
CREATE INDEX IF NOT EXISTS vendor_usage_task_idx ON ai_video_bot.vendor_usage (task_id)
    WHERE task_id IS NOT NULL;
