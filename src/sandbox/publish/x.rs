//! X API v2 publishing: `POST /2/media/upload` (the one-shot JSON form, base64 media),
//! `POST /2/media/metadata` (alt text), `POST /2/tweets`, `DELETE /2/tweets/:id` and
//! `GET /2/users/:id/tweets`, checked as X checks them and answered in X's shapes; a
//! video's chunked upload is in `video`.

mod video;

use super::super::{Down, Fault, Sandbox, people, wire};
use super::{Incoming, NewMedia, caller, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost, Post};
use crate::domain::{Platform, time};
use crate::publish::text::Measure;
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use serde_json::{Map, Value, json};

const X: Platform = Platform::X;

/// The endpoints emulated here.
pub const ENDPOINTS: [&str; 7] = [
    "tweets",
    "tweet",
    "media_upload",
    "media_metadata",
    "users",
    "media_initialize",
    "media_session",
];

/// Largest image X takes in one request.
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
const MAX_ALT_TEXT: usize = 1000;
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

pub async fn answer(sandbox: &Sandbox, call: &Incoming<'_>) -> Result<HttpResponse, Down> {
    let Incoming {
        name,
        req,
        body,
        params,
        fault,
    } = *call;
    let Some(person) = caller(sandbox, X, req).await? else {
        return Ok(wire::unauthorized(X));
    };
    // X's usage cap stops new uploads and new posts.
    if fault == Some(Fault::QuotaExceeded) && matches!(name, "media_initialize" | "tweets") {
        return Ok(video::usage_capped());
    }
    let tail = req.match_info().get("tail").unwrap_or("").to_owned();
    let method = req.method();
    match (name, fault) {
        ("media_session", _) if method == Method::POST => {
            video::session(sandbox, person, &tail, req, body, fault).await
        }
        (_, Some(fault)) => Ok(super::fault_answer(X, fault)),
        ("media_initialize", _) if method == Method::POST => {
            video::initialize(sandbox, person, body).await
        }
        ("media_upload", _) if method == Method::GET => {
            video::status(sandbox, person, params).await
        }
        _ => plain(sandbox, person, name, &tail, req, body).await,
    }
}

/// The calls that take no fault of their own.
async fn plain(
    sandbox: &Sandbox,
    person: usize,
    name: &str,
    tail: &str,
    req: &HttpRequest,
    body: &Bytes,
) -> Result<HttpResponse, Down> {
    let method = req.method();
    match name {
        "media_upload" if method == Method::POST => upload(sandbox, person, body).await,
        "media_metadata" if method == Method::POST => metadata(sandbox, person, body).await,
        "tweets" if method == Method::POST => create(sandbox, person, body).await,
        "tweet" if method == Method::DELETE => delete(sandbox, person, tail).await,
        "users" if method == Method::GET => user_tweets(sandbox, tail, req).await,
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
    let request = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    if let Some(problem) = body_problem(&request) {
        return Ok(invalid(&problem));
    }
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
    let reply_to = request["reply"]["in_reply_to_tweet_id"]
        .as_str()
        .map(str::to_owned);
    let quote_of = request["quote_tweet_id"].as_str().map(str::to_owned);
    let delay = sandbox.processing_delay(X).await?;
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
                    let found = state::find_media(conn, X, Some(person_id(person)), id)?;
                    if !found.is_some_and(|m| video::attachable(&m, delay)) {
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
            // The whole body as it came, for the page and the tests to read back.
            extra: request.to_string(),
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

/// Who may reply, in X's values (`reply_settings`, `poll.reply_settings`).
const REPLY_RULES: [&str; 4] = ["following", "mentionedUsers", "subscribers", "verified"];

/// The fields of a `POST /2/tweets` body and their shapes, as X's schema has them (it
/// allows no others). Edits (`edit_options`) are not emulated.
const BODY: Object = Object {
    members: &[
        ("text", Shape::Text),
        ("card_uri", Shape::Text),
        ("community_id", Shape::Id),
        ("direct_message_deep_link", Shape::Text),
        ("for_super_followers_only", Shape::Flag),
        ("geo", Shape::Geo),
        ("made_with_ai", Shape::Flag),
        ("media", Shape::Media),
        ("nullcast", Shape::Flag),
        ("paid_partnership", Shape::Flag),
        ("poll", Shape::Poll),
        ("quote_tweet_id", Shape::Id),
        ("reply", Shape::Reply),
        ("reply_settings", Shape::ReplyRule),
        ("share_with_followers", Shape::Flag),
    ],
    required: &[],
};

/// What a field of the body must look like.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Text,
    Flag,
    /// A string of 1 to 19 digits (tweet, user, community ids).
    Id,
    /// An array of ids, of `min` to `max` items.
    Ids {
        min: usize,
        max: usize,
    },
    ReplyRule,
    PollOptions,
    PollMinutes,
    Geo,
    Media,
    Poll,
    Reply,
}

impl Shape {
    /// The fields of an object shape, and those it requires.
    fn object(self) -> Option<Object> {
        let (members, required): (Members, &[&str]) = match self {
            Shape::Geo => (&[("place_id", Shape::Text)], &[]),
            Shape::Media => (
                &[
                    ("media_ids", Shape::Ids { min: 1, max: 4 }),
                    ("tagged_user_ids", Shape::Ids { min: 0, max: 10 }),
                ],
                &["media_ids"],
            ),
            Shape::Poll => (
                &[
                    ("options", Shape::PollOptions),
                    ("duration_minutes", Shape::PollMinutes),
                    ("reply_settings", Shape::ReplyRule),
                ],
                &["options", "duration_minutes"],
            ),
            Shape::Reply => (
                &[
                    ("in_reply_to_tweet_id", Shape::Id),
                    (
                        "exclude_reply_user_ids",
                        Shape::Ids {
                            min: 0,
                            max: usize::MAX,
                        },
                    ),
                    ("auto_populate_reply_metadata", Shape::Flag),
                ],
                &["in_reply_to_tweet_id"],
            ),
            _ => return None,
        };
        Some(Object { members, required })
    }

    /// Why `value` does not fit: `": reason"` for the value itself, `".member: reason"`
    /// for a member of an object.
    fn problem(self, value: &Value) -> Option<String> {
        let fits = match self {
            Shape::Text => value.is_string(),
            Shape::Flag => value.is_boolean(),
            Shape::Id => is_id(value),
            Shape::Ids { min, max } => value
                .as_array()
                .is_some_and(|ids| (min..=max).contains(&ids.len()) && ids.iter().all(is_id)),
            Shape::ReplyRule => value.as_str().is_some_and(|v| REPLY_RULES.contains(&v)),
            Shape::PollOptions => value.as_array().is_some_and(|options| {
                (2..=4).contains(&options.len())
                    && options.iter().all(|o| {
                        o.as_str()
                            .is_some_and(|o| (1..=25).contains(&o.chars().count()))
                    })
            }),
            Shape::PollMinutes => value.as_i64().is_some_and(|m| (5..=10_080).contains(&m)),
            Shape::Geo | Shape::Media | Shape::Poll | Shape::Reply => value.is_object(),
        };
        if !fits {
            return Some(format!(": {}", self.expected()));
        }
        let (shape, object) = self.object().zip(value.as_object())?;
        shape.problem(object).map(|p| format!(".{p}"))
    }

    fn expected(self) -> String {
        match self {
            Shape::Text => "a string".into(),
            Shape::Flag => "a boolean".into(),
            Shape::Id => "a string of 1 to 19 digits".into(),
            Shape::Ids { min, max } if max == usize::MAX => {
                format!("at least {min} ids of 1 to 19 digits")
            }
            Shape::Ids { min, max } => format!("{min} to {max} ids of 1 to 19 digits"),
            Shape::ReplyRule => format!("one of {}", REPLY_RULES.join(", ")),
            Shape::PollOptions => "2 to 4 options of 1 to 25 characters".into(),
            Shape::PollMinutes => "5 to 10080".into(),
            Shape::Geo | Shape::Media | Shape::Poll | Shape::Reply => "an object".into(),
        }
    }
}

fn is_id(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|id| (1..=19).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()))
}

type Members = &'static [(&'static str, Shape)];

/// An object's fields and those it requires.
struct Object {
    members: Members,
    required: &'static [&'static str],
}

impl Object {
    /// Why `object` does not fit: an unknown or missing member, or one of the wrong shape,
    /// named by its path.
    fn problem(&self, object: &Map<String, Value>) -> Option<String> {
        if let Some(unknown) = object
            .keys()
            .find(|k| !self.members.iter().any(|(name, _)| name == k))
        {
            return Some(format!("{unknown}: is not a field X takes here"));
        }
        if let Some(missing) = self.required.iter().find(|r| !object.contains_key(**r)) {
            return Some(format!("{missing}: is required"));
        }
        self.members.iter().find_map(|(name, shape)| {
            let value = object.get(*name)?;
            shape.problem(value).map(|p| format!("{name}{p}"))
        })
    }
}

/// What X says of a body its schema refuses, or of attachments it takes only one of: a
/// post carries media, a poll, a quote or a card, and a card never with a DM deep link.
fn body_problem(body: &Value) -> Option<String> {
    let Some(object) = body.as_object() else {
        return Some("the body must be a JSON object".into());
    };
    if let Some(problem) = BODY.problem(object) {
        return Some(problem);
    }
    let attached: Vec<&str> = ["media", "poll", "quote_tweet_id", "card_uri"]
        .into_iter()
        .filter(|k| body.get(k).is_some())
        .collect();
    if attached.len() > 1 {
        return Some(format!(
            "Your request can only include one of these fields: {}",
            attached.join(", ")
        ));
    }
    if body.get("card_uri").is_some() && body.get("direct_message_deep_link").is_some() {
        return Some(
            "Your request can only include one of these fields: card_uri, direct_message_deep_link"
                .into(),
        );
    }
    None
}

/// What the sandbox post page says of a stored body's settings, one line each.
pub fn notes(body: &Value) -> Vec<String> {
    let flags = [
        (
            "nullcast",
            "Promoted only (nullcast): not shown to followers",
        ),
        ("for_super_followers_only", "For Super Followers only"),
        ("paid_partnership", "Paid partnership"),
        ("made_with_ai", "Made with AI"),
    ];
    let mut notes: Vec<String> = flags
        .into_iter()
        .filter(|(name, _)| body[*name] == true)
        .map(|(_, note)| note.to_owned())
        .collect();
    let texts = [
        ("/community_id", "In community"),
        ("/geo/place_id", "Place"),
        ("/card_uri", "Card"),
        ("/direct_message_deep_link", "Message link"),
        ("/reply_settings", "Who can reply"),
        ("/poll/reply_settings", "Who can reply to the poll"),
    ];
    notes.extend(texts.into_iter().filter_map(|(path, label)| {
        body.pointer(path)
            .and_then(Value::as_str)
            .map(|v| format!("{label}: {v}"))
    }));
    if body["share_with_followers"] == true {
        notes.push("Shared with followers too".into());
    }
    for (path, label) in [
        ("/media/tagged_user_ids", "Tagged users"),
        ("/reply/exclude_reply_user_ids", "Left out of the reply"),
    ] {
        if let Some(ids) = body.pointer(path).and_then(Value::as_array) {
            let ids: Vec<&str> = ids.iter().filter_map(Value::as_str).collect();
            notes.push(format!("{label}: {}", ids.join(", ")));
        }
    }
    notes
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
        let with = |poll: Value| body_problem(&json!({"text": "t", "poll": poll}));
        assert_eq!(
            with(json!({"options": ["yes", "no"], "duration_minutes": 60})),
            None
        );
        let ruled =
            json!({"options": ["a", "b"], "duration_minutes": 60, "reply_settings": "following"});
        assert_eq!(with(ruled), None);
        for bad in [
            json!({"options": ["yes"], "duration_minutes": 60}),
            json!({"options": ["a".repeat(26), "b"], "duration_minutes": 60}),
            json!({"options": ["a", "b"], "duration_minutes": 4}),
            json!({"options": ["a", "b"]}),
            json!({"options": ["a", "b"], "duration_minutes": 60, "reply_settings": "everyone"}),
        ] {
            assert!(with(bad.clone()).unwrap().starts_with("poll."), "{bad}");
        }
    }

    #[test]
    fn the_body_is_checked_against_x_schema() {
        let ok = json!({
            "text": "t", "nullcast": true, "geo": {"place_id": "p"},
            "community_id": "123", "share_with_followers": false,
            "for_super_followers_only": false, "direct_message_deep_link": "d",
            "made_with_ai": true, "paid_partnership": false, "reply_settings": "verified",
            "reply": {"in_reply_to_tweet_id": "1", "exclude_reply_user_ids": ["2"]},
            "media": {"media_ids": ["3"], "tagged_user_ids": ["4"]},
        });
        assert_eq!(body_problem(&ok), None);
        let problem = |change: Value| {
            let mut body = ok.clone();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            body_problem(&body).expect("refused")
        };
        assert_eq!(problem(json!({"nullcast": "true"})), "nullcast: a boolean");
        assert_eq!(
            problem(json!({"community_id": "c1"})),
            "community_id: a string of 1 to 19 digits"
        );
        assert_eq!(
            problem(json!({"place_id": "p"})),
            "place_id: is not a field X takes here"
        );
        assert_eq!(
            problem(json!({"geo": {"id": "p"}})),
            "geo.id: is not a field X takes here"
        );
        assert_eq!(problem(json!({"geo": "p"})), "geo: an object");
        let eleven: Vec<String> = (1..=11).map(|n| n.to_string()).collect();
        assert!(
            problem(json!({"media": {"media_ids": ["3"], "tagged_user_ids": eleven}}))
                .starts_with("media.tagged_user_ids: 0 to 10")
        );
        assert_eq!(
            problem(json!({"media": {"tagged_user_ids": ["4"]}})),
            "media.media_ids: is required"
        );
        assert_eq!(
            problem(json!({"reply": {"exclude_reply_user_ids": ["2"]}})),
            "reply.in_reply_to_tweet_id: is required"
        );
        assert_eq!(
            problem(json!({"quote_tweet_id": "9"})),
            "Your request can only include one of these fields: media, quote_tweet_id"
        );
        let mut card = ok.clone();
        card.as_object_mut().unwrap().remove("media");
        card["card_uri"] = json!("card://1");
        assert!(
            body_problem(&card)
                .unwrap()
                .contains("card_uri, direct_message_deep_link")
        );
    }
}
