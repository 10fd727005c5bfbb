DROP TABLE upload_media;
