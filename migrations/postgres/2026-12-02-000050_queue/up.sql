-- A profile's posting queue: its settings as JSON (domain::queue::QueueSettings), written on
-- first change; a profile without a row has Upload-Post's defaults.
CREATE TABLE queue_settings (
    profile_id TEXT PRIMARY KEY NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    settings TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Slots marked full by hand (UTC instants): the queue gives them no more posts.
CREATE TABLE queue_full_slots (
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    slot_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (profile_id, slot_at)
);
