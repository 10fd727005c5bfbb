DROP TABLE webhook_circuits;
DROP TABLE webhook_deliveries;
DROP TABLE profile_webhooks;
DROP TABLE notification_configs;
