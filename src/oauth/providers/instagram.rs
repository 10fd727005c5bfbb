//! Instagram API with Instagram Login (professional accounts), Graph API v21.0.

use super::meta;
use crate::domain::Platform;
use crate::oauth::provider::{App, Provider};
use crate::oauth::{Identity, ProviderError, TokenSet, http::string_at};
use async_trait::async_trait;

pub struct Instagram;

#[async_trait]
impl Provider for Instagram {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("authorize", "https://www.instagram.com/oauth/authorize"),
            ("token", "https://api.instagram.com/oauth/access_token"),
            ("long_lived", "https://graph.instagram.com/access_token"),
            (
                "refresh",
                "https://graph.instagram.com/refresh_access_token",
            ),
            ("me", "https://graph.instagram.com/v21.0/me"),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &[
            "instagram_business_basic",
            "instagram_business_content_publish",
        ]
    }

    fn scope_separator(&self) -> &'static str {
        ","
    }

    fn authorize_params(&self, switch_account: bool) -> Vec<(&'static str, &'static str)> {
        if switch_account {
            vec![("force_reauth", "true")]
        } else {
            Vec::new()
        }
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
            "ig_exchange_token",
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
            &[("fields", "user_id,username,name,profile_picture_url")],
            &tokens.access_token,
        )
        .await?;
        Ok(Identity {
            id: string_at(&me, "user_id")
                .or_else(|| string_at(&me, "id"))
                .ok_or_else(|| ProviderError::malformed("no user_id in /me"))?,
            handle: string_at(&me, "username"),
            display_name: string_at(&me, "name"),
            avatar_url: string_at(&me, "profile_picture_url"),
            capabilities: None,
        })
    }

    async fn refresh(&self, app: &App, tokens: &TokenSet) -> Result<TokenSet, ProviderError> {
        meta::long_lived(
            app,
            "refresh",
            "ig_refresh_token",
            "access_token",
            tokens,
            false,
        )
        .await
    }
}
