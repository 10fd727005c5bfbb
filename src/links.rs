//! Deciding whether a connect-link token is good: its signature and expiry, then its row,
//! its profile and the plan. The API (validate-jwt) and the pages share this one path.

use crate::config::Plans;
use crate::db::DbConn;
use crate::db::accounts::Account;
use crate::db::links::{self, Link};
use crate::db::profiles::{self, Profile};
use crate::domain::language::Language;
use crate::domain::link_token::{LinkClaims, LinkSigner, TokenError};
use crate::error::ApiError;
use chrono::NaiveDateTime;

/// A link that may be used right now.
#[derive(Debug, Clone)]
pub struct LiveLink {
    pub link: Link,
    pub profile: Profile,
    pub account: Account,
}

impl LiveLink {
    /// The page language the link or profile forces, if any.
    pub fn forced_language(&self) -> Option<Language> {
        self.link
            .language
            .as_deref()
            .or(self.profile.language.as_deref())
            .and_then(Language::parse)
    }
}

/// Why a token cannot be used: a refusal the caller may show, or a failure of ours.
#[derive(Debug)]
pub enum LinkError {
    Refused(TokenError),
    Failed(ApiError),
}

impl From<TokenError> for LinkError {
    fn from(e: TokenError) -> Self {
        LinkError::Refused(e)
    }
}

impl From<diesel::result::Error> for LinkError {
    fn from(e: diesel::result::Error) -> Self {
        LinkError::Failed(e.into())
    }
}

impl From<ApiError> for LinkError {
    fn from(e: ApiError) -> Self {
        LinkError::Failed(e)
    }
}

/// The signature check, done before touching the database.
pub fn verify(
    signer: &LinkSigner,
    token: &str,
    now: NaiveDateTime,
) -> Result<LinkClaims, TokenError> {
    signer.verify(token, now.and_utc().timestamp())
}

/// The database half: the link row must exist and match the claims, be neither revoked nor
/// expired, and its profile must not be blocked by the account's plan.
pub fn resolve(
    conn: &mut DbConn,
    plans: &Plans,
    claims: &LinkClaims,
    now: NaiveDateTime,
) -> Result<LiveLink, LinkError> {
    // A deleted profile takes its links with it, so a missing row reads as revoked.
    let (link, profile, account) = links::find(conn, &claims.jti)?.ok_or(TokenError::Revoked)?;
    if link.profile_id != claims.sub || link.account_id != claims.acc {
        return Err(TokenError::BadSignature.into());
    }
    if link.revoked_at.is_some() {
        return Err(TokenError::Revoked.into());
    }
    if link.expires_at <= now {
        return Err(TokenError::Expired.into());
    }
    let plan = plans.get(&account.plan).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "account {} has an unknown plan",
            account.id
        ))
    })?;
    if plan
        .profiles
        .blocks_position(profiles::position(conn, &profile)?)
    {
        return Err(TokenError::ProfileBlocked.into());
    }
    Ok(LiveLink {
        link,
        profile,
        account,
    })
}
