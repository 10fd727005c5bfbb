-- Stored media: uploaded files, fetched URLs and staged uploads. The bytes live in the
-- object store under `object_key`; a row gone (its account or profile deleted, its expiry
-- passed) makes the object an orphan that the sweeper deletes.
CREATE TABLE media_objects (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    profile_id TEXT REFERENCES profiles (id) ON DELETE CASCADE,
    -- image | video | document
    kind TEXT NOT NULL,
    -- Sniffed from the bytes; for a staged upload not yet complete, what the client declared.
    content_type TEXT NOT NULL,
    -- Bytes stored; for a staged upload not yet complete, the declared length (reserved
    -- against the disk budget).
    size BIGINT NOT NULL,
    filename TEXT,
    object_key TEXT NOT NULL,
    -- staging | uploaded | ready
    state TEXT NOT NULL,
    -- Staged uploads only: what the client said the file came from (`source`, else `api`).
    source TEXT,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX media_objects_account ON media_objects (account_id, created_at);
CREATE INDEX media_objects_expiry ON media_objects (expires_at);
CREATE UNIQUE INDEX media_objects_key ON media_objects (object_key);
