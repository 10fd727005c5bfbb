-- Which media each upload publishes. A job that finishes lets its media go after the
-- retention period (the sweeper deletes it then), a retried one holds it again, a cancelled
-- one deletes it at once. No foreign key to media_objects: the sweeper deletes media while
-- the job rows stay as history.
CREATE TABLE upload_media (
    job_id TEXT NOT NULL REFERENCES upload_jobs (id) ON DELETE CASCADE,
    media_id TEXT NOT NULL,
    PRIMARY KEY (job_id, media_id)
);
CREATE INDEX upload_media_media ON upload_media (media_id);

-- Jobs accepted before this table existed: their media ids are in the payload, and
-- finished ones let their media go a week from now.
INSERT INTO upload_media (job_id, media_id)
SELECT id, m ->> 'id' FROM upload_jobs, jsonb_array_elements(payload::jsonb -> 'media') AS m
ON CONFLICT DO NOTHING;
UPDATE media_objects SET expires_at = (now() AT TIME ZONE 'utc') + INTERVAL '7 days'
WHERE expires_at IS NULL AND id IN (
    SELECT um.media_id FROM upload_media um JOIN upload_jobs j ON j.id = um.job_id
    WHERE j.state IN ('done', 'cancelled'));
