DROP TABLE media_objects;
