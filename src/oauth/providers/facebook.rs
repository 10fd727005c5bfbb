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
