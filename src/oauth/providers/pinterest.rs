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
            // Publishing: pins, a board's pins, and video uploads (registered, then polled).
            ("pins", "https://api.pinterest.com/v5/pins"),
            ("pin", "https://api.pinterest.com/v5/pins/"),
            ("board", "https://api.pinterest.com/v5/boards/"),
            ("media", "https://api.pinterest.com/v5/media"),
            ("media_status", "https://api.pinterest.com/v5/media/"),
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

#[cfg(test)]
mod tests {
    use super::super::recorded::{assert_in, exchanged, replay, scopes, tokens};
    use crate::domain::Platform;
    use crate::oauth::ProviderError;

    // developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization
    // (token answer), developers.pinterest.com/docs/api/v5/user_account-get,
    // .../docs/api/v5/boards-list (paged by bookmark) and the v5 error object.
    const TOKEN: &str = include_str!("fixtures/pinterest/token.json");
    const USER_ACCOUNT: &str = include_str!("fixtures/pinterest/user_account.json");
    const BOARDS_1: &str = include_str!("fixtures/pinterest/boards_page1.json");
    const BOARDS_2: &str = include_str!("fixtures/pinterest/boards_page2.json");
    const ERROR: &str = include_str!("fixtures/pinterest/error.json");

    #[actix_web::test]
    async fn token_answer_with_space_separated_scopes() {
        let app = replay(Platform::Pinterest, &[("/v5/oauth/token", 200, TOKEN)]).await;
        let t = exchanged(&app).await;
        assert_eq!(t.refresh_token.as_deref(), Some("pinr_AQMz7ASWAAAA"));
        assert_in(t.expires_at, 2_592_000);
        assert_in(t.refresh_expires_at, 31_536_000);
        assert_eq!(scopes(&t).len(), 5);
    }

    #[actix_web::test]
    async fn identity_and_every_page_of_boards() {
        let app = replay(
            Platform::Pinterest,
            &[
                ("/v5/user_account", 200, USER_ACCOUNT),
                ("/v5/boards", 200, BOARDS_1),
                ("/v5/boards", 200, BOARDS_2),
            ],
        )
        .await;
        let t = tokens("pina", None, None);
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "549755885175");
        assert_eq!(me.handle.as_deref(), Some("lunacafe"));
        assert_eq!(me.display_name.as_deref(), Some("Luna Cafe"));
        let boards = app.provider.targets(&app, &t).await.unwrap();
        let names: Vec<&str> = boards.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["Summer Recipes", "Secret Menu"]);
        assert_eq!(boards[0].followers, Some(13));
        assert_eq!(boards[1].detail.as_deref(), Some("SECRET"));
    }

    #[actix_web::test]
    async fn an_error_is_pinterests_code_and_message() {
        let app = replay(Platform::Pinterest, &[("/v5/user_account", 401, ERROR)]).await;
        let e = app
            .provider
            .identity(&app, &tokens("pina", None, None))
            .await;
        assert_eq!(
            e.unwrap_err(),
            ProviderError::Rejected {
                code: "2".into(),
                description: Some("Authentication failed.".into())
            }
        );
    }
}
