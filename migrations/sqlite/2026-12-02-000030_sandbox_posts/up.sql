-- What the sandbox's publish emulators received: posts (and replies) as each platform
-- stored them, and the media uploaded for them. Media bytes are files in the data
-- directory (`<data_dir>/sandbox/media`); these rows say whose they are and what they are.
CREATE TABLE sandbox_posts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    person BIGINT NOT NULL,
    post_id TEXT NOT NULL,
    text TEXT NOT NULL,
    -- The post this one answers, and the one it quotes (the platform's ids).
    reply_to TEXT,
    quote_of TEXT,
    -- JSON array of sandbox_media ids, in order.
    media_ids TEXT NOT NULL,
    -- A key the client chose (Bluesky's record key); unique per account.
    client_key TEXT,
    -- JSON object: what else the platform keeps (alt texts, facets, poll, embed...).
    extra TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX sandbox_posts_id ON sandbox_posts (platform, person, post_id);
CREATE UNIQUE INDEX sandbox_posts_client_key ON sandbox_posts (platform, person, client_key);
CREATE INDEX sandbox_posts_by_id ON sandbox_posts (platform, post_id);
CREATE INDEX sandbox_posts_replies ON sandbox_posts (platform, reply_to);
CREATE INDEX sandbox_posts_recent ON sandbox_posts (platform, person, created_at);

CREATE TABLE sandbox_media (
    platform TEXT NOT NULL,
    person BIGINT NOT NULL,
    id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- Set through the platform's metadata call (X); NULL when none was given.
    alt_text TEXT,
    created_at TIMESTAMP NOT NULL,
    -- `ready`, or a step of a multi-step upload, whose progress is in `upload` (JSON).
    state TEXT NOT NULL,
    upload TEXT NOT NULL,
    PRIMARY KEY (platform, person, id)
);
CREATE INDEX sandbox_media_by_id ON sandbox_media (platform, id);
