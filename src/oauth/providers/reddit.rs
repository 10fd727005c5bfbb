//! Reddit OAuth2 (permanent grants) and its `oauth.reddit.com` API.

use crate::domain::Platform;
use crate::oauth::provider::{App, ClientAuth, Provider};
use crate::oauth::{Identity, ProviderError, TokenSet, http::string_at};
use async_trait::async_trait;

pub struct Reddit;

#[async_trait]
impl Provider for Reddit {
    fn platform(&self) -> Platform {
        Platform::Reddit
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("authorize", "https://www.reddit.com/api/v1/authorize"),
            ("token", "https://www.reddit.com/api/v1/access_token"),
            ("revoke", "https://www.reddit.com/api/v1/revoke_token"),
            ("me", "https://oauth.reddit.com/api/v1/me"),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &["identity", "submit", "read"]
    }

    fn client_auth(&self) -> ClientAuth {
        ClientAuth::Basic
    }

    /// `permanent` for a refresh token.
    fn authorize_params(&self, _switch_account: bool) -> Vec<(&'static str, &'static str)> {
        vec![("duration", "permanent")]
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let me = app.get_bearer(app.url("me")?, &tokens.access_token).await?;
        let name = string_at(&me, "name");
        Ok(Identity {
            id: string_at(&me, "id").ok_or_else(|| ProviderError::malformed("no id in /me"))?,
            // The profile's own title, if the person set one.
            display_name: string_at(&me["subreddit"], "title").or_else(|| name.clone()),
            handle: name,
            // Reddit HTML-escapes the query string of icon URLs.
            avatar_url: string_at(&me, "icon_img").map(|u| u.replace("&amp;", "&")),
            capabilities: None,
        })
    }

    async fn revoke(&self, app: &App, tokens: &TokenSet) -> Result<bool, ProviderError> {
        app.revoke_token(tokens).await
    }
}
