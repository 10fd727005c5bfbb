DROP TABLE sandbox_calls;
DROP TABLE sandbox_faults;
DROP TABLE sandbox_platforms;
DROP TABLE sandbox_tokens;
DROP TABLE sandbox_codes;
