//! Deciding whether a connect-link token is good: its signature and expiry, then its row,
//! its profile and the plan. The API (validate-jwt, every Bearer API) and the pages share
//! this one path, `check`; what a good link may then do is `scope`'s to say.

pub mod admission;
pub mod scope;

use crate::config::Plans;
use crate::db::DbConn;
use crate::db::accounts::Account;
use crate::db::links::{self, Link};
use crate::db::profiles::Profile;
use crate::domain::language::Language;
use crate::domain::link_token::{LinkClaims, TokenError};
use crate::domain::time;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::Data;
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

/// The live link behind `token`, or why there is none (`Ok(Err(_))`); `Err` is a failure of
/// ours. With `account_id`, another account's token is refused before any lookup.
pub async fn check(
    state: &Data<AppState>,
    token: &str,
    account_id: Option<&str>,
) -> Result<Result<LiveLink, TokenError>, ApiError> {
    let now = time::now();
    let claims = match state.link_signer.verify(token, now.and_utc().timestamp()) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    if account_id.is_some_and(|a| a != claims.acc) {
        return Ok(Err(TokenError::OtherAccount));
    }
    let st = state.clone();
    let resolved = state
        .db
        .run(move |conn| Ok::<_, ApiError>(resolve(conn, &st.plans, &claims, now)))
        .await?;
    match resolved {
        Ok(live) => Ok(Ok(live)),
        Err(LinkError::Refused(e)) => Ok(Err(e)),
        Err(LinkError::Failed(e)) => Err(e),
    }
}

/// Why a token cannot be used: a refusal the caller may show, or a failure of ours.
#[derive(Debug)]
enum LinkError {
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

/// The database half: the link row must exist and match the claims, be neither revoked nor
/// expired, and its profile must not be blocked by the account's plan.
fn resolve(
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
    if scope::blocks(conn, plan, &profile)? {
        return Err(TokenError::ProfileBlocked.into());
    }
    Ok(LiveLink {
        link,
        profile,
        account,
    })
}
