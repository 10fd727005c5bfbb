-- Origins a connect-link holder may send the browser back to (`redirect_url` of the
-- Connect API under a link token), besides the configured ones: a JSON array of
-- `scheme://host[:port]`, NULL for none.
ALTER TABLE accounts ADD COLUMN allowed_redirect_origins TEXT;

-- Where a finished sign-in returns: the connect page (which reports the outcome itself)
-- or the Connect API caller's redirect_url (with Upload-Post's connect_status parameters).
-- Until now only the page bound a sign-in to its link, so those are the page's.
ALTER TABLE oauth_states ADD COLUMN returns_to_page BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE oauth_states SET returns_to_page = TRUE WHERE link_id IS NOT NULL;
