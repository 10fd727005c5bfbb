//! Connecting accounts end to end against the built-in emulator, over real HTTP, one file
//! per concern; the helpers here are what several of them share.

mod connect_api;
mod events;
mod failures;
mod page_flow;
mod refresh;
mod restart;
mod secrets;
mod targets;

use crate::support::{Case, TestApp};
use postgate::db::oauth_tokens;
use postgate::domain::Platform;
use serde_json::Value;

pub fn cases() -> Vec<Case> {
    [
        page_flow::cases(),
        failures::cases(),
        connect_api::cases(),
        refresh::cases(),
        events::cases(),
        targets::cases(),
        secrets::cases(),
        restart::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Upload-Post shows an unconnected platform as `""` (lists) or `null`.
fn not_connected(v: &Value) -> bool {
    v.is_null() || v == ""
}

/// Every platform a link can offer.
fn all_platforms() -> Vec<&'static str> {
    Platform::ALL.iter().map(|p| p.key()).collect()
}

async fn stored_tokens(
    app: &TestApp,
    username: &str,
    platform: &str,
) -> Option<oauth_tokens::StoredTokens> {
    let profile_id = app.profile_id(username).await;
    let platform = platform.to_owned();
    app.with_db(move |c| {
        let connection = postgate::db::connections::find(c, &profile_id, &platform).unwrap()?;
        oauth_tokens::get(c, &connection.id).unwrap()
    })
    .await
}
