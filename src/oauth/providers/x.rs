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
            // Publishing. `users` and `tweet` are bases: `<id>/tweets`, `<id>`.
            ("users", "https://api.x.com/2/users/"),
            ("tweets", "https://api.x.com/2/tweets"),
            ("tweet", "https://api.x.com/2/tweets/"),
            // Images in one call; `STATUS` of a video upload (GET).
            ("media_upload", "https://api.x.com/2/media/upload"),
            // A video's chunked upload: initialize, then `<id>/append` and `<id>/finalize`.
            (
                "media_initialize",
                "https://api.x.com/2/media/upload/initialize",
            ),
            ("media_session", "https://api.x.com/2/media/upload/"),
            ("media_metadata", "https://api.x.com/2/media/metadata"),
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

#[cfg(test)]
mod tests {
    use super::super::recorded::{assert_in, exchanged, replay, scopes, tokens};
    use crate::domain::Platform;
    use crate::oauth::ProviderError;

    // docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token (token
    // answer and an invalid token) and docs.x.com/x-api/users/user-lookup-me.
    const TOKEN: &str = include_str!("fixtures/x/token.json");
    const TOKEN_ERROR: &str = include_str!("fixtures/x/token_error.json");
    const ME: &str = include_str!("fixtures/x/me.json");

    #[actix_web::test]
    async fn token_answer_and_identity() {
        let app = replay(
            Platform::X,
            &[("/2/oauth2/token", 200, TOKEN), ("/2/users/me", 200, ME)],
        )
        .await;
        let t = exchanged(&app).await;
        assert_in(t.expires_at, 7200);
        assert!(t.refresh_token.is_some());
        assert_eq!(
            scopes(&t),
            ["tweet.write", "users.read", "tweet.read", "offline.access"]
        );
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "2244994945");
        assert_eq!(me.handle.as_deref(), Some("XDevelopers"));
        assert_eq!(me.display_name.as_deref(), Some("Developers"));
        assert!(me.avatar_url.unwrap().ends_with("_normal.jpg"));
    }

    #[actix_web::test]
    async fn a_refused_refresh_is_final() {
        let app = replay(Platform::X, &[("/2/oauth2/token", 400, TOKEN_ERROR)]).await;
        let e = app
            .provider
            .refresh(&app, &tokens("a", Some("r"), None))
            .await;
        assert!(
            matches!(e, Err(ProviderError::Rejected { ref code, .. }) if code == "invalid_request"),
            "{e:?}"
        );
    }
}
