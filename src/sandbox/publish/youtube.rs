//! YouTube's Data API v3 as the emulator answers it. A resumable upload: `POST
//! upload/youtube/v3/videos?uploadType=resumable` with the video resource opens a session
//! (a media row in state `uploading`, its progress in `upload`) whose URI is the same path
//! with an `upload_id`; chunks are PUT there with `Content-Range: bytes a-b/total`, each
//! a multiple of 256 KiB but the last and continuing where the session is, and answered
//! `308` with `Range: bytes=0-N`; an empty PUT with `bytes */total` asks the session. The
//! last chunk makes the video (a post), processed once the platform's processing delay has
//! passed since. `videos.list`/`delete`, `search.list?forMine`, `thumbnails.set`,
//! `playlistItems.insert` and `commentThreads.insert` act on the caller's videos. Errors are
//! Google's `{"error": {"code", "message", "errors": [{"reason", "domain"}]}}`.

use super::super::{Down, Fault, Sandbox, endpoints, people, wire};
use super::{NewMedia, person_id, store_media, store_post, write_part};
use crate::db::sandbox::{self as state, MEDIA_READY, NewPost};
use crate::domain::secrets::new_random_id;
use crate::domain::{Platform, time};
use crate::publish::publishers::youtube::{CATEGORIES, CHUNK_QUANTUM, LICENSES, PRIVACY_STATUSES};
use crate::web::bearer_token;
use actix_web::http::{Method, StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use serde_json::{Value, json};
use std::collections::HashMap;

const PLATFORM: Platform = Platform::Youtube;
/// The endpoints this module answers.
pub const ENDPOINTS: [&str; 6] = [
    "videos_upload",
    "videos",
    "thumbnails_set",
    "playlist_items",
    "comment_threads",
    "search",
];
/// The largest chunk taken in one PUT.
const MAX_CHUNK_BYTES: usize = 64 * 1024 * 1024;
const MAX_VIDEO_BYTES: u64 = 256 * 1024 * 1024 * 1024;
const MAX_THUMBNAIL_BYTES: usize = 2 * 1024 * 1024;
const MAX_TITLE_CHARS: usize = 100;
const MAX_DESCRIPTION_BYTES: usize = 5000;
const MAX_TAGS_CHARS: usize = 500;
const MAX_SEARCH_RESULTS: usize = 50;
const UPLOADING: &str = "uploading";
/// Where a video's stored extras say what it is, beside its comments.
const VIDEO_KIND: &str = "youtube#video";

/// The largest body an endpoint takes, when larger than the server's default.
pub fn body_limit(name: &str) -> Option<usize> {
    match name {
        "videos_upload" => Some(MAX_CHUNK_BYTES),
        // Larger than the limit, so that the emulator refuses it as YouTube does.
        "thumbnails_set" => Some(2 * MAX_THUMBNAIL_BYTES),
        _ => None,
    }
}

const FULL: &str = "https://www.googleapis.com/auth/youtube";
const FORCE_SSL: &str = "https://www.googleapis.com/auth/youtube.force-ssl";
const UPLOAD: &str = "https://www.googleapis.com/auth/youtube.upload";
const READONLY: &str = "https://www.googleapis.com/auth/youtube.readonly";

/// The scopes any of which lets a call through, as the API reference lists them.
fn scopes_for(name: &str, method: &Method) -> &'static [&'static str] {
    match (name, method) {
        ("videos_upload" | "thumbnails_set", _) => &[UPLOAD, FULL, FORCE_SSL],
        ("videos" | "search", &Method::GET) => &[READONLY, FULL, FORCE_SSL],
        // Deleting, playlist items and comments.
        _ => &[FULL, FORCE_SSL],
    }
}

/// Google's error body.
fn google_error(status: StatusCode, reason: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": {"code": status.as_u16(),
        "message": message, "errors": [{"message": message, "domain": "youtube.api",
        "reason": reason}]}}))
}

fn bad_request(reason: &str, message: &str) -> HttpResponse {
    google_error(StatusCode::BAD_REQUEST, reason, message)
}

fn video_not_found() -> HttpResponse {
    google_error(
        StatusCode::NOT_FOUND,
        "videoNotFound",
        "The video that you are trying to use cannot be found.",
    )
}

/// A session's progress, kept in its media row's `upload`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Session {
    video_id: String,
    total: u64,
    /// The video resource the session was opened with.
    resource: Value,
    notify_subscribers: bool,
    /// Why processing will fail (a scripted `processing_failed`, a file that is no video).
    failure: Option<String>,
}

/// A call of one of `ENDPOINTS`.
pub async fn answer(
    sandbox: &Sandbox,
    name: &str,
    req: &HttpRequest,
    body: &Bytes,
    params: &HashMap<String, String>,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    let token = bearer_token(req).unwrap_or_default();
    let Some(grant) = endpoints::live_access(sandbox, PLATFORM, &token).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    let scopes = scopes_for(name, req.method());
    if !grant.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Ok(google_error(
            StatusCode::FORBIDDEN,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        ));
    }
    let person = grant.person;
    match fault {
        Some(Fault::QuotaExceeded) => {
            return Ok(HttpResponse::Forbidden().json(json!({"error": {"code": 403,
                "message": "The request cannot be completed because you have exceeded your quota.",
                "errors": [{"message": "The request cannot be completed because you have exceeded your quota.",
                    "domain": "youtube.quota", "reason": "quotaExceeded"}]}})));
        }
        // The upload server fails on the chunk; the session keeps what it had.
        Some(Fault::ChunkRejected) => {
            return Ok(google_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "backendError",
                "Backend Error",
            ));
        }
        _ => {}
    }
    let fails = (fault == Some(Fault::ProcessingFailed)).then(|| "uploadFailed".to_owned());
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    Ok(match (name, req.method()) {
        ("videos_upload", &Method::POST) => {
            open(sandbox, req, params, person, &json, fails).await?
        }
        ("videos_upload", &Method::PUT) => chunk(sandbox, req, params, person, body, fails).await?,
        ("videos", &Method::GET) => list(sandbox, params, person).await?,
        ("videos", &Method::DELETE) => delete(sandbox, params, person).await?,
        ("search", &Method::GET) => search(sandbox, params, person).await?,
        ("thumbnails_set", &Method::POST) => thumbnail(sandbox, params, person, body).await?,
        ("playlist_items", &Method::POST) => playlist_item(sandbox, person, &json).await?,
        ("comment_threads", &Method::POST) => comment(sandbox, person, &json).await?,
        _ => google_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "methodNotAllowed",
            "The method is not allowed on this resource",
        ),
    })
}

/// What YouTube refuses in a video resource: `(reason, message)`.
fn resource_problem(resource: &Value) -> Option<(&'static str, String)> {
    let snippet = &resource["snippet"];
    let status = &resource["status"];
    let title = snippet["title"].as_str().unwrap_or("");
    if title.trim().is_empty() {
        return Some(("invalidTitle", "The video title is required.".into()));
    }
    if title.chars().count() > MAX_TITLE_CHARS || title.contains(['<', '>']) {
        return Some((
            "invalidTitle",
            "The request metadata specifies an invalid video title.".into(),
        ));
    }
    let description = snippet["description"].as_str().unwrap_or("");
    if description.len() > MAX_DESCRIPTION_BYTES || description.contains(['<', '>']) {
        return Some((
            "invalidDescription",
            "The request metadata specifies an invalid video description.".into(),
        ));
    }
    let tags: Vec<&str> = snippet["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let tags_chars: usize = tags
        .iter()
        .map(|t| t.chars().count() + if t.contains(' ') { 2 } else { 0 })
        .sum::<usize>()
        + tags.len().saturating_sub(1);
    if tags_chars > MAX_TAGS_CHARS {
        return Some((
            "invalidTags",
            "The request metadata specifies invalid video keywords.".into(),
        ));
    }
    let category = snippet["categoryId"].as_str().unwrap_or("22");
    if !CATEGORIES.contains(&category) {
        return Some((
            "invalidCategoryId",
            format!("The category {category} cannot be assigned."),
        ));
    }
    let known =
        |key: &str, allowed: &[&str]| status[key].as_str().is_none_or(|v| allowed.contains(&v));
    if !known("privacyStatus", &PRIVACY_STATUSES) || !known("license", &LICENSES) {
        return Some((
            "invalidVideoMetadata",
            "The request metadata is invalid.".into(),
        ));
    }
    if let Some(at) = status["publishAt"].as_str() {
        let future =
            DateTime::parse_from_rfc3339(at).is_ok_and(|at| at.to_utc() > time::now().and_utc());
        if !future || status["privacyStatus"] != "private" {
            return Some((
                "invalidPublishAt",
                "The request metadata specifies an invalid scheduled publishing time.".into(),
            ));
        }
    }
    if let Some(at) = resource["recordingDetails"]["recordingDate"].as_str()
        && DateTime::parse_from_rfc3339(at).is_err()
    {
        return Some((
            "invalidRecordingDetails",
            "The recording date is invalid.".into(),
        ));
    }
    None
}

fn header_of<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `POST …/videos?uploadType=resumable`: a session, at the URI in `Location`.
async fn open(
    sandbox: &Sandbox,
    req: &HttpRequest,
    params: &HashMap<String, String>,
    person: usize,
    resource: &Value,
    failure: Option<String>,
) -> Result<HttpResponse, Down> {
    if params.get("uploadType").map(String::as_str) != Some("resumable") {
        return Ok(bad_request(
            "invalidUploadType",
            "Only resumable uploads are emulated.",
        ));
    }
    let parts: Vec<&str> = params
        .get("part")
        .map_or(Vec::new(), |p| p.split(',').collect());
    if !parts.contains(&"snippet") || !parts.contains(&"status") {
        return Ok(bad_request(
            "invalidPart",
            "part must name snippet and status.",
        ));
    }
    let total =
        header_of(req, "X-Upload-Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    let Some(total) = total.filter(|t| (1..=MAX_VIDEO_BYTES).contains(t)) else {
        return Ok(bad_request(
            "invalidUploadLength",
            "X-Upload-Content-Length must be the size of the video, up to 256 GB.",
        ));
    };
    let content_type = header_of(req, "X-Upload-Content-Type").unwrap_or("");
    if !(content_type.starts_with("video/") || content_type == "application/octet-stream") {
        return Ok(bad_request(
            "invalidContentType",
            "X-Upload-Content-Type must be a video MIME type.",
        ));
    }
    if let Some((reason, message)) = resource_problem(resource) {
        return Ok(bad_request(reason, &message));
    }
    let upload_id = new_random_id(32);
    let session = Session {
        video_id: video_id(),
        total,
        resource: resource.clone(),
        notify_subscribers: params.get("notifySubscribers").map(String::as_str) != Some("false"),
        failure,
    };
    let row = state::Media {
        platform: PLATFORM.key().to_owned(),
        person: person_id(person),
        id: upload_id.clone(),
        content_type: content_type.to_owned(),
        size: 0,
        alt_text: None,
        created_at: time::now(),
        state: UPLOADING.to_owned(),
        upload: json!(session).to_string(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    let mut uri = req.full_url();
    uri.query_pairs_mut().append_pair("upload_id", &upload_id);
    Ok(HttpResponse::Ok()
        .insert_header((header::LOCATION, uri.as_str()))
        .insert_header(("X-GUploader-UploadID", upload_id))
        .finish())
}

/// An 11-character id in the alphabet of YouTube's.
fn video_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 8]>())
}

/// What `Content-Range` asks: `None` for a status query (`bytes */total`), else the range.
type ContentRange = (Option<(u64, u64)>, u64);

fn content_range(raw: &str) -> Option<ContentRange> {
    let (range, total) = raw.trim().strip_prefix("bytes ")?.split_once('/')?;
    let total = total.parse().ok()?;
    if range == "*" {
        return Some((None, total));
    }
    let (first, last) = range.split_once('-')?;
    let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last && last < total).then_some((Some((first, last)), total))
}

/// `308` with what the session holds.
fn incomplete(held: u64) -> HttpResponse {
    let mut answer = HttpResponse::build(StatusCode::PERMANENT_REDIRECT);
    if held > 0 {
        answer.insert_header(("Range", format!("bytes=0-{}", held - 1)));
    }
    answer.finish()
}

/// Whether the first bytes are a video container: MP4/MOV (`ftyp`) or Matroska/WebM.
fn looks_like_video(head: &[u8]) -> bool {
    head.get(4..8) == Some(b"ftyp") || head.starts_with(b"\x1A\x45\xDF\xA3")
}

/// `PUT` of the session URI: a chunk, or a status query.
async fn chunk(
    sandbox: &Sandbox,
    req: &HttpRequest,
    params: &HashMap<String, String>,
    person: usize,
    body: &Bytes,
    failure: Option<String>,
) -> Result<HttpResponse, Down> {
    let upload_id = params.get("upload_id").cloned().unwrap_or_default();
    let wanted = upload_id.clone();
    let Some(row) = sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &wanted))
        .await?
    else {
        return Ok(google_error(
            StatusCode::NOT_FOUND,
            "notFound",
            "No such upload session.",
        ));
    };
    let Ok(mut session) = serde_json::from_str::<Session>(&row.upload) else {
        return Ok(google_error(
            StatusCode::NOT_FOUND,
            "notFound",
            "No such upload session.",
        ));
    };
    let held = u64::try_from(row.size).unwrap_or_default();
    let Some((range, total)) = header_of(req, "Content-Range").and_then(content_range) else {
        return Ok(bad_request(
            "badContentRange",
            "Failed to parse Content-Range header.",
        ));
    };
    if total != session.total {
        return Ok(bad_request(
            "badContentRange",
            &format!("The upload is {} bytes, not {total}.", session.total),
        ));
    }
    if row.state == MEDIA_READY {
        return finished(sandbox, &session.video_id, person).await;
    }
    let Some((first, last)) = range else {
        return Ok(incomplete(held));
    };
    let length = last - first + 1;
    if first != held {
        return Ok(bad_request(
            "badContentRange",
            &format!("The chunk must continue the upload at byte {held}."),
        ));
    }
    if body.len() as u64 != length {
        return Ok(bad_request(
            "badContentRange",
            "The chunk's length does not match its Content-Range.",
        ));
    }
    let last_chunk = last + 1 == total;
    if !last_chunk && length % CHUNK_QUANTUM != 0 {
        return Ok(bad_request(
            "badChunkSize",
            &format!("Chunks must be multiples of {CHUNK_QUANTUM} bytes, but the last."),
        ));
    }
    if first == 0 && !looks_like_video(body) {
        session
            .failure
            .get_or_insert_with(|| "invalidFile".to_owned());
    }
    if failure.is_some() {
        session.failure = failure;
    }
    write_part(sandbox, PLATFORM, &upload_id, first, body.clone()).await?;
    let size = i64::try_from(last + 1).unwrap_or(i64::MAX);
    let step = if last_chunk { MEDIA_READY } else { UPLOADING };
    let upload = json!(session).to_string();
    let id = upload_id.clone();
    sandbox
        .run(move |conn| {
            state::set_media_upload(
                conn,
                PLATFORM,
                person_id(person),
                &id,
                step,
                &upload,
                Some(size),
            )
        })
        .await?;
    if !last_chunk {
        return Ok(incomplete(last + 1));
    }
    make_video(sandbox, person, &upload_id, &session).await?;
    finished(sandbox, &session.video_id, person).await
}

/// The post of a complete upload.
async fn make_video(
    sandbox: &Sandbox,
    person: usize,
    upload_id: &str,
    session: &Session,
) -> Result<(), Down> {
    let snippet = &session.resource["snippet"];
    let mut extra = session.resource.clone();
    extra["kind"] = VIDEO_KIND.into();
    extra["notifySubscribers"] = session.notify_subscribers.into();
    extra["failure"] = json!(session.failure);
    let text = match snippet["description"].as_str() {
        Some(d) if !d.is_empty() => format!("{}\n\n{d}", snippet["title"].as_str().unwrap_or("")),
        _ => snippet["title"].as_str().unwrap_or("").to_owned(),
    };
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: session.video_id.clone(),
            text,
            reply_to: None,
            quote_of: None,
            media_ids: json!([upload_id]).to_string(),
            client_key: None,
            extra: extra.to_string(),
            created_at: time::now(),
        },
    )
    .await
    .map(drop)
}

/// The answer of the call that completed an upload (or of a status query after it).
async fn finished(sandbox: &Sandbox, video_id: &str, person: usize) -> Result<HttpResponse, Down> {
    let delay = sandbox.processing_delay(PLATFORM).await?;
    Ok(match own_video(sandbox, person, video_id).await? {
        Some(video) => HttpResponse::Ok().json(resource(&video, delay, person)),
        None => video_not_found(),
    })
}

/// The caller's video (not a comment) by id.
async fn own_video(
    sandbox: &Sandbox,
    person: usize,
    video_id: &str,
) -> Result<Option<state::Post>, Down> {
    let id = video_id.to_owned();
    Ok(sandbox
        .run(move |conn| state::find_post(conn, PLATFORM, &id))
        .await?
        .filter(|p| p.person == person_id(person) && p.extra()["kind"] == VIDEO_KIND))
}

/// A video as `videos.list` shows it to its owner: processing until the platform's delay
/// has passed since the upload finished.
fn resource(video: &state::Post, delay: chrono::Duration, person: usize) -> Value {
    let extra = video.extra();
    let processed = time::now() >= video.created_at + delay;
    let failure = extra["failure"].as_str();
    let (upload_status, processing) = match (processed, failure) {
        (false, _) => ("uploaded", "processing"),
        (true, Some(_)) => ("failed", "failed"),
        (true, None) => ("processed", "succeeded"),
    };
    let mut snippet = extra["snippet"].clone();
    snippet["publishedAt"] = time::rfc3339(video.created_at).into();
    snippet["channelId"] = people::platform_id(PLATFORM, person).into();
    snippet["channelTitle"] = people::PEOPLE[person].name.into();
    let mut status = extra["status"].clone();
    status["uploadStatus"] = upload_status.into();
    let mut details = json!({"processingStatus": processing});
    if let (true, Some(reason)) = (processed, failure) {
        status["failureReason"] = if reason == "invalidFile" {
            "invalidFile"
        } else {
            "conversion"
        }
        .into();
        details["processingFailureReason"] = "transcodeFailed".into();
    }
    let mut video_resource = json!({"kind": VIDEO_KIND, "etag": format!("sandbox-{}", video.seq),
        "id": video.post_id, "snippet": snippet, "status": status, "processingDetails": details});
    // Parts the upload set.
    for part in ["recordingDetails", "paidProductPlacementDetails"] {
        if !extra[part].is_null() {
            video_resource[part] = extra[part].clone();
        }
    }
    video_resource
}

/// `GET videos?part=…&id=a,b`: the caller's videos among the ids.
async fn list(
    sandbox: &Sandbox,
    params: &HashMap<String, String>,
    person: usize,
) -> Result<HttpResponse, Down> {
    if params.get("part").is_none_or(String::is_empty) {
        return Ok(bad_request(
            "missingRequiredParameter",
            "No filter selected. Expected one of: part",
        ));
    }
    let delay = sandbox.processing_delay(PLATFORM).await?;
    let mut items = Vec::new();
    for id in params
        .get("id")
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
    {
        if let Some(video) = own_video(sandbox, person, id.trim()).await? {
            items.push(resource(&video, delay, person));
        }
    }
    Ok(
        HttpResponse::Ok().json(json!({"kind": "youtube#videoListResponse",
        "pageInfo": {"totalResults": items.len(), "resultsPerPage": items.len()}, "items": items})),
    )
}

async fn delete(
    sandbox: &Sandbox,
    params: &HashMap<String, String>,
    person: usize,
) -> Result<HttpResponse, Down> {
    let id = params.get("id").cloned().unwrap_or_default();
    if own_video(sandbox, person, &id).await?.is_none() {
        return Ok(video_not_found());
    }
    sandbox
        .run(move |conn| state::delete_post(conn, PLATFORM, person_id(person), &id, time::now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET search?forMine=true&type=video`: the caller's videos, newest first.
async fn search(
    sandbox: &Sandbox,
    params: &HashMap<String, String>,
    person: usize,
) -> Result<HttpResponse, Down> {
    if params.get("forMine").map(String::as_str) != Some("true")
        || params.get("type").map(String::as_str) != Some("video")
    {
        return Ok(bad_request(
            "invalidSearchFilter",
            "The emulator searches the caller's own videos: forMine=true&type=video.",
        ));
    }
    let wanted = params
        .get("maxResults")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(5)
        .min(MAX_SEARCH_RESULTS);
    let posts = sandbox
        .run(move |conn| {
            state::posts_since(
                conn,
                PLATFORM,
                person_id(person),
                DateTime::UNIX_EPOCH.naive_utc(),
                i64::try_from(MAX_SEARCH_RESULTS * 4).unwrap_or(200),
            )
        })
        .await?;
    let items: Vec<Value> = posts
        .iter()
        .filter(|p| p.extra()["kind"] == VIDEO_KIND)
        .take(wanted)
        .map(|p| {
            let snippet = &p.extra()["snippet"];
            json!({"kind": "youtube#searchResult", "id": {"kind": VIDEO_KIND, "videoId": p.post_id},
                "snippet": {"publishedAt": time::rfc3339(p.created_at),
                    "channelId": people::platform_id(PLATFORM, person),
                    "title": snippet["title"], "description": snippet["description"]}})
        })
        .collect();
    Ok(
        HttpResponse::Ok().json(json!({"kind": "youtube#searchListResponse",
        "pageInfo": {"totalResults": items.len(), "resultsPerPage": wanted}, "items": items})),
    )
}

/// Adds `update` to a video's stored extras.
async fn note(sandbox: &Sandbox, video: &state::Post, key: &str, value: Value) -> Result<(), Down> {
    let mut extra = video.extra();
    match (&mut extra[key], value) {
        (Value::Array(all), Value::Array(more)) => all.extend(more),
        (slot, value) => *slot = value,
    }
    let id = video.post_id.clone();
    sandbox
        .run(move |conn| state::set_post_extra(conn, PLATFORM, &id, &extra.to_string()))
        .await
        .map(drop)
}

/// `POST thumbnails/set?videoId=…` with the image as the body.
async fn thumbnail(
    sandbox: &Sandbox,
    params: &HashMap<String, String>,
    person: usize,
    body: &Bytes,
) -> Result<HttpResponse, Down> {
    let video_id = params.get("videoId").cloned().unwrap_or_default();
    let Some(video) = own_video(sandbox, person, &video_id).await? else {
        return Ok(video_not_found());
    };
    if body.is_empty() {
        return Ok(bad_request(
            "mediaBodyRequired",
            "The request does not include the image content.",
        ));
    }
    if body.len() > MAX_THUMBNAIL_BYTES {
        return Ok(bad_request(
            "invalidImage",
            "The thumbnail is larger than 2 MB.",
        ));
    }
    let Some(content_type) =
        super::meta::sniff_image(body).filter(|t| ["image/jpeg", "image/png"].contains(t))
    else {
        return Ok(bad_request(
            "invalidImage",
            "The provided image content is invalid.",
        ));
    };
    let id = format!("thumbnail-{video_id}-{}", new_random_id(8));
    store_media(
        sandbox,
        NewMedia {
            platform: PLATFORM,
            person,
            id: &id,
            content_type,
            bytes: body.clone(),
        },
    )
    .await?;
    note(sandbox, &video, "thumbnail", id.clone().into()).await?;
    let url = sandbox.media_url(PLATFORM, &id);
    Ok(
        HttpResponse::Ok().json(json!({"kind": "youtube#thumbnailSetResponse",
        "items": [{"default": {"url": url, "width": 120, "height": 90}}]})),
    )
}

/// `POST playlistItems?part=snippet`: the video in one of the channel's playlists (the
/// emulator's playlists are the ids that look like YouTube's, `PL…`).
async fn playlist_item(
    sandbox: &Sandbox,
    person: usize,
    body: &Value,
) -> Result<HttpResponse, Down> {
    let snippet = &body["snippet"];
    let playlist = snippet["playlistId"].as_str().unwrap_or("");
    if !playlist.starts_with("PL") {
        return Ok(google_error(
            StatusCode::NOT_FOUND,
            "playlistNotFound",
            "The playlist identified with the request's playlistId parameter cannot be found.",
        ));
    }
    let resource = &snippet["resourceId"];
    let video_id = resource["videoId"].as_str().unwrap_or("");
    if resource["kind"] != VIDEO_KIND {
        return Ok(bad_request(
            "invalidResourceId",
            "resourceId.kind must be youtube#video.",
        ));
    }
    let Some(video) = own_video(sandbox, person, video_id).await? else {
        return Ok(video_not_found());
    };
    note(sandbox, &video, "playlists", json!([playlist])).await?;
    Ok(
        HttpResponse::Ok().json(json!({"kind": "youtube#playlistItem",
        "id": format!("UE{}", new_random_id(20)),
        "snippet": {"playlistId": playlist, "resourceId": resource,
            "channelId": people::platform_id(PLATFORM, person)}})),
    )
}

/// `POST commentThreads?part=snippet`: a top-level comment under a video.
async fn comment(sandbox: &Sandbox, person: usize, body: &Value) -> Result<HttpResponse, Down> {
    let snippet = &body["snippet"];
    let video_id = snippet["videoId"].as_str().unwrap_or("");
    let text = snippet["topLevelComment"]["snippet"]["textOriginal"]
        .as_str()
        .unwrap_or("");
    if text.trim().is_empty() {
        return Ok(bad_request(
            "commentTextRequired",
            "The comment must contain text.",
        ));
    }
    if own_video(sandbox, person, video_id).await?.is_none() {
        return Ok(video_not_found());
    }
    let id = format!("Ug{}", new_random_id(24));
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: id.clone(),
            text: text.to_owned(),
            reply_to: Some(video_id.to_owned()),
            quote_of: None,
            media_ids: "[]".to_owned(),
            client_key: None,
            extra: json!({"kind": "youtube#commentThread"}).to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    Ok(
        HttpResponse::Ok().json(json!({"kind": "youtube#commentThread", "id": id,
        "snippet": {"videoId": video_id, "topLevelComment": {"kind": "youtube#comment",
            "id": id, "snippet": {"textOriginal": text, "textDisplay": text}}}})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_are_read_as_google_writes_them() {
        assert_eq!(
            content_range("bytes 0-262143/1000000"),
            Some((Some((0, 262_143)), 1_000_000))
        );
        assert_eq!(content_range("bytes */1000"), Some((None, 1000)));
        assert_eq!(content_range("bytes 10-5/1000"), None);
        assert_eq!(content_range("bytes 0-1000/1000"), None);
        assert_eq!(content_range("0-1/2"), None);
    }

    #[test]
    fn resources_are_refused_as_youtube_would() {
        let good = json!({"snippet": {"title": "t", "categoryId": "22"},
            "status": {"privacyStatus": "public"}});
        assert_eq!(resource_problem(&good), None);
        for (pointer, bad, reason) in [
            ("/snippet/title", json!(""), "invalidTitle"),
            ("/snippet/title", json!("a<b"), "invalidTitle"),
            ("/snippet/categoryId", json!("99"), "invalidCategoryId"),
            (
                "/status/privacyStatus",
                json!("secret"),
                "invalidVideoMetadata",
            ),
            (
                "/status/publishAt",
                json!("2001-01-01T00:00:00Z"),
                "invalidPublishAt",
            ),
        ] {
            let mut resource = good.clone();
            let (part, key) = pointer[1..].split_once('/').unwrap();
            resource[part][key] = bad;
            assert_eq!(
                resource_problem(&resource).map(|p| p.0),
                Some(reason),
                "{pointer}"
            );
        }
    }
}
