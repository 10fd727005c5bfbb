DROP TABLE upload_idempotency;
DROP TABLE upload_targets;
DROP TABLE upload_jobs;
