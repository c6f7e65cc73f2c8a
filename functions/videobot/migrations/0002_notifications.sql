-- Messages the pipeline has sent, so a retried stage never sends the same message twice.
-- No foreign key: the record must outlive a cancelled job's cleared rows.
CREATE TABLE ai_video_bot.notifications (
    job_id  VARCHAR(64) NOT NULL,
    key     VARCHAR(64) NOT NULL,
    sent_at TIMESTAMP   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    PRIMARY KEY (job_id, key)
);
