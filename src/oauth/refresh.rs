//! The refresh engine: renews tokens ahead of expiry. A connection is refreshed by one
//! process at a time (an atomic lease on its row), transient failures are retried with
//! backoff and never flag the account, and a final refusal sets `reauth_required` with the
//! platform's reason and reports `social_account_reauth_required`.

use super::{OAuth, ProviderError, flow, vault};
use crate::db::connections;
use crate::db::oauth_tokens;
use crate::db::outbox::Queued;
use crate::domain::{Platform, time};
use crate::error::ApiError;
use crate::metrics::RefreshOutcome;
use chrono::Duration;
use std::sync::Arc;
use tokio::sync::watch;

/// Connections listed per query, and queries per look at most (the rest wait for the next).
const BATCH: i64 = 32;
const MAX_BATCHES_PER_LOOK: usize = 100;
/// Retries after transient failures double from the configured base up to this.
const MAX_BACKOFF_MINUTES: i64 = 60;
/// Why tokens are not refreshed when the platform gave nothing to renew them with.
const NO_RENEWAL: &str = "no_refresh_token";
/// The reason recorded when such tokens are found lapsed.
const LAPSED: &str = "token_expired";

pub async fn run(oauth: Arc<OAuth>, mut stop: watch::Receiver<bool>) {
    let interval = oauth.settings.refresh_interval;
    loop {
        if let Err(e) = run_once(&oauth).await {
            e.log_if_ours();
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Refreshes every connection that is due now, a batch at a time until none is left (a
/// refreshed or postponed row is no longer due; one leased elsewhere is not listed). Returns
/// how many were attempted.
pub async fn run_once(oauth: &OAuth) -> Result<usize, ApiError> {
    let mut attempted = 0;
    for _ in 0..MAX_BATCHES_PER_LOOK {
        let now = time::now();
        let due = oauth
            .db
            .run(move |conn| oauth_tokens::due(conn, now, BATCH).map_err(ApiError::from))
            .await?;
        let listed = due.len();
        for connection_id in due {
            if refresh_if_due(oauth, &connection_id).await? {
                attempted += 1;
            }
        }
        if listed < BATCH as usize {
            break;
        }
    }
    Ok(attempted)
}

/// Takes the lease and refreshes the connection's tokens if they are due; `false` if they
/// are not, or another process holds the lease. The engine calls it, and so does anyone who
/// finds an access token lapsed.
pub async fn refresh_if_due(oauth: &OAuth, connection_id: &str) -> Result<bool, ApiError> {
    let now = time::now();
    // Long enough for the platform's timeout, so a lease never lapses mid-refresh.
    let until =
        now + Duration::from_std(oauth.settings.timeout * 3).unwrap_or(Duration::minutes(5));
    let id = connection_id.to_owned();
    let leased = oauth
        .db
        .run(move |conn| {
            if !oauth_tokens::lease(conn, &id, now, until)? {
                return Ok(None);
            }
            let stored = oauth_tokens::get(conn, &id)?;
            let connection = connections::find_by_id(conn, &id)?;
            Ok::<_, ApiError>(stored.zip(connection))
        })
        .await?;
    let Some((stored, connection)) = leased else {
        return Ok(false);
    };
    let app = Platform::parse(&connection.platform).and_then(|p| oauth.platforms.get(p));
    let tokens = vault::open(&oauth.cipher, &stored);
    // `Ok(None)`: nothing can renew these tokens (a row scheduled before that was known).
    let result = match (app, tokens) {
        (Some(app), Ok(tokens)) => {
            let renewal = app.provider.renewal();
            if renewal.possible(&tokens) {
                app.provider
                    .refresh(app, &tokens)
                    .await
                    .map(|fresh| Some((fresh.after_refresh(&tokens), renewal)))
            } else {
                Ok(None)
            }
        }
        (None, _) => Err(ProviderError::Transient(
            "the platform is not configured on this server".to_owned(),
        )),
        (_, Err(e)) => Err(ProviderError::rejected("unreadable_tokens", e.to_string())),
    };
    let cipher = oauth.cipher.clone();
    let id = connection_id.to_owned();
    let failures = stored.refresh_failures;
    let base =
        Duration::from_std(oauth.settings.refresh_retry_base).unwrap_or(Duration::seconds(30));
    let outcome = oauth
        .db
        .run_queueing(move |conn| {
            let now = time::now();
            match result {
                Ok(Some((fresh, renewal))) => {
                    let due = vault::refresh_due(&fresh, renewal, now);
                    oauth_tokens::put(conn, &vault::seal(&cipher, &id, &fresh, due, now))?;
                    Ok::<_, ApiError>(Queued::nothing(Some(RefreshOutcome::Refreshed)))
                }
                // Not a refusal: the grant is good until it lapses, so flagging it now
                // would send the account to sign in again early.
                Ok(None) => {
                    oauth_tokens::stop(conn, &id, NO_RENEWAL, now)?;
                    Ok(Queued::nothing(None))
                }
                Err(ProviderError::Transient(why)) | Err(ProviderError::Malformed(why)) => {
                    let backoff = (base * (1 << failures.clamp(0, 16)))
                        .min(Duration::minutes(MAX_BACKOFF_MINUTES));
                    oauth_tokens::postpone(conn, &id, now + backoff, &why, now)?;
                    Ok(Queued::nothing(Some(RefreshOutcome::TransientFailure)))
                }
                Err(e @ (ProviderError::Rejected { .. } | ProviderError::Denied(_))) => {
                    let reason = match &e {
                        ProviderError::Rejected { code, .. } => code.clone(),
                        _ => "access_denied".to_owned(),
                    };
                    Ok(connections::require_reauth(conn, &id, &reason)?
                        .map(|_| Some(RefreshOutcome::ReauthRequired)))
                }
            }
        })
        .await?;
    if let Some(outcome) = outcome {
        oauth.metrics.record(outcome);
    }
    Ok(true)
}

/// The connection's tokens, renewed first when they lapse within `margin` (a call that takes
/// a while must not start with a token about to expire). Tokens that lapsed with nothing to
/// renew them flag the account (`lapsed`).
pub async fn usable_tokens(
    oauth: &OAuth,
    connection_id: &str,
    platform: Platform,
    margin: std::time::Duration,
) -> Result<crate::oauth::TokenSet, ApiError> {
    let app = oauth
        .platforms
        .get(platform)
        .ok_or(ApiError::PlatformNotConfigured(platform))?;
    let mut tokens = flow::tokens_of(oauth, connection_id)
        .await?
        .ok_or(ApiError::NotConnected(platform))?;
    let margin = Duration::from_std(margin).unwrap_or(Duration::zero());
    if tokens.expires_at.is_some_and(|e| e <= time::now() + margin) {
        let lapsed_now = tokens.expires_at.is_some_and(|e| e <= time::now());
        if !app.provider.renewal().possible(&tokens) {
            if lapsed_now {
                return Err(lapsed(oauth, connection_id, platform).await);
            }
            return Ok(tokens);
        }
        if refresh_if_due(oauth, connection_id).await? {
            tokens = flow::tokens_of(oauth, connection_id)
                .await?
                .ok_or(ApiError::NotConnected(platform))?;
        }
    }
    Ok(tokens)
}

/// Flags a connection whose access token lapsed with nothing to renew it: the account must
/// sign in again (`reauth_required`, reason `token_expired`, and the webhook event). Returns
/// what to answer the caller who found it.
pub async fn lapsed(oauth: &OAuth, connection_id: &str, platform: Platform) -> ApiError {
    let id = connection_id.to_owned();
    let flagged = oauth
        .db
        .run_queueing(move |conn| {
            connections::require_reauth(conn, &id, LAPSED).map_err(ApiError::from)
        })
        .await;
    if let Err(e) = flagged {
        return e;
    }
    ApiError::PlatformRefused(
        platform,
        format!(
            "{LAPSED}: the access token expired and the platform gave no refresh token; \
             connect the account again"
        ),
    )
}
