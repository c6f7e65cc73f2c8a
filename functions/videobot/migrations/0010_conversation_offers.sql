-- Words written at the image or clip gate without segment numbers ("сделай ярче"): the bot
-- offers to redo all ten with them, and keeps them here until the user taps the offer.
ALTER TABLE ai_video_bot.approval_gates ADD COLUMN IF NOT EXISTS offered_feedback TEXT;
