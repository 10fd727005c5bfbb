//! What Meta's three APIs (Facebook, Instagram, Threads) share: the access token travels as
//! the `access_token` query parameter, and a short-lived token is traded for a long-lived one
//! (about 60 days) that is refreshed by presenting it again.

use crate::domain::time;
use crate::oauth::provider::App;
use crate::oauth::{ProviderError, TokenSet, http};
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
pub async fn exchange_short_lived(
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
