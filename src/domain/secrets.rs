//! Random identifiers and API keys, and how presented keys are read and compared.

use rand::RngExt;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

const KEY_MARKER: &str = "pgk_";
const KEY_PREFIX_RANDOM_CHARS: usize = 8;
const KEY_SECRET_RANDOM_CHARS: usize = 40;
const PUBLIC_ID_CHARS: usize = 11;

fn random_alphanumeric(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// An unguessable identifier for links, OAuth states and the like (~190 bits at 32 chars).
pub fn new_random_id(chars: usize) -> String {
    random_alphanumeric(chars)
}

/// A Mallary-style public profile id such as `AbC123xYz90`.
pub fn new_public_id() -> String {
    random_alphanumeric(PUBLIC_ID_CHARS)
}

/// A freshly generated API key. The full text is shown once; only `hash` is stored.
#[derive(Debug, Clone)]
pub struct IssuedApiKey {
    pub full: String,
    /// The first characters of the key, kept in clear so listings can name the key.
    pub prefix: String,
    pub hash: String,
}

impl IssuedApiKey {
    pub fn generate() -> Self {
        let prefix = format!(
            "{KEY_MARKER}{}",
            random_alphanumeric(KEY_PREFIX_RANDOM_CHARS)
        );
        let full = format!("{prefix}{}", random_alphanumeric(KEY_SECRET_RANDOM_CHARS));
        let hash = hash_api_key(&full);
        Self { full, prefix, hash }
    }
}

/// Keys carry ~238 random bits, so a fast hash is enough: nobody can brute-force the
/// preimage, and a deterministic digest lets us find the key by index.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// What an `Authorization` header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    ApiKey(&'a str),
    Bearer(&'a str),
}

/// Reads `<scheme> <credential>`; the scheme is matched case-insensitively (`Apikey`, `ApiKey`).
pub fn parse_authorization(header: &str) -> Option<Credential<'_>> {
    let (scheme, rest) = header
        .trim()
        .split_once(|c: char| c.is_ascii_whitespace())?;
    let credential = rest.trim();
    if credential.is_empty() || credential.contains(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    if scheme.eq_ignore_ascii_case("apikey") {
        Some(Credential::ApiKey(credential))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Credential::Bearer(credential))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_unique_and_hashed() {
        let a = IssuedApiKey::generate();
        let b = IssuedApiKey::generate();
        assert_ne!(a.full, b.full);
        assert_eq!(a.full.len(), 4 + 8 + 40);
        assert!(a.full.starts_with(&a.prefix));
        assert_eq!(a.prefix.len(), 12);
        assert_eq!(a.hash, hash_api_key(&a.full));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.full));
    }

    #[test]
    fn public_ids() {
        let id = new_public_id();
        assert_eq!(id.len(), 11);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn authorization_schemes() {
        assert_eq!(
            parse_authorization("Apikey abc"),
            Some(Credential::ApiKey("abc"))
        );
        assert_eq!(
            parse_authorization("ApiKey abc"),
            Some(Credential::ApiKey("abc"))
        );
        assert_eq!(
            parse_authorization("APIKEY   abc "),
            Some(Credential::ApiKey("abc"))
        );
        assert_eq!(
            parse_authorization("Bearer t.o.k"),
            Some(Credential::Bearer("t.o.k"))
        );
        assert_eq!(
            parse_authorization("bearer t"),
            Some(Credential::Bearer("t"))
        );
        for bad in [
            "",
            "Apikey",
            "Apikey ",
            "abc",
            "Basic abc",
            "Apikey a b",
            "Token abc",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad:?}");
        }
    }
}
