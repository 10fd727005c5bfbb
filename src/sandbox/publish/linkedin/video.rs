//! LinkedIn's Videos API as the emulator answers it: `POST /rest/videos?action=
//! initializeUpload` hands out one upload URL per 4 MB part (under `dms-uploads/`), each
//! part's PUT must carry exactly its byte range and is answered with an `ETag`,
//! `?action=finalizeUpload` checks the upload token and the ETags in order, and
//! `GET /rest/videos/{urn}` reports `WAITING_UPLOAD`, `PROCESSING`, then `AVAILABLE` (or
//! `PROCESSING_FAILED`) `processing_delay` after the finalize.

use super::super::super::endpoints::arrived;
use super::super::super::{Down, Fault, Sandbox};
use super::super::{person_id, snowflake, write_part};
use super::{PLATFORM, UPLOAD_PATH, denied, rest_error, unprocessable, urns};
use crate::db::sandbox::{self as state, MEDIA_READY, Media};
use crate::domain::time;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PART_BYTES: u64 = 4 * 1024 * 1024;
const MAX_VIDEO_BYTES: u64 = 500 * 1024 * 1024;
const WAITING_UPLOAD: &str = "WAITING_UPLOAD";
const PROCESSING: &str = "PROCESSING";

/// A video upload's progress, kept in its media row's `upload`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    token: String,
    size: u64,
    /// Each part's ETag once put.
    etags: Vec<Option<String>>,
    finalized_at: Option<NaiveDateTime>,
    fails: bool,
}

fn progress_of(media: &Media) -> Progress {
    serde_json::from_str(&media.upload).unwrap_or_default()
}

fn ranges(size: u64) -> Vec<(u64, u64)> {
    crate::publish::video::parts(size, PART_BYTES)
        .map(|r| (r.start, r.end - 1))
        .collect()
}

/// Whether a video can go on a post: processed, and not failed.
pub fn available(media: &Media, delay: Duration) -> bool {
    match media.state.as_str() {
        MEDIA_READY => true,
        PROCESSING => {
            let p = progress_of(media);
            !p.fails && p.finalized_at.is_some_and(|at| at + delay <= time::now())
        }
        _ => false,
    }
}

fn bad_request(message: &str) -> HttpResponse {
    rest_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
}

/// LinkedIn's answer when the application's daily limit for a resource is used up.
fn daily_limit() -> HttpResponse {
    rest_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TOO_MANY_REQUESTS",
        "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
    )
}

async fn find(sandbox: &Sandbox, person: usize, urn: &str) -> Result<Option<Media>, Down> {
    let urn = urn.to_owned();
    sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &urn))
        .await
}

async fn save(sandbox: &Sandbox, media: &Media, step: &str, p: &Progress) -> Result<(), Down> {
    let (person, id, step, upload) = (
        media.person,
        media.id.clone(),
        step.to_owned(),
        json!(p).to_string(),
    );
    let size = i64::try_from(p.size).unwrap_or(i64::MAX);
    sandbox
        .run(move |conn| {
            state::set_media_upload(conn, PLATFORM, person, &id, &step, &upload, Some(size))
        })
        .await?;
    Ok(())
}

/// `POST /rest/videos?action=…` and `GET /rest/videos/{urn}`.
pub async fn answer(
    sandbox: &Sandbox,
    person: usize,
    name: &str,
    req: &HttpRequest,
    body: &Value,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    if fault == Some(Fault::QuotaExceeded) {
        return Ok(daily_limit());
    }
    let query = req.query_string();
    match name {
        "videos" if query.contains("action=initializeUpload") => {
            initialize(sandbox, req, person, body).await
        }
        "videos" if query.contains("action=finalizeUpload") => {
            finalize(
                sandbox,
                person,
                body,
                fault == Some(Fault::ProcessingFailed),
            )
            .await
        }
        "video" => {
            let urn = super::decoded(req.match_info().get("tail").unwrap_or(""));
            status(sandbox, person, &urn).await
        }
        _ => Ok(rest_error(
            StatusCode::BAD_REQUEST,
            "ILLEGAL_ARGUMENT",
            "Unknown action",
        )),
    }
}

async fn initialize(
    sandbox: &Sandbox,
    req: &HttpRequest,
    person: usize,
    body: &Value,
) -> Result<HttpResponse, Down> {
    let request = &body["initializeUploadRequest"];
    let owner = request["owner"].as_str().unwrap_or("");
    if !urns(person).iter().any(|u| u == owner) {
        return Ok(denied(&format!(
            "videos.initializeUpload for owner {owner}"
        )));
    }
    let Some(size) = request["fileSizeBytes"]
        .as_u64()
        .filter(|n| (1..=MAX_VIDEO_BYTES).contains(n))
    else {
        return Ok(unprocessable(
            "/initializeUploadRequest/fileSizeBytes :: from 1 to 524288000 is required",
        ));
    };
    let urn = format!("urn:li:video:C5F10AQ{}", snowflake());
    let parts = ranges(size);
    let progress = Progress {
        token: format!("sandbox-{}", snowflake()),
        size,
        etags: vec![None; parts.len()],
        ..Progress::default()
    };
    let row = Media {
        platform: PLATFORM.key().to_owned(),
        person: person_id(person),
        id: urn.clone(),
        content_type: "video/mp4".to_owned(),
        size: 0,
        alt_text: None,
        created_at: time::now(),
        state: WAITING_UPLOAD.to_owned(),
        upload: json!(progress).to_string(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    let mut base = req.full_url();
    let own = req.path().to_owned();
    let root = own.strip_suffix("/rest/videos").unwrap_or(&own).to_owned();
    let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
    base.set_path(&format!("{root}{UPLOAD_PATH}{encoded}"));
    let instructions: Vec<Value> = parts
        .iter()
        .enumerate()
        .map(|(i, (first, last))| {
            let mut url = base.clone();
            url.set_query(Some(&format!("part={i}")));
            json!({"uploadUrl": url.as_str(), "firstByte": first, "lastByte": last})
        })
        .collect();
    let expires = (time::now() + Duration::hours(24))
        .and_utc()
        .timestamp_millis();
    Ok(HttpResponse::Ok().json(json!({"value": {
        "uploadUrlsExpireAt": expires, "video": urn, "uploadInstructions": instructions,
        "uploadToken": progress.token,
    }})))
}

/// A part's PUT: `Ok` with the answer, after the call log and faults of `video_part`.
pub async fn put_part(
    sandbox: &Sandbox,
    person: usize,
    urn: &str,
    req: &HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, Down> {
    let fault = match arrived(sandbox, PLATFORM, "video_part", "PUT".to_owned()).await? {
        Ok(fault) => fault,
        Err(answered) => return Ok(answered),
    };
    if fault == Some(Fault::ChunkRejected) {
        return Ok(bad_request(
            "The part did not arrive whole; upload it again",
        ));
    }
    let Some(media) = find(sandbox, person, urn).await? else {
        return Ok(rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "No such upload",
        ));
    };
    let mut progress = progress_of(&media);
    let part = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "part")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let ranges = ranges(progress.size);
    let Some((index, (first, last))) = part.and_then(|i| ranges.get(i).map(|r| (i, *r))) else {
        return Ok(bad_request("Unknown part"));
    };
    if media.state != WAITING_UPLOAD {
        return Ok(bad_request("The upload was finalized"));
    }
    if body.len() as u64 != last - first + 1 {
        return Ok(bad_request(&format!(
            "The part must be bytes {first} to {last}: {} bytes came",
            body.len()
        )));
    }
    let etag = format!(
        "/ambry-video/signedId/{}",
        &hex::encode(Sha256::digest(&body))[..32]
    );
    write_part(sandbox, PLATFORM, urn, first, body).await?;
    progress.etags[index] = Some(etag.clone());
    save(sandbox, &media, WAITING_UPLOAD, &progress).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag)).finish())
}

async fn finalize(
    sandbox: &Sandbox,
    person: usize,
    body: &Value,
    fails: bool,
) -> Result<HttpResponse, Down> {
    let request = &body["finalizeUploadRequest"];
    let urn = request["video"].as_str().unwrap_or("");
    let Some(media) = find(sandbox, person, urn).await? else {
        return Ok(unprocessable(
            "/finalizeUploadRequest/video :: no such video",
        ));
    };
    let mut progress = progress_of(&media);
    if request["uploadToken"].as_str() != Some(progress.token.as_str()) {
        return Ok(bad_request("The upload token does not match"));
    }
    let sent: Vec<Option<String>> = request["uploadedPartIds"]
        .as_array()
        .map(|ids| ids.iter().map(|i| i.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if sent != progress.etags || sent.iter().any(Option::is_none) {
        return Ok(bad_request(
            "uploadedPartIds must be every part's ETag, in order",
        ));
    }
    if media.state == WAITING_UPLOAD {
        progress.finalized_at = Some(time::now());
        progress.fails = fails;
        save(sandbox, &media, PROCESSING, &progress).await?;
    }
    Ok(HttpResponse::Ok().finish())
}

async fn status(sandbox: &Sandbox, person: usize, urn: &str) -> Result<HttpResponse, Down> {
    let Some(media) = find(sandbox, person, urn).await? else {
        return Ok(rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "No such video",
        ));
    };
    let progress = progress_of(&media);
    let delay = sandbox.processing_delay(PLATFORM).await?;
    let status = match progress.finalized_at {
        None => WAITING_UPLOAD,
        Some(at) if at + delay > time::now() => PROCESSING,
        Some(_) if progress.fails => "PROCESSING_FAILED",
        Some(_) => "AVAILABLE",
    };
    let mut video = json!({"id": urn, "status": status, "owner": urns(person).first()});
    if status == "PROCESSING_FAILED" {
        video["processingFailureReason"] = "The video could not be transcoded".into();
    }
    Ok(HttpResponse::Ok().json(video))
}
