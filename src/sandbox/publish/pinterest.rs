//! Pinterest API v5's publishing as the emulator answers it: `POST /v5/pins` on one of the
//! account's boards, its `media_source` an image URL (pulled, as Pinterest does), 2 to 5
//! image URLs (a carousel), or an uploaded video (`video_id`) with its cover;
//! `GET /v5/boards/{id}/pins`, `GET` and `DELETE /v5/pins/{id}`. Videos are registered on
//! `POST /v5/media`, uploaded to the S3 form the answer names (`s3`), and processed for the
//! sandbox's processing delay (`GET /v5/media/{id}`: registered, processing, succeeded or
//! failed). Errors are Pinterest's `{code, message}`.

use super::super::{Down, Fault, Sandbox, people, wire};
use super::meta::{pull_image, sniff_image};
use super::s3::{self, Asset};
use super::{Incoming, NewMedia, caller, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost};
use crate::domain::{Platform, time};
use actix_web::HttpResponse;
use actix_web::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::NaiveDateTime;
use serde_json::{Map, Value, json};

const PLATFORM: Platform = Platform::Pinterest;
/// The endpoints emulated here (`oauth::providers::pinterest`).
pub const ENDPOINTS: [&str; 5] = ["pins", "pin", "board", "media", "media_status"];
const MAX_TITLE: usize = 100;
const MAX_DESCRIPTION: usize = 800;
const MAX_LINK: usize = 2048;
const MAX_ALT_TEXT: usize = 500;
const CAROUSEL: std::ops::RangeInclusive<usize> = 2..=5;
const AI_DISCLOSURES: [&str; 2] = ["AI_MODIFIED", "SYNTHETIC_PERFORMER"];
const BUCKET: &str = "pinterest-media-upload";
/// Pins listed per board.
const MAX_LISTED: i64 = 250;

/// Pinterest's error object.
fn error(status: StatusCode, code: i64, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"code": code, "message": message}))
}

/// Code 1: the request's parameters are wrong.
fn invalid(message: &str) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, 1, message)
}

/// Pinterest time: `2026-01-01T20:10:40`.
fn pinterest_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

pub async fn answer(sandbox: &Sandbox, call: &Incoming<'_>) -> Result<HttpResponse, Down> {
    let Some(person) = caller(sandbox, PLATFORM, call.req).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    if call.fault == Some(Fault::QuotaExceeded) {
        return Ok(error(
            StatusCode::TOO_MANY_REQUESTS,
            29,
            "You have exceeded your rate limit. Try again later.",
        ));
    }
    let failing = call.fault == Some(Fault::ProcessingFailed);
    let tail = call.req.match_info().get("tail").unwrap_or("");
    let method = call.req.method();
    Ok(match (call.name, method) {
        ("pins", &Method::POST) => match serde_json::from_slice::<Value>(call.body) {
            Ok(Value::Object(body)) => create(sandbox, person, &body).await?,
            _ => invalid("Invalid request body: a JSON object is expected."),
        },
        ("pin", &Method::GET) => read(sandbox, person, tail).await?,
        ("pin", &Method::DELETE) => delete(sandbox, person, tail).await?,
        ("board", &Method::GET) => match tail.strip_suffix("/pins") {
            Some(board) => list(sandbox, person, board).await?,
            None => not_found("Board"),
        },
        ("media", &Method::POST) => register(sandbox, person, call.body, failing).await?,
        ("media_status", &Method::GET) => status(sandbox, person, tail, failing).await?,
        _ => error(StatusCode::METHOD_NOT_ALLOWED, 405, "Method not allowed."),
    })
}

fn not_found(what: &str) -> HttpResponse {
    error(StatusCode::NOT_FOUND, 404, &format!("{what} not found."))
}

fn owns_board(person: usize, board: &str) -> bool {
    people::targets(PLATFORM, person)
        .iter()
        .any(|(id, _, _)| id == board)
}

fn text<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// Checks the pin's own fields as Pinterest does: `None` when they are fine.
fn field_refusal(body: &Map<String, Value>, person: usize) -> Option<HttpResponse> {
    let Some(board) = text(body, "board_id") else {
        return Some(invalid(
            "Invalid parameters: 'board_id' is a required property",
        ));
    };
    if !owns_board(person, board) {
        return Some(not_found("Board"));
    }
    for (key, limit) in [
        ("title", MAX_TITLE),
        ("description", MAX_DESCRIPTION),
        ("alt_text", MAX_ALT_TEXT),
        ("link", MAX_LINK),
    ] {
        if text(body, key).is_some_and(|v| v.chars().count() > limit) {
            return Some(invalid(&format!(
                "Invalid parameters: '{key}' is longer than {limit} characters"
            )));
        }
    }
    if let Some(link) = text(body, "link")
        && !is_web_url(link)
    {
        return Some(invalid("Invalid parameters: 'link' is not a valid URL"));
    }
    let disclosures = body.get("ai_disclosures").map(|d| &d["values"]);
    if let Some(values) = disclosures {
        let known = values.as_array().is_some_and(|v| {
            v.iter()
                .all(|d| d.as_str().is_some_and(|d| AI_DISCLOSURES.contains(&d)))
        });
        if !known {
            return Some(invalid(
                "Invalid parameters: 'ai_disclosures.values' takes AI_MODIFIED and SYNTHETIC_PERFORMER",
            ));
        }
    }
    None
}

fn is_web_url(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// What a pin shows, once its media is in the sandbox.
struct Made {
    media_type: &'static str,
    creative_type: &'static str,
    media_ids: Vec<String>,
    /// What the pin's `media_source` said besides its media (carousel items, the cover).
    source: Value,
}

/// `POST /v5/pins`.
async fn create(
    sandbox: &Sandbox,
    person: usize,
    body: &Map<String, Value>,
) -> Result<HttpResponse, Down> {
    if let Some(refused) = field_refusal(body, person) {
        return Ok(refused);
    }
    let id = snowflake();
    let source = body.get("media_source").cloned().unwrap_or(Value::Null);
    let made = match source["source_type"].as_str() {
        Some("image_url") => image(sandbox, person, &id, &source).await?,
        Some("multiple_image_urls") => carousel(sandbox, person, &id, &source).await?,
        Some("video_id") => video(sandbox, person, &source).await?,
        _ => Err(invalid(
            "Invalid parameters: 'media_source.source_type' must be image_url, multiple_image_urls or video_id",
        )),
    };
    let made = match made {
        Ok(made) => made,
        Err(refused) => return Ok(refused),
    };
    let now = time::now();
    let mut pin = json!({
        "id": id, "created_at": pinterest_time(now),
        "link": body.get("link").cloned().unwrap_or(Value::Null),
        "title": body.get("title").cloned().unwrap_or(Value::Null),
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "alt_text": body.get("alt_text").cloned().unwrap_or(Value::Null),
        "board_id": body.get("board_id").cloned().unwrap_or(Value::Null),
        "board_section_id": body.get("board_section_id").cloned().unwrap_or(Value::Null),
        "board_owner": {"username": people::handle(PLATFORM, person)},
        "creative_type": made.creative_type,
        "dominant_color": "#6E7874", "is_owner": true, "is_standard": true,
        "has_been_promoted": false, "parent_pin_id": null, "note": null,
        "media": {"media_type": made.media_type},
    });
    if let Some(d) = body.get("ai_disclosures") {
        pin["ai_disclosures"] = d.clone();
    }
    let title = text(body, "title").unwrap_or_default();
    let description = text(body, "description").unwrap_or_default();
    let alt = body.get("alt_text").cloned().unwrap_or(Value::Null);
    let extra = json!({
        "pin": pin, "media_source": made.source, "link": body.get("link"),
        "alt_texts": vec![alt; made.media_ids.len()],
    });
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: id,
            text: [title, description]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n"),
            reply_to: None,
            quote_of: None,
            media_ids: json!(made.media_ids).to_string(),
            client_key: None,
            extra: extra.to_string(),
            created_at: now,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(pin))
}

/// Pulls an image into the sandbox as `id`.
async fn pull(
    sandbox: &Sandbox,
    person: usize,
    id: &str,
    url: Option<&str>,
) -> Result<Result<(), HttpResponse>, Down> {
    let Some(url) = url else {
        return Ok(Err(invalid(
            "Invalid parameters: an image 'url' is required",
        )));
    };
    match pull_image(url).await {
        Ok((bytes, content_type)) => {
            let media = NewMedia {
                platform: PLATFORM,
                person,
                id,
                content_type,
                bytes,
            };
            store_media(sandbox, media).await?;
            Ok(Ok(()))
        }
        Err(why) => Ok(Err(invalid(&format!(
            "Sorry, we could not fetch the image: {why}"
        )))),
    }
}

type Outcome = Result<Made, HttpResponse>;

async fn image(
    sandbox: &Sandbox,
    person: usize,
    id: &str,
    source: &Value,
) -> Result<Outcome, Down> {
    let image = format!("{id}-image");
    if let Err(refused) = pull(sandbox, person, &image, source["url"].as_str()).await? {
        return Ok(Err(refused));
    }
    Ok(Ok(Made {
        media_type: "image",
        creative_type: "REGULAR",
        media_ids: vec![image],
        source: json!({"source_type": "image_url"}),
    }))
}

async fn carousel(
    sandbox: &Sandbox,
    person: usize,
    id: &str,
    source: &Value,
) -> Result<Outcome, Down> {
    let items = source["items"].as_array().cloned().unwrap_or_default();
    if !CAROUSEL.contains(&items.len()) {
        return Ok(Err(invalid(
            "Invalid parameters: 'media_source.items' takes 2 to 5 images",
        )));
    }
    let index = source["index"].as_u64();
    if index.is_some_and(|i| i >= items.len() as u64) {
        return Ok(Err(invalid(
            "Invalid parameters: 'media_source.index' is not an item",
        )));
    }
    let mut ids = Vec::new();
    let mut kept = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item["link"].as_str().is_some_and(|l| !is_web_url(l))
            || item["title"]
                .as_str()
                .is_some_and(|t| t.chars().count() > MAX_TITLE)
            || item["description"]
                .as_str()
                .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return Ok(Err(invalid(&format!(
                "Invalid parameters: carousel item {i} has a bad title, description or link"
            ))));
        }
        let image = format!("{id}-image{i}");
        if let Err(refused) = pull(sandbox, person, &image, item["url"].as_str()).await? {
            return Ok(Err(refused));
        }
        ids.push(image);
        kept.push(json!({"title": item["title"], "description": item["description"], "link": item["link"]}));
    }
    Ok(Ok(Made {
        media_type: "multiple_images",
        creative_type: "CAROUSEL",
        media_ids: ids,
        source: json!({"source_type": "multiple_image_urls", "items": kept, "index": index}),
    }))
}

/// A video pin: its upload must have been processed, and it needs a cover.
async fn video(sandbox: &Sandbox, person: usize, source: &Value) -> Result<Outcome, Down> {
    let Some(media_id) = source["media_id"].as_str().map(str::to_owned) else {
        return Ok(Err(invalid(
            "Invalid parameters: 'media_source.media_id' is required",
        )));
    };
    let wanted = media_id.clone();
    let row = sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &wanted))
        .await?;
    let Some(row) = row else {
        return Ok(Err(not_found("Media")));
    };
    if video_status(sandbox, &row).await? != "succeeded" {
        return Ok(Err(invalid(
            "Invalid parameters: the video upload has not been processed",
        )));
    }
    let cover = match cover(sandbox, person, &media_id, source).await? {
        Ok(cover) => cover,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(Ok(Made {
        media_type: "video",
        creative_type: "VIDEO",
        media_ids: vec![media_id.clone()],
        source: json!({"source_type": "video_id", "media_id": media_id, "cover": cover}),
    }))
}

/// The cover of a video pin: an image pulled from `cover_image_url`, one sent as base64,
/// or a frame of the video (`cover_image_key_frame_time`).
async fn cover(
    sandbox: &Sandbox,
    person: usize,
    media_id: &str,
    source: &Value,
) -> Result<Result<Value, HttpResponse>, Down> {
    let image = format!("{media_id}-cover");
    if let Some(url) = source["cover_image_url"].as_str() {
        return Ok(pull(sandbox, person, &image, Some(url))
            .await?
            .map(|()| json!({"image": image, "url": url})));
    }
    if let Some(data) = source["cover_image_data"].as_str() {
        let declared = source["cover_image_content_type"].as_str();
        let bytes = STANDARD.decode(data).ok();
        let sniffed = bytes.as_deref().and_then(sniff_image);
        let (Some(bytes), Some(content_type)) = (bytes, sniffed) else {
            return Ok(Err(invalid(
                "Invalid parameters: 'cover_image_data' is not a base64 image",
            )));
        };
        if declared != Some(content_type) {
            return Ok(Err(invalid(
                "Invalid parameters: 'cover_image_content_type' does not match the image",
            )));
        }
        let media = NewMedia {
            platform: PLATFORM,
            person,
            id: &image,
            content_type,
            bytes: Bytes::from(bytes),
        };
        store_media(sandbox, media).await?;
        return Ok(Ok(json!({"image": image, "content_type": content_type})));
    }
    match &source["cover_image_key_frame_time"] {
        Value::Number(n) if n.as_u64().is_some() => Ok(Ok(json!({"key_frame_time": n}))),
        Value::Null => Ok(Err(invalid(
            "Invalid parameters: a video pin needs cover_image_url, cover_image_data or cover_image_key_frame_time",
        ))),
        _ => Ok(Err(invalid(
            "Invalid parameters: 'cover_image_key_frame_time' must be a whole number",
        ))),
    }
}

/// `GET /v5/pins/{id}`.
async fn read(sandbox: &Sandbox, person: usize, id: &str) -> Result<HttpResponse, Down> {
    let id = id.to_owned();
    let found = sandbox
        .run(move |conn| state::find_post(conn, PLATFORM, &id))
        .await?
        .filter(|p| p.person == person_id(person));
    Ok(match found {
        Some(post) => HttpResponse::Ok().json(&post.extra()["pin"]),
        None => not_found("Pin"),
    })
}

/// `DELETE /v5/pins/{id}`.
async fn delete(sandbox: &Sandbox, person: usize, id: &str) -> Result<HttpResponse, Down> {
    let id = id.to_owned();
    let deleted = sandbox
        .run(move |conn| state::delete_post(conn, PLATFORM, person_id(person), &id, time::now()))
        .await?;
    Ok(if deleted {
        HttpResponse::NoContent().finish()
    } else {
        not_found("Pin")
    })
}

/// `GET /v5/boards/{id}/pins`: the board's pins, newest first, in one page.
async fn list(sandbox: &Sandbox, person: usize, board: &str) -> Result<HttpResponse, Down> {
    if !owns_board(person, board) {
        return Ok(not_found("Board"));
    }
    let posts = sandbox
        .run(move |conn| {
            state::posts_since(
                conn,
                PLATFORM,
                person_id(person),
                chrono::DateTime::UNIX_EPOCH.naive_utc(),
                MAX_LISTED,
            )
        })
        .await?;
    let items: Vec<Value> = posts
        .iter()
        .map(|p| p.extra()["pin"].clone())
        .filter(|pin| pin["board_id"] == board)
        .collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "bookmark": null})))
}

/// `POST /v5/media`: registers a video upload and leases its S3 form.
async fn register(
    sandbox: &Sandbox,
    person: usize,
    body: &Bytes,
    failing: bool,
) -> Result<HttpResponse, Down> {
    let asked: Value = serde_json::from_slice(body).unwrap_or_default();
    if asked["media_type"] != "video" {
        return Ok(invalid("Invalid parameters: 'media_type' must be video"));
    }
    let id = snowflake();
    let lease = s3::lease(
        sandbox,
        Asset {
            platform: PLATFORM,
            person,
            id: &id,
            bucket: BUCKET,
            filename: "video.mp4",
            content_type: "multipart/form-data",
            answer_created: false,
            upload: json!({"fail": failing}),
        },
    )
    .await?;
    let parameters: Map<String, Value> = lease
        .fields
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Ok(HttpResponse::Created().json(json!({
        "media_id": id, "media_type": "video",
        "upload_url": lease.action, "upload_parameters": parameters,
    })))
}

/// Where a video upload stands: `registered` until its bytes arrive, `processing` for the
/// processing delay, then `succeeded` (or `failed`, when scripted).
async fn video_status(sandbox: &Sandbox, row: &state::Media) -> Result<&'static str, Down> {
    let Some(at) = s3::uploaded_at(row) else {
        return Ok("registered");
    };
    if time::now() < at + sandbox.processing_delay(PLATFORM).await? {
        return Ok("processing");
    }
    let upload: Value = serde_json::from_str(&row.upload).unwrap_or_default();
    Ok(
        if upload["fail"] == true || !row.content_type.starts_with("video/") {
            "failed"
        } else {
            "succeeded"
        },
    )
}

/// `GET /v5/media/{id}`.
async fn status(
    sandbox: &Sandbox,
    person: usize,
    id: &str,
    failing: bool,
) -> Result<HttpResponse, Down> {
    let wanted = id.to_owned();
    let Some(mut row) = sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &wanted))
        .await?
    else {
        return Ok(not_found("Media"));
    };
    if failing {
        let mut upload: Value = serde_json::from_str(&row.upload).unwrap_or_default();
        upload["fail"] = true.into();
        row.upload = upload.to_string();
        let kept = row.clone();
        sandbox
            .run(move |conn| state::update_media(conn, &kept))
            .await?;
    }
    let status = video_status(sandbox, &row).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"media_id": row.id, "media_type": "video", "status": status})))
}
