//! Instagram's content publishing (Instagram API with Instagram Login) as the emulator
//! answers it, under the `graph` root:
//! - `POST /{ig-user-id}/media` makes a container: an image (`image_url`, JPEG only), a reel
//!   (`media_type=REELS`, `video_url`), a story (`media_type=STORIES`), a carousel item
//!   (`is_carousel_item=true`, an image or `media_type=VIDEO`), or a carousel
//!   (`media_type=CAROUSEL`, `children` of finished items). The media is pulled from its URL
//!   as Instagram does, chunk by chunk to disk; one that cannot be fetched leaves the
//!   container in `ERROR`.
//! - `GET /{container-id}?fields=status_code,status`: a video container is `IN_PROGRESS`
//!   until the platform's processing delay has passed since it was made, then `FINISHED`;
//!   `PUBLISHED` once published.
//! - `POST /{ig-user-id}/media_publish?creation_id=` publishes a finished container once.
//! - `GET /{ig-user-id}/media` lists the feed, `GET /{media-id}` reads a post (its
//!   permalink), `POST /{media-id}/comments` comments, `GET
//!   /{ig-user-id}/content_publishing_limit` counts the posts of the last 24 hours.
//!
//! Faults: `processing_failed` makes the container a call names (or the one made) `ERROR`;
//! `quota_exceeded` answers as Instagram does at its 24-hour publishing limit.

use super::super::{Down, Fault, Sandbox, endpoints, people, wire};
use super::meta::{self, ERROR, FINISHED, IN_PROGRESS, bad_parameter, no_node};
use super::{person_id, snowflake, store_post};
use crate::db::sandbox::{self as state, NewPost};
use crate::domain::upload::MediaKind;
use crate::domain::{Platform, time};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use serde_json::{Value, json};
use std::collections::HashMap;

const PLATFORM: Platform = Platform::Instagram;
/// A container's row: its content type.
const CONTAINER: &str = "application/vnd.instagram.container+json";
const MAX_CAPTION: usize = 2200;
const MAX_HASHTAGS: usize = 30;
const MAX_CAROUSEL: usize = 10;
const MAX_COLLABORATORS: usize = 3;
/// API-published posts per 24 hours (developers.facebook.com/docs/instagram-platform/
/// content-publishing, "Rate limit").
const QUOTA_TOTAL: i64 = 100;
const QUOTA_SECONDS: i64 = 86_400;
/// Largest file the emulator pulls: Instagram's reel limit.
const MAX_PULL_BYTES: u64 = 300 * 1024 * 1024;
const MAX_LISTED: i64 = 100;

/// Instagram's error for a post over its 24-hour publishing limit.
fn publishing_limit() -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": {
        "message": "Application request limit reached", "type": "OAuthException",
        "is_transient": false, "code": 9, "error_subcode": 2_207_042,
        "error_user_title": "Max publishing limit reached",
        "error_user_msg": "You have reached the maximum number of posts that can be published within a 24-hour period.",
        "fbtrace_id": "AsandboxTrace"}}))
}

/// Instagram's error for a container that is not finished yet.
fn not_ready() -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": {
        "message": "Media ID is not available", "type": "OAuthException",
        "is_transient": false, "code": 9007, "error_subcode": 2_207_027,
        "error_user_title": "Media not ready for publishing",
        "error_user_msg": "The media is not ready for publishing, please wait for a moment",
        "fbtrace_id": "AsandboxTrace"}}))
}

/// The `graph` root: `{node}` or `{node}/{edge}`.
pub async fn graph(
    sandbox: &Sandbox,
    req: &HttpRequest,
    params: &HashMap<String, String>,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    let Some(person) = endpoints::live_access(sandbox, PLATFORM, meta::token(params))
        .await?
        .map(|g| g.person)
    else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    // Instagram pulls media by URL: it has no chunks to reject.
    if fault == Some(Fault::ChunkRejected) {
        return Ok(super::fault_answer(PLATFORM, Fault::ChunkRejected));
    }
    let me = people::platform_id(PLATFORM, person);
    let tail = req.match_info().get("tail").unwrap_or("").to_owned();
    let (node, edge) = tail.split_once('/').unwrap_or((tail.as_str(), ""));
    let mine = node == me || node == "me";
    let ask = Ask {
        sandbox,
        person,
        params,
        fault,
    };
    Ok(match (req.method(), edge) {
        (&Method::POST, "media") if mine => ask.container().await?,
        (&Method::POST, "media_publish") if mine => ask.publish().await?,
        (&Method::GET, "media") if mine => ask.list().await?,
        (&Method::GET, "content_publishing_limit") if mine => ask.limit().await?,
        (&Method::POST, "comments") => ask.comment(node).await?,
        (&Method::GET, "") => ask.read(node).await?,
        (_, "media" | "media_publish" | "content_publishing_limit") => meta::error(
            10,
            "(#10) Application does not have permission for this action",
        ),
        _ => no_node(node),
    })
}

/// One call of an account's token.
struct Ask<'a> {
    sandbox: &'a Sandbox,
    person: usize,
    params: &'a HashMap<String, String>,
    fault: Option<Fault>,
}

/// A container as kept: what it will publish.
fn spec_of(row: &state::Media) -> Value {
    serde_json::from_str(&row.upload).unwrap_or_default()
}

/// The parameters a container keeps as they came (JSON ones parsed).
const KEPT: [&str; 10] = [
    "caption",
    "share_to_feed",
    "cover_url",
    "thumb_offset",
    "audio_name",
    "location_id",
    "alt_text",
    "collaborators",
    "user_tags",
    "trial_params",
];

impl Ask<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    async fn find_container(&self, id: &str) -> Result<Option<state::Media>, Down> {
        let id = id.to_owned();
        let person = person_id(self.person);
        Ok(self
            .sandbox
            .run(move |conn| state::find_media(conn, PLATFORM, Some(person), &id))
            .await?
            .filter(|m| m.content_type == CONTAINER))
    }

    async fn save(&self, id: &str, status: &str, spec: &Value) -> Result<(), Down> {
        let (id, status, upload) = (id.to_owned(), status.to_owned(), spec.to_string());
        let person = person_id(self.person);
        self.sandbox
            .run(move |conn| {
                state::set_media_upload(conn, PLATFORM, person, &id, &status, &upload, None)
            })
            .await
            .map(drop)
    }

    async fn status_of(&self, row: &state::Media) -> Result<&'static str, Down> {
        meta::container_status(self.sandbox, PLATFORM, row).await
    }

    /// Checks the parameters Instagram checks on every container: `None` when fine.
    fn refusal(&self) -> Option<HttpResponse> {
        let caption = self.param("caption").unwrap_or("");
        if caption.chars().count() > MAX_CAPTION {
            return Some(bad_parameter(&format!(
                "The caption is longer than {MAX_CAPTION} characters"
            )));
        }
        if caption.matches('#').count() > MAX_HASHTAGS {
            return Some(bad_parameter(&format!(
                "The caption has more than {MAX_HASHTAGS} hashtags"
            )));
        }
        if let Some(raw) = self.param("collaborators") {
            let ok = serde_json::from_str::<Vec<String>>(raw)
                .is_ok_and(|c| c.len() <= MAX_COLLABORATORS);
            if !ok {
                return Some(bad_parameter(&format!(
                    "Param collaborators must be a JSON array of at most {MAX_COLLABORATORS} usernames"
                )));
            }
        }
        if let Some(raw) = self.param("user_tags") {
            let tags: Option<Vec<Value>> = serde_json::from_str(raw).ok();
            let ok = tags.is_some_and(|tags| {
                tags.iter().all(|t| {
                    t["username"].as_str().is_some_and(|u| !u.is_empty())
                        && ["x", "y"].iter().all(|k| {
                            t[*k].is_null()
                                || t[*k].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v))
                        })
                })
            });
            if !ok {
                return Some(bad_parameter(
                    "Param user_tags must be a JSON array of {username, x, y} with x and y from 0 to 1",
                ));
            }
        }
        if let Some(v) = self.param("share_to_feed")
            && !matches!(v, "true" | "false")
        {
            return Some(bad_parameter("Param share_to_feed must be a boolean"));
        }
        if let Some(v) = self.param("thumb_offset")
            && v.parse::<u64>().is_err()
        {
            return Some(bad_parameter(
                "Param thumb_offset must be a number of milliseconds",
            ));
        }
        None
    }

    /// `POST /{ig-user-id}/media`.
    async fn container(&self) -> Result<HttpResponse, Down> {
        if let Some(refused) = self.refusal() {
            return Ok(refused);
        }
        let item = self.param("is_carousel_item") == Some("true");
        let media_type = self.param("media_type").unwrap_or("IMAGE").to_owned();
        let mut spec = json!({"media_type": media_type, "is_carousel_item": item});
        for key in KEPT {
            if let Some(v) = self.param(key) {
                spec[key] = serde_json::from_str::<Value>(v)
                    .ok()
                    .filter(|p| p.is_array() || p.is_object())
                    .unwrap_or_else(|| v.into());
            }
        }
        let id = snowflake();
        let url = match (media_type.as_str(), item) {
            ("IMAGE", _) => self.param("image_url"),
            ("VIDEO", true) | ("REELS", false) => self.param("video_url"),
            ("STORIES", false) => self.param("video_url").or(self.param("image_url")),
            ("CAROUSEL", false) => return self.carousel(&id, spec).await,
            ("VIDEO", false) => {
                return Ok(bad_parameter(
                    "The VIDEO media type is no longer supported outside carousels: use REELS",
                ));
            }
            _ => {
                return Ok(bad_parameter(
                    "Param media_type must be IMAGE, REELS, STORIES, VIDEO (carousel items) or CAROUSEL",
                ));
            }
        };
        let Some(url) = url.map(str::to_owned) else {
            return Ok(bad_parameter(if media_type == "IMAGE" {
                "Param image_url is required"
            } else {
                "Param video_url is required"
            }));
        };
        let file = format!("{id}-media");
        let pulled = meta::pull_media(
            self.sandbox,
            PLATFORM,
            self.person,
            &file,
            &url,
            MAX_PULL_BYTES,
        )
        .await?;
        let wants_video = media_type != "IMAGE" && self.param("video_url").is_some();
        let (status, why) = match pulled {
            Err(why) => (ERROR, format!("Error: Media download has failed: {why}")),
            Ok(p) if wants_video && p.kind != MediaKind::Video => (
                ERROR,
                "Error: The video_url does not serve a video".to_owned(),
            ),
            Ok(p) if !wants_video && p.content_type != "image/jpeg" => (
                ERROR,
                "Error: The image format is not supported. Only JPEG images are supported"
                    .to_owned(),
            ),
            Ok(_) if self.fault == Some(Fault::ProcessingFailed) => (
                ERROR,
                "Error: Media upload has failed with error code 2207026".to_owned(),
            ),
            // Images are ready at once; videos once processed.
            Ok(_) if wants_video => (IN_PROGRESS, String::new()),
            Ok(_) => (FINISHED, String::new()),
        };
        spec["media"] = json!([file]);
        spec["video"] = wants_video.into();
        if !why.is_empty() {
            spec["status"] = why.into();
        }
        self.insert(&id, status, &spec).await?;
        Ok(HttpResponse::Ok().json(json!({"id": id})))
    }

    async fn insert(&self, id: &str, status: &str, spec: &Value) -> Result<(), Down> {
        let row = state::Media {
            platform: PLATFORM.key().to_owned(),
            person: person_id(self.person),
            id: id.to_owned(),
            content_type: CONTAINER.to_owned(),
            size: 0,
            alt_text: None,
            created_at: time::now(),
            state: status.to_owned(),
            upload: spec.to_string(),
        };
        self.sandbox
            .run(move |conn| state::insert_media(conn, &row))
            .await
    }

    /// A `CAROUSEL` container of finished items.
    async fn carousel(&self, id: &str, mut spec: Value) -> Result<HttpResponse, Down> {
        let children: Vec<String> = self
            .param("children")
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if !(2..=MAX_CAROUSEL).contains(&children.len()) {
            return Ok(bad_parameter(&format!(
                "Param children must list 2 to {MAX_CAROUSEL} carousel items"
            )));
        }
        let mut media = Vec::new();
        let mut items = Vec::new();
        for child in &children {
            let Some(row) = self.find_container(child).await? else {
                return Ok(bad_parameter(&format!("{child} is not a container")));
            };
            let child_spec = spec_of(&row);
            if child_spec["is_carousel_item"] != true {
                return Ok(bad_parameter(&format!("{child} is not a carousel item")));
            }
            if self.status_of(&row).await? != FINISHED {
                return Ok(not_ready());
            }
            media.extend(child_spec["media"].as_array().cloned().unwrap_or_default());
            items.push(child_spec);
        }
        spec["media"] = media.into();
        spec["children"] = json!(children);
        spec["alt_texts"] = items.iter().map(|i| i["alt_text"].clone()).collect();
        spec["item_user_tags"] = items.iter().map(|i| i["user_tags"].clone()).collect();
        self.insert(id, FINISHED, &spec).await?;
        Ok(HttpResponse::Ok().json(json!({"id": id})))
    }

    /// `POST /{ig-user-id}/media_publish?creation_id=`.
    async fn publish(&self) -> Result<HttpResponse, Down> {
        if self.fault == Some(Fault::QuotaExceeded) {
            return Ok(publishing_limit());
        }
        let creation = self.param("creation_id").unwrap_or("").to_owned();
        let Some(row) = self.find_container(&creation).await? else {
            return Ok(bad_parameter(
                "Param creation_id is not a container of this account",
            ));
        };
        let spec = spec_of(&row);
        if spec["is_carousel_item"] == true {
            return Ok(bad_parameter("A carousel item cannot be published alone"));
        }
        if self.status_of(&row).await? != FINISHED {
            return Ok(not_ready());
        }
        if self.quota_usage().await? >= QUOTA_TOTAL {
            return Ok(publishing_limit());
        }
        let post_id = snowflake();
        let product = match spec["media_type"].as_str() {
            Some("REELS") => "REELS",
            Some("STORIES") => "STORY",
            _ => "FEED",
        };
        let alts = if spec["alt_texts"].is_array() {
            spec["alt_texts"].clone()
        } else {
            json!([spec["alt_text"]])
        };
        let mut extra = json!({"media_product_type": product, "alt_texts": alts});
        for key in KEPT
            .iter()
            .chain(&["media_type", "item_user_tags", "video"])
        {
            if !spec[*key].is_null() {
                extra[*key] = spec[*key].clone();
            }
        }
        let stored = store_post(
            self.sandbox,
            NewPost {
                platform: PLATFORM.key().to_owned(),
                person: person_id(self.person),
                post_id: post_id.clone(),
                text: spec["caption"].as_str().unwrap_or("").to_owned(),
                reply_to: None,
                quote_of: None,
                media_ids: spec["media"].to_string(),
                client_key: Some(creation),
                extra: extra.to_string(),
                created_at: time::now(),
            },
        )
        .await?;
        Ok(if stored {
            HttpResponse::Ok().json(json!({"id": post_id}))
        } else {
            bad_parameter("The container was already published")
        })
    }

    /// Posts of the last 24 hours, as `content_publishing_limit` counts them.
    async fn quota_usage(&self) -> Result<i64, Down> {
        let since = time::now() - Duration::seconds(QUOTA_SECONDS);
        let person = person_id(self.person);
        let posts = self
            .sandbox
            .run(move |conn| state::posts_since(conn, PLATFORM, person, since, QUOTA_TOTAL))
            .await?;
        Ok(posts
            .iter()
            .filter(|p| p.reply_to.is_none())
            .count()
            .try_into()
            .unwrap_or(QUOTA_TOTAL))
    }

    /// `GET /{ig-user-id}/content_publishing_limit`.
    async fn limit(&self) -> Result<HttpResponse, Down> {
        let usage = if self.fault == Some(Fault::QuotaExceeded) {
            QUOTA_TOTAL
        } else {
            self.quota_usage().await?
        };
        Ok(
            HttpResponse::Ok().json(json!({"data": [{"quota_usage": usage,
            "config": {"quota_total": QUOTA_TOTAL, "quota_duration": QUOTA_SECONDS}}]})),
        )
    }

    /// A post as Instagram reads it back.
    fn listed(&self, post: &state::Post) -> Value {
        let extra = post.extra();
        let media_type = match extra["media_type"].as_str() {
            Some("CAROUSEL") => "CAROUSEL_ALBUM",
            Some("REELS") => "VIDEO",
            Some("STORIES") if extra["video"] == true => "VIDEO",
            _ => "IMAGE",
        };
        json!({"id": post.post_id, "caption": post.text, "media_type": media_type,
            "media_product_type": extra["media_product_type"],
            "timestamp": meta::graph_time(post.created_at),
            "permalink": self.sandbox.post_url(PLATFORM, &post.post_id)})
    }

    /// `GET /{node}`: a post, or a container's status.
    async fn read(&self, node: &str) -> Result<HttpResponse, Down> {
        let wanted = node.to_owned();
        if let Some(post) = self
            .sandbox
            .run(move |conn| state::find_post(conn, PLATFORM, &wanted))
            .await?
        {
            return Ok(HttpResponse::Ok().json(self.listed(&post)));
        }
        let Some(row) = self.find_container(node).await? else {
            return Ok(no_node(node));
        };
        let mut spec = spec_of(&row);
        let mut status = self.status_of(&row).await?;
        if status == IN_PROGRESS && self.fault == Some(Fault::ProcessingFailed) {
            status = ERROR;
            spec["status"] = "Error: Media upload has failed with error code 2207026".into();
            self.save(node, ERROR, &spec).await?;
        }
        let key = node.to_owned();
        let person = person_id(self.person);
        let published = self
            .sandbox
            .run(move |conn| state::find_post_by_key(conn, PLATFORM, person, &key))
            .await?
            .is_some();
        let code = if published { "PUBLISHED" } else { status };
        let text = match code {
            ERROR => spec["status"].as_str().unwrap_or("Error").to_owned(),
            IN_PROGRESS => "In Progress: Media is still being processed.".to_owned(),
            "PUBLISHED" => "Published: Media has been successfully published.".to_owned(),
            _ => "Finished: Media has been uploaded and it is complete.".to_owned(),
        };
        Ok(HttpResponse::Ok().json(json!({"id": node, "status_code": code, "status": text})))
    }

    /// `GET /{ig-user-id}/media`: the account's feed and reels, newest first.
    async fn list(&self) -> Result<HttpResponse, Down> {
        let (since, limit) = meta::since_and_limit(self.params);
        let person = person_id(self.person);
        let posts = self
            .sandbox
            .run(move |conn| state::posts_since(conn, PLATFORM, person, since, MAX_LISTED))
            .await?;
        let data: Vec<Value> = posts
            .iter()
            .filter(|p| p.reply_to.is_none() && p.extra()["media_product_type"] != "STORY")
            .take(limit)
            .map(|p| self.listed(p))
            .collect();
        Ok(HttpResponse::Ok().json(json!({"data": data, "paging": {"cursors": {}}})))
    }

    /// `POST /{media-id}/comments?message=`.
    async fn comment(&self, media: &str) -> Result<HttpResponse, Down> {
        let Some(message) = self.param("message").filter(|m| !m.trim().is_empty()) else {
            return Ok(bad_parameter("Param message is required"));
        };
        let wanted = media.to_owned();
        if self
            .sandbox
            .run(move |conn| state::find_post(conn, PLATFORM, &wanted))
            .await?
            .is_none()
        {
            return Ok(no_node(media));
        }
        let id = snowflake();
        store_post(
            self.sandbox,
            NewPost {
                platform: PLATFORM.key().to_owned(),
                person: person_id(self.person),
                post_id: id.clone(),
                text: message.to_owned(),
                reply_to: Some(media.to_owned()),
                quote_of: None,
                media_ids: "[]".to_owned(),
                client_key: None,
                extra: "{}".to_owned(),
                created_at: time::now(),
            },
        )
        .await?;
        Ok(HttpResponse::Ok().json(json!({"id": id})))
    }
}
