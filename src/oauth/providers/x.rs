//! X (Twitter) API v2 with OAuth 2.0 Authorization Code + PKCE, confidential client.

use crate::domain::Platform;
use crate::oauth::provider::{App, ClientAuth, Provider};
use crate::oauth::{Identity, ProviderError, TokenSet, http::string_at};
use async_trait::async_trait;

pub struct X;

#[async_trait]
impl Provider for X {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("authorize", "https://x.com/i/oauth2/authorize"),
            ("token", "https://api.x.com/2/oauth2/token"),
            ("revoke", "https://api.x.com/2/oauth2/revoke"),
            ("me", "https://api.x.com/2/users/me"),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &["tweet.read", "tweet.write", "users.read", "offline.access"]
    }

    fn client_auth(&self) -> ClientAuth {
        ClientAuth::Basic
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let mut url = app.url("me")?;
        url.query_pairs_mut()
            .append_pair("user.fields", "profile_image_url");
        let body = app.get_bearer(url, &tokens.access_token).await?;
        let user = &body["data"];
        Ok(Identity {
            id: string_at(user, "id").ok_or_else(|| ProviderError::malformed("no data.id"))?,
            handle: string_at(user, "username"),
            display_name: string_at(user, "name"),
            avatar_url: string_at(user, "profile_image_url"),
            capabilities: None,
        })
    }

    async fn revoke(&self, app: &App, tokens: &TokenSet) -> Result<bool, ProviderError> {
        app.revoke_token(tokens).await
    }
}
