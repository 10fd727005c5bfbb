-- OAuth: pending authorizations (now with the state's hash, the PKCE verifier, and starts
-- from the API without a link), encrypted tokens beside each connection, and the pinned
-- Page / location on the connection itself so a reconnect of the same identity keeps it.
-- The outcome is kept on the used state so the connect page can show it from its own
-- records rather than from query parameters anyone could write.
-- Pending states live 15 minutes, so the old table is dropped rather than converted.
DROP TABLE oauth_states;
CREATE TABLE oauth_states (
    id TEXT PRIMARY KEY NOT NULL,
    state_hash TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    link_id TEXT REFERENCES connect_links (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    return_url TEXT,
    authorize_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    outcome_status TEXT,
    outcome_code TEXT,
    outcome_detail TEXT
);
CREATE INDEX oauth_states_link ON oauth_states (link_id);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

ALTER TABLE social_connections ADD COLUMN selected_target_id TEXT;
ALTER TABLE social_connections ADD COLUMN selected_target_name TEXT;
CREATE INDEX social_connections_identity ON social_connections (platform, platform_user_id);

CREATE TABLE oauth_tokens (
    connection_id TEXT PRIMARY KEY NOT NULL REFERENCES social_connections (id) ON DELETE CASCADE,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    expires_at TIMESTAMP,
    refresh_expires_at TIMESTAMP,
    scopes TEXT,
    refresh_due_at TIMESTAMP,
    refresh_lease_until TIMESTAMP,
    refresh_failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_tokens_due ON oauth_tokens (refresh_due_at);
