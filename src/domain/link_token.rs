//! Connect-link tokens: HS256 JWTs naming a server-side link row, signed with the current key
//! and accepted under any configured key (`kid`), so keys can rotate without breaking live
//! links. Also the CSRF tokens of the page's forms, derived from the same keys.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "postgate";
pub const AUDIENCE: &str = "connect";
/// Shortest signing secret we accept (bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// What a link token says. The row named by `jti` holds everything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    pub iss: String,
    pub aud: String,
    /// The profile's internal id.
    pub sub: String,
    /// The API account's id.
    pub acc: String,
    /// The link's id.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

impl LinkClaims {
    pub fn new(link_id: &str, profile_id: &str, account_id: &str, iat: i64, exp: i64) -> Self {
        Self {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: profile_id.to_owned(),
            acc: account_id.to_owned(),
            jti: link_id.to_owned(),
            iat,
            exp,
        }
    }
}

/// Why a token was refused. The wording is safe to show to anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token expired")]
    Expired,
    #[error("Token revoked")]
    Revoked,
    #[error("Invalid token signature")]
    BadSignature,
    #[error("Malformed token")]
    Malformed,
    #[error("Token does not belong to this account")]
    OtherAccount,
    #[error("Profile not found")]
    ProfileGone,
    #[error("Profile is blocked by the plan's limits")]
    ProfileBlocked,
}

struct SigningKey {
    kid: String,
    secret: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    fn new(secret: &str) -> Result<Self, String> {
        let secret = secret.trim().as_bytes().to_vec();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "a link signing key must be at least {MIN_SECRET_BYTES} bytes long"
            ));
        }
        Ok(Self {
            kid: hex::encode(&Sha256::digest(&secret)[..6]),
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            secret,
        })
    }

    fn mac(&self, purpose: &str, subject: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(subject.as_bytes());
        mac
    }
}

/// Signs with the first key, verifies with any.
pub struct LinkSigner {
    keys: Vec<SigningKey>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("LinkSigner").field("kids", &kids).finish()
    }
}

impl LinkSigner {
    pub fn new(current: &str, previous: &[&str]) -> Result<Self, String> {
        let keys = std::iter::once(current)
            .chain(previous.iter().copied())
            .map(SigningKey::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { keys })
    }

    fn current(&self) -> &SigningKey {
        &self.keys[0]
    }

    pub fn sign(&self, claims: &LinkClaims) -> String {
        let key = self.current();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Checks the signature (HS256 only, so `alg: none` and algorithm swaps fail), issuer,
    /// audience and expiry. Whether the link still exists is the caller's question.
    pub fn verify(&self, token: &str, now: i64) -> Result<LinkClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::BadSignature);
        }
        let key = match header.kid.as_deref() {
            Some(kid) => self.keys.iter().find(|k| k.kid == kid),
            None => None,
        }
        .ok_or(TokenError::BadSignature)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub", "jti"]);
        // Our own clock decides expiry, below, so tests and the link row agree to the second.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<LinkClaims>(token, &key.decoding, &validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
                    _ => TokenError::Malformed,
                }
            })?;
        if data.claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }

    /// The CSRF token of a link's forms: an HMAC of the link id under the current key.
    pub fn csrf_token(&self, link_id: &str) -> String {
        self.mac_hex("csrf", link_id)
    }

    /// Whether `presented` is the CSRF token of this link under any configured key. Compared
    /// in constant time.
    pub fn csrf_matches(&self, link_id: &str, presented: &str) -> bool {
        self.mac_matches("csrf", link_id, presented)
    }

    /// An HMAC of `subject` for one `purpose` (a signed URL, a form), hex, under the current
    /// key: every process configured with the same keys computes the same one.
    pub fn mac_hex(&self, purpose: &str, subject: &str) -> String {
        hex::encode(self.current().mac(purpose, subject).finalize().into_bytes())
    }

    /// Whether `presented` is `mac_hex(purpose, subject)` under any configured key, compared
    /// in constant time.
    pub fn mac_matches(&self, purpose: &str, subject: &str, presented: &str) -> bool {
        let Ok(bytes) = hex::decode(presented) else {
            return false;
        };
        self.keys
            .iter()
            .any(|k| k.mac(purpose, subject).verify_slice(&bytes).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const KEY_A: &str = "a-very-long-signing-secret-for-tests-0001";
    const KEY_B: &str = "another-long-signing-secret-for-tests-0002";

    fn claims(exp: i64) -> LinkClaims {
        LinkClaims::new("link1", "prof1", "acct1", 1000, exp)
    }

    #[test]
    fn round_trip_and_expiry() {
        let s = LinkSigner::new(KEY_A, &[]).unwrap();
        let t = s.sign(&claims(2000));
        assert_eq!(s.verify(&t, 1999).unwrap(), claims(2000));
        assert_eq!(s.verify(&t, 2000), Err(TokenError::Expired));
    }

    #[test]
    fn rotation() {
        let old = LinkSigner::new(KEY_A, &[]).unwrap();
        let t = old.sign(&claims(2000));
        let rotated = LinkSigner::new(KEY_B, &[KEY_A]).unwrap();
        assert!(rotated.verify(&t, 1500).is_ok());
        let dropped = LinkSigner::new(KEY_B, &[]).unwrap();
        assert_eq!(dropped.verify(&t, 1500), Err(TokenError::BadSignature));
        let csrf = old.csrf_token("link1");
        assert!(rotated.csrf_matches("link1", &csrf));
        assert!(!rotated.csrf_matches("link2", &csrf));
        assert!(!dropped.csrf_matches("link1", &csrf));
        assert!(!old.csrf_matches("link1", "zz"));
    }

    #[test]
    fn forgeries() {
        let s = LinkSigner::new(KEY_A, &[]).unwrap();
        let t = s.sign(&claims(2000));
        let parts: Vec<&str> = t.split('.').collect();
        // Claims changed under the old signature.
        let mut forged_claims = claims(9999);
        forged_claims.acc = "someone-else".into();
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
        let tampered = format!("{}.{}.{}", parts[0], body, parts[2]);
        assert_eq!(s.verify(&tampered, 1500), Err(TokenError::BadSignature));
        // alg: none with no signature.
        let kid = &s.current().kid;
        let none_header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
        let none = format!("{none_header}.{}.", parts[1]);
        assert!(s.verify(&none, 1500).is_err());
        // Signed by a stranger.
        let stranger = LinkSigner::new(KEY_B, &[]).unwrap().sign(&claims(2000));
        assert_eq!(s.verify(&stranger, 1500), Err(TokenError::BadSignature));
        for junk in ["", "abc", "a.b.c", "....."] {
            assert!(s.verify(junk, 1500).is_err());
        }
        assert!(LinkSigner::new("short", &[]).is_err());
    }
}
