DROP TABLE oauth_tokens;
DROP INDEX social_connections_identity;
ALTER TABLE social_connections DROP COLUMN selected_target_name;
ALTER TABLE social_connections DROP COLUMN selected_target_id;
DROP TABLE oauth_states;
CREATE TABLE oauth_states (
    id TEXT PRIMARY KEY NOT NULL,
    link_id TEXT NOT NULL REFERENCES connect_links (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    authorize_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX oauth_states_link ON oauth_states (link_id);
