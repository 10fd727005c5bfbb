//! Facebook Pages' publishing on the Graph API as the emulator answers it, under the
//! `graph` root: a Page's token (`/{page}?fields=access_token`, also in `/me/accounts`),
//! `/{page}/feed` (text, links, `attached_media`), `/{page}/photos` (pulled from `url`,
//! unpublished with `published=false`), `/{page}/videos` (pulled from `file_url`, then
//! processed: `GET /{video}?fields=status`), `/{post}/comments`, `/{post}?fields=permalink_url`
//! and `DELETE /{post}`. Posting takes the Page's token, as on Facebook.

use super::super::{Down, Fault, Sandbox, people};
use super::meta::{self, bad_parameter, no_node};
use super::{NewMedia, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost, Token, TokenKind};
use crate::domain::secrets::new_random_id;
use crate::domain::upload::MediaKind;
use crate::domain::{Platform, time};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use serde_json::{Value, json};
use std::collections::HashMap;

const PLATFORM: Platform = Platform::Facebook;
const MAX_MESSAGE: usize = 63_206;
/// Page tokens from a long-lived user token live as long as it does, about 60 days.
const PAGE_TOKEN_DAYS: i64 = 60;
const MAX_FEED: i64 = 100;
/// Page videos: up to 10 GB.
const MAX_VIDEO_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// Who a token speaks for.
enum Caller {
    User(usize),
    /// A Page's token: its person and Page.
    Page(usize, String),
}

async fn caller(sandbox: &Sandbox, token: &str) -> Result<Option<Caller>, Down> {
    let token = token.to_owned();
    let found = sandbox
        .run(move |conn| state::find_token(conn, &token, PLATFORM))
        .await?;
    let now = time::now();
    Ok(found.and_then(|t| {
        let person = usize::try_from(t.person).ok()?;
        if t.is_live(TokenKind::Access, now) {
            Some(Caller::User(person))
        } else if t.is_live(TokenKind::Page, now) {
            let page: Vec<String> = serde_json::from_str(&t.scopes).ok()?;
            Some(Caller::Page(person, page.into_iter().next()?))
        } else {
            None
        }
    }))
}

/// Issues a token for each of `pages` (the person's own): what `/me/accounts` lists.
pub async fn page_tokens(
    sandbox: &Sandbox,
    person: usize,
    pages: &[String],
) -> Result<Vec<String>, Down> {
    let issued: Vec<String> = pages
        .iter()
        .map(|_| format!("sbx-page-{}", new_random_id(40)))
        .collect();
    let now = time::now();
    let rows: Vec<Token> = issued
        .iter()
        .zip(pages)
        .map(|(token, page)| {
            Token::new(
                TokenKind::Page,
                token,
                PLATFORM,
                person_id(person),
                json!([page]).to_string(),
                now + Duration::days(PAGE_TOKEN_DAYS),
            )
        })
        .collect();
    sandbox
        .run(move |conn| state::insert_tokens(conn, &rows, now))
        .await?;
    Ok(issued)
}

fn manages(person: usize, page: &str) -> bool {
    people::targets(PLATFORM, person)
        .iter()
        .any(|(id, _, _)| id == page)
}

fn needs_page_token() -> HttpResponse {
    meta::error(
        200,
        "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission",
    )
}

/// The `graph` root: `{node}` or `{node}/{edge}`.
pub async fn graph(
    sandbox: &Sandbox,
    req: &HttpRequest,
    params: &HashMap<String, String>,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    let Some(who) = caller(sandbox, meta::token(params)).await? else {
        return Ok(super::super::wire::unauthorized(PLATFORM));
    };
    let tail = req.match_info().get("tail").unwrap_or("").to_owned();
    let (node, edge) = tail.split_once('/').unwrap_or((tail.as_str(), ""));
    let method = req.method();
    if let Some(fault) = fault.filter(|_| edge != "videos") {
        return Ok(super::fault_answer(PLATFORM, fault));
    }
    Ok(match (method, edge, who) {
        (&Method::POST, "videos", Caller::Page(person, page)) if page == node => {
            video(sandbox, person, &page, params, fault).await?
        }
        (&Method::GET, "", who) => read(sandbox, node, params, who).await?,
        (&Method::GET, "feed", Caller::Page(person, page)) if page == node => {
            feed(sandbox, person, &page, params).await?
        }
        (&Method::POST, "feed", Caller::Page(person, page)) if page == node => {
            create(sandbox, person, &page, params).await?
        }
        (&Method::POST, "photos", Caller::Page(person, page)) if page == node => {
            photo(sandbox, person, &page, params).await?
        }
        (&Method::POST, "comments", Caller::Page(person, page)) => {
            comment(sandbox, person, &page, node, params).await?
        }
        (&Method::DELETE, "", Caller::Page(person, page)) => {
            delete(sandbox, person, &page, node).await?
        }
        (_, "feed" | "photos" | "videos" | "comments", _) | (&Method::DELETE, "", _) => {
            needs_page_token()
        }
        _ => no_node(node),
    })
}

/// `GET /{node}`: a Page's token for its manager, a post's permalink, a Page's name.
async fn read(
    sandbox: &Sandbox,
    node: &str,
    params: &HashMap<String, String>,
    who: Caller,
) -> Result<HttpResponse, Down> {
    let fields = params.get("fields").map_or("", String::as_str);
    let person = match &who {
        Caller::User(p) | Caller::Page(p, _) => *p,
    };
    if fields.split(',').any(|f| f == "access_token") {
        return Ok(match who {
            Caller::User(person) if manages(person, node) => {
                let token = page_tokens(sandbox, person, &[node.to_owned()]).await?;
                HttpResponse::Ok().json(json!({"access_token": token[0], "id": node}))
            }
            _ => no_node(node),
        });
    }
    if let Some((_, name, _)) = people::targets(PLATFORM, person)
        .into_iter()
        .find(|(id, _, _)| id == node)
    {
        return Ok(HttpResponse::Ok().json(json!({"id": node, "name": name})));
    }
    let wanted = node.to_owned();
    let post = sandbox
        .run(move |conn| state::find_post(conn, PLATFORM, &wanted))
        .await?;
    if fields.split(',').any(|f| f == "status")
        && let Some(post) = &post
        && post.extra()["video"] == true
    {
        return video_status(sandbox, post).await;
    }
    Ok(match post {
        Some(p) => HttpResponse::Ok().json(json!({
            "id": p.post_id, "message": p.text, "created_time": meta::graph_time(p.created_at),
            "permalink_url": sandbox.post_url(PLATFORM, &p.post_id)})),
        None => no_node(node),
    })
}

/// `GET /{page}/feed`: the Page's posts, newest first, since `since` (unix seconds).
async fn feed(
    sandbox: &Sandbox,
    person: usize,
    page: &str,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let (since, limit) = meta::since_and_limit(params);
    let posts = sandbox
        .run(move |conn| state::posts_since(conn, PLATFORM, person_id(person), since, MAX_FEED))
        .await?;
    let data: Vec<Value> = posts
        .iter()
        .filter(|p| p.reply_to.is_none() && p.extra()["page"] == page)
        .take(limit)
        .map(|p| {
            json!({"id": p.post_id, "message": p.text, "created_time": meta::graph_time(p.created_at),
                "permalink_url": sandbox.post_url(PLATFORM, &p.post_id)})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"data": data, "paging": {"cursors": {}}})))
}

/// The `attached_media[i]` photo ids, in order; else the malformed parameter's name.
fn attached(params: &HashMap<String, String>) -> Result<Vec<String>, String> {
    let mut indexed: Vec<(usize, String)> = Vec::new();
    for (key, value) in params {
        let Some(i) = key
            .strip_prefix("attached_media[")
            .and_then(|k| k.strip_suffix(']'))
        else {
            continue;
        };
        let parsed: Value = serde_json::from_str(value).unwrap_or(Value::Null);
        match (i.parse::<usize>(), parsed["media_fbid"].as_str()) {
            (Ok(i), Some(id)) => indexed.push((i, id.to_owned())),
            _ => return Err(key.clone()),
        }
    }
    indexed.sort();
    Ok(indexed.into_iter().map(|(_, id)| id).collect())
}

/// Call-to-action types Facebook takes on a Page's link post (a subset of its list).
const CTA_TYPES: [&str; 10] = [
    "LEARN_MORE",
    "SHOP_NOW",
    "BOOK_TRAVEL",
    "SIGN_UP",
    "DOWNLOAD",
    "CONTACT_US",
    "SUBSCRIBE",
    "GET_OFFER",
    "ORDER_NOW",
    "WATCH_MORE",
];

/// A post's place, audience and link extras, checked as the Graph API does, for the stored
/// post; else the error message. `link_post`: call-to-action and link cards need a link.
fn post_options(params: &HashMap<String, String>, link_post: bool) -> Result<Value, String> {
    let mut out = serde_json::Map::new();
    let json_of = |name: &str| -> Result<Option<Value>, String> {
        params
            .get(name)
            .map(|raw| {
                serde_json::from_str::<Value>(raw)
                    .map_err(|_| format!("(#100) Param {name} must be JSON"))
            })
            .transpose()
    };
    if let Some(place) = params.get("place") {
        if place.is_empty() || !place.bytes().all(|b| b.is_ascii_digit()) {
            return Err("(#100) Param place must be a valid Page id".to_owned());
        }
        out.insert("place".into(), place.as_str().into());
    }
    for name in ["targeting", "feed_targeting"] {
        if let Some(v) = json_of(name)? {
            if !v.is_object() {
                return Err(format!("(#100) Param {name} must be an object"));
            }
            out.insert(name.into(), v);
        }
    }
    let is_url = |v: &Value| v.as_str().and_then(|s| url::Url::parse(s).ok()).is_some();
    if let Some(cta) = json_of("call_to_action")? {
        let known = cta["type"].as_str().is_some_and(|t| CTA_TYPES.contains(&t));
        if !link_post || !known || !is_url(&cta["value"]["link"]) {
            return Err(
                "(#100) call_to_action needs a known type and a value.link, on a link post"
                    .to_owned(),
            );
        }
        out.insert("call_to_action".into(), cta);
    }
    if let Some(cards) = json_of("child_attachments")? {
        let fine = cards.as_array().is_some_and(|c| {
            (2..=5).contains(&c.len()) && c.iter().all(|card| is_url(&card["link"]))
        });
        if !link_post || !fine {
            return Err(
                "(#100) child_attachments takes 2 to 5 objects with a link, on a link post"
                    .to_owned(),
            );
        }
        out.insert("child_attachments".into(), cards);
    }
    if let Some(end_card) = params.get("multi_share_end_card") {
        let Ok(end_card) = end_card.parse::<bool>() else {
            return Err("(#100) Param multi_share_end_card must be a boolean".to_owned());
        };
        if !out.contains_key("child_attachments") {
            return Err("(#100) multi_share_end_card needs child_attachments".to_owned());
        }
        out.insert("multi_share_end_card".into(), end_card.into());
    }
    Ok(Value::Object(out))
}

/// Stores a Page post: its id.
async fn store(
    sandbox: &Sandbox,
    person: usize,
    page: &str,
    message: &str,
    media: &[String],
    extra: Value,
) -> Result<String, Down> {
    let id = format!("{page}_{}", snowflake());
    let mut extra = extra;
    extra["page"] = page.into();
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: id.clone(),
            text: message.to_owned(),
            reply_to: None,
            quote_of: None,
            media_ids: json!(media).to_string(),
            client_key: None,
            extra: extra.to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    Ok(id)
}

/// `POST /{page}/feed`.
async fn create(
    sandbox: &Sandbox,
    person: usize,
    page: &str,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let message = params.get("message").map_or("", String::as_str);
    let link = params.get("link");
    let photos = match attached(params) {
        Ok(p) => p,
        Err(key) => {
            return Ok(bad_parameter(&format!(
                "{key} must be {{\"media_fbid\": \"…\"}}"
            )));
        }
    };
    if message.trim().is_empty() && link.is_none() && photos.is_empty() {
        return Ok(bad_parameter("Missing message or attachment"));
    }
    if message.chars().count() > MAX_MESSAGE {
        return Ok(bad_parameter("The message is too long"));
    }
    if let Some(link) = link
        && url::Url::parse(link).is_err()
    {
        return Ok(bad_parameter("The link is not a URL"));
    }
    let mut extra = match post_options(params, link.is_some()) {
        Ok(options) => options,
        Err(why) => return Ok(bad_parameter(&why)),
    };
    extra["link"] = link.cloned().into();
    for id in &photos {
        let wanted = id.clone();
        let found = sandbox
            .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &wanted))
            .await?;
        if found.is_none() {
            return Ok(bad_parameter(&format!("Invalid media_fbid {id}")));
        }
    }
    let id = store(sandbox, person, page, message, &photos, extra).await?;
    Ok(HttpResponse::Ok().json(json!({"id": id})))
}

/// `POST /{page}/photos`: pulls `url`; published unless `published=false`.
async fn photo(
    sandbox: &Sandbox,
    person: usize,
    page: &str,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let Some(url) = params.get("url") else {
        return Ok(bad_parameter("Requires upload file: url is missing"));
    };
    let options = match post_options(params, false) {
        Ok(options) => options,
        Err(why) => return Ok(bad_parameter(&why)),
    };
    let (bytes, content_type) = match meta::pull_image(url).await {
        Ok(pulled) => pulled,
        Err(why) => {
            return Ok(meta::error(
                324,
                &format!("(#324) Missing or invalid image file: {why}"),
            ));
        }
    };
    let photo_id = snowflake();
    store_media(
        sandbox,
        NewMedia {
            platform: PLATFORM,
            person,
            id: &photo_id,
            content_type,
            bytes,
        },
    )
    .await?;
    if let Some(alt) = params.get("alt_text_custom") {
        let (id, alt) = (photo_id.clone(), alt.clone());
        sandbox
            .run(move |conn| {
                state::set_media_alt_text(conn, PLATFORM, person_id(person), &id, &alt)
            })
            .await?;
    }
    if params.get("published").map(String::as_str) == Some("false") {
        return Ok(HttpResponse::Ok().json(json!({"id": photo_id})));
    }
    let caption = params
        .get("caption")
        .or_else(|| params.get("message"))
        .map_or("", String::as_str);
    let post_id = store(
        sandbox,
        person,
        page,
        caption,
        std::slice::from_ref(&photo_id),
        options,
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({"id": photo_id, "post_id": post_id})))
}

/// `POST /{page}/videos` with `file_url`: pulls the video, which Facebook then processes and
/// posts. The sandbox takes no `upload_phase` (resumable) uploads.
async fn video(
    sandbox: &Sandbox,
    person: usize,
    page: &str,
    params: &HashMap<String, String>,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    match fault {
        Some(Fault::QuotaExceeded) => {
            return Ok(meta::error(32, "(#32) Page request limit reached"));
        }
        Some(Fault::ChunkRejected) => {
            return Ok(super::fault_answer(PLATFORM, Fault::ChunkRejected));
        }
        _ => {}
    }
    if params.contains_key("upload_phase") {
        return Ok(bad_parameter(
            "The sandbox takes Page videos by file_url, not upload_phase",
        ));
    }
    let Some(url) = params.get("file_url") else {
        return Ok(bad_parameter("Requires upload file: file_url is missing"));
    };
    let description = params.get("description").map_or("", String::as_str);
    if description.chars().count() > MAX_MESSAGE {
        return Ok(bad_parameter("The description is too long"));
    }
    let id = snowflake();
    let pulled = meta::pull_media(sandbox, PLATFORM, person, &id, url, MAX_VIDEO_BYTES).await?;
    if !pulled.is_ok_and(|p| p.kind == MediaKind::Video) {
        return Ok(meta::error(
            389,
            "(#389) Unable to fetch video file from URL.",
        ));
    }
    let mut extra = json!({"video": true, "page": page,
        "status": if fault == Some(Fault::ProcessingFailed) { "error" } else { "processing" }});
    for key in [
        "title",
        "published",
        "unpublished_content_type",
        "no_story",
        "secret",
    ] {
        if let Some(v) = params.get(key) {
            extra[key] = v.as_str().into();
        }
    }
    // The video's id is its post's: comments and deletes take it.
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: id.clone(),
            text: description.to_owned(),
            reply_to: None,
            quote_of: None,
            media_ids: json!([id]).to_string(),
            client_key: None,
            extra: extra.to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({"id": id})))
}

/// `GET /{video-id}?fields=status`: `processing` until the processing delay has passed.
async fn video_status(sandbox: &Sandbox, post: &state::Post) -> Result<HttpResponse, Down> {
    let extra = post.extra();
    let delay = sandbox.processing_delay(PLATFORM).await?;
    let status = match extra["status"].as_str() {
        Some("error") => "error",
        _ if time::now() >= post.created_at + delay => "ready",
        _ => "processing",
    };
    let mut answer = json!({"id": post.post_id, "status": {"video_status": status},
        "permalink_url": sandbox.post_url(PLATFORM, &post.post_id)});
    if status == "error" {
        answer["status"]["processing_phase"] = json!({"status": "error",
            "errors": [{"code": 1_363_008, "message": "Video processing failed"}]});
    }
    Ok(HttpResponse::Ok().json(answer))
}

/// `POST /{post}/comments`: a comment as the Page.
async fn comment(
    sandbox: &Sandbox,
    person: usize,
    page: &str,
    post_id: &str,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let Some(message) = params.get("message").filter(|m| !m.trim().is_empty()) else {
        return Ok(bad_parameter("Missing message"));
    };
    let wanted = post_id.to_owned();
    if sandbox
        .run(move |conn| state::find_post(conn, PLATFORM, &wanted))
        .await?
        .is_none()
    {
        return Ok(no_node(post_id));
    }
    let suffix = post_id.rsplit('_').next().unwrap_or(post_id);
    let id = format!("{suffix}_{}", snowflake());
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: id.clone(),
            text: message.clone(),
            reply_to: Some(post_id.to_owned()),
            quote_of: None,
            media_ids: "[]".to_owned(),
            client_key: None,
            extra: json!({"page": page}).to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({"id": id})))
}

/// `DELETE /{post}`: only the Page's own posts.
async fn delete(
    sandbox: &Sandbox,
    person: usize,
    page: &str,
    post_id: &str,
) -> Result<HttpResponse, Down> {
    if !post_id.starts_with(&format!("{page}_")) {
        return Ok(no_node(post_id));
    }
    let wanted = post_id.to_owned();
    let deleted = sandbox
        .run(move |conn| {
            state::delete_post(conn, PLATFORM, person_id(person), &wanted, time::now())
        })
        .await?;
    Ok(if deleted {
        HttpResponse::Ok().json(json!({"success": true}))
    } else {
        no_node(post_id)
    })
}
