//! Pinterest API v5.

use crate::domain::Platform;
use crate::oauth::provider::{App, ClientAuth, Provider};
use crate::oauth::{Identity, ProviderError, Target, TokenSet, http::string_at};
use async_trait::async_trait;

pub struct Pinterest;

/// Pages of boards we follow (`bookmark`), 100 boards each.
const MAX_PAGES: usize = 10;

#[async_trait]
impl Provider for Pinterest {
    fn platform(&self) -> Platform {
        Platform::Pinterest
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("authorize", "https://www.pinterest.com/oauth/"),
            ("token", "https://api.pinterest.com/v5/oauth/token"),
            ("user_account", "https://api.pinterest.com/v5/user_account"),
            ("boards", "https://api.pinterest.com/v5/boards"),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &[
            "boards:read",
            "boards:write",
            "pins:read",
            "pins:write",
            "user_accounts:read",
        ]
    }

    fn required_scopes(&self) -> &'static [&'static str] {
        &["boards:read", "pins:write", "user_accounts:read"]
    }

    fn scope_separator(&self) -> &'static str {
        ","
    }

    fn client_auth(&self) -> ClientAuth {
        ClientAuth::Basic
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let me = app
            .get_bearer(app.url("user_account")?, &tokens.access_token)
            .await?;
        let username = string_at(&me, "username");
        Ok(Identity {
            id: string_at(&me, "id")
                .or_else(|| username.clone())
                .ok_or_else(|| ProviderError::malformed("no id in user_account"))?,
            display_name: string_at(&me, "business_name").or_else(|| username.clone()),
            handle: username,
            avatar_url: string_at(&me, "profile_image"),
            capabilities: None,
        })
    }

    async fn targets(&self, app: &App, tokens: &TokenSet) -> Result<Vec<Target>, ProviderError> {
        let mut targets = Vec::new();
        let mut bookmark: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = app.url("boards")?;
            url.query_pairs_mut().append_pair("page_size", "100");
            if let Some(b) = &bookmark {
                url.query_pairs_mut().append_pair("bookmark", b);
            }
            let page = app.get_bearer(url, &tokens.access_token).await?;
            targets.extend(
                page["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|b| {
                        Some(Target {
                            id: string_at(b, "id")?,
                            name: string_at(b, "name").unwrap_or_default(),
                            picture: None,
                            followers: b["follower_count"].as_i64(),
                            likes: None,
                            detail: string_at(b, "privacy"),
                            owner_id: None,
                        })
                    }),
            );
            bookmark = string_at(&page, "bookmark");
            if bookmark.is_none() {
                break;
            }
        }
        Ok(targets)
    }
}
