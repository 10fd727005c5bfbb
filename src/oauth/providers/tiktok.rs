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
