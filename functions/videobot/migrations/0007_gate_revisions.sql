-- Feedback at a gate: instead of approving, the user asks for a revision (the script
-- rewritten with their words, or some segments' images or clips made again). The gate is
-- decided 'revised', the state machine loops back through ReviseScript / RedoImages /
-- RedoClips, and the gate opens again; `revisions` bounds the loop.
ALTER TABLE ai_video_bot.approval_gates
    ADD COLUMN IF NOT EXISTS revisions     INTEGER   NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS feedback      TEXT,
    ADD COLUMN IF NOT EXISTS redo_segments INTEGER[];
ALTER TABLE ai_video_bot.approval_gates DROP CONSTRAINT IF EXISTS approval_gates_decision_valid;
ALTER TABLE ai_video_bot.approval_gates ADD CONSTRAINT approval_gates_decision_valid CHECK (
    decision IS NULL OR decision IN ('approved', 'rejected', 'timed_out', 'abandoned', 'revised'));
