//! Threads API v1.0 (Meta).

use super::meta;
use crate::domain::Platform;
use crate::oauth::provider::{App, Provider};
use crate::oauth::{Identity, ProviderError, TokenSet, http::string_at};
use async_trait::async_trait;

pub struct Threads;

#[async_trait]
impl Provider for Threads {
    fn platform(&self) -> Platform {
        Platform::Threads
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("authorize", "https://threads.net/oauth/authorize"),
            ("token", "https://graph.threads.net/oauth/access_token"),
            ("long_lived", "https://graph.threads.net/access_token"),
            ("refresh", "https://graph.threads.net/refresh_access_token"),
            ("me", "https://graph.threads.net/v1.0/me"),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &["threads_basic", "threads_content_publish"]
    }

    fn scope_separator(&self) -> &'static str {
        ","
    }

    async fn exchange(
        &self,
        app: &App,
        code: &str,
        verifier: &str,
    ) -> Result<TokenSet, ProviderError> {
        let short = meta::exchange_short_lived(app, code, verifier).await?;
        meta::long_lived(
            app,
            "long_lived",
            "th_exchange_token",
            "access_token",
            &short,
            true,
        )
        .await
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let me = meta::get(
            app,
            "me",
            &[("fields", "id,username,name,threads_profile_picture_url")],
            &tokens.access_token,
        )
        .await?;
        Ok(Identity {
            id: string_at(&me, "id").ok_or_else(|| ProviderError::malformed("no id in /me"))?,
            handle: string_at(&me, "username"),
            display_name: string_at(&me, "name"),
            avatar_url: string_at(&me, "threads_profile_picture_url"),
            capabilities: None,
        })
    }

    async fn refresh(&self, app: &App, tokens: &TokenSet) -> Result<TokenSet, ProviderError> {
        meta::long_lived(
            app,
            "refresh",
            "th_refresh_token",
            "access_token",
            tokens,
            false,
        )
        .await
    }
}
