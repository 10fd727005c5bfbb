//! Bluesky's video path as the emulator answers it: the PDS's
//! `com.atproto.server.getServiceAuth`, and the video service's
//! `app.bsky.video.uploadVideo` (the body streamed to disk, on a route of its own since it
//! may be 100 MB) and `app.bsky.video.getJobStatus`. A job is named by its blob's CID; it
//! completes `processing_delay` after its upload, and its blob is then in the PDS for a post
//! to embed (`app.bsky.embed.video`).

use super::super::super::endpoints::arrived;
use super::super::super::{Down, Fault, Sandbox, people, wire};
use super::super::{caller, person_id};
use super::{BSKY, cid_of_digest, xrpc_error};
use crate::db::sandbox::{self as state, MEDIA_READY, Media};
use crate::domain::time;
use actix_web::web::{self, BytesMut, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Where the video service takes uploads, under the emulator's base.
pub const UPLOAD_ROUTE: &str = "/sandbox/bluesky/xrpc/app.bsky.video.uploadVideo";
const MAX_VIDEO_BYTES: u64 = 100 * 1024 * 1024;
const VIDEO_TYPES: [&str; 4] = ["video/mp4", "video/quicktime", "video/webm", "video/mpeg"];
/// What the service token is for.
const UPLOAD_LXM: &str = "com.atproto.repo.uploadBlob";
/// Bytes gathered before a write to disk.
const WRITE_BYTES: usize = 1024 * 1024;
const PROCESSING: &str = "processing";

/// A job's progress, kept in its media row's `upload`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Job {
    uploaded_at: Option<NaiveDateTime>,
    /// Processing will fail (the `processing_failed` fault).
    fails: bool,
}

fn did_of(person: usize) -> String {
    people::platform_id(BSKY, person)
}

fn job_of(media: &Media) -> Job {
    serde_json::from_str(&media.upload).unwrap_or_default()
}

/// Whether a blob can be embedded: an image, or a video whose job completed.
pub fn embeddable(media: &Media, delay: Duration) -> bool {
    match media.state.as_str() {
        MEDIA_READY => true,
        PROCESSING => {
            let job = job_of(media);
            !job.fails && job.uploaded_at.is_some_and(|at| at + delay <= time::now())
        }
        _ => false,
    }
}

/// `GET com.atproto.server.getServiceAuth?aud=…&lxm=…&exp=…`: a token the account hands
/// to another service. The sandbox's is a JWT whose claims are read, not signed.
pub async fn service_auth(
    sandbox: &Sandbox,
    req: &HttpRequest,
    query: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let Some(person) = caller(sandbox, BSKY, req).await? else {
        return Ok(wire::unauthorized(BSKY));
    };
    let Some(aud) = query.get("aud").filter(|a| a.starts_with("did:")) else {
        return Ok(xrpc_error("InvalidRequest", "Input/aud must be a DID"));
    };
    let now = time::now().and_utc().timestamp();
    let exp = query
        .get("exp")
        .and_then(|e| e.parse::<i64>().ok())
        .unwrap_or(now + 60);
    if exp <= now || exp > now + 3600 {
        return Ok(xrpc_error(
            "BadExpiration",
            "Expiration must be within the next hour",
        ));
    }
    let claims = json!({
        "iss": did_of(person), "aud": aud, "exp": exp,
        "lxm": query.get("lxm"), "jti": uuid::Uuid::new_v4().to_string(),
    });
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.sandbox",
        encode(&json!({"typ": "JWT", "alg": "ES256K"})),
        encode(&claims)
    );
    Ok(HttpResponse::Ok().json(json!({ "token": token })))
}

/// The account a service token speaks for, when it is one for uploading blobs.
fn token_issuer(req: &HttpRequest) -> Option<String> {
    let token = crate::web::bearer_token(req)?;
    let claims = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    let claims: Value = serde_json::from_slice(&claims).ok()?;
    let live = claims["exp"].as_i64()? > time::now().and_utc().timestamp();
    (live && claims["lxm"] == UPLOAD_LXM && claims["aud"].as_str()?.starts_with("did:web:"))
        .then(|| claims["iss"].as_str().map(str::to_owned))
        .flatten()
}

/// `POST app.bsky.video.uploadVideo?did=…&name=…`, the video as the body.
pub async fn upload(sandbox: Data<Sandbox>, req: HttpRequest, payload: Payload) -> HttpResponse {
    let result = async {
        let fault = match arrived(&sandbox, BSKY, "upload_video", req.method().to_string()).await? {
            Ok(fault) => fault,
            Err(answered) => return Ok(answered),
        };
        upload_answer(&sandbox, &req, payload, fault).await
    }
    .await;
    result.unwrap_or_else(|down: Down| down.answer(BSKY))
}

async fn upload_answer(
    sandbox: &Sandbox,
    req: &HttpRequest,
    mut payload: Payload,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let Some(did) = token_issuer(req) else {
        return Ok(HttpResponse::Unauthorized().json(json!({
            "error": "AuthMissing", "message": "A service token for uploadBlob is required",
        })));
    };
    if query.get("did") != Some(&did) {
        return Ok(xrpc_error(
            "InvalidRequest",
            "did must be the token's issuer",
        ));
    }
    let Some(person) = (0..people::PEOPLE.len()).find(|n| did_of(*n) == did) else {
        return Ok(xrpc_error("InvalidRequest", "Unknown account"));
    };
    match fault {
        Some(Fault::QuotaExceeded) => {
            return Ok(HttpResponse::TooManyRequests().json(json!({
                "error": "RateLimitExceeded",
                "message": "You have reached your daily limit for video uploads",
            })));
        }
        Some(Fault::ChunkRejected) => {
            return Ok(xrpc_error(
                "InvalidRequest",
                "The video upload did not arrive whole",
            ));
        }
        _ => {}
    }
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !VIDEO_TYPES.contains(&content_type.as_str()) {
        return Ok(xrpc_error(
            "InvalidRequest",
            "The video must be mp4, mov, webm or mpeg",
        ));
    }
    // Written under a name of its own, then moved to its CID once the hash is known.
    let partial = format!("upload-{}", uuid::Uuid::new_v4());
    let mut hash = Sha256::new();
    let (mut written, mut pending) = (0u64, BytesMut::new());
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Ok(xrpc_error("InvalidRequest", "The upload broke off"));
        };
        hash.update(&chunk);
        pending.extend_from_slice(&chunk);
        if written + pending.len() as u64 > MAX_VIDEO_BYTES {
            return Ok(xrpc_error("InvalidRequest", "Videos are at most 100 MB"));
        }
        if pending.len() >= WRITE_BYTES {
            let len = pending.len() as u64;
            super::super::write_part(sandbox, BSKY, &partial, written, pending.split().freeze())
                .await?;
            written += len;
        }
    }
    let len = pending.len() as u64;
    super::super::write_part(sandbox, BSKY, &partial, written, pending.freeze()).await?;
    written += len;
    let id = cid_of_digest(0x55, &hash.finalize());
    let (from, to) = (
        sandbox.media_path(BSKY, &partial),
        sandbox.media_path(BSKY, &id),
    );
    web::block(move || std::fs::rename(from, to))
        .await
        .map_err(|e| Down::Disk(e.to_string()))?
        .map_err(|e| Down::Disk(e.to_string()))?;
    let row = Media {
        platform: BSKY.key().to_owned(),
        person: person_id(person),
        id: id.clone(),
        content_type,
        size: i64::try_from(written).unwrap_or(i64::MAX),
        alt_text: None,
        created_at: time::now(),
        state: PROCESSING.to_owned(),
        upload: json!(Job {
            uploaded_at: Some(time::now()),
            fails: fault == Some(Fault::ProcessingFailed),
        })
        .to_string(),
    };
    // The same video again is the same job.
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    status_of(sandbox, &id).await.map(|status| match status {
        Some(status) => HttpResponse::Ok().json(status),
        None => xrpc_error("InvalidRequest", "The job was lost"),
    })
}

/// A job's status, in the shape of `app.bsky.video.defs#jobStatus`.
async fn status_of(sandbox: &Sandbox, job_id: &str) -> Result<Option<Value>, Down> {
    let id = job_id.to_owned();
    let Some(media) = sandbox
        .run(move |conn| state::find_media(conn, BSKY, None, &id))
        .await?
    else {
        return Ok(None);
    };
    let delay = sandbox.processing_delay(BSKY).await?;
    let job = job_of(&media);
    let person = usize::try_from(media.person).unwrap_or_default();
    let mut status = json!({"jobId": media.id, "did": did_of(person)});
    let done_at = job.uploaded_at.unwrap_or(media.created_at) + delay;
    if time::now() < done_at {
        let left = (done_at - time::now()).num_milliseconds();
        let total = delay.num_milliseconds().max(1);
        status["state"] = "JOB_STATE_ENCODING".into();
        status["progress"] = (100 - left * 100 / total).clamp(0, 99).into();
    } else if job.fails {
        status["state"] = "JOB_STATE_FAILED".into();
        status["error"] = "Video processing failed".into();
        status["message"] = "The video's stream could not be decoded".into();
    } else {
        status["state"] = "JOB_STATE_COMPLETED".into();
        status["progress"] = 100.into();
        status["blob"] = json!({
            "$type": "blob", "ref": {"$link": media.id}, "mimeType": media.content_type,
            "size": media.size,
        });
    }
    Ok(Some(status))
}

/// `GET app.bsky.video.getJobStatus?jobId=…`.
pub async fn job_status(
    sandbox: &Sandbox,
    query: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let Some(job_id) = query.get("jobId") else {
        return Ok(xrpc_error(
            "InvalidRequest",
            "Input must have the property \"jobId\"",
        ));
    };
    Ok(match status_of(sandbox, job_id).await? {
        Some(status) => HttpResponse::Ok().json(json!({ "jobStatus": status })),
        None => HttpResponse::NotFound().json(json!({
            "error": "NotFound", "message": "Job not found",
        })),
    })
}
