//! OAuth tokens at rest: AES-256-GCM under a key from configuration, each ciphertext naming
//! its key (`v1.<kid>.<base64url(nonce ‖ ciphertext)>`) so keys can rotate while old rows stay
//! readable. The associated data binds a ciphertext to its row and field: a token copied into
//! another row or column no longer decrypts.

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the stored token is not in a format this server writes")]
    Malformed,
    #[error("the stored token was encrypted under key {0}, which is not configured")]
    UnknownKey(KeyId),
    #[error("the stored token does not decrypt (wrong key, or moved to another row)")]
    Rejected,
}

/// The first 8 hex digits of SHA-256 over the key: names a key without revealing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyId([u8; 8]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::str::from_utf8(&self.0).unwrap_or("????????"))
    }
}

struct SealingKey {
    id: KeyId,
    aead: Aes256Gcm,
}

impl SealingKey {
    /// Any secret of at least 32 bytes; SHA-256 of it is the AES key.
    fn new(secret: &str) -> Self {
        let key: [u8; 32] = Sha256::digest(secret.trim().as_bytes()).into();
        let digest = hex::encode(Sha256::digest(key));
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest.as_bytes()[..8]);
        Self {
            id: KeyId(id),
            aead: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)),
        }
    }
}

pub struct TokenCipher {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenCipher(current key {})", self.current.id)
    }
}

impl TokenCipher {
    pub fn new(current: &str, previous: &[&str]) -> Self {
        Self {
            current: SealingKey::new(current),
            previous: previous.iter().map(|k| SealingKey::new(k)).collect(),
        }
    }

    /// Encrypts `plain` for the row and field named by `binding`.
    pub fn seal(&self, binding: &str, plain: &str) -> String {
        let nonce = Nonce::generate();
        let sealed = self
            .current
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: binding.as_bytes(),
                },
            )
            // AES-GCM fails only on inputs of gigabytes; tokens are a few KB at most.
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{VERSION}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    pub fn open(&self, binding: &str, stored: &str) -> Result<String, CipherError> {
        let mut parts = stored.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CipherError::Malformed);
        };
        let kid: [u8; 8] = kid
            .as_bytes()
            .try_into()
            .map_err(|_| CipherError::Malformed)?;
        let kid = KeyId(kid);
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == kid)
            .ok_or(CipherError::UnknownKey(kid))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CipherError::Malformed)?;
        if bytes.len() < NONCE_BYTES {
            return Err(CipherError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce = Nonce::try_from(nonce).map_err(|_| CipherError::Malformed)?;
        let plain = key
            .aead
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: binding.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Rejected)?;
        String::from_utf8(plain).map_err(|_| CipherError::Rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "an example token key that is long enough";
    const OLD: &str = "the previous token key, also long enough!";

    #[test]
    fn round_trips_and_never_shows_the_plaintext() {
        let c = TokenCipher::new(KEY, &[]);
        let sealed = c.seal("conn1:access", "secret-access-token");
        assert!(!sealed.contains("secret"));
        let kid = sealed.split('.').nth(1).unwrap();
        assert!(
            sealed.starts_with("v1.")
                && kid.len() == 8
                && kid.chars().all(|c| c.is_ascii_hexdigit())
        );
        assert_eq!(
            c.open("conn1:access", &sealed).unwrap(),
            "secret-access-token"
        );
        assert_ne!(
            sealed,
            c.seal("conn1:access", "secret-access-token"),
            "fresh nonce"
        );
    }

    #[test]
    fn a_token_moved_to_another_row_or_field_does_not_open() {
        let c = TokenCipher::new(KEY, &[]);
        let sealed = c.seal("conn1:access", "t");
        assert_eq!(c.open("conn2:access", &sealed), Err(CipherError::Rejected));
        assert_eq!(c.open("conn1:refresh", &sealed), Err(CipherError::Rejected));
    }

    #[test]
    fn old_keys_still_open_and_new_tokens_use_the_current_key() {
        let old = TokenCipher::new(OLD, &[]);
        let sealed = old.seal("b", "t");
        let rotated = TokenCipher::new(KEY, &[OLD]);
        assert_eq!(rotated.open("b", &sealed).unwrap(), "t");
        let kid = |s: &str| s.split('.').nth(1).unwrap().to_owned();
        assert_ne!(
            kid(&rotated.seal("b", "t")),
            kid(&sealed),
            "new seals use the new key"
        );
        let forgotten = TokenCipher::new(KEY, &[]);
        assert!(matches!(
            forgotten.open("b", &sealed),
            Err(CipherError::UnknownKey(_))
        ));
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        let c = TokenCipher::new(KEY, &[]);
        let sealed = c.seal("b", "token");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(c.open("b", &tampered), Err(CipherError::Rejected));
        for garbage in [
            "",
            "v1",
            "v1.x.y",
            "v2.abcdefgh.AAAA",
            "v1.abcdefgh.!!",
            "v1..",
            "plain",
        ] {
            assert!(c.open("b", garbage).is_err(), "{garbage}");
        }
    }
}
