-- Connect links, the page's per-profile settings, connected accounts as the page shows them,
-- the posts the calendar reads, and pending OAuth states for the mobile bounce.
ALTER TABLE profiles ADD COLUMN language TEXT;
ALTER TABLE profiles ADD COLUMN ui_labels TEXT;

CREATE TABLE connect_links (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    redirect_url TEXT,
    logo_image TEXT,
    redirect_button_text TEXT,
    connect_title TEXT,
    connect_description TEXT,
    platforms TEXT,
    show_calendar BOOLEAN NOT NULL,
    readonly_calendar BOOLEAN NOT NULL,
    language TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX connect_links_profile ON connect_links (profile_id);

CREATE TABLE social_connections (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    handle TEXT,
    display_name TEXT,
    avatar_url TEXT,
    capabilities TEXT,
    reauth_required BOOLEAN NOT NULL DEFAULT FALSE,
    reauth_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (profile_id, platform)
);

CREATE TABLE posts (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT,
    body TEXT,
    media_url TEXT,
    scheduled_for TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX posts_profile_time ON posts (profile_id, scheduled_for);

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
