//! Facebook Login for Pages (Graph API v21.0): a person's login that manages Pages.

use super::meta;
use crate::domain::Platform;
use crate::oauth::provider::{App, Provider, Renewal};
use crate::oauth::{Identity, ProviderError, Target, TokenSet, http::string_at};
use async_trait::async_trait;
use reqwest::Method;

pub struct Facebook;

#[async_trait]
impl Provider for Facebook {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("authorize", "https://www.facebook.com/v21.0/dialog/oauth"),
            (
                "token",
                "https://graph.facebook.com/v21.0/oauth/access_token",
            ),
            ("me", "https://graph.facebook.com/v21.0/me"),
            ("accounts", "https://graph.facebook.com/v21.0/me/accounts"),
            (
                "permissions",
                "https://graph.facebook.com/v21.0/me/permissions",
            ),
            // Publishing: the Graph root, to which node ids and edges are appended
            // (`{page-id}/feed`, `{post-id}`). Last, so the named paths above match first.
            ("graph", "https://graph.facebook.com/v21.0/"),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &[
            "public_profile",
            "pages_show_list",
            "pages_read_engagement",
            "pages_manage_posts",
            "business_management",
        ]
    }

    fn required_scopes(&self) -> &'static [&'static str] {
        &["pages_show_list", "pages_manage_posts"]
    }

    fn scope_separator(&self) -> &'static str {
        ","
    }

    fn authorize_params(&self, switch_account: bool) -> Vec<(&'static str, &'static str)> {
        if switch_account {
            vec![("auth_type", "reauthenticate")]
        } else {
            vec![("auth_type", "rerequest")]
        }
    }

    async fn exchange(
        &self,
        app: &App,
        code: &str,
        verifier: &str,
    ) -> Result<TokenSet, ProviderError> {
        let short = app.exchange_code(code, verifier).await?;
        let mut long = meta::long_lived(
            app,
            "token",
            "fb_exchange_token",
            "fb_exchange_token",
            &short,
            true,
        )
        .await?;
        // The token answer does not list permissions; the permissions edge does.
        let granted = meta::get(app, "permissions", &[], &long.access_token).await?;
        long.scopes = Some(
            granted["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["status"] == "granted")
                .filter_map(|p| string_at(p, "permission"))
                .collect(),
        );
        Ok(long)
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let me = meta::get(
            app,
            "me",
            &[("fields", "id,name,picture.type(large)")],
            &tokens.access_token,
        )
        .await?;
        Ok(Identity {
            id: string_at(&me, "id").ok_or_else(|| ProviderError::malformed("no id in /me"))?,
            handle: None,
            display_name: string_at(&me, "name"),
            avatar_url: string_at(&me["picture"]["data"], "url"),
            capabilities: None,
        })
    }

    fn renewal(&self) -> Renewal {
        Renewal::CurrentToken
    }

    /// A long-lived user token is traded again for a fresh one while it is still valid.
    async fn refresh(&self, app: &App, tokens: &TokenSet) -> Result<TokenSet, ProviderError> {
        meta::long_lived(
            app,
            "token",
            "fb_exchange_token",
            "fb_exchange_token",
            tokens,
            true,
        )
        .await
    }

    async fn revoke(&self, app: &App, tokens: &TokenSet) -> Result<bool, ProviderError> {
        let mut url = app.url("permissions")?;
        url.query_pairs_mut()
            .append_pair("access_token", &tokens.access_token);
        app.http
            .json(app.http.request(Method::DELETE, &url))
            .await?;
        Ok(true)
    }

    async fn targets(&self, app: &App, tokens: &TokenSet) -> Result<Vec<Target>, ProviderError> {
        let pages = meta::get(
            app,
            "accounts",
            &[
                ("fields", "id,name,picture{url},followers_count,fan_count"),
                ("limit", "100"),
            ],
            &tokens.access_token,
        )
        .await?;
        Ok(pages["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some(Target {
                    id: string_at(p, "id")?,
                    name: string_at(p, "name").unwrap_or_default(),
                    picture: string_at(&p["picture"]["data"], "url"),
                    followers: p["followers_count"].as_i64(),
                    likes: p["fan_count"].as_i64(),
                    detail: None,
                    owner_id: None,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::recorded::{assert_in, exchanged, replay, scopes, tokens};
    use crate::domain::Platform;
    use crate::oauth::ProviderError;

    // developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
    // (both token answers), the Graph API's /me/permissions and /me/accounts references,
    // and developers.facebook.com/docs/graph-api/guides/error-handling (an expired token).
    const TOKEN: &str = include_str!("fixtures/facebook/token.json");
    const LONG: &str = include_str!("fixtures/facebook/long_lived.json");
    const PERMISSIONS: &str = include_str!("fixtures/facebook/permissions.json");
    const ME: &str = include_str!("fixtures/facebook/me.json");
    const ACCOUNTS: &str = include_str!("fixtures/facebook/accounts.json");
    const ERROR: &str = include_str!("fixtures/facebook/error.json");

    #[actix_web::test]
    async fn the_code_becomes_a_long_lived_token_with_its_granted_permissions() {
        let app = replay(
            Platform::Facebook,
            &[
                ("/v21.0/oauth/access_token", 200, TOKEN),
                ("/v21.0/oauth/access_token", 200, LONG),
                ("/v21.0/me/permissions", 200, PERMISSIONS),
            ],
        )
        .await;
        let t = exchanged(&app).await;
        assert_eq!(t.access_token, "EAAB...long-lived");
        assert_in(t.expires_at, 5_183_944);
        assert_eq!(
            scopes(&t),
            ["public_profile", "pages_show_list", "pages_manage_posts"],
            "declined permissions are not granted"
        );
    }

    #[actix_web::test]
    async fn identity_and_pages() {
        let app = replay(
            Platform::Facebook,
            &[
                ("/v21.0/me", 200, ME),
                ("/v21.0/me/accounts", 200, ACCOUNTS),
            ],
        )
        .await;
        let t = tokens("EAAB", None, None);
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "10158236215483521");
        assert_eq!(me.display_name.as_deref(), Some("Jane Doe"));
        assert!(me.avatar_url.unwrap().contains("profilepic"));
        let pages = app.provider.targets(&app, &t).await.unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].id, "1234567890123456");
        assert_eq!(pages[0].name, "Cafe Luna");
        assert_eq!(pages[0].followers, Some(2048));
        assert_eq!(pages[0].likes, Some(1990));
        assert!(
            pages[0]
                .picture
                .as_deref()
                .unwrap()
                .ends_with("cafe-luna.png")
        );
    }

    #[actix_web::test]
    async fn an_expired_token_is_metas_oauth_exception() {
        let app = replay(
            Platform::Facebook,
            &[("/v21.0/oauth/access_token", 400, ERROR)],
        )
        .await;
        let e = app
            .provider
            .refresh(&app, &tokens("EAAB", None, None))
            .await
            .unwrap_err();
        let ProviderError::Rejected { code, description } = e else {
            panic!("{e:?}");
        };
        assert_eq!(code, "OAuthException");
        assert!(
            description
                .unwrap()
                .starts_with("Error validating access token")
        );
    }
}
