-- The budget check at a cost that does not grow with the day's spend: every change of a ledger
-- row's amount_usd (a reservation, a settle, a release, a hold drawn on) is added, by this
-- trigger, to the row's user and to everyone (user_id 0) in the 5-minute slot of its
-- recorded_at. The check sums at most 289 slots for the user and 289 for everyone; the oldest
-- slot is counted whole, so the window reaches at most 5 minutes further back (counted high,
-- never low).
CREATE TABLE IF NOT EXISTS ai_video_bot.spend_slots (
    user_id  BIGINT         NOT NULL,
    slot     TIMESTAMP      NOT NULL,
    usd      NUMERIC(16, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, slot)
);

CREATE OR REPLACE FUNCTION ai_video_bot.spend_slots_add(who BIGINT, at TIMESTAMP, amount NUMERIC)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO ai_video_bot.spend_slots (user_id, slot, usd)
    VALUES (COALESCE(who, -1), date_bin('5 minutes', at, TIMESTAMP '2000-01-01'), amount),
           (0, date_bin('5 minutes', at, TIMESTAMP '2000-01-01'), amount)
    ON CONFLICT (user_id, slot) DO UPDATE SET usd = ai_video_bot.spend_slots.usd + EXCLUDED.usd;
$$;

CREATE OR REPLACE FUNCTION ai_video_bot.spend_slots_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.amount_usd = OLD.amount_usd AND NEW.recorded_at = OLD.recorded_at
       AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.amount_usd <> 0 THEN
        PERFORM ai_video_bot.spend_slots_add(OLD.user_id, OLD.recorded_at, -OLD.amount_usd);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.amount_usd <> 0 THEN
        PERFORM ai_video_bot.spend_slots_add(NEW.user_id, NEW.recorded_at, NEW.amount_usd);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS vendor_usage_spend_slots ON ai_video_bot.vendor_usage;
CREATE TRIGGER vendor_usage_spend_slots AFTER INSERT OR UPDATE OR DELETE ON ai_video_bot.vendor_usage
    FOR EACH ROW EXECUTE FUNCTION ai_video_bot.spend_slots_track();

-- What the ledger already holds
INSERT INTO ai_video_bot.spend_slots (user_id, slot, usd)
SELECT COALESCE(user_id, -1), date_bin('5 minutes', recorded_at, TIMESTAMP '2000-01-01'), SUM(amount_usd)
  FROM ai_video_bot.vendor_usage WHERE amount_usd <> 0 GROUP BY 1, 2
ON CONFLICT (user_id, slot) DO UPDATE SET usd = EXCLUDED.usd;
INSERT INTO ai_video_bot.spend_slots (user_id, slot, usd)
SELECT 0, date_bin('5 minutes', recorded_at, TIMESTAMP '2000-01-01'), SUM(amount_usd)
  FROM ai_video_bot.vendor_usage WHERE amount_usd <> 0 GROUP BY 2
ON CONFLICT (user_id, slot) DO UPDATE SET usd = EXCLUDED.usd;
