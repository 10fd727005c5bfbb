ALTER TABLE oauth_states DROP COLUMN returns_to_page;
ALTER TABLE accounts DROP COLUMN allowed_redirect_origins;
