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
            // Publishing: submissions, media asset leases, the account's posts, deleting.
            ("submit", "https://oauth.reddit.com/api/submit"),
            (
                "submit_gallery",
                "https://oauth.reddit.com/api/submit_gallery_post.json",
            ),
            (
                "media_asset",
                "https://oauth.reddit.com/api/media/asset.json",
            ),
            ("user", "https://oauth.reddit.com/user/"),
            ("del", "https://oauth.reddit.com/api/del"),
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

#[cfg(test)]
mod tests {
    use super::super::recorded::{assert_in, exchanged, replay, scopes, tokens};
    use crate::domain::Platform;
    use crate::oauth::ProviderError;

    // github.com/reddit-archive/reddit/wiki/OAuth2 (token answer) and
    // www.reddit.com/dev/api#GET_api_v1_me; its 401 body.
    const TOKEN: &str = include_str!("fixtures/reddit/token.json");
    const ME: &str = include_str!("fixtures/reddit/me.json");
    const ERROR: &str = include_str!("fixtures/reddit/error.json");

    #[actix_web::test]
    async fn token_answer_and_identity_with_an_unescaped_avatar() {
        let app = replay(
            Platform::Reddit,
            &[
                ("/api/v1/access_token", 200, TOKEN),
                ("/api/v1/me", 200, ME),
            ],
        )
        .await;
        let t = exchanged(&app).await;
        assert_in(t.expires_at, 86_400);
        assert_eq!(scopes(&t), ["identity", "submit", "read"]);
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "1w72");
        assert_eq!(me.handle.as_deref(), Some("spez"));
        assert_eq!(me.display_name.as_deref(), Some("Steve"));
        let avatar = me.avatar_url.unwrap();
        assert!(!avatar.contains("&amp;"), "{avatar}");
        assert!(avatar.contains("width=256&height=256"));
    }

    #[actix_web::test]
    async fn unauthorized_is_final() {
        let app = replay(Platform::Reddit, &[("/api/v1/me", 401, ERROR)]).await;
        let e = app.provider.identity(&app, &tokens("a", None, None)).await;
        assert_eq!(
            e.unwrap_err(),
            ProviderError::Rejected {
                code: "401".into(),
                description: Some("Unauthorized".into())
            }
        );
    }
}
