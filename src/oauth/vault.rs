//! Tokens at rest: a `TokenSet` sealed into its `oauth_tokens` row and opened again, and when
//! the row is due for a refresh.

use super::TokenSet;
use super::provider::Renewal;
use crate::db::oauth_tokens::StoredTokens;
use crate::domain::token_cipher::{CipherError, TokenCipher};
use chrono::{Duration, NaiveDateTime};

fn binding(connection_id: &str, field: &str) -> String {
    format!("{connection_id}:{field}")
}

/// When to refresh: at three quarters of the access token's life, so a failed attempt has
/// time to be retried before it lapses. Never when it does not expire or the platform's
/// `renewal` cannot renew these tokens: those lapse at expiry, and a refresh due earlier
/// could only fail and flag the account long before it has to sign in again.
pub fn refresh_due(
    tokens: &TokenSet,
    renewal: Renewal,
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let expires_at = tokens.expires_at.filter(|_| renewal.possible(tokens))?;
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
        let due = refresh_due(&tokens, Renewal::RefreshToken, now);
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
    }

    fn expiring_in(life: Duration, refresh_token: Option<&str>) -> (TokenSet, NaiveDateTime) {
        let now = crate::domain::time::now();
        let tokens = TokenSet {
            access_token: "a".into(),
            refresh_token: refresh_token.map(str::to_owned),
            expires_at: Some(now + life),
            refresh_expires_at: None,
            scopes: None,
            user_id: None,
        };
        (tokens, now)
    }

    #[test]
    fn a_refresh_token_is_used_at_three_quarters_of_the_life() {
        let (tokens, now) = expiring_in(Duration::hours(2), Some("r"));
        let due = Some(now + Duration::minutes(90));
        assert_eq!(refresh_due(&tokens, Renewal::RefreshToken, now), due);
        // A platform that renews with the access token has it due just the same.
        assert_eq!(refresh_due(&tokens, Renewal::CurrentToken, now), due);
    }

    #[test]
    fn without_a_refresh_token_only_a_platform_that_needs_none_is_scheduled() {
        let (tokens, now) = expiring_in(Duration::days(60), None);
        assert_eq!(refresh_due(&tokens, Renewal::RefreshToken, now), None);
        assert_eq!(
            refresh_due(&tokens, Renewal::CurrentToken, now),
            Some(now + Duration::days(45))
        );
    }

    #[test]
    fn tokens_that_never_expire_are_never_due() {
        let (mut tokens, now) = expiring_in(Duration::hours(1), Some("r"));
        tokens.expires_at = None;
        assert_eq!(refresh_due(&tokens, Renewal::RefreshToken, now), None);
        assert_eq!(refresh_due(&tokens, Renewal::CurrentToken, now), None);
    }

    #[test]
    fn a_token_already_lapsed_is_due_now() {
        let (tokens, now) = expiring_in(-Duration::minutes(5), Some("r"));
        assert_eq!(refresh_due(&tokens, Renewal::RefreshToken, now), Some(now));
    }
}
