//! Reddit's submitting as the emulator answers it (`oauth.reddit.com`): `POST /api/submit`
//! (`kind` self, link, image or video; any subreddit name exists in the sandbox),
//! `POST /api/submit_gallery_post.json`, media assets leased on `POST /api/media/asset.json`
//! and uploaded to the S3 form it names (`s3`), `GET /user/{name}/submitted` (newest first)
//! and `POST /api/del`. Answers are Reddit's `{"json": {"errors": [[code, message, field]],
//! "data": …}}`; image and video submissions answer without the post's id, as Reddit does
//! (it is announced on a websocket), and a video post is listed once the sandbox's
//! processing delay has passed since its upload.

use super::super::{Down, Fault, Sandbox, people, wire};
use super::s3::{self, Asset};
use super::{Incoming, caller, person_id, store_post};
use crate::db::sandbox::{self as state, NewPost};
use crate::domain::{Platform, time};
use actix_web::HttpResponse;
use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

const PLATFORM: Platform = Platform::Reddit;
/// The endpoints emulated here (`oauth::providers::reddit`).
pub const ENDPOINTS: [&str; 5] = ["submit", "submit_gallery", "media_asset", "user", "del"];
const MAX_TITLE: usize = 300;
const MAX_TEXT: usize = 40_000;
const MAX_GALLERY: usize = 20;
const MAX_CAPTION: usize = 180;
const BUCKET: &str = "reddit-uploaded-media";
const MAX_LISTED: i64 = 100;

/// Reddit's answer to an `api_type=json` call.
fn answer_json(errors: Value, data: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({"json": {"errors": errors, "data": data}}))
}

/// One error of an `api_type=json` call: `[code, message, field]`, answered 200 as Reddit does.
fn refused(code: &str, message: &str, field: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"json": {"errors": [[code, message, field]]}}))
}

fn flag(params: &HashMap<String, String>, key: &str) -> bool {
    params.get(key).is_some_and(|v| v == "true")
}

pub async fn answer(sandbox: &Sandbox, call: &Incoming<'_>) -> Result<HttpResponse, Down> {
    let Some(person) = caller(sandbox, PLATFORM, call.req).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    if call.fault == Some(Fault::QuotaExceeded) {
        return Ok(refused(
            "RATELIMIT",
            "Looks like you've been doing that a lot. Take a break for 9 minutes before trying again.",
            "ratelimit",
        ));
    }
    let failing = call.fault == Some(Fault::ProcessingFailed);
    let params = call.params;
    Ok(match (call.name, call.req.method()) {
        ("submit", &Method::POST) => submit(sandbox, person, params, failing).await?,
        ("submit_gallery", &Method::POST) => match serde_json::from_slice(call.body) {
            Ok(body) => gallery(sandbox, person, &body).await?,
            Err(_) => {
                HttpResponse::BadRequest().json(json!({"message": "Bad Request", "error": 400}))
            }
        },
        ("media_asset", &Method::POST) => lease(sandbox, person, params, failing).await?,
        ("user", &Method::GET) => {
            let tail = call.req.match_info().get("tail").unwrap_or("");
            submitted(sandbox, person, tail).await?
        }
        ("del", &Method::POST) => delete(sandbox, person, params).await?,
        _ => HttpResponse::build(StatusCode::NOT_FOUND)
            .json(json!({"message": "Not Found", "error": 404})),
    })
}

/// The fields every submission shares, checked as Reddit does.
fn common_refusal(title: &str, sr: &str) -> Option<HttpResponse> {
    if sr.trim().is_empty() {
        return Some(refused(
            "SUBREDDIT_REQUIRED",
            "you must specify a subreddit",
            "sr",
        ));
    }
    if title.trim().is_empty() {
        return Some(refused("NO_TEXT", "we need something here", "title"));
    }
    if title.chars().count() > MAX_TITLE {
        return Some(refused("TOO_LONG", "this is too long (max: 300)", "title"));
    }
    None
}

/// A new post's id36 and its fullname.
fn new_id() -> (String, String) {
    let n = u64::from(rand::random::<u32>()) + 1_000_000_000;
    let id = radix36(n);
    let name = format!("t3_{id}");
    (id, name)
}

fn radix36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn permalink(sr: &str, id: &str) -> String {
    format!("/r/{sr}/comments/{id}/")
}

/// An uploaded asset named by a submission's `url` (`…/_s3/<bucket>/<asset>/<file>`).
async fn asset_of(
    sandbox: &Sandbox,
    person: usize,
    url: &str,
) -> Result<Option<state::Media>, Down> {
    let Some(asset) = url.rsplit('/').nth(1).map(str::to_owned) else {
        return Ok(None);
    };
    Ok(sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &asset))
        .await?
        .filter(|m| m.state == s3::UPLOADED))
}

/// `POST /api/submit`.
async fn submit(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
    failing: bool,
) -> Result<HttpResponse, Down> {
    let get = |k: &str| params.get(k).map_or("", String::as_str);
    let (title, sr, kind) = (get("title"), get("sr"), get("kind"));
    if let Some(refusal) = common_refusal(title, sr) {
        return Ok(refusal);
    }
    let mut media_ids = Vec::new();
    let mut extra = json!({
        "kind": kind, "subreddit": sr,
        "nsfw": flag(params, "nsfw"), "spoiler": flag(params, "spoiler"),
        "sendreplies": flag(params, "sendreplies"), "resubmit": flag(params, "resubmit"),
        "flair_id": params.get("flair_id"), "flair_text": params.get("flair_text"),
    });
    let mut ready_at = time::now();
    match kind {
        "self" if get("text").chars().count() > MAX_TEXT => {
            return Ok(refused("TOO_LONG", "this is too long (max: 40000)", "text"));
        }
        "self" => extra["selftext"] = get("text").into(),
        "link" => {
            let url = get("url");
            if !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                return Ok(refused("BAD_URL", "you should check that url", "url"));
            }
            extra["link"] = url.into();
        }
        "image" | "video" => {
            let Some(asset) = asset_of(sandbox, person, get("url")).await? else {
                return Ok(refused("BAD_URL", "you should check that url", "url"));
            };
            if kind == "video" {
                let Some(poster) = asset_of(sandbox, person, get("video_poster_url")).await? else {
                    return Ok(refused(
                        "NO_VIDEO_POSTER",
                        "a video needs a poster image",
                        "video_poster_url",
                    ));
                };
                extra["poster"] = poster.id.into();
                let delay = sandbox.processing_delay(PLATFORM).await?;
                if let Some(at) = s3::uploaded_at(&asset) {
                    ready_at = ready_at.max(at + delay);
                }
                let upload: Value = serde_json::from_str(&asset.upload).unwrap_or_default();
                extra["failed"] = (failing || upload["fail"] == true).into();
            }
            media_ids.push(asset.id);
        }
        _ => {
            return Ok(refused(
                "INVALID_OPTION",
                "that option is not valid",
                "kind",
            ));
        }
    }
    extra["ready_at_ms"] = ready_at.and_utc().timestamp_millis().into();
    let (id, name) = new_id();
    store(sandbox, person, &id, title, media_ids, extra).await?;
    let user = people::handle(PLATFORM, person);
    if matches!(kind, "image" | "video") {
        // Reddit names the post later, on the asset's websocket.
        return Ok(answer_json(
            json!([]),
            json!({"user_submitted_page": format!("https://www.reddit.com/user/{user}/submitted/"),
                "websocket_url": format!("wss://ws-sandbox.redditmedia.com/rte_images/{id}")}),
        ));
    }
    Ok(answer_json(
        json!([]),
        json!({"url": format!("https://www.reddit.com{}", permalink(sr, &id)),
            "drafts_count": 0, "id": id, "name": name}),
    ))
}

async fn store(
    sandbox: &Sandbox,
    person: usize,
    id: &str,
    title: &str,
    media_ids: Vec<String>,
    extra: Value,
) -> Result<(), Down> {
    let post = NewPost {
        platform: PLATFORM.key().to_owned(),
        person: person_id(person),
        post_id: id.to_owned(),
        text: [title, extra["selftext"].as_str().unwrap_or_default()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n"),
        reply_to: None,
        quote_of: None,
        media_ids: json!(media_ids).to_string(),
        client_key: None,
        extra: extra.to_string(),
        created_at: time::now(),
    };
    store_post(sandbox, post).await.map(drop)
}

/// `POST /api/submit_gallery_post.json`: a JSON body of `items` (`media_id`, `caption`,
/// `outbound_url`).
async fn gallery(sandbox: &Sandbox, person: usize, body: &Value) -> Result<HttpResponse, Down> {
    let get = |k: &str| body[k].as_str().unwrap_or_default();
    let (title, sr) = (get("title"), get("sr"));
    if let Some(refusal) = common_refusal(title, sr) {
        return Ok(refusal);
    }
    let items = body["items"].as_array().cloned().unwrap_or_default();
    if !(2..=MAX_GALLERY).contains(&items.len()) {
        return Ok(refused(
            "BAD_IMAGES",
            "a gallery takes 2 to 20 images",
            "items",
        ));
    }
    let mut ids = Vec::new();
    for item in &items {
        if item["caption"]
            .as_str()
            .is_some_and(|c| c.chars().count() > MAX_CAPTION)
        {
            return Ok(refused(
                "TOO_LONG",
                "this is too long (max: 180)",
                "caption",
            ));
        }
        let asset = item["media_id"].as_str().unwrap_or_default().to_owned();
        let found = sandbox
            .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &asset))
            .await?
            .filter(|m| m.state == s3::UPLOADED);
        let Some(found) = found else {
            return Ok(refused(
                "MEDIA_NOT_FOUND",
                "that media was not uploaded",
                "items",
            ));
        };
        ids.push(found.id);
    }
    let extra = json!({
        "kind": "gallery", "subreddit": sr,
        "nsfw": body["nsfw"] == true, "spoiler": body["spoiler"] == true,
        "sendreplies": body["sendreplies"] == true,
        "flair_id": body["flair_id"], "flair_text": body["flair_text"],
        "items": items.iter().map(|i| json!({"caption": i["caption"], "outbound_url": i["outbound_url"]})).collect::<Vec<_>>(),
        "ready_at_ms": time::now().and_utc().timestamp_millis(),
    });
    let (id, name) = new_id();
    store(sandbox, person, &id, title, ids, extra).await?;
    Ok(answer_json(
        json!([]),
        json!({"url": format!("https://www.reddit.com{}", permalink(sr, &id)), "id": name}),
    ))
}

/// `POST /api/media/asset.json` (`filepath`, `mimetype`): an upload lease.
async fn lease(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
    failing: bool,
) -> Result<HttpResponse, Down> {
    let (Some(filepath), Some(mimetype)) = (params.get("filepath"), params.get("mimetype")) else {
        return Ok(HttpResponse::BadRequest().json(json!({"message": "Bad Request", "error": 400})));
    };
    let id = radix36(u64::from(rand::random::<u32>()) + 10_000_000_000);
    let filename = filepath.rsplit('/').next().unwrap_or("upload");
    let lease = s3::lease(
        sandbox,
        Asset {
            platform: PLATFORM,
            person,
            id: &id,
            bucket: BUCKET,
            filename,
            content_type: mimetype,
            answer_created: true,
            upload: json!({"fail": failing}),
        },
    )
    .await?;
    // Reddit's action has no scheme: `//reddit-uploaded-media.s3-accelerate.amazonaws.com`.
    let action = lease
        .action
        .split_once(':')
        .map_or(lease.action.clone(), |(_, rest)| rest.to_owned());
    Ok(HttpResponse::Ok().json(json!({
        "args": {"action": action, "fields": lease.fields.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>()},
        "asset": {"asset_id": id, "processing_state": "incomplete", "payload": {"filepath": filepath},
            "websocket_url": format!("wss://ws-sandbox.redditmedia.com/rte_images/{id}")},
    })))
}

/// `GET /user/{name}/submitted`: the account's own posts, newest first, once processed.
async fn submitted(sandbox: &Sandbox, person: usize, tail: &str) -> Result<HttpResponse, Down> {
    let me = people::handle(PLATFORM, person);
    if tail != format!("{me}/submitted") {
        return Ok(HttpResponse::Forbidden().json(json!({"message": "Forbidden", "error": 403})));
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
    let now = time::now().and_utc().timestamp_millis();
    let children: Vec<Value> = posts
        .iter()
        .filter_map(|p| {
            let extra = p.extra();
            let ready = extra["ready_at_ms"].as_i64().unwrap_or_default() <= now;
            if !ready || extra["failed"] == true {
                return None;
            }
            let sr = extra["subreddit"].as_str().unwrap_or_default();
            let title = p.text.split("\n\n").next().unwrap_or_default();
            Some(json!({"kind": "t3", "data": {
                "id": p.post_id, "name": format!("t3_{}", p.post_id), "title": title,
                "subreddit": sr, "author": me, "created_utc": p.created_at.and_utc().timestamp() as f64,
                "permalink": permalink(sr, &p.post_id), "over_18": extra["nsfw"], "spoiler": extra["spoiler"],
                "link_flair_text": extra["flair_text"], "link_flair_template_id": extra["flair_id"],
                "selftext": extra["selftext"].as_str().unwrap_or_default(),
                "url": extra["link"].as_str().map_or_else(|| format!("https://www.reddit.com{}", permalink(sr, &p.post_id)), str::to_owned),
            }}))
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"kind": "Listing", "data": {
        "after": null, "before": null, "dist": children.len(), "children": children}})))
}

/// `POST /api/del` (`id` = a fullname). Reddit answers `{}` whether or not it was there.
async fn delete(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    if let Some(id) = params.get("id").and_then(|f| f.strip_prefix("t3_")) {
        let id = id.to_owned();
        sandbox
            .run(move |conn| {
                state::delete_post(conn, PLATFORM, person_id(person), &id, time::now())
            })
            .await?;
    }
    Ok(HttpResponse::Ok().json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_base_36() {
        assert_eq!(radix36(35), "z");
        assert_eq!(radix36(36), "10");
        let (id, name) = new_id();
        assert_eq!(name, format!("t3_{id}"));
    }
}
