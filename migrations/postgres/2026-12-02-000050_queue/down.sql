DROP TABLE queue_full_slots;
DROP TABLE queue_settings;
