//! The Threads API's publishing as the emulator answers it, under the `graph` root:
//! `POST /{user}/threads` makes a container (pulling `image_url` or `video_url` as Threads
//! does, so a container whose media cannot be fetched ends in `ERROR`; a video one is
//! `IN_PROGRESS` for the platform's processing delay, or `ERROR` under the
//! `processing_failed` fault), `GET /{container}?fields=status,error_message`,
//! `POST /{user}/threads_publish?creation_id=` publishes it once (a `TEXT` container made
//! with `auto_publish_text=true` is published as it is made, and its answer names the post),
//! `GET /{user}/threads` lists, and `GET /{media}` reads a post (its permalink, quote, link
//! and poll).
//!
//! A container is kept as a media row whose `upload` holds what it will publish (a Threads
//! container is a multi-step upload); a published post carries its container's id as its
//! client key, so a container publishes at most once.

use super::super::{Down, Fault, Sandbox, endpoints, people, wire};
use super::meta::{self, ERROR, FINISHED, IN_PROGRESS, bad_parameter, no_node};
use super::{NewMedia, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost};
use crate::domain::upload::MediaKind;
use crate::domain::{Platform, time};
use crate::publish::text::Measure;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};
use std::collections::HashMap;

const PLATFORM: Platform = Platform::Threads;
const MAX_CAROUSEL: usize = 20;
/// Threads' video limit: 1 GB.
const MAX_VIDEO_BYTES: u64 = 1024 * 1024 * 1024;
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
/// A poll's option keys, in order; the first two are required.
const POLL_KEYS: [&str; 4] = ["option_a", "option_b", "option_c", "option_d"];
const POLL_OPTION_CHARS: usize = 25;

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
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    let failing = fault == Some(Fault::ProcessingFailed);
    let Some(person) = user(sandbox, params).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    let me = people::platform_id(PLATFORM, person);
    let tail = req.match_info().get("tail").unwrap_or("").to_owned();
    let (node, edge) = tail.split_once('/').unwrap_or((tail.as_str(), ""));
    let mine = node == me || node == "me";
    Ok(match (req.method(), edge) {
        (&Method::POST, "threads") if mine => container(sandbox, person, params, failing).await?,
        (&Method::POST, "threads_publish") if mine => publish(sandbox, person, params).await?,
        (&Method::GET, "threads") if mine => list(sandbox, person, params).await?,
        (&Method::GET, "") => read(sandbox, person, node, failing).await?,
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
    text_only_refusal(params).map(|why| bad_parameter(&why))
}

/// Checks what only a `TEXT` container takes: a link, a poll, publishing itself.
fn text_only_refusal(params: &HashMap<String, String>) -> Option<String> {
    let auto = params.get("auto_publish_text").map(String::as_str);
    if !matches!(auto, None | Some("true" | "false")) {
        return Some("Param auto_publish_text must be a boolean".to_owned());
    }
    let text = params.get("media_type").map(String::as_str) == Some("TEXT");
    let mut text_only = ["link_attachment", "poll_attachment"]
        .into_iter()
        .filter(|k| params.contains_key(*k))
        .chain((auto == Some("true")).then_some("auto_publish_text"));
    if !text && let Some(key) = text_only.next() {
        return Some(format!("Param {key} is only for TEXT posts"));
    }
    if let Some(link) = params.get("link_attachment")
        && !url::Url::parse(link)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
    {
        return Some("Param link_attachment must be an http(s) URL".to_owned());
    }
    params
        .get("poll_attachment")
        .and_then(|raw| poll_options(raw).err())
        .map(str::to_owned)
}

/// A `poll_attachment`'s options in order: a JSON object of `option_a` and `option_b`, then
/// optionally `option_c` and `option_d`, each 1 to 25 characters.
fn poll_options(raw: &str) -> Result<Vec<String>, &'static str> {
    const BAD: &str = "Param poll_attachment must be a JSON object of option_a, option_b and optionally option_c and option_d, each 1 to 25 characters";
    let Ok(Value::Object(poll)) = serde_json::from_str::<Value>(raw) else {
        return Err(BAD);
    };
    if poll.keys().any(|k| !POLL_KEYS.contains(&k.as_str())) {
        return Err(BAD);
    }
    let options: Vec<String> = POLL_KEYS
        .iter()
        .map_while(|k| poll.get(*k))
        .map(|o| o.as_str().map(str::to_owned).ok_or(BAD))
        .collect::<Result<_, _>>()?;
    let sized = |o: &String| (1..=POLL_OPTION_CHARS).contains(&o.chars().count());
    if options.len() < 2 || options.len() != poll.len() || !options.iter().all(sized) {
        return Err(BAD);
    }
    Ok(options)
}

/// `POST /{user}/threads`.
async fn container(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
    failing: bool,
) -> Result<HttpResponse, Down> {
    if let Some(refused) = refusal(params) {
        return Ok(refused);
    }
    let text = params.get("text").cloned().unwrap_or_default();
    let item = params.get("is_carousel_item").map(String::as_str) == Some("true");
    let media_type = params.get("media_type").map_or("", String::as_str);
    let mut spec = json!({"media_type": media_type, "text": text, "is_carousel_item": item});
    for key in [
        "reply_to_id",
        "quote_post_id",
        "topic_tag",
        "reply_control",
        "alt_text",
        "link_attachment",
    ] {
        if let Some(v) = params.get(key) {
            spec[key] = v.as_str().into();
        }
    }
    if let Some(options) = params
        .get("poll_attachment")
        .and_then(|p| poll_options(p).ok())
    {
        spec["poll"] = json!({"options": options});
    }
    for key in ["reply_to_id", "quote_post_id"] {
        let Some(wanted) = params.get(key).cloned() else {
            continue;
        };
        if sandbox
            .run(move |conn| state::find_post(conn, PLATFORM, &wanted))
            .await?
            .is_none()
        {
            return Ok(bad_parameter(&format!("The {key} does not exist")));
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
        "VIDEO" => {
            let Some(url) = params.get("video_url") else {
                return Ok(bad_parameter("Param video_url is required for VIDEO posts"));
            };
            let video = format!("{id}-video");
            let pulled =
                meta::pull_media(sandbox, PLATFORM, person, &video, url, MAX_VIDEO_BYTES).await?;
            let why = match pulled {
                Err(why) => Some(format!("FAILED_DOWNLOADING_VIDEO: {why}")),
                Ok(p) if p.kind != MediaKind::Video => {
                    Some("FAILED_PROCESSING_VIDEO: the URL does not serve a video".to_owned())
                }
                Ok(_) if failing => Some("FAILED_PROCESSING_VIDEO".to_owned()),
                // Processed once the platform's delay has passed.
                Ok(_) => None,
            };
            status = match why {
                Some(why) => {
                    spec["error_message"] = why.into();
                    ERROR
                }
                None => IN_PROGRESS,
            };
            spec["images"] = json!([video]);
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
                let mut child_spec = Value::Null;
                if let Some(c) = find_container(sandbox, person, child).await?
                    && meta::container_status(sandbox, PLATFORM, &c).await? == FINISHED
                {
                    child_spec = serde_json::from_str(&c.upload).unwrap_or_default();
                }
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
                "Param media_type must be TEXT, IMAGE, VIDEO or CAROUSEL",
            ));
        }
    }
    if item && !matches!(media_type, "IMAGE" | "VIDEO") {
        return Ok(bad_parameter(
            "Only IMAGE and VIDEO containers can be carousel items",
        ));
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
    if params.get("auto_publish_text").map(String::as_str) == Some("true") {
        // Threads publishes the text container at once and answers with the post.
        return Ok(published(store(sandbox, person, &id, &spec).await?));
    }
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
    let status = meta::container_status(sandbox, PLATFORM, &found).await?;
    if status != FINISHED || spec["is_carousel_item"] == true {
        return Ok(bad_parameter("The container cannot be published"));
    }
    Ok(published(store(sandbox, person, &creation, &spec).await?))
}

/// The answer to publishing: the post's id, or why there is none.
fn published(post_id: Option<String>) -> HttpResponse {
    match post_id {
        Some(id) => HttpResponse::Ok().json(json!({"id": id})),
        None => bad_parameter("The container was already published"),
    }
}

/// Publishes the container `creation` whose `spec` is given: the post's id, or `None` when
/// it was published before.
async fn store(
    sandbox: &Sandbox,
    person: usize,
    creation: &str,
    spec: &Value,
) -> Result<Option<String>, Down> {
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
            quote_of: spec["quote_post_id"].as_str().map(str::to_owned),
            media_ids: spec["images"]
                .as_array()
                .map_or_else(|| "[]".to_owned(), |a| Value::from(a.clone()).to_string()),
            client_key: Some(creation.to_owned()),
            extra: json!({"media_type": spec["media_type"], "topic_tag": spec["topic_tag"],
                "reply_control": spec["reply_control"], "alt_texts": alts,
                "link_attachment": spec["link_attachment"], "poll": spec["poll"]})
            .to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    Ok(stored.then_some(post_id))
}

/// A post as Threads reads it back, with its quote, link and poll as Threads names them.
fn listed(sandbox: &Sandbox, post: &state::Post) -> Value {
    let extra = post.extra();
    let mut answer = json!({"id": post.post_id, "text": post.text,
        "timestamp": meta::graph_time(post.created_at), "media_type": extra["media_type"],
        "permalink": sandbox.post_url(PLATFORM, &post.post_id),
        "is_quote_post": post.quote_of.is_some()});
    if let Some(quoted) = &post.quote_of {
        answer["quoted_post"] = json!({"id": quoted});
    }
    if let Some(link) = extra["link_attachment"].as_str() {
        answer["link_attachment_url"] = link.into();
    }
    if let Some(options) = extra["poll"]["options"].as_array() {
        let poll: serde_json::Map<String, Value> = POLL_KEYS
            .iter()
            .zip(options)
            .map(|(k, o)| ((*k).to_owned(), o.clone()))
            .collect();
        answer["poll_attachment"] = poll.into();
    }
    answer
}

/// `GET /{node}`: a post (its permalink), or a container (its status).
async fn read(
    sandbox: &Sandbox,
    person: usize,
    node: &str,
    failing: bool,
) -> Result<HttpResponse, Down> {
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
    let mut spec: Value = serde_json::from_str(&found.upload).unwrap_or_default();
    let mut status = meta::container_status(sandbox, PLATFORM, &found).await?;
    if status == IN_PROGRESS && failing {
        status = ERROR;
        spec["error_message"] = "FAILED_PROCESSING_VIDEO".into();
        let (id, upload) = (node.to_owned(), spec.to_string());
        sandbox
            .run(move |conn| {
                state::set_media_upload(
                    conn,
                    PLATFORM,
                    person_id(person),
                    &id,
                    ERROR,
                    &upload,
                    None,
                )
            })
            .await?;
    }
    let mut answer = json!({"id": node,
        "status": if published { "PUBLISHED" } else { status }});
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
    let (since, limit) = meta::since_and_limit(params);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn polls_are_read_as_threads_reads_them() {
        assert_eq!(
            poll_options(r#"{"option_a":"yes","option_b":"no","option_c":"maybe"}"#),
            Ok(vec!["yes".to_owned(), "no".to_owned(), "maybe".to_owned()])
        );
        for bad in [
            r#"{"option_a":"only"}"#,
            r#"{"option_a":"a","option_c":"c"}"#,
            r#"{"option_a":"a","option_b":""}"#,
            r#"{"option_a":"a","option_b":"bbbbbbbbbbbbbbbbbbbbbbbbbb"}"#,
            r#"{"option_a":"a","option_b":2}"#,
            r#"{"option_a":"a","option_b":"b","option_e":"e"}"#,
            r#"["a","b"]"#,
            "a,b",
        ] {
            assert!(poll_options(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_polls_and_auto_publishing_are_for_text_only() {
        let text = |extra: (&str, &str)| params(&[("media_type", "TEXT"), extra]);
        assert_eq!(
            text_only_refusal(&text(("link_attachment", "https://a.example"))),
            None
        );
        assert!(text_only_refusal(&text(("link_attachment", "javascript:x"))).is_some());
        assert!(text_only_refusal(&text(("auto_publish_text", "yes"))).is_some());
        assert_eq!(
            text_only_refusal(&text(("auto_publish_text", "true"))),
            None
        );
        let image = params(&[("media_type", "IMAGE"), ("auto_publish_text", "true")]);
        assert_eq!(
            text_only_refusal(&image).as_deref(),
            Some("Param auto_publish_text is only for TEXT posts")
        );
        let image = params(&[("media_type", "IMAGE"), ("auto_publish_text", "false")]);
        assert_eq!(text_only_refusal(&image), None);
    }
}
