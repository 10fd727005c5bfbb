//! TikTok's Content Posting API as the emulator answers it: `creator_info/query/`, the
//! video inits (direct post and inbox), `content/init/` for photos, `status/fetch/`, and
//! the chunk PUTs to the `upload_url` an init hands out — all in TikTok's envelope
//! (`{"data": …, "error": {"code", "message", "log_id"}}`).
//!
//! An upload is a media row under its `publish_id` whose `upload` JSON holds the init's
//! settings and how far the bytes got; the video is written to disk chunk by chunk. Once
//! the bytes are in and the platform's processing delay has passed, a status fetch makes
//! the post (once: its client key is the `publish_id`), or the draft of an inbox upload.

use super::super::{Down, Fault, Sandbox, endpoints, people, wire};
use super::{
    Incoming, NewMedia, caller, person_id, snowflake, store_media, store_post, write_part,
};
use crate::db::sandbox::{self as state, MEDIA_READY, NewPost};
use crate::domain::{Platform, time};
use actix_web::http::{Method, StatusCode, header};
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

const PLATFORM: Platform = Platform::Tiktok;
const LOG_ID: &str = "20261124000000SANDBOX";
/// The endpoints this module answers.
pub const ENDPOINTS: [&str; 6] = [
    "creator_info",
    "video_init",
    "inbox_video_init",
    "content_init",
    "publish_status",
    "video_upload",
];
/// Where upload URLs point (TikTok's are `open-upload.tiktokapis.com/video/?upload_id=…`).
pub const UPLOAD_ROUTE: &str = "/sandbox/tiktok/video/";
/// The last chunk may be up to 128 MB (media transfer guide).
pub const MAX_CHUNK_BYTES: usize = 128 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;
const MIN_CHUNK: u64 = 5 * MIB;
const MAX_CHUNK: u64 = 64 * MIB;
const MAX_CHUNKS: u64 = 1000;
const MAX_VIDEO_BYTES: u64 = 4 * 1024 * MIB;
const PRIVACY_LEVELS: [&str; 4] = [
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
];
/// Sandbox creators may post videos this long.
const MAX_DURATION_SEC: u64 = 600;
/// The third sandbox person keeps a restricted account — followers only, no duets or
/// stitches, one-minute videos — so that a creator's limits can be tried.
const RESTRICTED_PERSON: usize = 2;

/// What a sandbox creator allows: privacy levels, duets and stitches, the longest video.
fn allows(person: usize) -> (&'static [&'static str], bool, u64) {
    if person == RESTRICTED_PERSON {
        (&PRIVACY_LEVELS[2..], false, 60)
    } else {
        (&PRIVACY_LEVELS, true, MAX_DURATION_SEC)
    }
}
const MAX_VIDEO_TITLE: usize = 2200;
const MAX_PHOTO_TITLE: usize = 90;
const MAX_PHOTO_DESCRIPTION: usize = 4000;
const MAX_PHOTOS: usize = 35;
/// An upload row's states: bytes still coming, all in (processing from `finished_ms`).
const UPLOADING: &str = "uploading";
/// What processing reports for a file the emulator scripted to fail, or that is no video.
const FORMAT_FAILED: &str = "file_format_check_failed";

/// TikTok's success envelope.
fn ok(data: Value) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"data": data, "error": {"code": "ok", "message": "", "log_id": LOG_ID}}))
}

/// TikTok's error envelope.
fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({"data": {}, "error": {"code": code, "message": message, "log_id": LOG_ID}}))
}

fn invalid_param(message: &str) -> HttpResponse {
    refuse(StatusCode::BAD_REQUEST, "invalid_param", message)
}

fn now_ms() -> i64 {
    time::now().and_utc().timestamp_millis()
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A call of one of `ENDPOINTS`.
pub async fn answer(sandbox: &Sandbox, call: &Incoming<'_>) -> Result<HttpResponse, Down> {
    if call.name == "video_upload" {
        return chunk(sandbox, call).await;
    }
    let Some(person) = caller(sandbox, PLATFORM, call.req).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    if call.req.method() != Method::POST {
        return Ok(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_param",
            "Use POST",
        ));
    }
    let Ok(body) = serde_json::from_slice::<Value>(call.body) else {
        return Ok(invalid_param("The request body is not valid JSON"));
    };
    let init = matches!(
        call.name,
        "video_init" | "inbox_video_init" | "content_init"
    );
    if init && call.fault == Some(Fault::QuotaExceeded) {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "spam_risk_too_many_posts",
            "The daily post cap from the current user has been reached",
        ));
    }
    let failing = call.fault == Some(Fault::ProcessingFailed);
    match call.name {
        "creator_info" => Ok(creator_info(person)),
        "video_init" => video_init(sandbox, call.req, person, &body, true, failing).await,
        "inbox_video_init" => video_init(sandbox, call.req, person, &body, false, failing).await,
        "content_init" => photo_init(sandbox, person, &body, failing).await,
        _ => status(sandbox, person, &body, failing).await,
    }
}

/// Sandbox creators offer every privacy level and every interaction, but one (`allows`).
fn creator_info(person: usize) -> HttpResponse {
    let (levels, duets, max_sec) = allows(person);
    ok(json!({
        "creator_avatar_url": "",
        "creator_username": people::handle(PLATFORM, person),
        "creator_nickname": people::PEOPLE[person].name,
        "privacy_level_options": levels,
        "comment_disabled": false,
        "duet_disabled": !duets,
        "stitch_disabled": !duets,
        "max_video_post_duration_sec": max_sec,
    }))
}

/// What TikTok refuses in a direct post's `post_info`: a privacy level the creator does
/// not offer, duets or stitches the creator turned off, a long title, branded content kept
/// private.
fn post_info_problem(person: usize, info: &Value, max_title: usize) -> Option<HttpResponse> {
    let (levels, duets, _) = allows(person);
    let privacy = info["privacy_level"].as_str().unwrap_or_default();
    if !duets && (info["disable_duet"] == false || info["disable_stitch"] == false) {
        return Some(invalid_param(
            "The creator has turned duets and stitches off",
        ));
    }
    if !levels.contains(&privacy) {
        return Some(refuse(
            StatusCode::BAD_REQUEST,
            "privacy_level_option_mismatch",
            "privacy_level is not one of the creator's privacy_level_options",
        ));
    }
    if utf16_len(info["title"].as_str().unwrap_or_default()) > max_title {
        return Some(invalid_param("title is too long"));
    }
    if info["brand_content_toggle"].as_bool() == Some(true) && privacy == "SELF_ONLY" {
        return Some(invalid_param(
            "Branded content cannot be posted with privacy_level SELF_ONLY",
        ));
    }
    None
}

/// `source_info` of a `FILE_UPLOAD`, checked by the media transfer guide's rules.
fn chunking_problem(source: &Value) -> Option<&'static str> {
    let (Some(size), Some(chunk), Some(count)) = (
        source["video_size"].as_u64(),
        source["chunk_size"].as_u64(),
        source["total_chunk_count"].as_u64(),
    ) else {
        return Some("video_size, chunk_size and total_chunk_count are required for FILE_UPLOAD");
    };
    if size == 0 || size > MAX_VIDEO_BYTES {
        return Some("video_size is out of range");
    }
    if size < MIN_CHUNK {
        return (chunk != size || count != 1)
            .then_some("A video under 5 MB is uploaded whole: chunk_size = video_size, one chunk");
    }
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk) {
        return Some("chunk_size must be between 5 MB and 64 MB");
    }
    if count != size / chunk || !(1..=MAX_CHUNKS).contains(&count) {
        return Some("total_chunk_count must be video_size / chunk_size rounded down (1 to 1000)");
    }
    if size - (count - 1) * chunk > MAX_CHUNK_BYTES as u64 {
        return Some("The last chunk would be over 128 MB");
    }
    None
}

/// A new upload row under `publish_id`.
async fn new_upload(
    sandbox: &Sandbox,
    person: usize,
    publish_id: &str,
    content_type: &str,
    upload: Value,
) -> Result<(), Down> {
    let row = state::Media {
        platform: PLATFORM.key().to_owned(),
        person: person_id(person),
        id: publish_id.to_owned(),
        content_type: content_type.to_owned(),
        size: 0,
        alt_text: None,
        created_at: time::now(),
        state: UPLOADING.to_owned(),
        upload: upload.to_string(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await
}

async fn save_upload(
    sandbox: &Sandbox,
    person: i64,
    publish_id: &str,
    done: bool,
    upload: &Value,
    size: u64,
) -> Result<(), Down> {
    let (id, upload) = (publish_id.to_owned(), upload.to_string());
    let st = if done { MEDIA_READY } else { UPLOADING };
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    sandbox
        .run(move |conn| {
            state::set_media_upload(conn, PLATFORM, person, &id, st, &upload, Some(size))
        })
        .await
        .map(|_| ())
}

/// `POST /v2/post/publish/video/init/` (`direct`) and `/inbox/video/init/`.
async fn video_init(
    sandbox: &Sandbox,
    req: &HttpRequest,
    person: usize,
    body: &Value,
    direct: bool,
    failing: bool,
) -> Result<HttpResponse, Down> {
    let info = &body["post_info"];
    if direct && let Some(problem) = post_info_problem(person, info, MAX_VIDEO_TITLE) {
        return Ok(problem);
    }
    let source = &body["source_info"];
    let pull = match source["source"].as_str() {
        Some("FILE_UPLOAD") => false,
        Some("PULL_FROM_URL") => true,
        _ => {
            return Ok(invalid_param(
                "source_info.source is FILE_UPLOAD or PULL_FROM_URL",
            ));
        }
    };
    if !pull && let Some(problem) = chunking_problem(source) {
        return Ok(invalid_param(problem));
    }
    let video_url = source["video_url"].as_str().unwrap_or_default();
    if pull && !(video_url.starts_with("http://") || video_url.starts_with("https://")) {
        return Ok(invalid_param("video_url must be an http(s) URL"));
    }
    let kind = if pull { "v_pub_url" } else { "v_pub_file" };
    let publish_id = format!("{kind}~v2-1.{}", snowflake());
    let token = crate::domain::secrets::new_random_id(24);
    let upload = json!({
        "media_type": "VIDEO",
        "post_mode": if direct { "DIRECT_POST" } else { "MEDIA_UPLOAD" },
        "post_info": if direct { info.clone() } else { json!({}) },
        "source_info": source,
        "upload_token": token,
        "received": 0,
        "finished_ms": null,
        "fail_reason": if failing { Value::from(FORMAT_FAILED) } else { Value::Null },
    });
    new_upload(sandbox, person, &publish_id, "video/mp4", upload.clone()).await?;
    if pull {
        pull_video(sandbox, person, &publish_id, video_url, upload).await?;
        return Ok(ok(json!({"publish_id": publish_id})));
    }
    let mut url = req.full_url();
    let base = req
        .path()
        .split("/v2/post/publish/")
        .next()
        .unwrap_or_default()
        .to_owned();
    url.set_path(&format!("{base}/video/"));
    url.query_pairs_mut()
        .clear()
        .append_pair("upload_id", &publish_id)
        .append_pair("upload_token", &token);
    Ok(ok(
        json!({"publish_id": publish_id, "upload_url": url.as_str()}),
    ))
}

/// Downloads a `PULL_FROM_URL` video to disk piece by piece; a failed download is the
/// upload's `video_pull_failed`.
async fn pull_video(
    sandbox: &Sandbox,
    person: usize,
    publish_id: &str,
    url: &str,
    mut upload: Value,
) -> Result<(), Down> {
    let received = download(sandbox, publish_id, url).await?;
    let size = match received {
        Ok(size) => size,
        Err(()) => {
            upload["fail_reason"] = "video_pull_failed".into();
            0
        }
    };
    upload["received"] = size.into();
    upload["finished_ms"] = now_ms().into();
    save_upload(sandbox, person_id(person), publish_id, true, &upload, size).await
}

/// The bytes at `url` written to the upload's file: their count, or `Err` when the
/// download failed.
async fn download(sandbox: &Sandbox, publish_id: &str, url: &str) -> Result<Result<u64, ()>, Down> {
    const PIECE: usize = 4 * 1024 * 1024;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build();
    let Ok(Ok(mut response)) = (match client {
        Ok(c) => Ok(c.get(url).send().await),
        Err(e) => Err(e),
    }) else {
        return Ok(Err(()));
    };
    if !response.status().is_success() {
        return Ok(Err(()));
    }
    let (mut written, mut piece) = (0u64, Vec::new());
    loop {
        let next = response.chunk().await;
        let Ok(next) = next else {
            return Ok(Err(()));
        };
        let last = next.is_none();
        piece.extend_from_slice(next.as_deref().unwrap_or_default());
        if (last || piece.len() >= PIECE) && !piece.is_empty() {
            let bytes = Bytes::from(std::mem::take(&mut piece));
            let len = bytes.len() as u64;
            write_part(sandbox, PLATFORM, publish_id, written, bytes).await?;
            written += len;
        }
        if last {
            return Ok(Ok(written));
        }
        if written > MAX_VIDEO_BYTES {
            return Ok(Err(()));
        }
    }
}

/// `POST /v2/post/publish/content/init/`: photos, which TikTok pulls from their URLs.
async fn photo_init(
    sandbox: &Sandbox,
    person: usize,
    body: &Value,
    failing: bool,
) -> Result<HttpResponse, Down> {
    if body["media_type"] != "PHOTO" {
        return Ok(invalid_param("media_type must be PHOTO"));
    }
    let direct = match body["post_mode"].as_str() {
        Some("DIRECT_POST") => true,
        Some("MEDIA_UPLOAD") => false,
        _ => return Ok(invalid_param("post_mode is DIRECT_POST or MEDIA_UPLOAD")),
    };
    let info = &body["post_info"];
    if direct && let Some(problem) = post_info_problem(person, info, MAX_PHOTO_TITLE) {
        return Ok(problem);
    }
    if utf16_len(info["description"].as_str().unwrap_or_default()) > MAX_PHOTO_DESCRIPTION {
        return Ok(invalid_param("description is too long"));
    }
    let source = &body["source_info"];
    if source["source"] != "PULL_FROM_URL" {
        return Ok(invalid_param(
            "Photos are only pulled from URLs (PULL_FROM_URL)",
        ));
    }
    let urls: Vec<String> = source["photo_images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u.as_str().map(str::to_owned))
        .collect();
    if !(1..=MAX_PHOTOS).contains(&urls.len()) {
        return Ok(invalid_param("photo_images takes 1 to 35 URLs"));
    }
    let cover = source["photo_cover_index"].as_u64().unwrap_or(0);
    if usize::try_from(cover).map_or(true, |c| c >= urls.len()) {
        return Ok(invalid_param("photo_cover_index is out of range"));
    }
    let publish_id = format!("p_pub_url~v2.{}", snowflake());
    let mut upload = json!({
        "media_type": "PHOTO",
        "post_mode": if direct { "DIRECT_POST" } else { "MEDIA_UPLOAD" },
        "post_info": info,
        "source_info": source,
        "photo_ids": [],
        "finished_ms": null,
        "fail_reason": if failing { Value::from(FORMAT_FAILED) } else { Value::Null },
    });
    new_upload(sandbox, person, &publish_id, "image/jpeg", upload.clone()).await?;
    let mut ids = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        // TikTok takes JPEG and WebP; the emulator recognises JPEG.
        match super::meta::pull_image(url).await {
            Ok((bytes, "image/jpeg")) => {
                let id = format!("{publish_id}~{i}");
                store_media(
                    sandbox,
                    NewMedia {
                        platform: PLATFORM,
                        person,
                        id: &id,
                        content_type: "image/jpeg",
                        bytes,
                    },
                )
                .await?;
                ids.push(id);
            }
            _ => {
                upload["fail_reason"] = "photo_pull_failed".into();
                break;
            }
        }
    }
    upload["photo_ids"] = json!(ids);
    upload["finished_ms"] = now_ms().into();
    save_upload(sandbox, person_id(person), &publish_id, true, &upload, 0).await?;
    Ok(ok(json!({"publish_id": publish_id})))
}

/// `Content-Range: bytes a-b/total`.
fn content_range(req: &HttpRequest) -> Option<(u64, u64, u64)> {
    let raw = req.headers().get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = raw.strip_prefix("bytes ")?.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    Some((
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

/// Whether the first bytes are a video TikTok takes: an MP4/MOV `ftyp` box or WebM.
fn is_video(first: &[u8]) -> bool {
    first.get(4..8) == Some(b"ftyp") || first.starts_with(b"\x1A\x45\xDF\xA3")
}

/// `PUT {upload_url}`: one chunk, in order, of the size the init declared.
async fn chunk(sandbox: &Sandbox, call: &Incoming<'_>) -> Result<HttpResponse, Down> {
    let (req, body) = (call.req, call.body);
    if req.method() != Method::PUT {
        return Ok(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_param",
            "Use PUT",
        ));
    }
    let publish_id = call.params.get("upload_id").cloned().unwrap_or_default();
    let token = call.params.get("upload_token").cloned().unwrap_or_default();
    let wanted = publish_id.clone();
    let Some(row) = sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, None, &wanted))
        .await?
    else {
        return Ok(refuse(
            StatusCode::NOT_FOUND,
            "invalid_param",
            "No such upload",
        ));
    };
    let mut upload: Value = serde_json::from_str(&row.upload).unwrap_or_default();
    if upload["upload_token"].as_str() != Some(token.as_str()) || token.is_empty() {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "invalid_param",
            "The upload token is not valid",
        ));
    }
    if call.fault == Some(Fault::ChunkRejected) {
        return Ok(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong. Please try again later.",
        ));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !["video/mp4", "video/quicktime", "video/webm"].contains(&content_type) {
        return Ok(invalid_param(
            "Content-Type must be video/mp4, video/quicktime or video/webm",
        ));
    }
    let source = &upload["source_info"];
    let size = source["video_size"].as_u64().unwrap_or_default();
    let chunk_size = source["chunk_size"].as_u64().unwrap_or(1).max(1);
    let count = source["total_chunk_count"].as_u64().unwrap_or(1);
    let received = upload["received"].as_u64().unwrap_or_default();
    let Some((first, last, total)) = content_range(req) else {
        return Ok(invalid_param(
            "Content-Range must be bytes {first}-{last}/{total}",
        ));
    };
    // Chunks come in order, each exactly as the init cut them (the last takes the rest).
    let index = first / chunk_size;
    let end = if index + 1 >= count {
        size
    } else {
        first + chunk_size
    };
    let in_step = total == size
        && first == received
        && first.is_multiple_of(chunk_size)
        && index < count
        && last + 1 == end
        && body.len() as u64 == end - first;
    if !in_step {
        return Ok(refuse(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "invalid_param",
            &format!("Expected the chunk starting at byte {received} of {size}"),
        ));
    }
    write_part(sandbox, PLATFORM, &publish_id, first, body.clone()).await?;
    if first == 0 && !is_video(body) {
        upload["fail_reason"] = FORMAT_FAILED.into();
    }
    if call.fault == Some(Fault::ProcessingFailed) {
        upload["fail_reason"] = FORMAT_FAILED.into();
    }
    upload["received"] = end.into();
    let done = end == size;
    if done {
        upload["finished_ms"] = now_ms().into();
    }
    save_upload(sandbox, row.person, &publish_id, done, &upload, end).await?;
    Ok(if done {
        HttpResponse::Created().finish()
    } else {
        HttpResponse::PartialContent().finish()
    })
}

/// The body of a published (or drafted) upload's post.
fn new_post(person: i64, publish_id: &str, upload: &Value, media_ids: Vec<String>) -> NewPost {
    let info = &upload["post_info"];
    let draft = upload["post_mode"] == "MEDIA_UPLOAD";
    NewPost {
        platform: PLATFORM.key().to_owned(),
        person,
        post_id: snowflake(),
        text: info["title"].as_str().unwrap_or_default().to_owned(),
        reply_to: None,
        quote_of: None,
        media_ids: json!(media_ids).to_string(),
        client_key: Some(publish_id.to_owned()),
        extra: json!({"publish_id": publish_id, "media_type": upload["media_type"],
            "post_mode": upload["post_mode"], "post_info": info,
            "source_info": upload["source_info"], "draft": draft})
        .to_string(),
        created_at: time::now(),
    }
}

/// `POST /v2/post/publish/status/fetch/`.
async fn status(
    sandbox: &Sandbox,
    person: usize,
    body: &Value,
    failing: bool,
) -> Result<HttpResponse, Down> {
    let publish_id = body["publish_id"].as_str().unwrap_or_default().to_owned();
    let wanted = publish_id.clone();
    let Some(row) = sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &wanted))
        .await?
    else {
        return Ok(invalid_param("publish_id does not exist"));
    };
    let mut upload: Value = serde_json::from_str(&row.upload).unwrap_or_default();
    if failing {
        upload["fail_reason"] = FORMAT_FAILED.into();
        let size = u64::try_from(row.size).unwrap_or_default();
        save_upload(
            sandbox,
            row.person,
            &publish_id,
            row.state == MEDIA_READY,
            &upload,
            size,
        )
        .await?;
    }
    let pull = upload["source_info"]["source"] == "PULL_FROM_URL";
    let received = upload["received"].as_u64().unwrap_or_default();
    let processing = if pull {
        "PROCESSING_DOWNLOAD"
    } else {
        "PROCESSING_UPLOAD"
    };
    let bytes_key = if pull {
        "downloaded_bytes"
    } else {
        "uploaded_bytes"
    };
    let delay = sandbox.processing_delay(PLATFORM).await?.num_milliseconds();
    let processed = upload["finished_ms"]
        .as_i64()
        .is_some_and(|at| now_ms() >= at + delay);
    if !processed {
        return Ok(ok(json!({"status": processing, bytes_key: received})));
    }
    if let Some(reason) = upload["fail_reason"].as_str() {
        return Ok(ok(
            json!({"status": "FAILED", "fail_reason": reason, bytes_key: received}),
        ));
    }
    let media_ids: Vec<String> = if upload["media_type"] == "PHOTO" {
        serde_json::from_value(upload["photo_ids"].clone()).unwrap_or_default()
    } else {
        vec![publish_id.clone()]
    };
    let post = new_post(row.person, &publish_id, &upload, media_ids);
    store_post(sandbox, post).await?;
    let key = publish_id.clone();
    let made = sandbox
        .run(move |conn| state::find_post_by_key(conn, PLATFORM, row.person, &key))
        .await?;
    let Some(made) = made else {
        return Ok(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "The post was lost",
        ));
    };
    if upload["post_mode"] == "MEDIA_UPLOAD" {
        return Ok(ok(
            json!({"status": "SEND_TO_USER_INBOX", bytes_key: received}),
        ));
    }
    let id: Value = made
        .post_id
        .parse::<u64>()
        .map_or_else(|_| made.post_id.clone().into(), Value::from);
    Ok(ok(
        json!({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [id],
        bytes_key: received}),
    ))
}

/// `PUT /sandbox/tiktok/video/?upload_id=…&upload_token=…`, mounted with room for TikTok's
/// largest chunk, then answered like every emulated endpoint (call log, faults).
pub async fn upload(req: HttpRequest, body: Bytes, sandbox: Data<Sandbox>) -> HttpResponse {
    endpoints::handle(PLATFORM, "video_upload", req, body, sandbox).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_is_checked_like_tiktok() {
        let source = |size: u64, chunk: u64, count: u64| json!({"video_size": size, "chunk_size": chunk, "total_chunk_count": count});
        assert_eq!(chunking_problem(&source(100, 100, 1)), None);
        assert!(
            chunking_problem(&source(100, 50, 2)).is_some(),
            "small files go whole"
        );
        assert_eq!(chunking_problem(&source(12 * MIB, 5 * MIB, 2)), None);
        assert!(
            chunking_problem(&source(12 * MIB, 5 * MIB, 3)).is_some(),
            "count rounds down"
        );
        assert!(chunking_problem(&source(200 * MIB, 65 * MIB, 3)).is_some());
        assert!(chunking_problem(&json!({})).is_some());
    }

    #[test]
    fn videos_are_known_by_their_first_bytes() {
        assert!(is_video(b"\0\0\0\x18ftypmp42"));
        assert!(is_video(b"\x1A\x45\xDF\xA3webm"));
        assert!(!is_video(b"\x89PNG\r\n"));
    }
}
