-- A segment refused by the vendor's moderation pauses its Map iteration at a gate of its own
-- ("refused_image_6", "refused_clip_6": the kind and the 0-based segment): the user writes a
-- new prompt, retries, or cancels; `revisions` bounds the loop like any gate's.
ALTER TABLE ai_video_bot.approval_gates DROP CONSTRAINT IF EXISTS approval_gates_stage_valid;
ALTER TABLE ai_video_bot.approval_gates ADD CONSTRAINT approval_gates_stage_valid CHECK (
    stage IN ('script', 'images', 'videos') OR stage ~ '^refused_(image|clip)_[0-9]{1,2}$');
