//! Talking to platforms: one client with timeouts and no redirect following, and one reading
//! of every answer into JSON or a `ProviderError` (standard OAuth errors, Meta's and TikTok's
//! error objects, AT Protocol errors).

use super::{ProviderError, TokenSet};
use chrono::{Duration, NaiveDateTime};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

/// Longest answer we read from a platform.
const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new(timeout: std::time::Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
            // A redirect from a token endpoint is never legitimate, and following one could
            // send credentials somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Postgate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    pub fn request(&self, method: Method, url: &url::Url) -> RequestBuilder {
        self.client.request(method, url.as_str())
    }

    /// Sends and reads the answer: 2xx JSON, or the error the platform gave.
    pub async fn json(&self, request: RequestBuilder) -> Result<Value, ProviderError> {
        let response = request.send().await.map_err(|e| {
            ProviderError::Transient(if e.is_timeout() {
                "the platform did not answer in time".to_owned()
            } else {
                "cannot reach the platform".to_owned()
            })
        })?;
        let status = response.status();
        let bytes = read_limited(response).await?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return match body {
                Some(v) => Ok(v),
                None if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Value::Null),
                None => Err(ProviderError::malformed(format!(
                    "HTTP {status} with a body that is not JSON"
                ))),
            };
        }
        Err(classify(status, body.as_ref()))
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| ProviderError::Transient("the platform's answer broke off".to_owned()))?
    {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ProviderError::malformed("the answer is too large"));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// What a non-2xx answer means. 429 and 5xx pass; 4xx with an error code is the platform's
/// final word.
pub fn classify(status: StatusCode, body: Option<&Value>) -> ProviderError {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return ProviderError::Transient(format!("HTTP {}", status.as_u16()));
    }
    let (code, description) = body.map(error_fields).unwrap_or((None, None));
    ProviderError::Rejected {
        code: code.unwrap_or_else(|| format!("http_{}", status.as_u16())),
        description,
    }
}

/// The error code and description in any of the shapes platforms use:
/// `{"error": "invalid_grant", "error_description": …}` (OAuth 2.0),
/// `{"error": {"message", "type", "code"}}` (Meta), `{"error": {"code", "message"}}` (TikTok),
/// `{"error": "ExpiredToken", "message": …}` (AT Protocol), `{"code", "message"}` (Pinterest).
pub fn error_fields(body: &Value) -> (Option<String>, Option<String>) {
    let text = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let error = &body["error"];
    let code = match error {
        Value::Object(_) => text(&error["type"]).or_else(|| text(&error["code"])),
        other => text(other),
    }
    .or_else(|| text(&body["code"]));
    let description = text(&body["error_description"])
        .or_else(|| text(&error["message"]))
        .or_else(|| text(&body["message"]));
    (code, description)
}

/// A string field, or a number written as one.
pub fn string_at(v: &Value, key: &str) -> Option<String> {
    match &v[key] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn seconds_at(v: &Value, key: &str) -> Option<i64> {
    match &v[key] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|s| *s > 0)
}

/// The longest token lifetime believed: ten years.
const MAX_TOKEN_LIFETIME_SECONDS: i64 = 10 * 366 * 24 * 3600;

/// An OAuth 2.0 token answer (RFC 6749 §5.1) with the usual extras: `refresh_token_expires_in`
/// (LinkedIn, Pinterest), `refresh_expires_in` and `open_id` (TikTok), `user_id` (Meta).
/// Scopes may be separated by spaces or commas.
pub fn token_set(v: &Value, now: NaiveDateTime) -> Result<TokenSet, ProviderError> {
    let access_token = string_at(v, "access_token")
        .ok_or_else(|| ProviderError::malformed("no access_token in the token answer"))?;
    // A platform's number is not trusted with our arithmetic: a lifetime past ten years is
    // read as ten years, so no answer can overflow a date (which would panic the callback and
    // the refresh engine with it).
    let after = |key| {
        seconds_at(v, key)
            .map(|s| s.min(MAX_TOKEN_LIFETIME_SECONDS))
            .and_then(Duration::try_seconds)
            .and_then(|d| now.checked_add_signed(d))
    };
    Ok(TokenSet {
        access_token,
        refresh_token: string_at(v, "refresh_token"),
        expires_at: after("expires_in"),
        refresh_expires_at: after("refresh_token_expires_in")
            .or_else(|| after("refresh_expires_in")),
        scopes: string_at(v, "scope").map(|s| {
            s.split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        user_id: string_at(v, "open_id").or_else(|| string_at(v, "user_id")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::untrusted_input::{outside_json, outside_object};
    use proptest::option;
    use proptest::prelude::*;
    use serde_json::json;

    /// The error bodies the platforms document (see each provider's tests for the page).
    #[test]
    fn reads_every_error_shape() {
        let cases = [
            (
                include_str!("providers/fixtures/google/token_error.json"),
                ("invalid_grant", "Token has been expired or revoked."),
            ),
            (
                include_str!("providers/fixtures/facebook/error.json"),
                (
                    "OAuthException",
                    "Error validating access token: Session has expired on Wednesday, \
                     14-Feb-18 18:00:00 PST. The current time is Thursday, 15-Feb-18 13:46:35 PST.",
                ),
            ),
            (
                include_str!("providers/fixtures/tiktok/user_info_error.json"),
                (
                    "access_token_invalid",
                    "The access token is invalid or not found in the request.",
                ),
            ),
            (
                include_str!("providers/fixtures/bluesky/expired_error.json"),
                ("ExpiredToken", "Token has expired"),
            ),
            (
                include_str!("providers/fixtures/pinterest/error.json"),
                ("2", "Authentication failed."),
            ),
        ];
        for (body, (code, description)) in cases {
            let body: Value = serde_json::from_str(body).unwrap();
            assert_eq!(
                classify(StatusCode::BAD_REQUEST, Some(&body)),
                ProviderError::Rejected {
                    code: code.to_owned(),
                    description: Some(description.to_owned())
                },
                "{body}"
            );
        }
    }

    #[test]
    fn transient_statuses_pass_and_4xx_is_final() {
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, None),
            ProviderError::Transient(_)
        ));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, None),
            ProviderError::Transient(_)
        ));
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, None),
            ProviderError::Rejected {
                code: "http_401".into(),
                description: None
            }
        );
    }

    #[test]
    fn token_answers() {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc();
        let t = token_set(
            &json!({"access_token": "sekrit-access", "refresh_token": "", "expires_in": "3600",
                    "scope": "user.info.basic,video.publish", "open_id": "o1"}),
            now,
        )
        .unwrap();
        assert_eq!(t.refresh_token, None, "an empty refresh token is no token");
        assert_eq!(t.expires_at, Some(now + Duration::hours(1)));
        assert_eq!(
            t.scopes.as_deref(),
            Some(&["user.info.basic".to_owned(), "video.publish".to_owned()][..])
        );
        assert_eq!(t.user_id.as_deref(), Some("o1"));
        assert!(token_set(&json!({"token_type": "bearer"}), now).is_err());
        // Absurd lifetimes are capped, never an overflow.
        for absurd in [json!(i64::MAX), json!(i64::MAX.to_string()), json!(1e300)] {
            let t = token_set(
                &json!({"access_token": "a", "expires_in": absurd, "refresh_expires_in": absurd}),
                now,
            )
            .unwrap();
            if let Some(at) = t.expires_at {
                assert_eq!(at, now + Duration::seconds(MAX_TOKEN_LIFETIME_SECONDS));
            }
        }
        let far = chrono::NaiveDateTime::MAX - Duration::days(1);
        let t = token_set(&json!({"access_token": "a", "expires_in": 31_000_000}), far).unwrap();
        assert_eq!(
            t.expires_at, None,
            "past the calendar's end: no date rather than a panic"
        );
        assert!(!format!("{t:?}").contains("sekrit"), "Debug hides tokens");
    }

    /// A platform's token answer: usually the members a token answer has, holding anything,
    /// numbers that break arithmetic most of all; sometimes any JSON object at all.
    fn token_answer() -> impl Strategy<Value = Value> {
        let lifetime = || {
            option::weighted(
                0.7,
                prop_oneof![
                    any::<i64>().prop_map(|n| json!(n)),
                    any::<i64>().prop_map(|n| json!(n.to_string())),
                    (0i64..100_000_000).prop_map(|n| json!(n)),
                    any::<f64>().prop_map(|n| json!(n)),
                    outside_json(),
                ],
            )
        };
        let members = (
            option::weighted(0.9, outside_json()),
            lifetime(),
            lifetime(),
            lifetime(),
            option::of(outside_json()),
            option::of(outside_json()),
        );
        let names = [
            "access_token",
            "expires_in",
            "refresh_token_expires_in",
            "refresh_expires_in",
            "scope",
            "open_id",
        ];
        let shaped = (
            members,
            outside_object(&["refresh_token", "user_id", "error", "error_description"]),
        )
            .prop_map(move |((a, b, c, d, e, f), mut rest)| {
                for (name, value) in names.into_iter().zip([a, b, c, d, e, f]) {
                    if let Some(value) = value {
                        rest.insert(name.to_owned(), value);
                    }
                }
                Value::Object(rest)
            });
        prop_oneof![4 => shaped, 1 => outside_object(&["access_token"]).prop_map(Value::Object)]
    }

    proptest! {
        #![proptest_config(crate::domain::untrusted_input::config(3000))]

        /// Whatever a platform answers, the token set is read or refused, never a panic, and
        /// its dates lie between now and the longest lifetime believed.
        #[test]
        fn any_token_answer_is_read_or_refused(
            answer in token_answer(),
            // Mostly our era; sometimes near the ends of the calendar, where dates overflow.
            now_seconds in prop_oneof![
                3 => 0i64..4_000_000_000,
                1 => -8_300_000_000_000i64..8_300_000_000_000,
            ],
            status in 100u16..=599,
        ) {
            let Some(now) = chrono::DateTime::from_timestamp(now_seconds, 0) else {
                return Ok(());
            };
            let now = now.naive_utc();
            if let Ok(t) = token_set(&answer, now) {
                let longest = Duration::seconds(MAX_TOKEN_LIFETIME_SECONDS);
                for at in [t.expires_at, t.refresh_expires_at].into_iter().flatten() {
                    prop_assert!(at > now && at - now <= longest, "{at} after {now}");
                }
            }
            if let Ok(status) = StatusCode::from_u16(status) {
                let _ = classify(status, Some(&answer));
            }
        }
    }
}
