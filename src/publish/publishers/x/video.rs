//! X's chunked media upload (API v2) for one video: `POST /2/media/upload/initialize`,
//! `POST /2/media/upload/{id}/append` per segment, `POST /2/media/upload/{id}/finalize`,
//! then `GET /2/media/upload?command=STATUS` while X processes it.
//!
//! Every step that leaves X working, or a segment to send again, ends the call with the
//! `Upload` it reached as `Pending` state, so a resumed call starts where the last one
//! stopped and never sends an accepted segment twice (X keeps segments by index).

use super::super::endpoint;
use super::{request, sent};
use crate::publish::publisher::{Call, Media, PublishError};
use crate::publish::video::{VideoLimits, parts};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// X's limits for `tweet_video` (docs.x.com media best practices).
pub const LIMITS: VideoLimits = VideoLimits {
    platform: "X",
    types: &["video/mp4", "video/quicktime"],
    max_bytes: 512 * 1024 * 1024,
    min_duration_ms: 500,
    max_duration_ms: 140_000,
    max_side: Some(1920),
};

/// Bytes per APPEND: X takes segments of at most 5 MB.
pub const SEGMENT_BYTES: u64 = 4 * 1024 * 1024;
/// How often one segment may be refused before the upload fails.
const MAX_SEGMENT_REFUSALS: u32 = 3;
/// How soon a refused segment is sent again.
const SEGMENT_RETRY: Duration = Duration::from_secs(5);
/// When X names no time to look again.
const DEFAULT_CHECK_AFTER: Duration = Duration::from_secs(5);

/// How far the upload of the video went: the `Pending` state of X's publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub media_id: String,
    /// The first segment X has not accepted.
    pub next_segment: u64,
    /// Refusals of `next_segment` so far.
    #[serde(default)]
    pub refusals: u32,
    /// FINALIZE was accepted: only STATUS is left.
    #[serde(default)]
    pub finalized: bool,
}

impl Upload {
    /// The state a resumed call left, if it is this upload's.
    pub fn resumed(state: Option<&Value>) -> Option<Self> {
        state.and_then(|s| serde_json::from_value(s["video"].clone()).ok())
    }

    pub fn state(&self) -> Value {
        json!({"video": self})
    }
}

/// Where an upload stands after a call.
#[derive(Debug)]
pub enum Step {
    /// X is processing it, or a segment is to be sent again: look again after `after`.
    Wait { upload: Upload, after: Duration },
    /// The media id to attach.
    Ready(String),
}

/// Takes the upload of `media` one call further, from `resumed` or from the start.
pub async fn advance(
    call: &Call<'_>,
    media: &Media,
    resumed: Option<Upload>,
) -> Result<Step, PublishError> {
    let mut upload = match resumed {
        Some(upload) => upload,
        None => initialize(call, media).await?,
    };
    if upload.finalized {
        let answer = status(call, &upload.media_id).await?;
        return processing(upload, &answer);
    }
    for (index, range) in parts(media.size, SEGMENT_BYTES)
        .enumerate()
        .skip(usize::try_from(upload.next_segment).unwrap_or(usize::MAX))
    {
        let bytes = call.media.range(media, range).await?;
        match append(call, &upload.media_id, index, bytes).await {
            Ok(()) => {
                upload.next_segment += 1;
                upload.refusals = 0;
            }
            // The accepted segments stay with X: only this one is sent again.
            Err(PublishError::Refused { .. }) if upload.refusals < MAX_SEGMENT_REFUSALS => {
                upload.refusals += 1;
                return Ok(Step::Wait {
                    upload,
                    after: SEGMENT_RETRY,
                });
            }
            Err(PublishError::Refused { message, .. }) => {
                return Err(PublishError::refused("chunk_rejected", message, false));
            }
            Err(e) => return Err(e),
        }
    }
    let answer = finalize(call, &upload.media_id).await?;
    upload.finalized = true;
    processing(upload, &answer)
}

async fn initialize(call: &Call<'_>, media: &Media) -> Result<Upload, PublishError> {
    let url = endpoint(call.app, "media_initialize")?;
    let body = json!({
        "media_type": media.content_type,
        "total_bytes": media.size,
        "media_category": "tweet_video",
    });
    let answer = sent(request(call, Method::POST, &url).json(&body)).await?;
    let media_id = answer["data"]["id"]
        .as_str()
        .ok_or_else(|| PublishError::refused("platform_unavailable", "X gave no media id", true))?;
    Ok(Upload {
        media_id: media_id.to_owned(),
        next_segment: 0,
        refusals: 0,
        finalized: false,
    })
}

/// `<id>/append` or `<id>/finalize` under the upload session base.
fn session_url(call: &Call<'_>, media_id: &str, action: &str) -> Result<url::Url, PublishError> {
    let mut url = endpoint(call.app, "media_session")?;
    let path = format!("{}{media_id}/{action}", url.path());
    url.set_path(&path);
    Ok(url)
}

async fn append(
    call: &Call<'_>,
    media_id: &str,
    index: usize,
    bytes: bytes::Bytes,
) -> Result<(), PublishError> {
    let url = session_url(call, media_id, "append")?;
    let form = Form::new().text("segment_index", index.to_string()).part(
        "media",
        Part::stream(bytes)
            .file_name("segment")
            .mime_str("application/octet-stream")
            .map_err(|e| PublishError::refused("internal_error", e.to_string(), false))?,
    );
    sent(request(call, Method::POST, &url).multipart(form)).await?;
    Ok(())
}

async fn finalize(call: &Call<'_>, media_id: &str) -> Result<Value, PublishError> {
    let url = session_url(call, media_id, "finalize")?;
    sent(request(call, Method::POST, &url)).await
}

async fn status(call: &Call<'_>, media_id: &str) -> Result<Value, PublishError> {
    let mut url = endpoint(call.app, "media_upload")?;
    url.query_pairs_mut()
        .append_pair("command", "STATUS")
        .append_pair("media_id", media_id);
    sent(request(call, Method::GET, &url)).await
}

/// Reads `processing_info` of a FINALIZE or STATUS answer: none, or `succeeded`, means the
/// video can be attached.
fn processing(upload: Upload, answer: &Value) -> Result<Step, PublishError> {
    let info = &answer["data"]["processing_info"];
    match info["state"].as_str() {
        None | Some("succeeded") => Ok(Step::Ready(upload.media_id)),
        Some("failed") => {
            let error = &info["error"];
            let message = error["message"]
                .as_str()
                .or_else(|| error["name"].as_str())
                .unwrap_or("X could not process the video");
            Err(PublishError::refused(
                "processing_failed",
                format!("X could not process the video: {message}"),
                false,
            ))
        }
        Some(_) => Ok(Step::Wait {
            upload,
            after: info["check_after_secs"]
                .as_u64()
                .map_or(DEFAULT_CHECK_AFTER, Duration::from_secs),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload() -> Upload {
        Upload {
            media_id: "7".into(),
            next_segment: 3,
            refusals: 0,
            finalized: true,
        }
    }

    #[test]
    fn processing_info_decides_the_next_step() {
        let wait = processing(
            upload(),
            &json!({"data": {"processing_info": {"state": "in_progress", "check_after_secs": 3}}}),
        )
        .unwrap();
        assert!(matches!(wait, Step::Wait { after, .. } if after == Duration::from_secs(3)));
        let ready = processing(upload(), &json!({"data": {"id": "7"}})).unwrap();
        assert!(matches!(ready, Step::Ready(ref id) if id == "7"));
        let failed = processing(
            upload(),
            &json!({"data": {"processing_info": {"state": "failed",
                "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported codec"}}}}),
        )
        .unwrap_err();
        assert_eq!(failed.code(), "processing_failed");
        assert!(failed.to_string().contains("Unsupported codec"), "{failed}");
        assert!(!failed.retryable());
    }

    #[test]
    fn the_state_round_trips_and_ignores_other_states() {
        let u = upload();
        assert_eq!(Upload::resumed(Some(&u.state())), Some(u));
        assert_eq!(Upload::resumed(Some(&json!({"other": 1}))), None);
        assert_eq!(Upload::resumed(None), None);
    }
}
