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
                // Publishing (Data API v3): resumable uploads, and the session URIs they
                // hand out, are under `upload/`.
                (
                    "videos_upload",
                    "https://www.googleapis.com/upload/youtube/v3/videos",
                ),
                ("videos", "https://www.googleapis.com/youtube/v3/videos"),
                (
                    "thumbnails_set",
                    "https://www.googleapis.com/upload/youtube/v3/thumbnails/set",
                ),
                (
                    "playlist_items",
                    "https://www.googleapis.com/youtube/v3/playlistItems",
                ),
                (
                    "comment_threads",
                    "https://www.googleapis.com/youtube/v3/commentThreads",
                ),
                ("search", "https://www.googleapis.com/youtube/v3/search"),
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
                // Local posts: `{accounts/…/locations/…}/localPosts` under the v4 root.
                ("mybusiness", "https://mybusiness.googleapis.com/v4/"),
            ],
        }
    }

    fn scopes(&self) -> &'static [&'static str] {
        match self.product {
            Product::Youtube => &[
                "https://www.googleapis.com/auth/youtube.upload",
                "https://www.googleapis.com/auth/youtube.readonly",
                // Playlist items, first comments and deleting a video.
                "https://www.googleapis.com/auth/youtube.force-ssl",
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

#[cfg(test)]
mod tests {
    use super::super::recorded::{assert_in, exchanged, replay, scopes, tokens};
    use crate::domain::Platform;
    use crate::oauth::ProviderError;

    // developers.google.com/identity/protocols/oauth2/web-server (token, refresh and
    // invalid_grant answers), developers.google.com/youtube/v3/docs/channels/list,
    // developers.google.com/identity/openid-connect/openid-connect (userinfo),
    // developers.google.com/my-business/reference/accountmanagement/rest/v1/accounts/list and
    // .../businessinformation/rest/v1/accounts.locations/list, and the JSON error of
    // cloud.google.com/apis/design/errors.
    const TOKEN: &str = include_str!("fixtures/google/token.json");
    const REFRESH: &str = include_str!("fixtures/google/refresh.json");
    const TOKEN_ERROR: &str = include_str!("fixtures/google/token_error.json");
    const CHANNELS: &str = include_str!("fixtures/google/channels.json");
    const NO_CHANNELS: &str = include_str!("fixtures/google/channels_none.json");
    const USERINFO: &str = include_str!("fixtures/google/userinfo.json");
    const ACCOUNTS: &str = include_str!("fixtures/google/accounts.json");
    const LOCATIONS: &str = include_str!("fixtures/google/locations.json");
    const API_ERROR: &str = include_str!("fixtures/google/api_error.json");

    #[actix_web::test]
    async fn token_answers_and_a_refresh_that_keeps_the_refresh_token() {
        let app = replay(
            Platform::Youtube,
            &[("/token", 200, TOKEN), ("/token", 200, REFRESH)],
        )
        .await;
        let t = exchanged(&app).await;
        assert_in(t.expires_at, 3920);
        assert_eq!(scopes(&t).len(), 2);
        let fresh = app.provider.refresh(&app, &t).await.unwrap();
        assert_eq!(fresh.access_token, "1/fFAGRNJru1FTz70BzhT3Zg-refreshed");
        assert_eq!(
            fresh.refresh_token, t.refresh_token,
            "Google does not rotate it"
        );
    }

    #[actix_web::test]
    async fn a_revoked_grant_is_final() {
        let app = replay(Platform::Youtube, &[("/token", 400, TOKEN_ERROR)]).await;
        let e = app
            .provider
            .refresh(&app, &tokens("a", Some("r"), None))
            .await;
        assert_eq!(
            e.unwrap_err(),
            ProviderError::Rejected {
                code: "invalid_grant".into(),
                description: Some("Token has been expired or revoked.".into())
            }
        );
    }

    #[actix_web::test]
    async fn youtube_identity_is_the_channel() {
        let app = replay(
            Platform::Youtube,
            &[("/youtube/v3/channels", 200, CHANNELS)],
        )
        .await;
        let me = app
            .provider
            .identity(&app, &tokens("a", None, None))
            .await
            .unwrap();
        assert_eq!(me.id, "UC_x5XG1OV2P6uZZ5FSM9Ttw");
        assert_eq!(me.handle.as_deref(), Some("@googledevelopers"));
        assert_eq!(me.display_name.as_deref(), Some("Google for Developers"));
        assert!(me.avatar_url.is_some());
    }

    #[actix_web::test]
    async fn a_google_account_without_a_channel_is_refused() {
        let app = replay(
            Platform::Youtube,
            &[("/youtube/v3/channels", 200, NO_CHANNELS)],
        )
        .await;
        let e = app.provider.identity(&app, &tokens("a", None, None)).await;
        assert!(
            matches!(e, Err(ProviderError::Rejected { ref code, .. }) if code == "no_channel"),
            "{e:?}"
        );
    }

    #[actix_web::test]
    async fn business_identity_and_locations() {
        let app = replay(
            Platform::GoogleBusiness,
            &[
                ("/v1/userinfo", 200, USERINFO),
                ("/v1/accounts", 200, ACCOUNTS),
                ("/v1/accounts/112233445566778899/locations", 200, LOCATIONS),
            ],
        )
        .await;
        let t = tokens("a", None, None);
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "110169484474386276334");
        assert_eq!(me.handle.as_deref(), Some("ana.lopez@example.com"));
        let locations = app.provider.targets(&app, &t).await.unwrap();
        let ids: Vec<&str> = locations.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "accounts/112233445566778899/locations/8123456789012345678",
                "accounts/112233445566778899/locations/8123456789012345679"
            ]
        );
        assert_eq!(locations[0].name, "Ana's Bakery Downtown");
        assert_eq!(locations[0].detail.as_deref(), Some("Ana's Bakeries"));
        assert_eq!(
            locations[0].owner_id.as_deref(),
            Some("accounts/112233445566778899")
        );
    }

    #[actix_web::test]
    async fn an_api_error_is_final_with_its_message() {
        let app = replay(
            Platform::GoogleBusiness,
            &[("/v1/userinfo", 401, API_ERROR)],
        )
        .await;
        let e = app.provider.identity(&app, &tokens("a", None, None)).await;
        let Err(ProviderError::Rejected { description, .. }) = e else {
            panic!("{e:?}");
        };
        assert!(
            description
                .unwrap()
                .starts_with("Request had invalid authentication")
        );
    }
}
