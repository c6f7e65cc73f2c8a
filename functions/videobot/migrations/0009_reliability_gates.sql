-- A gate never sticks. `unknown_decision` is the decision last sent to Step Functions on the
-- gate's token whose outcome is unknown (a connection error or a read timeout after the call
-- left): the gate was reopened, and if Step Functions later says the token is dead, that
-- decision landed. `resumed_at` is set once Step Functions confirmed the decision: a gate
-- decided but never resumed (the webhook killed between the two) is sent again by the next
-- tap or redelivery.
ALTER TABLE ai_video_bot.approval_gates
    ADD COLUMN IF NOT EXISTS unknown_decision TEXT,
    ADD COLUMN IF NOT EXISTS resumed_at       TIMESTAMP;
