DROP TABLE oauth_states;
DROP TABLE posts;
DROP TABLE social_connections;
DROP TABLE connect_links;
ALTER TABLE profiles DROP COLUMN ui_labels;
ALTER TABLE profiles DROP COLUMN language;
