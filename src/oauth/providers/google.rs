//! Google sign-in (OAuth 2.0 for web server apps) for two products: YouTube (Data API v3:
//! the channel is the account) and Google Business Profile (the Google account, and the
//! locations it manages through the Account Management and Business Information APIs).

use crate::domain::Platform;
use crate::oauth::provider::{App, Provider};
use crate::oauth::{Identity, ProviderError, Target, TokenSet, http::string_at};
use async_trait::async_trait;

pub struct Google {
    product: Product,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Product {
    Youtube,
    Business,
}

pub const YOUTUBE: Google = Google {
    product: Product::Youtube,
};
pub const BUSINESS: Google = Google {
    product: Product::Business,
};

/// Google accounts we list locations for, and locations per account.
const MAX_ACCOUNTS: usize = 20;
const PAGE_SIZE: &str = "100";

#[async_trait]
impl Provider for Google {
    fn platform(&self) -> Platform {
        match self.product {
            Product::Youtube => Platform::Youtube,
            Product::Business => Platform::GoogleBusiness,
        }
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        match self.product {
            Product::Youtube => &[
                ("authorize", "https://accounts.google.com/o/oauth2/v2/auth"),
                ("token", "https://oauth2.googleapis.com/token"),
                ("revoke", "https://oauth2.googleapis.com/revoke"),
                ("channels", "https://www.googleapis.com/youtube/v3/channels"),
            ],
            Product::Business => &[
                ("authorize", "https://accounts.google.com/o/oauth2/v2/auth"),
                ("token", "https://oauth2.googleapis.com/token"),
                ("revoke", "https://oauth2.googleapis.com/revoke"),
                (
                    "userinfo",
                    "https://openidconnect.googleapis.com/v1/userinfo",
                ),
                (
                    "accounts",
                    "https://mybusinessaccountmanagement.googleapis.com/v1/accounts",
                ),
                (
                    "business_information",
                    "https://mybusinessbusinessinformation.googleapis.com/v1/",
                ),
            ],
        }
    }

    fn scopes(&self) -> &'static [&'static str] {
        match self.product {
            Product::Youtube => &[
                "https://www.googleapis.com/auth/youtube.upload",
                "https://www.googleapis.com/auth/youtube.readonly",
            ],
            Product::Business => &[
                "openid",
                "email",
                "profile",
                "https://www.googleapis.com/auth/business.manage",
            ],
        }
    }

    fn required_scopes(&self) -> &'static [&'static str] {
        match self.product {
            Product::Youtube => &["https://www.googleapis.com/auth/youtube.upload"],
            Product::Business => &["https://www.googleapis.com/auth/business.manage"],
        }
    }

    /// `offline` for a refresh token, which Google only gives with a fresh consent.
    fn authorize_params(&self, switch_account: bool) -> Vec<(&'static str, &'static str)> {
        vec![
            ("access_type", "offline"),
            ("include_granted_scopes", "true"),
            (
                "prompt",
                if switch_account {
                    "select_account consent"
                } else {
                    "consent"
                },
            ),
        ]
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        match self.product {
            Product::Youtube => {
                let mut url = app.url("channels")?;
                url.query_pairs_mut()
                    .append_pair("part", "snippet")
                    .append_pair("mine", "true");
                let body = app.get_bearer(url, &tokens.access_token).await?;
                let channel = body["items"].get(0).ok_or_else(|| {
                    ProviderError::rejected(
                        "no_channel",
                        "this Google account has no YouTube channel",
                    )
                })?;
                let snippet = &channel["snippet"];
                Ok(Identity {
                    id: string_at(channel, "id")
                        .ok_or_else(|| ProviderError::malformed("no channel id"))?,
                    handle: string_at(snippet, "customUrl"),
                    display_name: string_at(snippet, "title"),
                    avatar_url: string_at(&snippet["thumbnails"]["default"], "url"),
                    capabilities: None,
                })
            }
            Product::Business => {
                let me = app
                    .get_bearer(app.url("userinfo")?, &tokens.access_token)
                    .await?;
                Ok(Identity {
                    id: string_at(&me, "sub")
                        .ok_or_else(|| ProviderError::malformed("no sub in userinfo"))?,
                    handle: string_at(&me, "email"),
                    display_name: string_at(&me, "name"),
                    avatar_url: string_at(&me, "picture"),
                    capabilities: None,
                })
            }
        }
    }

    /// Revoking the refresh token ends the whole grant.
    async fn revoke(&self, app: &App, tokens: &TokenSet) -> Result<bool, ProviderError> {
        let token = tokens
            .refresh_token
            .as_deref()
            .unwrap_or(&tokens.access_token);
        let request = app
            .http
            .request(reqwest::Method::POST, &app.url("revoke")?)
            .form(&[("token", token)]);
        app.http.json(request).await?;
        Ok(true)
    }

    async fn targets(&self, app: &App, tokens: &TokenSet) -> Result<Vec<Target>, ProviderError> {
        if self.product == Product::Youtube {
            return Ok(Vec::new());
        }
        let accounts = app
            .get_bearer(app.url("accounts")?, &tokens.access_token)
            .await?;
        let mut targets = Vec::new();
        for account in accounts["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .take(MAX_ACCOUNTS)
        {
            let Some(account_name) = string_at(account, "name") else {
                continue;
            };
            let mut url = app
                .url("business_information")?
                .join(&format!("{account_name}/locations"))
                .map_err(|e| ProviderError::malformed(e.to_string()))?;
            url.query_pairs_mut()
                .append_pair("readMask", "name,title")
                .append_pair("pageSize", PAGE_SIZE);
            let body = app.get_bearer(url, &tokens.access_token).await?;
            for location in body["locations"].as_array().into_iter().flatten() {
                let Some(name) = string_at(location, "name") else {
                    continue;
                };
                // `locations/111` under `accounts/123`: uploads take the full path.
                let id = format!("{account_name}/{name}");
                targets.push(Target {
                    name: string_at(location, "title").unwrap_or_else(|| id.clone()),
                    id,
                    picture: None,
                    followers: None,
                    likes: None,
                    detail: string_at(account, "accountName"),
                    owner_id: Some(account_name.clone()),
                });
            }
        }
        Ok(targets)
    }
}
