-- A platform that processes an upload before its post exists (a video being transcoded, a
-- container not yet ready) leaves the upload's target waiting: what the next call needs
-- (ids, offsets) as JSON, and since when it waits, for the processing deadline.
CREATE TABLE upload_processing (
    job_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    state TEXT NOT NULL,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (job_id, platform),
    FOREIGN KEY (job_id, platform) REFERENCES upload_targets (job_id, platform) ON DELETE CASCADE
);

-- How long the sandbox's emulated platforms take to process an upload, set on
-- /sandbox/_control; NULL for the default.
ALTER TABLE sandbox_platforms ADD COLUMN processing_ms BIGINT;

-- What probing a stored video found (duration, size, codecs) as JSON; NULL for other
-- kinds and for videos the prober cannot read.
ALTER TABLE media_objects ADD COLUMN video TEXT;
