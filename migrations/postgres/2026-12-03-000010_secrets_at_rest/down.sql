-- SQL cannot open sealed secrets: they stay as they are. Earlier versions sign with the
-- sealed text, which GET /users/notifications then shows as the secret (or rotate it), and
-- their bounce page cannot use a sealed authorize URL (the sign-in shows as expired).
ALTER TABLE notification_configs RENAME COLUMN sealed_webhook_secret TO webhook_secret;
