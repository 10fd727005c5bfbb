//! Bluesky's video service for one video: a service token from the PDS
//! (`com.atproto.server.getServiceAuth`, audience the PDS, for `uploadBlob`), the body
//! streamed to `app.bsky.video.uploadVideo`, then `app.bsky.video.getJobStatus` until the
//! job has the blob the post embeds.
//!
//! Once the upload is accepted the job id is the `Pending` state: a resumed call only asks
//! about the job, and never uploads the video again.

use super::super::endpoint;
use super::{mapped, repo, request};
use crate::publish::http::{Effect, send};
use crate::publish::publisher::{Call, Media, PublishError};
use crate::publish::video::VideoLimits;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Bluesky's limits on a video post (100 MB, 3 minutes since March 2025).
pub const LIMITS: VideoLimits = VideoLimits {
    platform: "Bluesky",
    types: &["video/mp4", "video/quicktime", "video/webm", "video/mpeg"],
    max_bytes: 100 * 1024 * 1024,
    min_duration_ms: 0,
    max_duration_ms: 180_000,
    max_side: None,
};

/// How long the service token lasts: long enough for a large upload.
const SERVICE_TOKEN_SECS: i64 = 30 * 60;
/// How soon to ask about a job again.
const POLL_AFTER: Duration = Duration::from_secs(2);

/// The job of a resumed call, if the state is this upload's.
pub fn resumed(state: Option<&Value>) -> Option<String> {
    state.and_then(|s| s["video_job"].as_str().map(str::to_owned))
}

pub fn state(job_id: &str) -> Value {
    json!({ "video_job": job_id })
}

/// Where the video stands after a call.
#[derive(Debug)]
pub enum Step {
    /// The service is processing the job.
    Wait { job_id: String, after: Duration },
    /// The blob to embed.
    Ready(Value),
}

/// Uploads `media` (or, resumed, asks about its job) and reads where the job stands.
pub async fn advance(
    call: &Call<'_>,
    media: &Media,
    job_id: Option<String>,
) -> Result<Step, PublishError> {
    let status = match job_id {
        Some(job_id) => job_status(call, &job_id).await?,
        None => {
            let token = service_token(call).await?;
            upload(call, media, &token).await?
        }
    };
    read(&status)
}

/// A token the video service presents to the PDS when it stores the blob there.
async fn service_token(call: &Call<'_>) -> Result<String, PublishError> {
    let pds = endpoint(call.app, "upload_blob")?;
    let mut url = endpoint(call.app, "service_auth")?;
    let exp = chrono::Utc::now().timestamp() + SERVICE_TOKEN_SECS;
    url.query_pairs_mut()
        .append_pair("aud", &format!("did:web:{}", pds.host_str().unwrap_or("")))
        .append_pair("lxm", "com.atproto.repo.uploadBlob")
        .append_pair("exp", &exp.to_string());
    let answer = send(request(call, Method::GET, &url), Effect::Harmless)
        .await
        .map_err(mapped)?;
    answer.body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PublishError::refused("platform_unavailable", "Bluesky gave no token", true))
}

async fn upload(call: &Call<'_>, media: &Media, token: &str) -> Result<Value, PublishError> {
    let mut url = endpoint(call.app, "upload_video")?;
    let name = media
        .filename
        .clone()
        .unwrap_or_else(|| format!("{}.mp4", media.id));
    url.query_pairs_mut()
        .append_pair("did", repo(call))
        .append_pair("name", &name);
    let body = reqwest::Body::wrap_stream(call.media.stream(media).await?);
    let answer = send(
        call.app
            .http
            .request(Method::POST, &url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, &media.content_type)
            .header(reqwest::header::CONTENT_LENGTH, media.size)
            .body(body),
        Effect::Harmless,
    )
    .await
    .map_err(quota)?;
    Ok(answer.body)
}

/// The video service's daily limits answer 429: the account's quota, not a passing burst.
fn quota(e: PublishError) -> PublishError {
    match e {
        PublishError::Refused { code, message, .. } if code == "rate_limited" => {
            PublishError::refused("quota_exceeded", message, true)
        }
        other => mapped(other),
    }
}

async fn job_status(call: &Call<'_>, job_id: &str) -> Result<Value, PublishError> {
    let mut url = endpoint(call.app, "video_job_status")?;
    url.query_pairs_mut().append_pair("jobId", job_id);
    let answer = send(call.app.http.request(Method::GET, &url), Effect::Harmless)
        .await
        .map_err(mapped)?;
    Ok(answer.body["jobStatus"].clone())
}

/// Reads a job status: its blob once completed, its error once failed.
fn read(status: &Value) -> Result<Step, PublishError> {
    if !status["blob"].is_null() {
        return Ok(Step::Ready(status["blob"].clone()));
    }
    match status["state"].as_str() {
        Some("JOB_STATE_FAILED") => {
            let why = status["message"]
                .as_str()
                .or_else(|| status["error"].as_str())
                .unwrap_or("the video could not be processed");
            Err(PublishError::refused(
                "processing_failed",
                format!("Bluesky could not process the video: {why}"),
                false,
            ))
        }
        _ => match status["jobId"].as_str() {
            Some(job_id) => Ok(Step::Wait {
                job_id: job_id.to_owned(),
                after: POLL_AFTER,
            }),
            None => Err(PublishError::refused(
                "platform_unavailable",
                "Bluesky's video service gave no job",
                true,
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_states_decide_the_next_step() {
        let wait = read(&json!({"jobId": "j", "state": "JOB_STATE_ENCODING"})).unwrap();
        assert!(matches!(wait, Step::Wait { ref job_id, .. } if job_id == "j"));
        let blob = json!({"$type": "blob", "ref": {"$link": "b"}});
        let done = read(&json!({"jobId": "j", "state": "JOB_STATE_COMPLETED", "blob": blob}));
        assert!(matches!(done, Ok(Step::Ready(ref b)) if *b == blob));
        let failed = read(&json!({"jobId": "j", "state": "JOB_STATE_FAILED",
            "error": "Unsupported", "message": "bad codec"}))
        .unwrap_err();
        assert_eq!(failed.code(), "processing_failed");
        assert!(failed.to_string().contains("bad codec"));
        assert_eq!(resumed(Some(&state("j"))).as_deref(), Some("j"));
        assert_eq!(resumed(Some(&json!({}))), None);
    }
}
