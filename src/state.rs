//! What every handler can reach. No globals, so each test can build its own.

use crate::config::{OAuthSettings, Plans, WebhookSettings};
use crate::db::Db;
use crate::db::accounts::Account;
use crate::domain::Plan;
use crate::domain::link_token::LinkSigner;
use crate::domain::token_cipher::TokenCipher;
use crate::error::ApiError;
use crate::limits::{AuthGuard, RequestLimiter};
use crate::metrics::Metrics;
use crate::oauth::registry::Platforms;
use crate::urls::Urls;
use std::sync::Arc;
use tokio::sync::Notify;

pub struct AppState {
    pub db: Db,
    pub plans: Plans,
    /// Every URL we hand out.
    pub urls: Urls,
    pub requests: RequestLimiter,
    pub auth_guard: AuthGuard,
    pub trust_proxy_headers: bool,
    pub link_signer: LinkSigner,
    pub webhooks: WebhookSettings,
    /// Wakes this process's delivery worker when a change queued deliveries.
    pub webhook_wake: Arc<Notify>,
    pub token_cipher: Arc<TokenCipher>,
    /// The platforms that can be connected here.
    pub platforms: Platforms,
    pub oauth: OAuthSettings,
    /// Pages, boards and locations fetched lately.
    pub targets: crate::oauth::targets::TargetCache,
    /// This application's instruments.
    pub metrics: Metrics,
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
