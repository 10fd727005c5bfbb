//! Bluesky (AT Protocol): a handle and an app password make a session at the account's PDS
//! (`com.atproto.server.createSession`); sessions refresh with the refresh JWT.

use crate::domain::Platform;
use crate::oauth::provider::{App, Provider, SignIn};
use crate::oauth::{Identity, ProviderError, TokenSet, http::string_at};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

pub struct Bluesky;

/// A session's tokens. Both are JWTs whose `exp` says when they lapse.
fn session_tokens(body: &Value) -> Result<TokenSet, ProviderError> {
    let access = string_at(body, "accessJwt")
        .ok_or_else(|| ProviderError::malformed("no accessJwt in the session"))?;
    let refresh = string_at(body, "refreshJwt");
    Ok(TokenSet {
        expires_at: jwt_expiry(&access),
        refresh_expires_at: refresh.as_deref().and_then(jwt_expiry),
        access_token: access,
        refresh_token: refresh,
        scopes: None,
        user_id: string_at(body, "did"),
    })
}

/// The `exp` claim, read without verifying: only to schedule the refresh.
fn jwt_expiry(jwt: &str) -> Option<chrono::NaiveDateTime> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let exp = serde_json::from_slice::<Value>(&payload).ok()?["exp"].as_i64()?;
    chrono::DateTime::from_timestamp(exp, 0).map(|t| t.naive_utc())
}

#[async_trait]
impl Provider for Bluesky {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "create_session",
                "https://bsky.social/xrpc/com.atproto.server.createSession",
            ),
            (
                "refresh_session",
                "https://bsky.social/xrpc/com.atproto.server.refreshSession",
            ),
            (
                "delete_session",
                "https://bsky.social/xrpc/com.atproto.server.deleteSession",
            ),
            (
                "get_profile",
                "https://bsky.social/xrpc/app.bsky.actor.getProfile",
            ),
        ]
    }

    fn scopes(&self) -> &'static [&'static str] {
        &[]
    }

    fn sign_in(&self) -> SignIn {
        SignIn::AppPassword
    }

    async fn password_sign_in(
        &self,
        app: &App,
        identifier: &str,
        password: &str,
    ) -> Result<(TokenSet, Identity), ProviderError> {
        let request = app
            .http
            .request(Method::POST, &app.url("create_session")?)
            .json(&json!({"identifier": identifier, "password": password}));
        let session = app.http.json(request).await?;
        let tokens = session_tokens(&session)?;
        let identity = self.identity(app, &tokens).await?;
        Ok((tokens, identity))
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let did = tokens
            .user_id
            .as_deref()
            .ok_or_else(|| ProviderError::malformed("no DID for the session"))?;
        let mut url = app.url("get_profile")?;
        url.query_pairs_mut().append_pair("actor", did);
        let profile = app.get_bearer(url, &tokens.access_token).await?;
        Ok(Identity {
            id: string_at(&profile, "did").unwrap_or_else(|| did.to_owned()),
            handle: string_at(&profile, "handle"),
            display_name: string_at(&profile, "displayName"),
            avatar_url: string_at(&profile, "avatar"),
            capabilities: None,
        })
    }

    async fn refresh(&self, app: &App, tokens: &TokenSet) -> Result<TokenSet, ProviderError> {
        let refresh = tokens.refresh_token.as_deref().ok_or_else(|| {
            ProviderError::rejected("no_refresh_token", "the session has no refresh token")
        })?;
        let request = app
            .http
            .request(Method::POST, &app.url("refresh_session")?)
            .bearer_auth(refresh);
        let session = app.http.json(request).await?;
        Ok(session_tokens(&session)?.after_refresh(tokens))
    }

    async fn revoke(&self, app: &App, tokens: &TokenSet) -> Result<bool, ProviderError> {
        let Some(refresh) = &tokens.refresh_token else {
            return Ok(false);
        };
        let request = app
            .http
            .request(Method::POST, &app.url("delete_session")?)
            .bearer_auth(refresh);
        app.http.json(request).await?;
        Ok(true)
    }
}
