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
            // Publishing, at the same service as the session.
            (
                "upload_blob",
                "https://bsky.social/xrpc/com.atproto.repo.uploadBlob",
            ),
            (
                "create_record",
                "https://bsky.social/xrpc/com.atproto.repo.createRecord",
            ),
            (
                "get_record",
                "https://bsky.social/xrpc/com.atproto.repo.getRecord",
            ),
            (
                "delete_record",
                "https://bsky.social/xrpc/com.atproto.repo.deleteRecord",
            ),
            (
                "resolve_handle",
                "https://bsky.social/xrpc/com.atproto.identity.resolveHandle",
            ),
            // Video: a service token from the PDS, then Bluesky's video service.
            (
                "service_auth",
                "https://bsky.social/xrpc/com.atproto.server.getServiceAuth",
            ),
            (
                "upload_video",
                "https://video.bsky.app/xrpc/app.bsky.video.uploadVideo",
            ),
            (
                "video_job_status",
                "https://video.bsky.app/xrpc/app.bsky.video.getJobStatus",
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

#[cfg(test)]
mod tests {
    use super::super::recorded::{replay, tokens};
    use crate::domain::Platform;
    use crate::oauth::ProviderError;

    // docs.bsky.app/docs/api/com-atproto-server-create-session (the session, with JWTs whose
    // `exp` claims are 2 hours and 90 days after `iat`), .../app-bsky-actor-get-profile,
    // .../com-atproto-server-refresh-session, and the XRPC error bodies of
    // atproto.com/specs/xrpc.
    const SESSION: &str = include_str!("fixtures/bluesky/create_session.json");
    const PROFILE: &str = include_str!("fixtures/bluesky/get_profile.json");
    const AUTH_ERROR: &str = include_str!("fixtures/bluesky/auth_error.json");
    const EXPIRED: &str = include_str!("fixtures/bluesky/expired_error.json");
    const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    /// The fixtures' `iat` claim, 2026-01-01T00:00:00Z.
    const ISSUED: i64 = 1_767_225_600;

    fn at(seconds: i64) -> Option<chrono::NaiveDateTime> {
        chrono::DateTime::from_timestamp(seconds, 0).map(|t| t.naive_utc())
    }

    #[actix_web::test]
    async fn an_app_password_makes_a_session_and_names_the_account() {
        let app = replay(
            Platform::Bluesky,
            &[
                ("/xrpc/com.atproto.server.createSession", 200, SESSION),
                ("/xrpc/app.bsky.actor.getProfile", 200, PROFILE),
            ],
        )
        .await;
        let (t, me) = app
            .provider
            .password_sign_in(&app, "atproto.com", "app-password")
            .await
            .unwrap();
        assert_eq!(t.user_id.as_deref(), Some(DID));
        assert_eq!(t.expires_at, at(ISSUED + 7200), "read from the JWT");
        assert_eq!(t.refresh_expires_at, at(ISSUED + 90 * 86_400));
        assert_eq!(me.id, DID);
        assert_eq!(me.handle.as_deref(), Some("atproto.com"));
        assert_eq!(me.display_name.as_deref(), Some("AT Protocol Developers"));
        assert!(me.avatar_url.is_some());
    }

    #[actix_web::test]
    async fn a_refresh_is_a_new_session() {
        let app = replay(
            Platform::Bluesky,
            &[("/xrpc/com.atproto.server.refreshSession", 200, SESSION)],
        )
        .await;
        let t = app
            .provider
            .refresh(&app, &tokens("old", Some("old-refresh"), Some(DID)))
            .await
            .unwrap();
        assert_ne!(t.refresh_token.as_deref(), Some("old-refresh"), "rotated");
        assert_eq!(t.expires_at, at(ISSUED + 7200));
    }

    #[actix_web::test]
    async fn xrpc_errors_are_final() {
        let app = replay(
            Platform::Bluesky,
            &[
                ("/xrpc/com.atproto.server.createSession", 401, AUTH_ERROR),
                ("/xrpc/com.atproto.server.refreshSession", 400, EXPIRED),
            ],
        )
        .await;
        let e = app
            .provider
            .password_sign_in(&app, "atproto.com", "wrong")
            .await;
        assert_eq!(
            e.unwrap_err(),
            ProviderError::Rejected {
                code: "AuthenticationRequired".into(),
                description: Some("Invalid identifier or password".into())
            }
        );
        let e = app
            .provider
            .refresh(&app, &tokens("old", Some("old-refresh"), Some(DID)))
            .await;
        assert!(
            matches!(e, Err(ProviderError::Rejected { ref code, .. }) if code == "ExpiredToken"),
            "{e:?}"
        );
    }
}
