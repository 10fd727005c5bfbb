//! Google Business Profile's local posts (My Business API v4) as the emulator answers them:
//! `POST`/`GET {location}/localPosts` and `GET`/`DELETE {location}/localPosts/{id}` under
//! `mybusiness.googleapis.com/v4/`, on the account's own locations only. A post's media is
//! pulled from its `sourceUrl`, as Google does. Errors are Google's envelope
//! (`{"error": {code, message, status}}`); `quota_exceeded` is its `RESOURCE_EXHAUSTED`
//! 429, and `processing_failed` makes the post `REJECTED`, as Google's review does.

use super::super::{Down, Fault, Sandbox, people, wire};
use super::meta::pull_image;
use super::s3::{Saved, save, sniff};
use super::{Incoming, NewMedia, caller, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, MEDIA_READY, NewPost};
use crate::domain::{Platform, time};
use actix_web::HttpResponse;
use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

const PLATFORM: Platform = Platform::GoogleBusiness;
/// The endpoint emulated here (`oauth::providers::google::BUSINESS`).
pub const ENDPOINT: &str = "mybusiness";
const MAX_SUMMARY: usize = 1500;
const TOPICS: [&str; 3] = ["STANDARD", "EVENT", "OFFER"];
const ACTIONS: [&str; 6] = ["BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL"];
const MAX_LISTED: i64 = 100;
/// Largest video pulled (Google's limit for post videos is far larger; this keeps the
/// sandbox's disk use small).
const MAX_VIDEO_BYTES: u64 = 100 * 1024 * 1024;

/// Google's error envelope.
fn error(status: StatusCode, reason: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({"error": {"code": status.as_u16(), "message": message, "status": reason}}))
}

fn invalid(message: &str) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

fn not_found() -> HttpResponse {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Requested entity was not found.",
    )
}

pub async fn answer(sandbox: &Sandbox, call: &Incoming<'_>) -> Result<HttpResponse, Down> {
    let Some(person) = caller(sandbox, PLATFORM, call.req).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    if call.fault == Some(Fault::QuotaExceeded) {
        return Ok(error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service 'mybusiness.googleapis.com'.",
        ));
    }
    let tail = call.req.match_info().get("tail").unwrap_or("");
    let (location, post) = match tail.split_once("/localPosts") {
        Some((location, rest)) => (location, rest.trim_start_matches('/')),
        None => return Ok(not_found()),
    };
    let owned = people::targets(PLATFORM, person)
        .iter()
        .any(|(id, _, _)| id == location);
    if !owned {
        return Ok(error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "The caller does not have permission",
        ));
    }
    let rejected = call.fault == Some(Fault::ProcessingFailed);
    Ok(match (call.req.method(), post) {
        (&Method::POST, "") => match serde_json::from_slice::<Value>(call.body) {
            Ok(body @ Value::Object(_)) => {
                create(sandbox, person, location, &body, rejected).await?
            }
            _ => invalid("Invalid JSON payload received."),
        },
        (&Method::GET, "") => list(sandbox, person, location).await?,
        (&Method::GET, id) => match find(sandbox, person, location, id).await? {
            Some(post) => HttpResponse::Ok().json(post),
            None => not_found(),
        },
        (&Method::DELETE, id) => {
            let id = id.to_owned();
            let gone = sandbox
                .run(move |conn| {
                    state::delete_post(conn, PLATFORM, person_id(person), &id, time::now())
                })
                .await?;
            if gone {
                HttpResponse::Ok().json(json!({}))
            } else {
                not_found()
            }
        }
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "INVALID_ARGUMENT",
            "Method not allowed.",
        ),
    })
}

/// Checks a local post as Google does: `None` when it is fine.
fn refusal(body: &Value) -> Option<HttpResponse> {
    let topic = body["topicType"].as_str().unwrap_or("STANDARD");
    if !TOPICS.contains(&topic) {
        return Some(invalid("Invalid value at 'local_post.topic_type'"));
    }
    if body["summary"]
        .as_str()
        .is_some_and(|s| s.chars().count() > MAX_SUMMARY)
    {
        return Some(invalid(
            "Request contains an invalid argument: summary is too long",
        ));
    }
    if topic != "STANDARD" {
        let event = &body["event"];
        if event["title"].as_str().is_none_or(str::is_empty)
            || !event["schedule"]["startDate"].is_object()
            || !event["schedule"]["endDate"].is_object()
        {
            return Some(invalid(
                "Request contains an invalid argument: event.title and event.schedule are required",
            ));
        }
    } else if body["event"].is_object() || body["offer"].is_object() {
        return Some(invalid(
            "Request contains an invalid argument: event and offer are not for STANDARD posts",
        ));
    }
    if topic != "OFFER" && body["offer"].is_object() {
        return Some(invalid(
            "Request contains an invalid argument: offer is for OFFER posts",
        ));
    }
    let cta = &body["callToAction"];
    if cta.is_object() {
        let action = cta["actionType"].as_str().unwrap_or_default();
        if !ACTIONS.contains(&action) {
            return Some(invalid(
                "Invalid value at 'local_post.call_to_action.action_type'",
            ));
        }
        if action != "CALL" && cta["url"].as_str().is_none_or(str::is_empty) {
            return Some(invalid(
                "Request contains an invalid argument: callToAction.url is required",
            ));
        }
    }
    None
}

/// Pulls each `media` item from its `sourceUrl`: the stored ids, or the refusal.
async fn pull_media(
    sandbox: &Sandbox,
    person: usize,
    id: &str,
    media: &[Value],
) -> Result<Result<Vec<String>, HttpResponse>, Down> {
    let mut ids = Vec::new();
    for (i, item) in media.iter().enumerate() {
        let url = item["sourceUrl"].as_str().unwrap_or_default();
        let media_id = format!("{id}-{i}");
        let pulled = match item["mediaFormat"].as_str() {
            Some("PHOTO") => match pull_image(url).await {
                Ok((bytes, content_type)) => {
                    let media = NewMedia {
                        platform: PLATFORM,
                        person,
                        id: &media_id,
                        content_type,
                        bytes,
                    };
                    store_media(sandbox, media).await?;
                    Ok(())
                }
                Err(why) => Err(why),
            },
            Some("VIDEO") => pull_video(sandbox, person, &media_id, url).await?,
            _ => {
                return Ok(Err(invalid(
                    "Invalid value at 'local_post.media.media_format'",
                )));
            }
        };
        if let Err(why) = pulled {
            return Ok(Err(invalid(&format!("Fetching sourceUrl failed: {why}"))));
        }
        ids.push(media_id);
    }
    Ok(Ok(ids))
}

/// Pulls a video from `url` to disk as it arrives (up to `MAX_VIDEO_BYTES`, known by its
/// `ftyp` box) and records it as `media_id`; `Err`: why it could not be.
async fn pull_video(
    sandbox: &Sandbox,
    person: usize,
    media_id: &str,
    url: &str,
) -> Result<Result<(), String>, Down> {
    let response = match reqwest::get(url).await {
        Ok(r) if r.status().is_success() => r,
        _ => return Ok(Err("the video could not be downloaded".to_owned())),
    };
    let path = sandbox.media_path(PLATFORM, media_id);
    let saved = save(&path, Box::pin(response.bytes_stream()), MAX_VIDEO_BYTES)
        .await
        .map_err(|e| Down::Disk(e.to_string()))?;
    let (size, head) = match saved {
        Saved::Done { size, head } => (size, head),
        Saved::TooLarge => return Ok(Err("the video is too large".to_owned())),
        Saved::Broken => return Ok(Err("the video download broke off".to_owned())),
    };
    let content_type = sniff(&head);
    if !content_type.starts_with("video/") {
        return Ok(Err("the URL does not serve a video".to_owned()));
    }
    let row = state::Media {
        platform: PLATFORM.key().to_owned(),
        person: person_id(person),
        id: media_id.to_owned(),
        content_type: content_type.to_owned(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        alt_text: None,
        created_at: time::now(),
        state: MEDIA_READY.to_owned(),
        upload: "{}".to_owned(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    Ok(Ok(()))
}

/// `POST {location}/localPosts`.
async fn create(
    sandbox: &Sandbox,
    person: usize,
    location: &str,
    body: &Value,
    rejected: bool,
) -> Result<HttpResponse, Down> {
    if let Some(refused) = refusal(body) {
        return Ok(refused);
    }
    let id = snowflake();
    let media = body["media"].as_array().cloned().unwrap_or_default();
    let ids = match pull_media(sandbox, person, &id, &media).await? {
        Ok(ids) => ids,
        Err(refused) => return Ok(refused),
    };
    let now = time::now();
    let mut post = body.clone();
    post["name"] = format!("{location}/localPosts/{id}").into();
    post["createTime"] = time::rfc3339_millis(now).into();
    post["updateTime"] = time::rfc3339_millis(now).into();
    post["state"] = if rejected { "REJECTED" } else { "LIVE" }.into();
    post["languageCode"] = body["languageCode"].as_str().unwrap_or("en").into();
    post["topicType"] = body["topicType"].as_str().unwrap_or("STANDARD").into();
    post["searchUrl"] = format!("https://local.google.com/place?use=posts&lpsid={id}").into();
    for (item, media_id) in post["media"].as_array_mut().into_iter().flatten().zip(&ids) {
        item["name"] = format!("{location}/media/{media_id}").into();
        item["googleUrl"] = sandbox.media_url(PLATFORM, media_id).into();
    }
    let link = post["callToAction"]["url"].clone();
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: id,
            text: body["summary"].as_str().unwrap_or_default().to_owned(),
            reply_to: None,
            quote_of: None,
            media_ids: json!(ids).to_string(),
            client_key: None,
            extra: json!({"post": post, "location": location, "link": link}).to_string(),
            created_at: now,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(post))
}

async fn find(
    sandbox: &Sandbox,
    person: usize,
    location: &str,
    id: &str,
) -> Result<Option<Value>, Down> {
    let id = id.to_owned();
    Ok(sandbox
        .run(move |conn| state::find_post(conn, PLATFORM, &id))
        .await?
        .filter(|p| p.person == person_id(person) && p.extra()["location"] == location)
        .map(|p| p.extra()["post"].clone()))
}

/// `GET {location}/localPosts`: newest first, in one page.
async fn list(sandbox: &Sandbox, person: usize, location: &str) -> Result<HttpResponse, Down> {
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
        .map(|p| p.extra())
        .filter(|e| e["location"] == location)
        .map(|e| e["post"].clone())
        .collect();
    Ok(HttpResponse::Ok().json(json!({"localPosts": items})))
}
