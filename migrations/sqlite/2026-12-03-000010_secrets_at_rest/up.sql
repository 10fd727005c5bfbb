-- Secrets at rest, sealed with the token cipher.
--
-- Webhook signing secrets (`webhooks::secrets`): the key is only known to the server, so
-- the secrets stored in clear until now keep their value here and the server seals them
-- when it starts. The new name makes processes of earlier versions fail instead of signing
-- with a sealed value.
ALTER TABLE notification_configs RENAME COLUMN webhook_secret TO sealed_webhook_secret;

-- A pending sign-in's authorize URL carries its OAuth state, so it is stored sealed from
-- now on. Those stored in clear are dropped: the mobile bounce page then reports the
-- sign-in as expired, while the platform's redirect back still completes it.
UPDATE oauth_states SET authorize_url = '';
