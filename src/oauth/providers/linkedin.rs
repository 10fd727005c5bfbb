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
const API_VERSION: &str = "202411";
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
