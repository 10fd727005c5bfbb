//! LinkedIn's Videos API for one video: `POST /rest/videos?action=initializeUpload` (the
//! parts' upload URLs and byte ranges), a PUT of each part read by range (its `ETag`
//! kept), `POST /rest/videos?action=finalizeUpload` with the ETags, then
//! `GET /rest/videos/{urn}` until the video is `AVAILABLE`.
//!
//! The state of every `Pending` holds the URN, the instructions and the ETags so far: a
//! resumed call puts only the parts LinkedIn has not acknowledged.

use super::super::endpoint;
use super::{rest, with_urn};
use crate::publish::http::{self, Effect};
use crate::publish::publisher::{Call, Media, PublishError};
use crate::publish::video::VideoLimits;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// LinkedIn's limits on a video post (3 s to 30 min, at most 500 MB).
pub const LIMITS: VideoLimits = VideoLimits {
    platform: "LinkedIn",
    types: &["video/mp4"],
    max_bytes: 500 * 1024 * 1024,
    min_duration_ms: 3000,
    max_duration_ms: 1_800_000,
    max_side: None,
};

const MAX_PART_REFUSALS: u32 = 3;
const PART_RETRY: Duration = Duration::from_secs(5);
const POLL_AFTER: Duration = Duration::from_secs(5);

/// One part to PUT: where, and which bytes (inclusive, as LinkedIn names them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartUrl {
    pub url: String,
    pub first_byte: u64,
    pub last_byte: u64,
}

/// How far the upload went: the `Pending` state of LinkedIn's publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub urn: String,
    pub upload_token: String,
    pub parts: Vec<PartUrl>,
    /// The ETags of the parts put so far, in order.
    pub etags: Vec<String>,
    #[serde(default)]
    pub refusals: u32,
    #[serde(default)]
    pub finalized: bool,
}

impl Upload {
    pub fn resumed(state: Option<&Value>) -> Option<Self> {
        state.and_then(|s| serde_json::from_value(s["video"].clone()).ok())
    }

    pub fn state(&self) -> Value {
        json!({ "video": self })
    }
}

#[derive(Debug)]
pub enum Step {
    Wait {
        upload: Upload,
        after: Duration,
    },
    /// The video's URN, ready to post.
    Ready(String),
}

/// Takes the upload of `media` for `owner` one call further.
pub async fn advance(
    call: &Call<'_>,
    owner: &str,
    media: &Media,
    resumed: Option<Upload>,
) -> Result<Step, PublishError> {
    let mut upload = match resumed {
        Some(upload) => upload,
        None => initialize(call, owner, media).await?,
    };
    if !upload.finalized {
        for part in upload.parts.clone().iter().skip(upload.etags.len()) {
            let bytes = call
                .media
                .range(media, part.first_byte..part.last_byte + 1)
                .await?;
            match put(call, &part.url, bytes).await {
                Ok(etag) => {
                    upload.etags.push(etag);
                    upload.refusals = 0;
                }
                Err(PublishError::Refused { .. }) if upload.refusals < MAX_PART_REFUSALS => {
                    upload.refusals += 1;
                    return Ok(Step::Wait {
                        upload,
                        after: PART_RETRY,
                    });
                }
                Err(PublishError::Refused { message, .. }) => {
                    return Err(PublishError::refused("chunk_rejected", message, false));
                }
                Err(e) => return Err(e),
            }
        }
        finalize(call, &upload).await?;
        upload.finalized = true;
    }
    let url = with_urn(call, "video", &upload.urn, "")?;
    let answer = http::send(rest(call, Method::GET, &url), Effect::Harmless).await?;
    read(upload, &answer.body)
}

/// LinkedIn's throttle of the application's daily calls: the quota, not a passing burst.
fn quota(e: PublishError) -> PublishError {
    match e {
        PublishError::Refused { code, message, .. }
            if code == "rate_limited" && message.contains("DAY limit") =>
        {
            PublishError::refused("quota_exceeded", message, true)
        }
        other => other,
    }
}

fn malformed(what: &str) -> PublishError {
    PublishError::refused(
        "malformed_answer",
        format!("LinkedIn's initializeUpload answer lacks {what}"),
        true,
    )
}

async fn initialize(call: &Call<'_>, owner: &str, media: &Media) -> Result<Upload, PublishError> {
    let mut url = endpoint(call.app, "videos")?;
    url.query_pairs_mut()
        .append_pair("action", "initializeUpload");
    let body = json!({"initializeUploadRequest": {
        "owner": owner, "fileSizeBytes": media.size,
        "uploadCaptions": false, "uploadThumbnail": false,
    }});
    let answer = http::send(rest(call, Method::POST, &url).json(&body), Effect::Harmless)
        .await
        .map_err(quota)?;
    let value = &answer.body["value"];
    let urn = value["video"].as_str().ok_or_else(|| malformed("video"))?;
    let parts = value["uploadInstructions"]
        .as_array()
        .ok_or_else(|| malformed("uploadInstructions"))?
        .iter()
        .map(|i| {
            Some(PartUrl {
                url: i["uploadUrl"].as_str()?.to_owned(),
                first_byte: i["firstByte"].as_u64()?,
                last_byte: i["lastByte"].as_u64()?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed("uploadUrl, firstByte or lastByte"))?;
    Ok(Upload {
        urn: urn.to_owned(),
        upload_token: value["uploadToken"].as_str().unwrap_or("").to_owned(),
        parts,
        etags: Vec::new(),
        refusals: 0,
        finalized: false,
    })
}

/// PUTs one part: its ETag.
async fn put(call: &Call<'_>, url: &str, bytes: bytes::Bytes) -> Result<String, PublishError> {
    let url = url::Url::parse(url)
        .map_err(|e| PublishError::refused("malformed_answer", format!("uploadUrl: {e}"), true))?;
    let request = call
        .app
        .http
        .request(Method::PUT, &url)
        .bearer_auth(&call.tokens.access_token)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes);
    let answer = http::send(request, Effect::Harmless).await?;
    answer.header("etag").map(str::to_owned).ok_or_else(|| {
        PublishError::refused("malformed_answer", "LinkedIn gave the part no ETag", true)
    })
}

async fn finalize(call: &Call<'_>, upload: &Upload) -> Result<(), PublishError> {
    let mut url = endpoint(call.app, "videos")?;
    url.query_pairs_mut()
        .append_pair("action", "finalizeUpload");
    let body = json!({"finalizeUploadRequest": {
        "video": upload.urn, "uploadToken": upload.upload_token,
        "uploadedPartIds": upload.etags,
    }});
    http::send(rest(call, Method::POST, &url).json(&body), Effect::Harmless).await?;
    Ok(())
}

/// Reads a video's `status`.
fn read(upload: Upload, video: &Value) -> Result<Step, PublishError> {
    match video["status"].as_str() {
        Some("AVAILABLE") => Ok(Step::Ready(upload.urn)),
        Some("PROCESSING_FAILED") => Err(PublishError::refused(
            "processing_failed",
            format!(
                "LinkedIn could not process the video: {}",
                video["processingFailureReason"]
                    .as_str()
                    .unwrap_or("PROCESSING_FAILED")
            ),
            false,
        )),
        _ => Ok(Step::Wait {
            upload,
            after: POLL_AFTER,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload() -> Upload {
        Upload {
            urn: "urn:li:video:1".into(),
            upload_token: "t".into(),
            parts: vec![PartUrl {
                url: "https://u".into(),
                first_byte: 0,
                last_byte: 9,
            }],
            etags: vec!["e".into()],
            refusals: 0,
            finalized: true,
        }
    }

    #[test]
    fn status_decides_the_next_step() {
        assert!(matches!(
            read(upload(), &json!({"status": "AVAILABLE"})),
            Ok(Step::Ready(ref urn)) if urn == "urn:li:video:1"
        ));
        assert!(matches!(
            read(upload(), &json!({"status": "PROCESSING"})),
            Ok(Step::Wait { .. })
        ));
        let failed = read(upload(), &json!({"status": "PROCESSING_FAILED"})).unwrap_err();
        assert_eq!(failed.code(), "processing_failed");
        let u = upload();
        assert_eq!(Upload::resumed(Some(&u.state())), Some(u));
    }
}
