-- The calendar reads the publishing engine's jobs now; nothing ever wrote this table but
-- tests.
DROP TABLE posts;
