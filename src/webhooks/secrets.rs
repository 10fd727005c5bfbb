//! Webhook signing secrets at rest: sealed with the token cipher and bound to their account,
//! so that reading the database (or a backup) is not enough to sign deliveries as Postgate,
//! and a sealed secret copied to another account does not open there.
//!
//! An account gets a secret when it first configures a webhook, its own or a profile's, and
//! keeps one from then on: every delivery is signed.

use crate::db::{DbConn, notifications};
use crate::domain::token_cipher::{CipherError, TokenCipher};
use crate::domain::webhooks::new_secret;
use diesel::Connection as _;
use diesel::QueryResult;

fn binding(account_id: &str) -> String {
    format!("webhook_secret:{account_id}")
}

pub fn seal(cipher: &TokenCipher, account_id: &str, secret: &str) -> String {
    cipher.seal(&binding(account_id), secret)
}

pub fn open(cipher: &TokenCipher, account_id: &str, sealed: &str) -> Result<String, CipherError> {
    cipher.open(&binding(account_id), sealed)
}

/// A new secret for the account, sealed.
pub fn new_sealed(cipher: &TokenCipher, account_id: &str) -> String {
    seal(cipher, account_id, &new_secret())
}

/// Brings stored secrets up to today's rules, at start-up: seals the secrets earlier
/// versions stored in clear, and gives one to accounts with a webhook but none (earlier
/// versions sent a profile webhook's deliveries unsigned). Several processes may run it
/// at once.
pub fn upgrade(conn: &mut DbConn, cipher: &TokenCipher) -> QueryResult<()> {
    let changed = conn.transaction(|conn| {
        let mut changed = 0;
        for (account_id, clear) in notifications::secrets_in_clear(conn)? {
            let sealed = seal(cipher, &account_id, &clear);
            changed += usize::from(notifications::replace_secret(
                conn,
                &account_id,
                &clear,
                &sealed,
            )?);
        }
        for account_id in notifications::hooked_without_secret(conn)? {
            notifications::keep_a_secret(conn, &account_id, || new_sealed(cipher, &account_id))?;
            changed += 1;
        }
        QueryResult::Ok(changed)
    })?;
    if changed > 0 {
        tracing::info!(
            accounts = changed,
            "sealed or created webhook signing secrets"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_hide_the_secret_and_stay_with_their_account() {
        let cipher = TokenCipher::new("a token encryption key that is long enough", &[]);
        let sealed = new_sealed(&cipher, "acc1");
        assert!(!sealed.contains("whsec_"));
        let secret = open(&cipher, "acc1", &sealed).unwrap();
        assert!(secret.starts_with("whsec_"));
        assert!(open(&cipher, "acc2", &sealed).is_err());
        assert_eq!(
            open(&cipher, "acc1", &seal(&cipher, "acc1", "whsec_x")).unwrap(),
            "whsec_x"
        );
    }
}
