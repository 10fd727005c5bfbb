ALTER TABLE webhook_deliveries RENAME COLUMN retry_from TO retry_until;
UPDATE webhook_deliveries SET retry_until = retry_until + INTERVAL '24 hours';
