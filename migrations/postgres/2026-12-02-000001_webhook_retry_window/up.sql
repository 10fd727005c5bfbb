-- A delivery records when its retry window started; the worker adds its configured length.
-- Queued rows keep their deadline under the default 24-hour window.
ALTER TABLE webhook_deliveries RENAME COLUMN retry_until TO retry_from;
UPDATE webhook_deliveries SET retry_from = retry_from - INTERVAL '24 hours';
