//! Threads: a post is a container (`TEXT`, `IMAGE`, or a `CAROUSEL` of image items) that
//! Threads builds by pulling each image from the signed URL Postgate serves it at, then
//! publishes on `threads_publish`. Containers are invisible until published, so only the
//! publish call can leave a post in doubt. Text over 500 becomes a chain of replies.

use super::graph::{self, id_of};
use super::{note_first_comment, note_thread};
use crate::domain::Platform;
use crate::domain::upload::{MediaKind, PostKind};
use crate::oauth::http::string_at;
use crate::publish::http::Effect;
use crate::publish::publisher::{Call, Post, PublishError, Published, Publisher};
use crate::publish::text::{self, Measure};
use async_trait::async_trait;
use chrono::Duration;

pub struct Threads;

const PLATFORM: Platform = Platform::Threads;
const MAX_CAROUSEL: usize = 20;
const IMAGE_TYPES: [&str; 2] = ["image/jpeg", "image/png"];
const MAX_TOPIC_TAG: usize = 50;
const REPLY_CONTROLS: [&str; 5] = [
    "everyone",
    "accounts_you_follow",
    "mentioned_only",
    "parent_post_author_only",
    "followers_only",
];
/// Waits between looks at a container's status; Threads builds image containers in
/// seconds, and one that is not ready after these is tried again later.
const STATUS_WAITS_MS: [u64; 8] = [300, 700, 1_000, 2_000, 4_000, 4_000, 4_000, 4_000];
/// How far back of `since` a found post may be dated (the two clocks differ a little).
const CLOCK_SLACK_SECONDS: i64 = 60;

/// A post as Threads will get it, read from the request once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    /// The head post's text, then the replies that carry the rest.
    parts: Vec<String>,
    reply_to: Option<String>,
    topic_tag: Option<String>,
    reply_control: Option<String>,
    alt_texts: Vec<String>,
    first_comment: Option<String>,
}

fn invalid(code: &str, message: impl Into<String>) -> PublishError {
    PublishError::invalid(code, message)
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let fields = &post.fields;
    let whole = post.text(PLATFORM);
    let as_one = fields
        .flag("threads_long_text_as_post")
        .map_err(|e| invalid("invalid_field", e.to_string()))?
        .unwrap_or(false);
    // As one post, the platform decides on the length.
    let parts = if as_one {
        vec![whole.to_owned()]
    } else {
        text::split(whole, Measure::THREADS)
    };
    match post.kind {
        PostKind::Video => {
            return Err(PublishError::unsupported(
                "video_not_supported_yet",
                "Video posts to Threads are not supported yet",
            ));
        }
        PostKind::Document => {
            return Err(invalid(
                "unsupported_media",
                "Threads does not take documents",
            ));
        }
        PostKind::Photos if post.media.is_empty() || post.media.len() > MAX_CAROUSEL => {
            return Err(invalid(
                "too_many_images",
                format!("A Threads post takes 1 to {MAX_CAROUSEL} images"),
            ));
        }
        PostKind::Photos => {
            if let Some(m) = post.media.iter().find(|m| {
                m.kind != MediaKind::Image || !IMAGE_TYPES.contains(&m.content_type.as_str())
            }) {
                return Err(invalid(
                    "unsupported_media",
                    format!("Threads takes JPEG and PNG images, not {}", m.content_type),
                ));
            }
        }
        PostKind::Text if whole.trim().is_empty() => {
            return Err(invalid("text_required", "A Threads text post needs a text"));
        }
        PostKind::Text => {}
    }
    let topic_tag = fields.text("threads_topic_tag").map(str::to_owned);
    if let Some(tag) = &topic_tag
        && (tag.chars().count() > MAX_TOPIC_TAG || tag.contains(['.', '&']))
    {
        return Err(invalid(
            "invalid_topic_tag",
            "threads_topic_tag is 1 to 50 characters without '.' or '&'",
        ));
    }
    let reply_control = fields
        .text("threads_reply_control")
        .map(|c| c.trim().to_ascii_lowercase());
    if let Some(control) = &reply_control
        && !REPLY_CONTROLS.contains(&control.as_str())
    {
        return Err(invalid(
            "invalid_reply_control",
            format!(
                "threads_reply_control is one of {}",
                REPLY_CONTROLS.join(", ")
            ),
        ));
    }
    Ok(Plan {
        parts,
        reply_to: fields.text("threads_reply_to_id").map(str::to_owned),
        topic_tag,
        reply_control,
        alt_texts: post.alt_texts(PLATFORM),
        first_comment: post.first_comment(PLATFORM).map(str::to_owned),
    })
}

/// The head post's container parameters (its media, reply and audience options).
fn head_params(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    children: &[String],
) -> Vec<(&'static str, String)> {
    let mut params = match (post.kind, post.media.as_slice()) {
        (PostKind::Photos, [one]) => {
            let mut p = vec![
                ("media_type", "IMAGE".to_owned()),
                ("image_url", call.media.public_url(one)),
            ];
            if let Some(alt) = plan.alt_texts.first() {
                p.push(("alt_text", alt.clone()));
            }
            p
        }
        (PostKind::Photos, _) => vec![
            ("media_type", "CAROUSEL".to_owned()),
            ("children", children.join(",")),
        ],
        _ => vec![("media_type", "TEXT".to_owned())],
    };
    if !plan.parts[0].is_empty() {
        params.push(("text", plan.parts[0].clone()));
    }
    let options = [
        ("reply_to_id", &plan.reply_to),
        ("topic_tag", &plan.topic_tag),
        ("reply_control", &plan.reply_control),
    ];
    params.extend(
        options
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
    );
    params
}

/// A container: its id. Nothing is visible yet, so repeating it is harmless.
async fn container(call: &Call<'_>, params: &[(&str, String)]) -> Result<String, PublishError> {
    let uid = &call.connection.platform_user_id;
    let made = graph::post(
        call.app,
        &format!("{uid}/threads"),
        params,
        &call.tokens.access_token,
        Effect::Harmless,
    )
    .await?;
    string_at(&made, "id").ok_or_else(|| {
        PublishError::refused("malformed_answer", "Threads named no container", true)
    })
}

/// Waits until Threads has built the container.
async fn ready(call: &Call<'_>, container: &str) -> Result<(), PublishError> {
    for wait in STATUS_WAITS_MS {
        let status = graph::get(
            call.app,
            container,
            &[("fields", "status,error_message")],
            &call.tokens.access_token,
        )
        .await?;
        match status["status"].as_str() {
            Some("FINISHED") => return Ok(()),
            Some("ERROR") => {
                return Err(PublishError::refused(
                    "media_rejected",
                    format!(
                        "Threads could not build the post: {}",
                        status["error_message"].as_str().unwrap_or("UNKNOWN")
                    ),
                    false,
                ));
            }
            Some("EXPIRED" | "PUBLISHED") => {
                return Err(PublishError::refused(
                    "container_expired",
                    "The Threads container can no longer be published",
                    true,
                ));
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(wait)).await,
        }
    }
    Err(PublishError::refused(
        "container_not_ready",
        "Threads did not finish preparing the post in time",
        true,
    ))
}

/// Publishes a ready container: the post's id.
async fn publish_container(call: &Call<'_>, container: &str) -> Result<String, PublishError> {
    ready(call, container).await?;
    let uid = &call.connection.platform_user_id;
    let params = [("creation_id", container.to_owned())];
    let made = graph::post(
        call.app,
        &format!("{uid}/threads_publish"),
        &params,
        &call.tokens.access_token,
        Effect::Creates,
    )
    .await?;
    id_of(&made, "id")
}

/// Posts `text` as a reply to `parent`: the reply's id.
async fn reply(call: &Call<'_>, parent: &str, text: &str) -> Result<String, PublishError> {
    let params = [
        ("media_type", "TEXT".to_owned()),
        ("text", text.to_owned()),
        ("reply_to_id", parent.to_owned()),
    ];
    let made = container(call, &params).await?;
    publish_container(call, &made).await
}

#[async_trait]
impl Publisher for Threads {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|_| Vec::new())
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Published, PublishError> {
        let plan = plan(post)?;
        let mut children = Vec::new();
        if post.media.len() > 1 {
            for (i, media) in post.media.iter().enumerate() {
                let mut params = vec![
                    ("media_type", "IMAGE".to_owned()),
                    ("image_url", call.media.public_url(media)),
                    ("is_carousel_item", "true".to_owned()),
                ];
                if let Some(alt) = plan.alt_texts.get(i) {
                    params.push(("alt_text", alt.clone()));
                }
                children.push(container(call, &params).await?);
            }
        }
        let head = container(call, &head_params(call, post, &plan, &children)).await?;
        let post_id = publish_container(call, &head).await?;
        let mut published = Published {
            post_id: post_id.clone(),
            ..Published::default()
        };
        published
            .extra
            .insert("container_id".to_owned(), head.into());
        // The head is out: what follows can only add to it, so a failure is a warning.
        let mut ids = vec![post_id.clone()];
        for (n, part) in plan.parts.iter().enumerate().skip(1) {
            match reply(call, &ids[ids.len() - 1], part).await {
                Ok(id) => ids.push(id),
                Err(e) => {
                    published.warnings.push(format!(
                        "The thread stopped after {n} of {} posts: {e}",
                        plan.parts.len()
                    ));
                    break;
                }
            }
        }
        note_thread(&mut published, &ids);
        if let Some(text) = &plan.first_comment {
            let outcome = reply(call, &post_id, text).await.map(drop);
            note_first_comment(&mut published, outcome);
        }
        published.url = graph::get(
            call.app,
            &post_id,
            &[("fields", "permalink")],
            &call.tokens.access_token,
        )
        .await
        .ok()
        .and_then(|p| string_at(&p, "permalink"));
        Ok(published)
    }

    /// The account's posts since `call.since`, for one with the head post's text.
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let plan = plan(post)?;
        let since = (call.since - Duration::seconds(CLOCK_SLACK_SECONDS))
            .and_utc()
            .timestamp()
            .to_string();
        let uid = &call.connection.platform_user_id;
        let mine = graph::get(
            call.app,
            &format!("{uid}/threads"),
            &[
                ("fields", "id,text,timestamp,permalink"),
                ("since", &since),
                ("limit", "25"),
            ],
            &call.tokens.access_token,
        )
        .await?;
        Ok(mine["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["text"].as_str().unwrap_or_default() == plan.parts[0])
            .and_then(|p| {
                Some(Published {
                    post_id: string_at(p, "id")?,
                    url: string_at(p, "permalink"),
                    ..Published::default()
                })
            }))
    }

    /// Upload-Post does not delete Threads posts (publishing reference, 1.9).
    async fn unpublish(&self, _call: &Call<'_>, _post_id: &str) -> Result<(), PublishError> {
        Err(PublishError::unsupported(
            "platform_not_supported",
            "Deleting posts is not supported on Threads",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::upload::Fields;
    use crate::publish::publisher::Media;

    fn post(kind: PostKind, pairs: &[(&str, &str)], images: usize) -> Post {
        let mut fields = Fields::new();
        for (k, v) in pairs {
            fields.push(k, *v);
        }
        let media = (0..images)
            .map(|i| Media {
                id: format!("m{i}"),
                kind: MediaKind::Image,
                content_type: "image/jpeg".to_owned(),
                size: 10,
                filename: None,
            })
            .collect();
        Post {
            kind,
            media,
            fields,
        }
    }

    fn code(p: &Post) -> String {
        plan(p).unwrap_err().code().to_owned()
    }

    #[test]
    fn long_text_becomes_replies_unless_asked_not_to() {
        let long = "word ".repeat(150);
        let split = plan(&post(PostKind::Text, &[("title", &long)], 0)).unwrap();
        assert!(split.parts.len() > 1);
        assert!(split.parts.iter().all(|p| Measure::THREADS.fits(p)));
        let one = plan(&post(
            PostKind::Text,
            &[("title", &long), ("threads_long_text_as_post", "true")],
            0,
        ))
        .unwrap();
        assert_eq!(one.parts, [long]);
    }

    #[test]
    fn options_are_checked_before_any_call() {
        assert_eq!(code(&post(PostKind::Photos, &[], 21)), "too_many_images");
        assert_eq!(code(&post(PostKind::Text, &[], 0)), "text_required");
        assert_eq!(
            code(&post(
                PostKind::Text,
                &[("title", "a"), ("threads_topic_tag", "a.b")],
                0
            )),
            "invalid_topic_tag"
        );
        assert_eq!(
            code(&post(
                PostKind::Text,
                &[("title", "a"), ("threads_reply_control", "nobody")],
                0
            )),
            "invalid_reply_control"
        );
        assert_eq!(
            code(&post(PostKind::Video, &[], 0)),
            "video_not_supported_yet"
        );
        let ok = plan(&post(
            PostKind::Text,
            &[
                ("title", "a"),
                ("threads_reply_control", "Mentioned_Only"),
                ("threads_reply_to_id", "9"),
            ],
            0,
        ))
        .unwrap();
        assert_eq!(ok.reply_control.as_deref(), Some("mentioned_only"));
        assert_eq!(ok.reply_to.as_deref(), Some("9"));
    }
}
