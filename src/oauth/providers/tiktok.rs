//! TikTok Login Kit and Content Posting API (open.tiktokapis.com v2).

use crate::domain::Platform;
use crate::oauth::provider::{App, Provider};
use crate::oauth::{Identity, ProviderError, TokenSet, http::string_at};
use async_trait::async_trait;

pub struct Tiktok;

/// What the granted scopes let Postgate offer, in Upload-Post's capability names.
const CAPABILITIES: &[(&str, &[&str])] = &[
    ("video.upload", &["draft"]),
    (
        "video.publish",
        &["cover_timestamp", "photo_privacy", "video_privacy"],
    ),
    ("user.info.stats", &["profile_analytics"]),
];

#[async_trait]
impl Provider for Tiktok {
    fn platform(&self) -> Platform {
        Platform::Tiktok
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("authorize", "https://www.tiktok.com/v2/auth/authorize/"),
            ("token", "https://open.tiktokapis.com/v2/oauth/token/"),
            ("revoke", "https://open.tiktokapis.com/v2/oauth/revoke/"),
            ("user_info", "https://open.tiktokapis.com/v2/user/info/"),
            (
                "creator_info",
                "https://open.tiktokapis.com/v2/post/publish/creator_info/query/",
            ),
            (
                "video_init",
                "https://open.tiktokapis.com/v2/post/publish/video/init/",
            ),
            (
                "inbox_video_init",
                "https://open.tiktokapis.com/v2/post/publish/inbox/video/init/",
            ),
            (
                "content_init",
                "https://open.tiktokapis.com/v2/post/publish/content/init/",
            ),
            (
                "publish_status",
                "https://open.tiktokapis.com/v2/post/publish/status/fetch/",
            ),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &[
            "user.info.basic",
            "user.info.profile",
            "video.upload",
            "video.publish",
        ]
    }

    fn required_scopes(&self) -> &'static [&'static str] {
        &["user.info.basic", "video.publish"]
    }

    fn scope_separator(&self) -> &'static str {
        ","
    }

    fn client_id_param(&self) -> &'static str {
        "client_key"
    }

    fn authorize_params(&self, switch_account: bool) -> Vec<(&'static str, &'static str)> {
        if switch_account {
            vec![("disable_auto_auth", "1")]
        } else {
            Vec::new()
        }
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let mut url = app.url("user_info")?;
        url.query_pairs_mut().append_pair(
            "fields",
            "open_id,union_id,avatar_url,display_name,username",
        );
        let body = app.get_bearer(url, &tokens.access_token).await?;
        // TikTok reports errors inside a 200 as well: `error.code` is "ok" on success.
        let code = string_at(&body["error"], "code").unwrap_or_else(|| "ok".to_owned());
        if code != "ok" {
            return Err(ProviderError::Rejected {
                code,
                description: string_at(&body["error"], "message"),
            });
        }
        let user = &body["data"]["user"];
        let granted = tokens.scopes.clone().unwrap_or_default();
        let mut capabilities: Vec<String> = CAPABILITIES
            .iter()
            .filter(|(scope, _)| granted.iter().any(|g| g == scope))
            .flat_map(|(_, caps)| caps.iter().map(|c| (*c).to_owned()))
            .collect();
        capabilities.sort();
        Ok(Identity {
            id: string_at(user, "open_id")
                .or_else(|| tokens.user_id.clone())
                .ok_or_else(|| ProviderError::malformed("no open_id in user info"))?,
            handle: string_at(user, "username"),
            display_name: string_at(user, "display_name"),
            avatar_url: string_at(user, "avatar_url"),
            capabilities: Some(capabilities),
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

    // developers.tiktok.com/doc/oauth-user-access-token-management (token answer and error)
    const TOKEN: &str = include_str!("fixtures/tiktok/token.json");
    const TOKEN_ERROR: &str = include_str!("fixtures/tiktok/token_error.json");
    // developers.tiktok.com/doc/tiktok-api-v2-get-user-info (answer and an invalid token)
    const USER_INFO: &str = include_str!("fixtures/tiktok/user_info.json");
    const USER_INFO_ERROR: &str = include_str!("fixtures/tiktok/user_info_error.json");

    #[actix_web::test]
    async fn reads_the_documented_token_answer() {
        let app = replay(Platform::Tiktok, &[("/v2/oauth/token/", 200, TOKEN)]).await;
        let t = exchanged(&app).await;
        assert_eq!(t.access_token, "act.example12345Example12345Example");
        assert_eq!(
            t.refresh_token.as_deref(),
            Some("rft.example12345Example12345Example")
        );
        assert_in(t.expires_at, 86_400);
        assert_in(t.refresh_expires_at, 31_536_000);
        assert_eq!(scopes(&t), ["user.info.basic", "video.publish"]);
        assert_eq!(
            t.user_id.as_deref(),
            Some("afd97af1-b87b-48b9-ac98-410aghda5344")
        );
    }

    #[actix_web::test]
    async fn a_refused_code_is_final() {
        let app = replay(Platform::Tiktok, &[("/v2/oauth/token/", 400, TOKEN_ERROR)]).await;
        let e = app.provider.exchange(&app, "code", "verifier").await;
        assert_eq!(
            e.unwrap_err(),
            ProviderError::Rejected {
                code: "invalid_grant".into(),
                description: Some("Authorization code is expired.".into())
            }
        );
    }

    #[actix_web::test]
    async fn reads_the_documented_user_info_with_capabilities_from_scopes() {
        let app = replay(Platform::Tiktok, &[("/v2/user/info/", 200, USER_INFO)]).await;
        let mut t = tokens("act.1", None, None);
        t.scopes = Some(vec!["user.info.basic".into(), "video.publish".into()]);
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "723f24d7-e717-40f8-a2b6-cb8464cd23b4");
        assert_eq!(me.handle.as_deref(), Some("tiktoker"));
        assert_eq!(me.display_name.as_deref(), Some("Tik Toker"));
        assert!(me.avatar_url.unwrap().starts_with("https://p19-sign."));
        assert_eq!(
            me.capabilities.unwrap(),
            ["cover_timestamp", "photo_privacy", "video_privacy"]
        );
    }

    #[actix_web::test]
    async fn an_invalid_token_is_tiktoks_error_object() {
        let app = replay(
            Platform::Tiktok,
            &[("/v2/user/info/", 401, USER_INFO_ERROR)],
        )
        .await;
        let e = app
            .provider
            .identity(&app, &tokens("act.1", None, None))
            .await;
        assert!(
            matches!(e, Err(ProviderError::Rejected { ref code, .. }) if code == "access_token_invalid"),
            "{e:?}"
        );
    }
}
