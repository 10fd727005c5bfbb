//! What every handler can reach. No globals, so each test can build its own.

use crate::assets::AssetUrls;
use crate::config::{Plans, WebhookSettings};
use crate::db::Db;
use crate::db::accounts::Account;
use crate::domain::Plan;
use crate::domain::link_token::LinkSigner;
use crate::error::ApiError;
use crate::limits::{AuthGuard, LinkLimits, RequestLimiter};
use crate::media::Library;
use crate::oauth::OAuth;
use crate::publish::engine::Engine;
use crate::supervisor::Detached;
use crate::urls::Urls;
use std::sync::Arc;

pub struct AppState {
    pub db: Db,
    pub plans: Plans,
    /// Every URL we hand out.
    pub urls: Urls,
    /// The static files' URLs pages link to.
    pub assets: Arc<AssetUrls>,
    pub requests: RequestLimiter,
    pub auth_guard: AuthGuard,
    /// What link tokens and sign-in states may open, per link and per address.
    pub link_limits: LinkLimits,
    pub trust_proxy_headers: bool,
    pub link_signer: LinkSigner,
    pub webhooks: WebhookSettings,
    /// Connecting accounts: shared with the token refresh engine.
    pub oauth: Arc<OAuth>,
    /// Stored media: shared with the media sweeper (and the publishing engine).
    pub media: Library,
    /// Accepts uploads and publishes them.
    pub publishing: Arc<Engine>,
    /// Work requests start and do not wait for; a stop waits for it.
    pub detached: Detached,
}

impl AppState {
    /// The account's plan. Start-up refuses to serve accounts whose plan is not configured,
    /// so a miss here means the table changed under a running server.
    pub fn plan_of(&self, account: &Account) -> Result<&Plan, ApiError> {
        self.plans.get(&account.plan).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "account {} is on plan {:?}, which is not in the plan table",
                account.id,
                account.plan
            ))
        })
    }
}
