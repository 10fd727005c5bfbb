-- Secrets at rest, sealed with the token cipher.
--
-- Webhook signing secrets (`webhooks::secrets`): the key is only known to the server, so
-- the secrets stored in clear until now keep their value here and the server seals them
-- when it starts. The new name makes processes of earlier versions fail instead of signing
-- with a sealed value.
ALTER TABLE notification_configs RENAME COLUMN webhook_secret TO sealed_webhook_secret;

