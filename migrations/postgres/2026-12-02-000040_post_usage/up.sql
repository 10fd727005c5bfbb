-- Posts used per account and usage period (a calendar month in UTC, `2026-12`): one credit
-- per platform per upload, reserved with a conditional UPDATE so that concurrent uploads,
-- also from several processes, never take the count past the plan's allowance.
CREATE TABLE post_usage (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    count BIGINT NOT NULL CHECK (count >= 0),
    PRIMARY KEY (account_id, period)
);
