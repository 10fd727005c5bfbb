//! Pages, organizations, boards and locations under a connected account: fetched from the
//! platform with the connection's tokens, and kept for a minute so that a page load and the
//! pin that follows it do not each cost a round trip.

use super::{OAuth, ProviderError, Target, refresh};
use crate::db::connections::Connection;
use crate::domain::Platform;
use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FRESH_FOR: Duration = Duration::from_secs(60);

/// A connection id and the identity it held, so a replaced identity never sees the previous
/// one's list.
type CacheKey = (String, String);

#[derive(Default)]
pub struct TargetCache {
    entries: Mutex<HashMap<CacheKey, (Instant, Vec<Target>)>>,
}

impl TargetCache {
    fn get(&self, key: &(String, String)) -> Option<Vec<Target>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < FRESH_FOR)
            .map(|(_, t)| t.clone())
    }

    fn put(&self, key: (String, String), targets: Vec<Target>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
            entries.insert(key, (Instant::now(), targets));
        }
    }
}

/// What a platform's refusal means to an API caller.
pub fn api_error(platform: Platform, e: ProviderError) -> ApiError {
    match e {
        ProviderError::Transient(_) => ApiError::PlatformUnavailable(platform),
        other => ApiError::PlatformRefused(
            platform,
            other
                .platform_words()
                .unwrap_or_else(|| "an answer Postgate cannot read".to_owned()),
        ),
    }
}

/// The targets under `connection`.
pub async fn of_connection(
    oauth: &OAuth,
    connection: &Connection,
) -> Result<Vec<Target>, ApiError> {
    let platform = Platform::parse(&connection.platform)
        .ok_or_else(|| ApiError::UnknownPlatform(connection.platform.clone()))?;
    let key = (connection.id.clone(), connection.platform_user_id.clone());
    if let Some(hit) = oauth.targets.get(&key) {
        return Ok(hit);
    }
    let app = oauth
        .platforms
        .get(platform)
        .ok_or(ApiError::PlatformNotConfigured(platform))?;
    let tokens = refresh::usable_tokens(oauth, &connection.id, platform, Duration::ZERO).await?;
    let targets = app
        .provider
        .targets(app, &tokens)
        .await
        .map_err(|e| api_error(platform, e))?;
    oauth.targets.put(key, targets.clone());
    Ok(targets)
}

/// Whether a target is the one the caller named. Locations may be named in full
/// (`accounts/1/locations/2`), as `locations/2`, or by the bare number.
pub fn names(target: &Target, given: &str) -> bool {
    let given = given.trim();
    !given.is_empty()
        && (target.id == given
            || target.id.ends_with(&format!("/{given}"))
            || target.id.ends_with(&format!("/locations/{given}")))
}

/// Pins the target named `wanted` on the connection, if the account really has it.
pub async fn pin(oauth: &OAuth, connection: &Connection, wanted: &str) -> Result<Target, ApiError> {
    let target = of_connection(oauth, connection)
        .await?
        .into_iter()
        .find(|t| names(t, wanted))
        .ok_or(ApiError::NothingFound(
            "No such Page or location under the connected account",
        ))?;
    let (id, name, connection_id) = (
        target.id.clone(),
        target.name.clone(),
        connection.id.clone(),
    );
    oauth
        .db
        .run(move |conn| {
            crate::db::connections::pin(conn, &connection_id, Some((&id, &name)))
                .map_err(ApiError::from)
        })
        .await?;
    Ok(target)
}
