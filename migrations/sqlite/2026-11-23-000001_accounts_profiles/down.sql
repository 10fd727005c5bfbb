DROP TABLE bootstrap_markers;
DROP TABLE profiles;
DROP TABLE api_keys;
DROP TABLE accounts;
