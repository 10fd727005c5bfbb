//! Publishers' HTTP: one reading of every platform answer into JSON or a `PublishError`, so
//! that "was this post made?" is decided the same way for every platform.
//!
//! The rule that keeps a post from going out twice: a call that **creates** something
//! visible (a post, a reply) and fails in a way that does not prove it was refused — a
//! timeout, a cut connection, a 5xx — is `InDoubt`; the engine then looks the post up before
//! any new attempt. Calls that create nothing visible (media uploads, reads) are simply
//! retryable.

use super::publisher::PublishError;
use crate::oauth::http::error_fields;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

/// Longest answer read from a platform.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Whether a call makes something the account's audience sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Makes a post or a reply: an unknown outcome must be reconciled.
    Creates,
    /// Reads, uploads media, or deletes: repeating it is harmless.
    Harmless,
}

/// A 2xx answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The JSON body; `Null` when it was empty or not JSON.
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Reads a non-2xx answer into the error it means.
pub type Refusal = fn(StatusCode, &Value, Effect) -> PublishError;

/// Sends `request` and reads the answer.
pub async fn send(request: RequestBuilder, effect: Effect) -> Result<Answer, PublishError> {
    send_reading(request, effect, refusal).await
}

/// `send`, for platforms whose error bodies say more than the status does (Meta's Graph
/// answers a dead token or a rate limit with a 400 and a numeric code): `read` turns their
/// refusals into errors, and may fall back on `refusal`.
pub async fn send_reading(
    request: RequestBuilder,
    effect: Effect,
    read: Refusal,
) -> Result<Answer, PublishError> {
    send_accepting(request, effect, read, None).await
}

/// `send_reading`, for protocols where one status outside 2xx is an answer like the others
/// (Google's resumable uploads answer `308 Resume Incomplete` to a chunk they kept).
pub async fn send_accepting(
    request: RequestBuilder,
    effect: Effect,
    read: Refusal,
    also: Option<StatusCode>,
) -> Result<Answer, PublishError> {
    let response = match request.send().await {
        Ok(r) => r,
        // Never connected: the platform cannot have seen it.
        Err(e) if e.is_connect() => {
            return Err(PublishError::refused(
                "platform_unreachable",
                "cannot reach the platform",
                true,
            ));
        }
        // Without the URL: Graph calls carry the access token in their query.
        Err(e) => return Err(lost(effect, &crate::outbound::describe(&e))),
    };
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = read_limited(response)
        .await
        .map_err(|why| lost(effect, &why))?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() || Some(status) == also {
        return Ok(Answer {
            status,
            headers,
            body,
        });
    }
    Err(read(status, &body, effect))
}

/// A failure after the request may have been sent.
fn lost(effect: Effect, why: &str) -> PublishError {
    match effect {
        Effect::Creates => PublishError::InDoubt(format!("the platform's answer was lost ({why})")),
        Effect::Harmless => PublishError::refused(
            "platform_unavailable",
            format!("the platform did not answer ({why})"),
            true,
        ),
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "the answer broke off".to_owned())?
    {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err("the answer is too large".to_owned());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// What a non-2xx answer means: 401 is a grant the platform no longer takes; 429 a rate
/// limit; 5xx an outage (in doubt for calls that create); any other 4xx the platform's final
/// word, with its own code and message.
pub fn refusal(status: StatusCode, body: &Value, effect: Effect) -> PublishError {
    let (code, description) = error_fields(body);
    // X's validation errors name the field in `errors[0].message`; `detail` is generic.
    let words = description
        .or_else(|| body["errors"][0]["message"].as_str().map(str::to_owned))
        .or_else(|| body["detail"].as_str().map(str::to_owned))
        .or_else(|| body["title"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    if status == StatusCode::UNAUTHORIZED {
        return PublishError::Reauth {
            reason: code.unwrap_or_else(|| "invalid_token".to_owned()),
            message: words,
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return PublishError::refused("rate_limited", words, true);
    }
    if status.is_server_error() {
        return match effect {
            Effect::Creates => PublishError::InDoubt(format!(
                "the platform failed while making the post (HTTP {}): {words}",
                status.as_u16()
            )),
            Effect::Harmless => PublishError::refused("platform_unavailable", words, true),
        };
    }
    PublishError::refused(
        &code.unwrap_or_else(|| format!("http_{}", status.as_u16())),
        words,
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_classified_once_for_everyone() {
        let body = json!({"error": {"message": "Duplicate content", "code": 187}});
        let e = refusal(StatusCode::FORBIDDEN, &body, Effect::Creates);
        assert_eq!(e, PublishError::refused("187", "Duplicate content", false));
        assert!(matches!(
            refusal(StatusCode::UNAUTHORIZED, &json!({}), Effect::Harmless),
            PublishError::Reauth { .. }
        ));
        assert!(refusal(StatusCode::TOO_MANY_REQUESTS, &json!({}), Effect::Creates).retryable());
        assert!(matches!(
            refusal(StatusCode::BAD_GATEWAY, &json!({}), Effect::Creates),
            PublishError::InDoubt(_)
        ));
        assert!(refusal(StatusCode::BAD_GATEWAY, &json!({}), Effect::Harmless).retryable());
        let x =
            json!({"title": "Forbidden", "detail": "You are not permitted", "type": "about:blank"});
        assert_eq!(
            refusal(StatusCode::FORBIDDEN, &x, Effect::Creates).to_string(),
            "You are not permitted"
        );
        let x = json!({"errors": [{"message": "text: too long"}], "detail": "One or more parameters to your request was invalid."});
        assert_eq!(
            refusal(StatusCode::BAD_REQUEST, &x, Effect::Creates).to_string(),
            "text: too long"
        );
    }
}
