//! The Threads API's publishing as the emulator answers it, under the `graph` root:
//! `POST /{user}/threads` makes a container (pulling `image_url` as Threads does, so a
//! container whose image cannot be fetched ends in `ERROR`), `GET /{container}?fields=status`,
//! `POST /{user}/threads_publish?creation_id=` publishes it once, `GET /{user}/threads` lists,
//! and `GET /{media}?fields=permalink` names the post's page.
//!
//! A container is kept as a media row whose `upload` holds what it will publish (a Threads
//! container is a multi-step upload); a published post carries its container's id as its
//! client key, so a container publishes at most once.

use super::super::{Down, Sandbox, endpoints, people, wire};
use super::meta::{self, bad_parameter, no_node};
use super::{NewMedia, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost};
use crate::domain::{Platform, time};
use crate::publish::text::Measure;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime};
use serde_json::{Value, json};
use std::collections::HashMap;

const PLATFORM: Platform = Platform::Threads;
const MAX_CAROUSEL: usize = 20;
const MAX_LISTED: i64 = 100;
const REPLY_CONTROLS: [&str; 5] = [
    "everyone",
    "accounts_you_follow",
    "mentioned_only",
    "parent_post_author_only",
    "followers_only",
];
/// A container's row: its content type, and its states.
const CONTAINER: &str = "application/vnd.threads.container+json";
const FINISHED: &str = "FINISHED";
const ERROR: &str = "ERROR";

/// Threads time: `2023-10-17T05:42:03+0000`.
fn threads_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// The person behind the live access token in `access_token`.
async fn user(sandbox: &Sandbox, params: &HashMap<String, String>) -> Result<Option<usize>, Down> {
    Ok(
        endpoints::live_access(sandbox, PLATFORM, meta::token(params))
            .await?
            .map(|g| g.person),
    )
}

/// The `graph` root: `{node}` or `{node}/{edge}`.
pub async fn graph(
    sandbox: &Sandbox,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let Some(person) = user(sandbox, params).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    let me = people::platform_id(PLATFORM, person);
    let tail = req.match_info().get("tail").unwrap_or("").to_owned();
    let (node, edge) = tail.split_once('/').unwrap_or((tail.as_str(), ""));
    let mine = node == me || node == "me";
    Ok(match (req.method(), edge) {
        (&Method::POST, "threads") if mine => container(sandbox, person, params).await?,
        (&Method::POST, "threads_publish") if mine => publish(sandbox, person, params).await?,
        (&Method::GET, "threads") if mine => list(sandbox, person, params).await?,
        (&Method::GET, "") => read(sandbox, person, node).await?,
        (_, "threads" | "threads_publish") => meta::error(
            10,
            "(#10) Application does not have permission for this action",
        ),
        _ => no_node(node),
    })
}

/// A container's row.
async fn find_container(
    sandbox: &Sandbox,
    person: usize,
    id: &str,
) -> Result<Option<state::Media>, Down> {
    let id = id.to_owned();
    Ok(sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &id))
        .await?
        .filter(|m| m.content_type == CONTAINER))
}

/// Checks the parameters every container shares: `None` when they are fine.
fn refusal(params: &HashMap<String, String>) -> Option<HttpResponse> {
    let text = params.get("text").map_or("", String::as_str);
    if !Measure::THREADS.fits(text) {
        return Some(bad_parameter(&format!(
            "Param text must be at most {} characters long.",
            Measure::THREADS.limit
        )));
    }
    if let Some(tag) = params.get("topic_tag")
        && (tag.is_empty() || tag.chars().count() > 50 || tag.contains(['.', '&']))
    {
        return Some(bad_parameter(
            "Param topic_tag is 1 to 50 characters without '.' or '&'",
        ));
    }
    if let Some(control) = params.get("reply_control")
        && !REPLY_CONTROLS.contains(&control.as_str())
    {
        return Some(bad_parameter("Param reply_control is not valid"));
    }
    None
}

/// `POST /{user}/threads`.
async fn container(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    if let Some(refused) = refusal(params) {
        return Ok(refused);
    }
    let text = params.get("text").cloned().unwrap_or_default();
    let item = params.get("is_carousel_item").map(String::as_str) == Some("true");
    let media_type = params.get("media_type").map_or("", String::as_str);
    let mut spec = json!({"media_type": media_type, "text": text, "is_carousel_item": item});
    for key in ["reply_to_id", "topic_tag", "reply_control", "alt_text"] {
        if let Some(v) = params.get(key) {
            spec[key] = v.as_str().into();
        }
    }
    if let Some(parent) = params.get("reply_to_id") {
        let wanted = parent.clone();
        if sandbox
            .run(move |conn| state::find_post(conn, PLATFORM, &wanted))
            .await?
            .is_none()
        {
            return Ok(bad_parameter("The reply_to_id does not exist"));
        }
    }
    let id = snowflake();
    let mut status = FINISHED;
    match media_type {
        "TEXT" if text.trim().is_empty() => {
            return Ok(bad_parameter("Param text is required for TEXT posts"));
        }
        "TEXT" => {}
        "IMAGE" => {
            let Some(url) = params.get("image_url") else {
                return Ok(bad_parameter("Param image_url is required for IMAGE posts"));
            };
            match meta::pull_image(url).await {
                Ok((bytes, content_type)) => {
                    let image = format!("{id}-image");
                    store_media(
                        sandbox,
                        NewMedia {
                            platform: PLATFORM,
                            person,
                            id: &image,
                            content_type,
                            bytes,
                        },
                    )
                    .await?;
                    spec["images"] = json!([image]);
                }
                Err(why) => {
                    status = ERROR;
                    spec["error_message"] = format!("FAILED_DOWNLOADING_IMAGE: {why}").into();
                }
            }
        }
        "CAROUSEL" => {
            let children: Vec<String> = params
                .get("children")
                .map(|c| {
                    c.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            if !(2..=MAX_CAROUSEL).contains(&children.len()) {
                return Ok(bad_parameter(&format!(
                    "Param children must list 2 to {MAX_CAROUSEL} carousel items"
                )));
            }
            let mut images = Vec::new();
            let mut alts = Vec::new();
            for child in &children {
                let found = find_container(sandbox, person, child).await?;
                let child_spec: Value = found
                    .filter(|c| c.state == FINISHED)
                    .map(|c| serde_json::from_str(&c.upload).unwrap_or_default())
                    .unwrap_or_default();
                if child_spec["is_carousel_item"] != true {
                    return Ok(bad_parameter(&format!(
                        "{child} is not a finished carousel item of this account"
                    )));
                }
                images.extend(child_spec["images"].as_array().cloned().unwrap_or_default());
                alts.push(child_spec["alt_text"].clone());
            }
            spec["images"] = images.into();
            spec["alt_texts"] = alts.into();
            spec["children"] = json!(children);
        }
        _ => {
            return Ok(bad_parameter(
                "Param media_type must be TEXT, IMAGE or CAROUSEL in the sandbox",
            ));
        }
    }
    if item && media_type != "IMAGE" {
        return Ok(bad_parameter("Only IMAGE containers can be carousel items"));
    }
    let row = state::Media {
        platform: PLATFORM.key().to_owned(),
        person: person_id(person),
        id: id.clone(),
        content_type: CONTAINER.to_owned(),
        size: 0,
        alt_text: None,
        created_at: time::now(),
        state: status.to_owned(),
        upload: spec.to_string(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"id": id})))
}

/// `POST /{user}/threads_publish?creation_id=`.
async fn publish(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let creation = params.get("creation_id").cloned().unwrap_or_default();
    let Some(found) = find_container(sandbox, person, &creation).await? else {
        return Ok(bad_parameter(
            "Param creation_id is not a container of this account",
        ));
    };
    let spec: Value = serde_json::from_str(&found.upload).unwrap_or_default();
    if found.state != FINISHED || spec["is_carousel_item"] == true {
        return Ok(bad_parameter("The container cannot be published"));
    }
    let post_id = snowflake();
    let alts = if spec["alt_texts"].is_array() {
        spec["alt_texts"].clone()
    } else {
        json!([spec["alt_text"]])
    };
    let stored = store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: post_id.clone(),
            text: spec["text"].as_str().unwrap_or("").to_owned(),
            reply_to: spec["reply_to_id"].as_str().map(str::to_owned),
            quote_of: None,
            media_ids: spec["images"]
                .as_array()
                .map_or_else(|| "[]".to_owned(), |a| Value::from(a.clone()).to_string()),
            client_key: Some(creation),
            extra: json!({"media_type": spec["media_type"], "topic_tag": spec["topic_tag"],
                "reply_control": spec["reply_control"], "alt_texts": alts})
            .to_string(),
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

fn listed(sandbox: &Sandbox, post: &state::Post) -> Value {
    json!({"id": post.post_id, "text": post.text, "timestamp": threads_time(post.created_at),
        "media_type": post.extra()["media_type"],
        "permalink": sandbox.post_url(PLATFORM, &post.post_id)})
}

/// `GET /{node}`: a post (its permalink), or a container (its status).
async fn read(sandbox: &Sandbox, person: usize, node: &str) -> Result<HttpResponse, Down> {
    let wanted = node.to_owned();
    if let Some(post) = sandbox
        .run(move |conn| state::find_post(conn, PLATFORM, &wanted))
        .await?
    {
        return Ok(HttpResponse::Ok().json(listed(sandbox, &post)));
    }
    let Some(found) = find_container(sandbox, person, node).await? else {
        return Ok(no_node(node));
    };
    let key = node.to_owned();
    let published = sandbox
        .run(move |conn| state::find_post_by_key(conn, PLATFORM, person_id(person), &key))
        .await?
        .is_some();
    let spec: Value = serde_json::from_str(&found.upload).unwrap_or_default();
    let mut answer = json!({"id": node,
        "status": if published { "PUBLISHED" } else { found.state.as_str() }});
    if let Some(why) = spec["error_message"].as_str() {
        answer["error_message"] = why.into();
    }
    Ok(HttpResponse::Ok().json(answer))
}

/// `GET /{user}/threads`: the account's posts (not its replies), newest first.
async fn list(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let since = params
        .get("since")
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or(DateTime::UNIX_EPOCH)
        .naive_utc();
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let posts = sandbox
        .run(move |conn| state::posts_since(conn, PLATFORM, person_id(person), since, MAX_LISTED))
        .await?;
    let data: Vec<Value> = posts
        .iter()
        .filter(|p| p.reply_to.is_none())
        .take(limit)
        .map(|p| listed(sandbox, p))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"data": data, "paging": {"cursors": {}}})))
}
