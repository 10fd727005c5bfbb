-- Notification settings, per-profile webhooks, and the transactional outbox of webhook
-- deliveries with the circuit breaker's state.
CREATE TABLE notification_configs (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    channels TEXT NOT NULL,
    webhook_url TEXT,
    webhook_events TEXT,
    webhook_secret TEXT,
    telegram_chat_id TEXT,
    slack_webhook_url TEXT,
    whatsapp_to_phone TEXT,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE profile_webhooks (
    profile_id TEXT PRIMARY KEY NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    webhook_url TEXT NOT NULL,
    webhook_events TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row per event and target. Rows outlive their profile (the event may be about its
-- deletion): ordering_key (the profile's id, else the account's) is a plain value.
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    target_url TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    retry_until TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (target_url, ordering_key, state, seq);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, seq);

CREATE TABLE webhook_circuits (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_url TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    paused_until TIMESTAMP,
    PRIMARY KEY (account_id, target_url)
);
