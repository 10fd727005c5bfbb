-- Publishing: one job per accepted upload, one target per platform it names. Workers lease
-- targets as the webhook outbox leases deliveries. `call_started_at` is written (and
-- committed) before a platform call that creates a post and cleared with its outcome: a
-- target leased again with it still set had a call whose outcome is unknown, which must be
-- reconciled with the platform before any new attempt.
CREATE TABLE upload_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT,
    caption TEXT,
    external_id TEXT,
    -- What to publish, as JSON: the request's fields (domain::upload::Fields), its stored
    -- media, and how a schedule was given (time zone, the text as sent).
    payload TEXT NOT NULL,
    is_async BOOLEAN NOT NULL,
    -- scheduled | active | done | cancelled
    state TEXT NOT NULL,
    scheduled_for TIMESTAMP,
    queued BOOLEAN NOT NULL,
    -- Post credits reserved for it, counted in the usage period of `created_at`.
    credits INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, request_id)
);
CREATE INDEX upload_jobs_account_time ON upload_jobs (account_id, created_at);
CREATE INDEX upload_jobs_profile_time ON upload_jobs (profile_id, scheduled_for);
CREATE INDEX upload_jobs_state ON upload_jobs (state, scheduled_for);

CREATE TABLE upload_targets (
    job_id TEXT NOT NULL REFERENCES upload_jobs (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    -- queued | processing | completed | failed | retryable | skipped
    state TEXT NOT NULL,
    -- The account it goes to, once known; no foreign key: history outlives accounts.
    connection_id TEXT,
    attempts INTEGER NOT NULL,
    due_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    first_call_at TIMESTAMP,
    call_started_at TIMESTAMP,
    -- The per-platform result object of the wire, as JSON, once there is one.
    result TEXT,
    platform_post_id TEXT,
    post_url TEXT,
    error_code TEXT,
    error_message TEXT,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    PRIMARY KEY (job_id, platform)
);
CREATE INDEX upload_targets_due ON upload_targets (state, due_at);
CREATE INDEX upload_targets_account_time ON upload_targets (connection_id, finished_at);

-- Idempotency keys (and client request ids): a repeat within 24 hours gets the first job.
CREATE TABLE upload_idempotency (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    job_id TEXT NOT NULL REFERENCES upload_jobs (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, key)
);
