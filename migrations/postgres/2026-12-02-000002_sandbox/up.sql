-- The sandbox's state, so that a restarted server still honours the tokens its emulator
-- issued and several processes on one database share one emulator. Grants are copied onto
-- codes and tokens (JSON scopes as TEXT): a grant is only ever looked up through them.
-- Codes and tokens are kept as their SHA-256, as a platform would: nothing stored here
-- works at the emulator.
CREATE TABLE sandbox_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    platform TEXT NOT NULL,
    person BIGINT NOT NULL,
    scopes TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    challenge TEXT,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sandbox_codes_expiry ON sandbox_codes (expires_at);

CREATE TABLE sandbox_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    platform TEXT NOT NULL,
    person BIGINT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sandbox_tokens_grant ON sandbox_tokens (platform, person);
CREATE INDEX sandbox_tokens_expiry ON sandbox_tokens (expires_at);

CREATE TABLE sandbox_platforms (
    platform TEXT PRIMARY KEY NOT NULL,
    expires_in BIGINT,
    refresh_tokens BOOLEAN NOT NULL
);

-- Scripted failures, consumed oldest first.
CREATE TABLE sandbox_faults (
    seq BIGSERIAL PRIMARY KEY,
    platform TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    fault TEXT NOT NULL
);
CREATE INDEX sandbox_faults_queue ON sandbox_faults (platform, endpoint, seq);

CREATE TABLE sandbox_calls (
    seq BIGSERIAL PRIMARY KEY,
    platform TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
