//! What Meta's publishing APIs (Facebook's Graph, Threads) share: node paths under one root,
//! the token as the `access_token` parameter, and error objects whose numeric `code` says
//! more than the HTTP status (a dead token and a rate limit both arrive as a 400).

use crate::oauth::http::string_at;
use crate::oauth::provider::App;
use crate::publish::http::{self, Answer, Effect};
use crate::publish::publisher::{Call, PublishError, Published};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

/// `path` (`{page-id}/feed`, `{container-id}`) under the app's `graph` root.
pub fn node(app: &App, path: &str) -> Result<Url, PublishError> {
    let root = super::endpoint(app, "graph")?;
    root.join(path).map_err(|e| {
        PublishError::refused("invalid_id", format!("{path:?} is not a node: {e}"), false)
    })
}

/// GETs a node with `params` and the token.
pub async fn get(
    app: &App,
    path: &str,
    params: &[(&str, &str)],
    token: &str,
) -> Result<Value, PublishError> {
    let mut url = node(app, path)?;
    url.query_pairs_mut()
        .extend_pairs(params)
        .append_pair("access_token", token);
    let request = app.http.request(Method::GET, &url);
    Ok(send(request, Effect::Harmless).await?.body)
}

/// The newest items of `edge` (a Page's `feed`, a user's `media` or `threads`) since the
/// call's first attempt, with `fields`: where `find` looks for a post whose answer was lost.
pub async fn recent(
    call: &Call<'_>,
    edge: &str,
    fields: &str,
    token: &str,
) -> Result<Vec<Value>, PublishError> {
    let since = call.looked_up_since().and_utc().timestamp().to_string();
    let params = [
        ("fields", fields),
        ("since", since.as_str()),
        ("limit", "25"),
    ];
    let listed = get(call.app, edge, &params, token).await?;
    Ok(listed["data"].as_array().cloned().unwrap_or_default())
}

/// The account's newest post on its `edge` (Instagram's `media`, Threads' `threads`) whose
/// `text_field` is `text`, as `find` reports it.
pub async fn own_recent_post(
    call: &Call<'_>,
    edge: &str,
    text_field: &str,
    text: &str,
) -> Result<Option<Published>, PublishError> {
    let edge = format!("{}/{edge}", call.connection.platform_user_id);
    let fields = format!("id,{text_field},timestamp,permalink");
    let posts = recent(call, &edge, &fields, &call.tokens.access_token).await?;
    Ok(posts
        .iter()
        .find(|p| p[text_field].as_str().unwrap_or_default() == text)
        .and_then(|p| {
            Some(Published {
                post_id: string_at(p, "id")?,
                url: string_at(p, "permalink"),
                ..Published::default()
            })
        }))
}

/// POSTs a form to a node with the token.
pub async fn post(
    app: &App,
    path: &str,
    params: &[(&str, String)],
    token: &str,
    effect: Effect,
) -> Result<Value, PublishError> {
    let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("access_token", token));
    let request = app
        .http
        .request(Method::POST, &node(app, path)?)
        .form(&form);
    Ok(send(request, effect).await?.body)
}

/// DELETEs a node.
pub async fn delete(app: &App, path: &str, token: &str) -> Result<(), PublishError> {
    let mut url = node(app, path)?;
    url.query_pairs_mut().append_pair("access_token", token);
    send(app.http.request(Method::DELETE, &url), Effect::Harmless).await?;
    Ok(())
}

async fn send(request: reqwest::RequestBuilder, effect: Effect) -> Result<Answer, PublishError> {
    http::send_reading(request, effect, refusal).await
}

/// The `id` of a Graph answer.
pub fn id_of(body: &Value, key: &str) -> Result<String, PublishError> {
    crate::oauth::http::string_at(body, key)
        .ok_or_else(|| PublishError::InDoubt(format!("the platform's answer has no {key}: {body}")))
}

/// Graph error codes (developers.facebook.com/docs/graph-api/guides/error-handling): 190 and
/// its kin are a token the platform no longer takes; 4, 17, 32, 613 and the 800xx Page and
/// Business limits are throttling; 1, 2 and `is_transient` are the platform's own trouble.
/// Anything else (368 blocked for abuse, 506 duplicate, 1390008 posting too fast, 100 bad
/// parameter) is the platform's final word on this post.
pub fn refusal(status: StatusCode, body: &Value, effect: Effect) -> PublishError {
    let error = &body["error"];
    let Some(code) = error["code"].as_i64() else {
        return http::refusal(status, body, effect);
    };
    let message = error["message"]
        .as_str()
        .map_or_else(|| format!("Graph error {code}"), str::to_owned);
    match code {
        102 | 190 | 458 | 459 | 460 | 463 | 464 | 467 => PublishError::Reauth {
            reason: "invalid_token".to_owned(),
            message,
        },
        4 | 17 | 32 | 613 | 80_001..=80_014 => PublishError::refused("rate_limited", message, true),
        1 | 2 => http::refusal(StatusCode::SERVICE_UNAVAILABLE, body, effect),
        _ if error["is_transient"] == true => {
            http::refusal(StatusCode::SERVICE_UNAVAILABLE, body, effect)
        }
        _ if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
            http::refusal(status, body, effect)
        }
        _ => PublishError::refused(&code.to_string(), message, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph_error(code: i64) -> Value {
        json!({"error": {"message": "why", "type": "OAuthException", "code": code,
            "fbtrace_id": "A1"}})
    }

    #[test]
    fn graph_codes_decide_not_the_status() {
        let bad = StatusCode::BAD_REQUEST;
        assert!(matches!(
            refusal(bad, &graph_error(190), Effect::Creates),
            PublishError::Reauth { .. }
        ));
        for throttled in [4, 17, 32, 613, 80_001] {
            let e = refusal(bad, &graph_error(throttled), Effect::Creates);
            assert_eq!(e.code(), "rate_limited");
            assert!(e.retryable(), "{throttled}");
        }
        for final_word in [368, 506, 1_390_008, 100] {
            let e = refusal(bad, &graph_error(final_word), Effect::Creates);
            assert_eq!(
                e,
                PublishError::refused(&final_word.to_string(), "why", false)
            );
        }
        assert!(matches!(
            refusal(bad, &graph_error(2), Effect::Creates),
            PublishError::InDoubt(_)
        ));
        assert!(refusal(bad, &graph_error(2), Effect::Harmless).retryable());
        let transient = json!({"error": {"message": "x", "code": 9999, "is_transient": true}});
        assert!(refusal(bad, &transient, Effect::Harmless).retryable());
        // An outage answered with a Graph body stays an outage.
        assert!(matches!(
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                &graph_error(503),
                Effect::Creates
            ),
            PublishError::InDoubt(_)
        ));
        // Not a Graph body: the common reading.
        assert!(matches!(
            refusal(StatusCode::UNAUTHORIZED, &json!({}), Effect::Harmless),
            PublishError::Reauth { .. }
        ));
    }
}
