ALTER TABLE webhook_deliveries RENAME COLUMN retry_from TO retry_until;
UPDATE webhook_deliveries SET retry_until = strftime('%Y-%m-%d %H:%M:%f', retry_until, '+24 hours');
