-- SQL cannot open sealed secrets: they stay as they are. Earlier versions sign with the
-- sealed text, which GET /users/notifications then shows as the secret (or rotate it).
ALTER TABLE notification_configs RENAME COLUMN sealed_webhook_secret TO webhook_secret;
