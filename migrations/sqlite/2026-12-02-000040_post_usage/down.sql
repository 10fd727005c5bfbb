DROP TABLE post_usage;
