DROP TABLE sandbox_media;
DROP TABLE sandbox_posts;
