//! X API v2 publishing: `POST /2/media/upload` (the one-shot JSON form, base64 media),
//! `POST /2/media/metadata` (alt text), `POST /2/tweets`, `DELETE /2/tweets/:id` and
//! `GET /2/users/:id/tweets`, checked as X checks them and answered in X's shapes.

use super::super::{Down, Sandbox, people, wire};
use super::{NewMedia, caller, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost, Post};
use crate::domain::{Platform, time};
use crate::publish::text::Measure;
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use serde_json::{Value, json};

const X: Platform = Platform::X;

/// The endpoints emulated here.
pub const ENDPOINTS: [&str; 5] = ["tweets", "tweet", "media_upload", "media_metadata", "users"];

/// Largest image X takes in one request.
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
const MAX_ALT_TEXT: usize = 1000;
const MAX_MEDIA: usize = 4;
/// How far back a repeated text is refused as a duplicate.
const DUPLICATE_WINDOW_HOURS: i64 = 24;

/// X's problem body for a request it could not accept.
fn invalid(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "errors": [{"message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }))
}

fn forbidden(detail: &str) -> HttpResponse {
    HttpResponse::Forbidden().json(json!({
        "detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403,
    }))
}

fn not_found(detail: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({
        "title": "Not Found Error", "detail": detail, "status": 404,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }))
}

pub async fn answer(
    sandbox: &Sandbox,
    name: &str,
    req: &HttpRequest,
    body: &Bytes,
) -> Result<HttpResponse, Down> {
    let Some(person) = caller(sandbox, X, req).await? else {
        return Ok(wire::unauthorized(X));
    };
    let tail = req.match_info().get("tail").unwrap_or("").to_owned();
    let method = req.method();
    match name {
        "media_upload" if method == Method::POST => upload(sandbox, person, body).await,
        "media_metadata" if method == Method::POST => metadata(sandbox, person, body).await,
        "tweets" if method == Method::POST => create(sandbox, person, body).await,
        "tweet" if method == Method::DELETE => delete(sandbox, person, &tail).await,
        "users" if method == Method::GET => user_tweets(sandbox, &tail, req).await,
        _ => Ok(not_found("This endpoint does not answer this method.")),
    }
}

async fn upload(sandbox: &Sandbox, person: usize, body: &Bytes) -> Result<HttpResponse, Down> {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(bytes) = request["media"]
        .as_str()
        .and_then(|m| STANDARD.decode(m).ok())
    else {
        return Ok(invalid("media: a base64-encoded file is required"));
    };
    let category = request["media_category"].as_str().unwrap_or("tweet_image");
    if !matches!(category, "tweet_image" | "dm_image") {
        return Ok(invalid(
            "media_category: use the chunked upload (initialize, append, finalize) for video and GIFs",
        ));
    }
    let Some(media_type) = request["media_type"]
        .as_str()
        .filter(|t| t.starts_with("image/"))
    else {
        return Ok(invalid("media_type: an image type is required"));
    };
    if bytes.len() > MAX_IMAGE_BYTES {
        return Ok(invalid("media: images must be at most 5 MB"));
    }
    let id = snowflake();
    let size = bytes.len();
    store_media(
        sandbox,
        NewMedia {
            platform: X,
            person,
            id: &id,
            content_type: media_type,
            bytes: Bytes::from(bytes),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({"data": {
        "id": id, "media_key": format!("3_{id}"), "size": size, "expires_after_secs": 86_400,
        "image": {"image_type": media_type},
    }})))
}

async fn metadata(sandbox: &Sandbox, person: usize, body: &Bytes) -> Result<HttpResponse, Down> {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(id), Some(text)) = (
        request["id"].as_str().map(str::to_owned),
        request["metadata"]["alt_text"]["text"]
            .as_str()
            .map(str::to_owned),
    ) else {
        return Ok(invalid("id and metadata.alt_text.text are required"));
    };
    if text.chars().count() > MAX_ALT_TEXT {
        return Ok(invalid("metadata.alt_text.text: at most 1000 characters"));
    }
    let (wanted, alt) = (id.clone(), text.clone());
    let set = sandbox
        .run(move |conn| state::set_media_alt_text(conn, X, person_id(person), &wanted, &alt))
        .await?;
    if !set {
        return Ok(invalid("id: media not found"));
    }
    Ok(HttpResponse::Ok().json(json!({"data": {
        "id": id, "associated_metadata": {"alt_text": {"text": text}},
    }})))
}

async fn create(sandbox: &Sandbox, person: usize, body: &Bytes) -> Result<HttpResponse, Down> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Ok(invalid("the body must be a JSON object"));
    };
    let text = request["text"].as_str().unwrap_or("").to_owned();
    let media_ids: Vec<String> = request["media"]["media_ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if text.trim().is_empty() && media_ids.is_empty() {
        return Ok(invalid("text or media is required"));
    }
    if !Measure::X.fits(&text) {
        return Ok(forbidden(
            "You are not permitted to create a Tweet longer than 280 weighted characters.",
        ));
    }
    if media_ids.len() > MAX_MEDIA {
        return Ok(invalid("media.media_ids: at most 4 items"));
    }
    let poll = &request["poll"];
    if !poll.is_null() {
        if let Some(problem) = poll_problem(poll, !media_ids.is_empty()) {
            return Ok(invalid(problem));
        }
    }
    let reply_to = request["reply"]["in_reply_to_tweet_id"]
        .as_str()
        .map(str::to_owned);
    let quote_of = request["quote_tweet_id"].as_str().map(str::to_owned);
    let checked = {
        let (media_ids, reply_to, quote_of, text) = (
            media_ids.clone(),
            reply_to.clone(),
            quote_of.clone(),
            text.clone(),
        );
        sandbox
            .run(move |conn| {
                for id in &media_ids {
                    if state::find_media(conn, X, Some(person_id(person)), id)?.is_none() {
                        return Ok(Some(Refusal::UnknownMedia));
                    }
                }
                for referenced in reply_to.iter().chain(&quote_of) {
                    if state::find_post(conn, X, referenced)?.is_none() {
                        return Ok(Some(Refusal::GoneReference));
                    }
                }
                let since = time::now() - Duration::hours(DUPLICATE_WINDOW_HOURS);
                let recent = state::posts_since(conn, X, person_id(person), since, 200)?;
                if !text.trim().is_empty() && recent.iter().any(|p| p.text == text) {
                    return Ok(Some(Refusal::Duplicate));
                }
                Ok(None)
            })
            .await?
    };
    if let Some(refusal) = checked {
        return Ok(refusal.answer());
    }
    let id = snowflake();
    let extra = json!({
        "poll": poll,
        "reply_settings": request["reply_settings"],
    });
    store_post(
        sandbox,
        NewPost {
            platform: X.key().to_owned(),
            person: person_id(person),
            post_id: id.clone(),
            text: text.clone(),
            reply_to,
            quote_of,
            media_ids: json!(media_ids).to_string(),
            client_key: None,
            extra: extra.to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(json!({"data": {
        "id": id, "text": text, "edit_history_tweet_ids": [id],
    }})))
}

/// Why X refuses a post, found in storage.
enum Refusal {
    UnknownMedia,
    GoneReference,
    Duplicate,
}

impl Refusal {
    fn answer(self) -> HttpResponse {
        match self {
            Refusal::UnknownMedia => invalid("media.media_ids: Your media IDs are invalid."),
            Refusal::GoneReference => forbidden(
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            ),
            Refusal::Duplicate => {
                forbidden("You are not allowed to create a Tweet with duplicate content.")
            }
        }
    }
}

/// What X says of a poll it would refuse.
fn poll_problem(poll: &Value, with_media: bool) -> Option<&'static str> {
    if with_media {
        return Some("poll: a Tweet with a poll cannot have media");
    }
    let options = poll["options"].as_array().cloned().unwrap_or_default();
    if !(2..=4).contains(&options.len()) {
        return Some("poll.options: 2 to 4 options are required");
    }
    if options.iter().any(|o| {
        o.as_str()
            .is_none_or(|o| o.is_empty() || o.chars().count() > 25)
    }) {
        return Some("poll.options: each option is 1 to 25 characters");
    }
    let minutes = poll["duration_minutes"].as_i64().unwrap_or(0);
    if !(5..=10_080).contains(&minutes) {
        return Some("poll.duration_minutes: 5 to 10080");
    }
    None
}

async fn delete(sandbox: &Sandbox, person: usize, id: &str) -> Result<HttpResponse, Down> {
    let wanted = id.to_owned();
    let deleted = sandbox
        .run(move |conn| state::delete_post(conn, X, person_id(person), &wanted, time::now()))
        .await?;
    if !deleted {
        return Ok(not_found(&format!("Could not find tweet with id: [{id}].")));
    }
    Ok(HttpResponse::Ok().json(json!({"data": {"deleted": true}})))
}

fn tweet(post: &Post) -> Value {
    json!({
        "id": post.post_id, "text": post.text, "edit_history_tweet_ids": [post.post_id],
        "created_at": format!("{}", post.created_at.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ")),
    })
}

/// `GET /2/users/:id/tweets?start_time=…&max_results=…`: newest first.
async fn user_tweets(
    sandbox: &Sandbox,
    tail: &str,
    req: &HttpRequest,
) -> Result<HttpResponse, Down> {
    let Some(user) = tail.strip_suffix("/tweets") else {
        return Ok(not_found("This endpoint does not exist."));
    };
    let Some(person) = (0..people::PEOPLE.len()).find(|n| people::platform_id(X, *n) == user)
    else {
        return Ok(not_found(&format!(
            "Could not find user with id: [{user}]."
        )));
    };
    let query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    let since = match query.get("start_time") {
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(t) => t.naive_utc(),
            Err(_) => return Ok(invalid("start_time: an RFC 3339 time is required")),
        },
        None => chrono::NaiveDateTime::MIN,
    };
    let limit = query
        .get("max_results")
        .and_then(|m| m.parse::<i64>().ok())
        .unwrap_or(10)
        .clamp(5, 100);
    let posts = sandbox
        .run(move |conn| state::posts_since(conn, X, person_id(person), since, limit))
        .await?;
    let mut answer = json!({"meta": {"result_count": posts.len()}});
    if let (Some(newest), Some(oldest)) = (posts.first(), posts.last()) {
        answer["data"] = posts.iter().map(tweet).collect();
        answer["meta"]["newest_id"] = newest.post_id.clone().into();
        answer["meta"]["oldest_id"] = oldest.post_id.clone().into();
    }
    Ok(HttpResponse::Ok().json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_are_checked_as_x_does() {
        let ok = json!({"options": ["yes", "no"], "duration_minutes": 60});
        assert_eq!(poll_problem(&ok, false), None);
        assert!(poll_problem(&ok, true).is_some());
        let one = json!({"options": ["yes"], "duration_minutes": 60});
        assert!(poll_problem(&one, false).is_some());
        let long = json!({"options": ["a".repeat(26), "b"], "duration_minutes": 60});
        assert!(poll_problem(&long, false).is_some());
        let short = json!({"options": ["a", "b"], "duration_minutes": 4});
        assert!(poll_problem(&short, false).is_some());
    }
}
