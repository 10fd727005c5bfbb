//! Connecting social accounts: one `Provider` per platform (`providers/`), the HTTP they
//! share (`http`), the configured apps (`registry`), the sign-in flow (`flow`), and the
//! background token refresh (`refresh`).

pub mod flow;
pub mod http;
pub mod provider;
pub mod providers;
pub mod refresh;
pub mod registry;
pub mod targets;
pub mod vault;

use crate::config::OAuthSettings;
use crate::db::Db;
use crate::domain::token_cipher::TokenCipher;
use crate::metrics::RefreshMetrics;
use chrono::NaiveDateTime;
use registry::Platforms;
use std::sync::Arc;
use targets::TargetCache;

/// What the sign-in, refresh and target use cases work with. `AppState` holds one; nothing
/// here knows the web layer.
pub struct OAuth {
    pub db: Db,
    /// The platforms that can be connected here.
    pub platforms: Platforms,
    /// Seals tokens, PKCE verifiers and return URLs at rest.
    pub cipher: Arc<TokenCipher>,
    pub settings: OAuthSettings,
    /// Pages, boards and locations fetched lately.
    pub targets: TargetCache,
    /// Counts the refresh engine's outcomes.
    pub metrics: RefreshMetrics,
}

/// What a platform granted. `refresh_token: None` after a refresh means "keep the one you
/// have": some platforms do not rotate it, and an empty one must never replace a good one.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub refresh_expires_at: Option<NaiveDateTime>,
    /// The scopes granted, when the platform says.
    pub scopes: Option<Vec<String>>,
    /// The account id, for platforms that name it in the token answer (Instagram, Threads,
    /// TikTok's `open_id`, Bluesky's DID).
    pub user_id: Option<String>,
}

// Tokens never reach a log line, not even through `{:?}`.
impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    /// This answer to a refresh, keeping what it left out from `previous`.
    pub fn after_refresh(mut self, previous: &TokenSet) -> Self {
        if self.refresh_token.is_none() {
            self.refresh_token.clone_from(&previous.refresh_token);
            self.refresh_expires_at = self.refresh_expires_at.or(previous.refresh_expires_at);
        }
        if self.scopes.is_none() {
            self.scopes.clone_from(&previous.scopes);
        }
        if self.user_id.is_none() {
            self.user_id.clone_from(&previous.user_id);
        }
        self
    }
}

/// The account a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Stable and opaque: the key the connection is stored under (Upload-Post's `username`).
    pub id: String,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub capabilities: Option<Vec<String>>,
}

/// Something under an account that uploads can target: a Facebook or LinkedIn Page, a
/// Pinterest board, a Google Business location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub name: String,
    pub picture: Option<String>,
    pub followers: Option<i64>,
    pub likes: Option<i64>,
    /// LinkedIn's vanity name, Pinterest's privacy, Google's account name.
    pub detail: Option<String>,
    /// The platform's own id of the owner (a Google account name, an organization URN).
    pub owner_id: Option<String>,
}

/// How a platform said no. Only `Rejected` is final; the rest may pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The person declined at the platform's consent screen.
    #[error("access denied{}", describe(.0))]
    Denied(Option<String>),
    /// The platform refused for good: `invalid_grant`, a revoked token, missing scopes.
    #[error("{code}{}", describe(.description))]
    Rejected {
        code: String,
        description: Option<String>,
    },
    /// Timeouts, connection failures, 5xx and 429: worth another try later.
    #[error("temporarily unavailable: {0}")]
    Transient(String),
    /// An answer we cannot read.
    #[error("unexpected answer: {0}")]
    Malformed(String),
}

fn describe(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

impl ProviderError {
    pub fn rejected(code: &str, description: impl Into<String>) -> Self {
        Self::Rejected {
            code: code.to_owned(),
            description: Some(description.into()),
        }
    }

    pub fn malformed(what: impl Into<String>) -> Self {
        Self::Malformed(what.into())
    }

    /// The platform's own words, short enough for a page or a redirect parameter.
    pub fn platform_words(&self) -> Option<String> {
        let text = match self {
            ProviderError::Denied(d) => d.clone()?,
            ProviderError::Rejected { code, description } => description
                .as_ref()
                .map_or_else(|| code.clone(), |d| format!("{code}: {d}")),
            ProviderError::Transient(_) | ProviderError::Malformed(_) => return None,
        };
        Some(text.chars().take(200).collect())
    }
}
