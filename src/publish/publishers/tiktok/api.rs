//! TikTok's Content Posting API on the wire: JSON calls under `open.tiktokapis.com/v2`
//! answered in TikTok's envelope (`{"data": …, "error": {"code", "message", "log_id"}}`,
//! `code` "ok" on success), and the chunked PUTs of a `FILE_UPLOAD` to its `upload_url`.

use super::super::endpoint;
use crate::publish::http::{self, Effect};
use crate::publish::publisher::{Call, PublishError};
use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::Value;
use std::ops::Range;
use std::time::Duration;

/// Chunk sizes (media transfer guide): every chunk 5–64 MB except the last, which takes
/// the trailing bytes (up to 128 MB); a file under 5 MB goes whole. Postgate cuts 5 MiB
/// chunks, small enough that an interrupted one costs little.
pub const CHUNK_BYTES: u64 = 5 * 1024 * 1024;
/// TikTok's most chunks per upload.
const MAX_CHUNKS: u64 = 1000;
/// One chunk may take far longer than an API call.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(300);

/// How a file of `size` bytes is cut: `chunk_size` and `total_chunk_count` as the init
/// declares them (the count rounded down; the last chunk takes the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Chunks {
    pub size: u64,
    pub chunk_size: u64,
    pub count: u64,
}

impl Chunks {
    pub fn of(size: u64) -> Self {
        if size <= CHUNK_BYTES {
            return Self {
                size,
                chunk_size: size,
                count: 1,
            };
        }
        // Past 1000 chunks of the smallest size, bigger chunks (a 4 GB file: 4.3 MB more).
        let chunk_size = CHUNK_BYTES.max(size.div_ceil(MAX_CHUNKS));
        Self {
            size,
            chunk_size,
            count: size / chunk_size,
        }
    }

    /// The bytes of chunk `index`.
    pub fn range(&self, index: u64) -> Range<u64> {
        let start = index * self.chunk_size;
        let end = if index + 1 >= self.count {
            self.size
        } else {
            start + self.chunk_size
        };
        start..end
    }

    /// The chunk that starts at `offset`, if one does.
    pub fn starting_at(&self, offset: u64) -> Option<u64> {
        let index = offset / self.chunk_size.max(1);
        (index < self.count && offset.is_multiple_of(self.chunk_size.max(1))).then_some(index)
    }
}

/// What `creator_info/query/` says the creator allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    pub privacy_level_options: Vec<String>,
    pub comment_disabled: bool,
    pub duet_disabled: bool,
    pub stitch_disabled: bool,
    pub max_video_post_duration_sec: u64,
}

/// An upload's state as `status/fetch/` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub status: String,
    pub fail_reason: Option<String>,
    /// The public ids, once moderation let the post through (TikTok's spelling:
    /// `publicaly_available_post_id`).
    pub post_ids: Vec<String>,
    /// Bytes of a `FILE_UPLOAD` TikTok has accepted.
    pub uploaded_bytes: Option<u64>,
}

/// TikTok's error code and message from its envelope (or an OAuth-style body).
fn error_of(body: &Value) -> (Option<String>, Option<String>) {
    let error = &body["error"];
    let code = error["code"]
        .as_str()
        .or_else(|| error.as_str())
        .map(str::to_owned);
    let message = error["message"]
        .as_str()
        .or_else(|| body["error_description"].as_str())
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    (code, message)
}

/// What a refusal means: a dead token needs the account again, a rate limit passes, the
/// `spam_risk_*` caps and the rest are TikTok's final word (under its own code).
pub fn refusal(status: StatusCode, body: &Value, effect: Effect) -> PublishError {
    let (code, message) = error_of(body);
    let message = message.unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    match code.as_deref() {
        Some("access_token_invalid") => PublishError::Reauth {
            reason: "access_token_invalid".to_owned(),
            message,
        },
        Some("rate_limit_exceeded") => PublishError::refused("rate_limited", message, true),
        // A grant without the scope (TikTok answers 401): the account is fine, the post
        // is not allowed — a direct post may still go to the inbox.
        Some("scope_not_authorized") => {
            PublishError::refused("scope_not_authorized", message, false)
        }
        // Some errors come in a 200: read them as TikTok's usual 400.
        _ if status.is_success() => {
            http::refusal(StatusCode::BAD_REQUEST, &with_code(code, &message), effect)
        }
        _ => http::refusal(status, &with_code(code, &message), effect),
    }
}

/// The body the shared reading understands (`error` as a code, `error_description`).
fn with_code(code: Option<String>, message: &str) -> Value {
    serde_json::json!({"error": code, "error_description": message})
}

/// POSTs `body` to the named endpoint: the answer's `data`.
pub async fn post(
    call: &Call<'_>,
    name: &str,
    body: &Value,
    effect: Effect,
) -> Result<Value, PublishError> {
    let url = endpoint(call.app, name)?;
    let request = call
        .app
        .http
        .request(reqwest::Method::POST, &url)
        .bearer_auth(&call.tokens.access_token)
        .header("Content-Type", "application/json; charset=UTF-8")
        .body(body.to_string());
    let answer = http::send_reading(request, effect, refusal).await?;
    match error_of(&answer.body).0.as_deref() {
        None | Some("ok") => Ok(answer.body["data"].clone()),
        Some(_) => Err(refusal(answer.status, &answer.body, effect)),
    }
}

fn flag(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

/// `POST /v2/post/publish/creator_info/query/`.
pub async fn creator_info(call: &Call<'_>) -> Result<Creator, PublishError> {
    let data = post(
        call,
        "creator_info",
        &serde_json::json!({}),
        Effect::Harmless,
    )
    .await?;
    Ok(Creator {
        privacy_level_options: data["privacy_level_options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        comment_disabled: flag(&data["comment_disabled"]),
        duet_disabled: flag(&data["duet_disabled"]),
        stitch_disabled: flag(&data["stitch_disabled"]),
        max_video_post_duration_sec: data["max_video_post_duration_sec"].as_u64().unwrap_or(0),
    })
}

/// `POST /v2/post/publish/status/fetch/`.
pub async fn status(call: &Call<'_>, publish_id: &str) -> Result<Status, PublishError> {
    let data = post(
        call,
        "publish_status",
        &serde_json::json!({"publish_id": publish_id}),
        Effect::Harmless,
    )
    .await?;
    Ok(Status {
        status: data["status"].as_str().unwrap_or_default().to_owned(),
        fail_reason: data["fail_reason"]
            .as_str()
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        post_ids: data["publicaly_available_post_id"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
            .collect(),
        uploaded_bytes: data["uploaded_bytes"].as_u64(),
    })
}

/// PUTs one chunk to the upload URL (which carries its own upload token). `true` once
/// TikTok has the whole file (201; 206 asks for more). A chunk that did not get through is
/// retryable: the next attempt asks TikTok how far it got.
pub async fn put_chunk(
    call: &Call<'_>,
    upload_url: &str,
    range: Range<u64>,
    size: u64,
    content_type: &str,
    bytes: Bytes,
) -> Result<bool, PublishError> {
    let url = url::Url::parse(upload_url).map_err(|_| {
        PublishError::refused(
            "malformed_answer",
            "TikTok's upload_url is not a URL",
            false,
        )
    })?;
    let request = call
        .app
        .http
        .request(reqwest::Method::PUT, &url)
        .timeout(CHUNK_TIMEOUT)
        .header("Content-Type", content_type)
        .header(
            "Content-Range",
            format!(
                "bytes {}-{}/{size}",
                range.start,
                range.end.saturating_sub(1)
            ),
        )
        .body(bytes);
    match http::send_reading(request, Effect::Harmless, refusal).await {
        Ok(answer) => Ok(answer.status == StatusCode::CREATED),
        Err(e @ PublishError::Reauth { .. }) => Err(e),
        Err(e) => Err(PublishError::refused(
            "chunk_rejected",
            format!(
                "TikTok did not take bytes {}-{} of the video ({e}); the upload resumes where TikTok stopped",
                range.start, range.end
            ),
            true,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn chunks_follow_tiktoks_rules() {
        let small = Chunks::of(3 * MIB);
        assert_eq!((small.chunk_size, small.count), (3 * MIB, 1));
        assert_eq!(small.range(0), 0..3 * MIB);
        let odd = Chunks::of(12 * MIB + 7);
        assert_eq!((odd.chunk_size, odd.count), (5 * MIB, 2));
        assert_eq!(odd.range(0), 0..5 * MIB);
        assert_eq!(
            odd.range(1),
            5 * MIB..12 * MIB + 7,
            "the last takes the rest"
        );
        assert_eq!(odd.starting_at(5 * MIB), Some(1));
        assert_eq!(odd.starting_at(10 * MIB), None);
        assert_eq!(odd.starting_at(3), None);
        let huge = Chunks::of(4096 * MIB);
        assert!(huge.count <= 1000 && huge.chunk_size <= 64 * MIB);
        let last = huge.range(huge.count - 1);
        assert!(last.end - last.start <= 128 * MIB);
        assert_eq!(last.end, 4096 * MIB);
    }

    #[test]
    fn tiktoks_error_codes_are_read() {
        let envelope = |code: &str| json!({"data": {}, "error": {"code": code, "message": "m", "log_id": "l"}});
        assert!(matches!(
            refusal(
                StatusCode::UNAUTHORIZED,
                &envelope("access_token_invalid"),
                Effect::Creates
            ),
            PublishError::Reauth { .. }
        ));
        let limited = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            &envelope("rate_limit_exceeded"),
            Effect::Creates,
        );
        assert!(limited.retryable());
        assert_eq!(limited.code(), "rate_limited");
        let spam = refusal(
            StatusCode::FORBIDDEN,
            &envelope("spam_risk_too_many_posts"),
            Effect::Creates,
        );
        assert_eq!(spam.code(), "spam_risk_too_many_posts");
        assert!(!spam.retryable());
        assert!(matches!(
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                &envelope("internal_error"),
                Effect::Creates
            ),
            PublishError::InDoubt(_)
        ));
        let scope = refusal(
            StatusCode::UNAUTHORIZED,
            &envelope("scope_not_authorized"),
            Effect::Creates,
        );
        assert_eq!(scope.code(), "scope_not_authorized");
        let in_ok = refusal(StatusCode::OK, &envelope("invalid_param"), Effect::Harmless);
        assert_eq!(in_ok.code(), "invalid_param");
        assert!(!in_ok.retryable());
    }
}
