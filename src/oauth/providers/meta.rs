//! What Meta's three APIs (Facebook, Instagram, Threads) share: the access token travels as
//! the `access_token` query parameter, and a short-lived token is traded for a long-lived one
//! (about 60 days) that is refreshed by presenting it again.

use crate::domain::{Platform, time};
use crate::oauth::provider::{App, Provider, Renewal};
use crate::oauth::{Identity, ProviderError, TokenSet, http, http::string_at};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

/// GETs a Graph endpoint with `params` and the token.
pub async fn get(
    app: &App,
    endpoint: &str,
    params: &[(&str, &str)],
    access_token: &str,
) -> Result<Value, ProviderError> {
    let mut url = app.url(endpoint)?;
    url.query_pairs_mut()
        .extend_pairs(params)
        .append_pair("access_token", access_token);
    app.http.json(app.http.request(Method::GET, &url)).await
}

/// Trades a token at `endpoint` (`grant_type` names the trade) for a long-lived one.
pub async fn long_lived(
    app: &App,
    endpoint: &str,
    grant_type: &str,
    token_param: &str,
    token: &TokenSet,
    with_secret: bool,
) -> Result<TokenSet, ProviderError> {
    let mut params = vec![("grant_type", grant_type)];
    if with_secret {
        params.push(("client_id", &app.client_id));
        params.push(("client_secret", app.client_secret()));
    }
    let mut url = app.url(endpoint)?;
    url.query_pairs_mut()
        .extend_pairs(&params)
        .append_pair(token_param, &token.access_token);
    let body = app.http.json(app.http.request(Method::GET, &url)).await?;
    Ok(http::token_set(&body, time::now())?.after_refresh(token))
}

/// Instagram's and Threads' code exchange: `{access_token, user_id, permissions}`, bare or
/// wrapped in `data: [...]`.
async fn exchange_short_lived(
    app: &App,
    code: &str,
    verifier: &str,
) -> Result<TokenSet, ProviderError> {
    let body = app
        .post_form(
            "token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", app.redirect_uri.as_str()),
                ("code_verifier", verifier),
            ],
        )
        .await?;
    let body = match &body["data"] {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        _ => body,
    };
    let mut tokens = http::token_set(&body, time::now())?;
    tokens.scopes = match &body["permissions"] {
        Value::String(s) => Some(s.split(',').map(|p| p.trim().to_owned()).collect()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    Ok(tokens)
}

/// Instagram (with Instagram Login) and Threads: the same flow with other names. The code
/// gives a short-lived token, traded at `long_lived` (grant `<prefix>_exchange_token`) for a
/// 60-day one, which is refreshed at `refresh` (grant `<prefix>_refresh_token`).
pub struct LongLivedLogin {
    pub platform: Platform,
    pub endpoints: &'static [(&'static str, &'static str)],
    pub scopes: &'static [&'static str],
    pub exchange_grant: &'static str,
    pub refresh_grant: &'static str,
    /// The `fields` asked of `me`, and which of them are the id (first found), handle, name
    /// and avatar.
    pub me_fields: &'static str,
    pub id_fields: &'static [&'static str],
    pub avatar_field: &'static str,
    /// The authorize parameter that makes the platform ask for the account again.
    pub switch_param: Option<(&'static str, &'static str)>,
}

#[async_trait]
impl Provider for LongLivedLogin {
    fn platform(&self) -> Platform {
        self.platform
    }

    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        self.endpoints
    }

    fn scopes(&self) -> &'static [&'static str] {
        self.scopes
    }

    fn scope_separator(&self) -> &'static str {
        ","
    }

    /// The long-lived token is refreshed by presenting it again.
    fn renewal(&self) -> Renewal {
        Renewal::CurrentToken
    }

    fn authorize_params(&self, switch_account: bool) -> Vec<(&'static str, &'static str)> {
        self.switch_param
            .filter(|_| switch_account)
            .into_iter()
            .collect()
    }

    async fn exchange(
        &self,
        app: &App,
        code: &str,
        verifier: &str,
    ) -> Result<TokenSet, ProviderError> {
        let short = exchange_short_lived(app, code, verifier).await?;
        long_lived(
            app,
            "long_lived",
            self.exchange_grant,
            "access_token",
            &short,
            true,
        )
        .await
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError> {
        let me = get(
            app,
            "me",
            &[("fields", self.me_fields)],
            &tokens.access_token,
        )
        .await?;
        Ok(Identity {
            id: self
                .id_fields
                .iter()
                .find_map(|f| string_at(&me, f))
                .ok_or_else(|| ProviderError::malformed("no id in /me"))?,
            handle: string_at(&me, "username"),
            display_name: string_at(&me, "name"),
            avatar_url: string_at(&me, self.avatar_field),
            capabilities: None,
        })
    }

    async fn refresh(&self, app: &App, tokens: &TokenSet) -> Result<TokenSet, ProviderError> {
        long_lived(
            app,
            "refresh",
            self.refresh_grant,
            "access_token",
            tokens,
            false,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::recorded::{assert_in, exchanged, replay, scopes, tokens};
    use crate::domain::Platform;

    // developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/
    // business-login (the code exchange, wrapped in `data`) and
    // developers.facebook.com/documentation/instagram-platform/reference/access_token
    // (the long-lived trade); the `me` fields from the Instagram User reference.
    const IG_TOKEN: &str = include_str!("fixtures/instagram/token.json");
    const IG_LONG: &str = include_str!("fixtures/instagram/long_lived.json");
    const IG_ME: &str = include_str!("fixtures/instagram/me.json");
    // developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions
    // (a numeric user_id), .../threads/get-started/long-lived-tokens, and the Threads
    // profile reference.
    const TH_TOKEN: &str = include_str!("fixtures/threads/token.json");
    const TH_LONG: &str = include_str!("fixtures/threads/long_lived.json");
    const TH_ME: &str = include_str!("fixtures/threads/me.json");

    #[actix_web::test]
    async fn instagram_trades_the_wrapped_code_answer_for_a_long_lived_token() {
        let app = replay(
            Platform::Instagram,
            &[
                ("/oauth/access_token", 200, IG_TOKEN),
                ("/access_token", 200, IG_LONG),
            ],
        )
        .await;
        let t = exchanged(&app).await;
        assert_eq!(t.access_token, "IGQVJ...long-lived");
        assert_in(t.expires_at, 5_183_944);
        assert_eq!(t.user_id.as_deref(), Some("17841405822304914"));
        assert_eq!(
            scopes(&t),
            [
                "instagram_business_basic",
                "instagram_business_content_publish"
            ]
        );
    }

    #[actix_web::test]
    async fn instagram_identity_is_the_professional_account() {
        let app = replay(Platform::Instagram, &[("/v21.0/me", 200, IG_ME)]).await;
        let me = app
            .provider
            .identity(&app, &tokens("IGQVJ", None, None))
            .await
            .unwrap();
        assert_eq!(
            me.id, "17841405822304914",
            "user_id before the app-scoped id"
        );
        assert_eq!(me.handle.as_deref(), Some("jaybee"));
        assert_eq!(me.display_name.as_deref(), Some("Jay Bee"));
        assert!(me.avatar_url.unwrap().ends_with("jaybee.jpg"));
    }

    #[actix_web::test]
    async fn instagram_refresh_keeps_what_the_answer_leaves_out() {
        let app = replay(
            Platform::Instagram,
            &[("/refresh_access_token", 200, IG_LONG)],
        )
        .await;
        let mut before = tokens("old", None, Some("17841405822304914"));
        before.scopes = Some(vec!["instagram_business_basic".into()]);
        let t = app.provider.refresh(&app, &before).await.unwrap();
        assert_eq!(t.access_token, "IGQVJ...long-lived");
        assert_in(t.expires_at, 5_183_944);
        assert_eq!(t.user_id, before.user_id);
        assert_eq!(t.scopes, before.scopes);
    }

    #[actix_web::test]
    async fn threads_reads_a_numeric_user_id_and_its_profile() {
        let app = replay(
            Platform::Threads,
            &[
                ("/oauth/access_token", 200, TH_TOKEN),
                ("/access_token", 200, TH_LONG),
                ("/v1.0/me", 200, TH_ME),
            ],
        )
        .await;
        let t = exchanged(&app).await;
        assert_eq!(t.access_token, "THQVJ...long-lived");
        assert_eq!(t.user_id.as_deref(), Some("12345678901234567"));
        assert_in(t.expires_at, 5_183_944);
        let me = app.provider.identity(&app, &t).await.unwrap();
        assert_eq!(me.id, "1234567");
        assert_eq!(me.handle.as_deref(), Some("threadsapitestuser"));
        assert_eq!(me.display_name.as_deref(), Some("Threads API Test User"));
        assert!(me.avatar_url.is_some());
    }
}
