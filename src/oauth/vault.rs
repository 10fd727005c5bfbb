//! Tokens at rest: a `TokenSet` sealed into its `oauth_tokens` row and opened again, and when
//! the row is due for a refresh.

use super::TokenSet;
use crate::db::oauth_tokens::StoredTokens;
use crate::domain::token_cipher::{CipherError, TokenCipher};
use chrono::{Duration, NaiveDateTime};

fn binding(connection_id: &str, field: &str) -> String {
    format!("{connection_id}:{field}")
}

/// When to refresh: at three quarters of the access token's life, so a failed attempt has
/// time to be retried before it lapses. Never when it does not expire or cannot be renewed.
pub fn refresh_due(
    tokens: &TokenSet,
    can_refresh: bool,
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let expires_at = tokens.expires_at.filter(|_| can_refresh)?;
    let life = (expires_at - now).max(Duration::zero());
    Some(now + life * 3 / 4)
}

pub fn seal(
    cipher: &TokenCipher,
    connection_id: &str,
    tokens: &TokenSet,
    refresh_due_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> StoredTokens {
    StoredTokens {
        connection_id: connection_id.to_owned(),
        access_token: cipher.seal(&binding(connection_id, "access"), &tokens.access_token),
        refresh_token: tokens
            .refresh_token
            .as_deref()
            .map(|r| cipher.seal(&binding(connection_id, "refresh"), r)),
        expires_at: tokens.expires_at,
        refresh_expires_at: tokens.refresh_expires_at,
        scopes: tokens.scopes.as_ref().map(|s| s.join(" ")),
        refresh_due_at,
        refresh_lease_until: None,
        refresh_failures: 0,
        last_error: None,
        updated_at: now,
    }
}

pub fn open(cipher: &TokenCipher, stored: &StoredTokens) -> Result<TokenSet, CipherError> {
    let id = &stored.connection_id;
    Ok(TokenSet {
        access_token: cipher.open(&binding(id, "access"), &stored.access_token)?,
        refresh_token: stored
            .refresh_token
            .as_deref()
            .map(|r| cipher.open(&binding(id, "refresh"), r))
            .transpose()?,
        expires_at: stored.expires_at,
        refresh_expires_at: stored.refresh_expires_at,
        scopes: stored
            .scopes
            .as_deref()
            .map(|s| s.split(' ').map(str::to_owned).collect()),
        user_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_rows_open_only_as_themselves() {
        let cipher = TokenCipher::new("a token encryption key that is long enough", &[]);
        let now = crate::domain::time::now();
        let tokens = TokenSet {
            access_token: "access-secret".into(),
            refresh_token: Some("refresh-secret".into()),
            expires_at: Some(now + Duration::hours(2)),
            refresh_expires_at: None,
            scopes: Some(vec!["a".into(), "b".into()]),
            user_id: None,
        };
        let due = refresh_due(&tokens, true, now);
        assert_eq!(due, Some(now + Duration::minutes(90)));
        let stored = seal(&cipher, "c1", &tokens, due, now);
        assert!(!stored.access_token.contains("secret"));
        assert!(!stored.refresh_token.as_deref().unwrap().contains("secret"));
        let opened = open(&cipher, &stored).unwrap();
        assert_eq!(opened.access_token, "access-secret");
        assert_eq!(opened.refresh_token.as_deref(), Some("refresh-secret"));
        assert_eq!(opened.scopes, tokens.scopes);
        let moved = StoredTokens {
            connection_id: "c2".into(),
            ..stored
        };
        assert!(open(&cipher, &moved).is_err(), "bound to its connection");
        assert_eq!(refresh_due(&tokens, false, now), None);
    }
}
