//! LinkedIn: Sign In with LinkedIn using OpenID Connect for the member, and the Community
//! Management API (versioned `/rest`) for the organizations the member administers.

use crate::domain::Platform;
use crate::oauth::provider::{App, Provider};
use crate::oauth::{Identity, ProviderError, Target, TokenSet, http::string_at};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

pub struct Linkedin;

/// The `/rest` API version we speak (YYYYMM).
pub const API_VERSION: &str = "202411";
const ORGANIZATION_URN: &str = "urn:li:organization:";
/// Organizations we look up per listing.
const MAX_ORGANIZATIONS: usize = 50;

async fn rest_get(app: &App, url: url::Url, access_token: &str) -> Result<Value, ProviderError> {
    let request = app
        .http
        .request(Method::GET, &url)
        .bearer_auth(access_token)
        .header("LinkedIn-Version", API_VERSION)
        .header("X-Restli-Protocol-Version", "2.0.0");
    app.http.json(request).await
}

#[async_trait]
impl Provider for Linkedin {
    fn platform(&self) -> Platform {
        Platform::Linkedin
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "authorize",
                "https://www.linkedin.com/oauth/v2/authorization",
            ),
            ("token", "https://www.linkedin.com/oauth/v2/accessToken"),
            ("revoke", "https://www.linkedin.com/oauth/v2/revoke"),
            ("userinfo", "https://api.linkedin.com/v2/userinfo"),
            (
                "organization_acls",
                "https://api.linkedin.com/rest/organizationAcls",
            ),
            (
                "organizations",
                "https://api.linkedin.com/rest/organizations/",
            ),
            // Publishing (the Posts API and its media): `posts` creates and lists, `post`
            // is the base the URN of one post is appended to.
            ("posts", "https://api.linkedin.com/rest/posts"),
            ("post", "https://api.linkedin.com/rest/posts/"),
            ("images", "https://api.linkedin.com/rest/images"),
            ("documents", "https://api.linkedin.com/rest/documents"),
            // Videos: `?action=initializeUpload|finalizeUpload`, and `videos/{urn}`.
            ("videos", "https://api.linkedin.com/rest/videos"),
            ("video", "https://api.linkedin.com/rest/videos/"),
            (
                "social_actions",
                "https://api.linkedin.com/rest/socialActions/",
            ),
            // Where a post is seen: the URN and a `/` are appended.
            ("post_page", "https://www.linkedin.com/feed/update/"),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &[
            "openid",
            "profile",
            "w_member_social",
            "r_organization_social",
            "w_organization_social",
            "rw_organization_admin",
        ]
    }

    fn required_scopes(&self) -> &'static [&'static str] {
        &["openid", "profile", "w_member_social"]
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let me = app
            .get_bearer(app.url("userinfo")?, &tokens.access_token)
            .await?;
        Ok(Identity {
            id: string_at(&me, "sub")
                .ok_or_else(|| ProviderError::malformed("no sub in userinfo"))?,
            handle: None,
            display_name: string_at(&me, "name"),
            avatar_url: string_at(&me, "picture"),
            capabilities: None,
        })
    }

    async fn revoke(&self, app: &App, tokens: &TokenSet) -> Result<bool, ProviderError> {
        app.revoke_token(tokens).await
    }

    async fn targets(&self, app: &App, tokens: &TokenSet) -> Result<Vec<Target>, ProviderError> {
        let mut url = app.url("organization_acls")?;
        url.query_pairs_mut()
            .append_pair("q", "roleAssignee")
            .append_pair("role", "ADMINISTRATOR")
            .append_pair("state", "APPROVED");
        let acls = rest_get(app, url, &tokens.access_token).await?;
        let mut targets = Vec::new();
        for urn in acls["elements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| string_at(e, "organization"))
            .take(MAX_ORGANIZATIONS)
        {
            let Some(id) = urn.strip_prefix(ORGANIZATION_URN) else {
                continue;
            };
            let url = app
                .url("organizations")?
                .join(id)
                .map_err(|e| ProviderError::malformed(e.to_string()))?;
            let org = rest_get(app, url, &tokens.access_token).await?;
            targets.push(Target {
                name: string_at(&org, "localizedName").unwrap_or_else(|| urn.clone()),
                picture: None,
                followers: None,
                likes: None,
                detail: string_at(&org, "vanityName"),
                owner_id: Some(urn.clone()),
                id: urn,
            });
        }
        Ok(targets)
    }
}

#[cfg(test)]
mod tests {
    use super::super::recorded::{assert_in, exchanged, replay, scopes, tokens};
    use crate::domain::Platform;
    use crate::oauth::ProviderError;

    // learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow (token
    // answer with a refresh token), .../sign-in-with-linkedin-v2 (userinfo),
    // .../community-management/organizations/organization-access-control-by-role (ACLs),
    // .../organizations/organization-lookup-api (an organization), and the REST error shape.
    const TOKEN: &str = include_str!("fixtures/linkedin/token.json");
    const USERINFO: &str = include_str!("fixtures/linkedin/userinfo.json");
    const ACLS: &str = include_str!("fixtures/linkedin/organization_acls.json");
    const ORGANIZATION: &str = include_str!("fixtures/linkedin/organization.json");
    const ERROR: &str = include_str!("fixtures/linkedin/error.json");

    #[actix_web::test]
    async fn token_answer_with_refresh_expiry() {
        let app = replay(Platform::Linkedin, &[("/oauth/v2/accessToken", 200, TOKEN)]).await;
        let t = exchanged(&app).await;
        assert_eq!(t.access_token, "AQUvlL_DYEzvT2wz1QJiEPeLioeA");
        assert_eq!(
            t.refresh_token.as_deref(),
            Some("AQWAft_WjYZKwuWXLC5hQlghgTam")
        );
        assert_in(t.expires_at, 5_184_000);
        assert_in(t.refresh_expires_at, 525_600);
        assert_eq!(scopes(&t), ["openid", "profile", "w_member_social"]);
    }

    #[actix_web::test]
    async fn identity_and_administered_organizations() {
        let app = replay(
            Platform::Linkedin,
            &[
                ("/v2/userinfo", 200, USERINFO),
                ("/rest/organizationAcls", 200, ACLS),
                ("/rest/organizations/2414183", 200, ORGANIZATION),
            ],
        )
        .await;
        let t = tokens("AQUv", None, None);
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "782bbtaQ");
        assert_eq!(me.display_name.as_deref(), Some("John Doe"));
        assert!(me.avatar_url.is_some());
        let orgs = app.provider.targets(&app, &t).await.unwrap();
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0].id, "urn:li:organization:2414183");
        assert_eq!(orgs[0].name, "LinkedIn");
        assert_eq!(orgs[0].detail.as_deref(), Some("linkedin"));
    }

    #[actix_web::test]
    async fn a_rest_error_is_final_with_its_message() {
        let app = replay(Platform::Linkedin, &[("/v2/userinfo", 401, ERROR)]).await;
        let e = app
            .provider
            .identity(&app, &tokens("AQUv", None, None))
            .await;
        assert_eq!(
            e.unwrap_err(),
            ProviderError::Rejected {
                code: "http_401".into(),
                description: Some("Invalid access token".into())
            }
        );
    }
}
