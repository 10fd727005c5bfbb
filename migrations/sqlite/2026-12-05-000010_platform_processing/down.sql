ALTER TABLE media_objects DROP COLUMN video;
ALTER TABLE sandbox_platforms DROP COLUMN processing_ms;
DROP TABLE upload_processing;
