//! Threads: a post is a container (`TEXT`, `IMAGE`, or a `CAROUSEL` of image items) that
//! Threads builds by pulling each image from the signed URL Postgate serves it at, then
//! publishes on `threads_publish`. Containers are invisible until published, so only the
//! publish call can leave a post in doubt — except a text container made with
//! `auto_publish_text`, which is the post itself. Text over 500 characters and more than 20
//! images become a chain of replies.

use super::graph::{self, id_of};
use super::{note_first_comment, note_thread};
use crate::domain::Platform;
use crate::domain::upload::{Fields, MediaKind, PostKind};
use crate::oauth::http::string_at;
use crate::publish::http::Effect;
use crate::publish::layout::image_layout;
use crate::publish::publisher::{Call, Media, Post, Progress, PublishError, Published, Publisher};
use crate::publish::text::{self, Measure};
use crate::publish::video::VideoLimits;
use async_trait::async_trait;
use serde_json::{Map, Value};

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
/// The keys of a `poll_attachment`, in the order of the options (2 to 4 of them).
const POLL_KEYS: [&str; 4] = ["option_a", "option_b", "option_c", "option_d"];
const MIN_POLL_OPTIONS: usize = 2;
/// Threads' limit on a poll option (developers.facebook.com/docs/threads/create-posts/polls).
const POLL_OPTION_CHARS: usize = 25;
/// Waits between looks at a container's status; Threads builds image containers in
/// seconds, and one that is not ready after these is tried again later.
const STATUS_WAITS_MS: [u64; 8] = [300, 700, 1_000, 2_000, 4_000, 4_000, 4_000, 4_000];
/// Threads' video limits (developers.facebook.com/docs/threads/overview, "Video
/// specifications"): MOV or MP4, up to 5 minutes and 1 GB.
const VIDEO: VideoLimits = VideoLimits {
    platform: "Threads",
    types: &["video/mp4", "video/quicktime"],
    max_bytes: 1024 * 1024 * 1024,
    min_duration_ms: 0,
    max_duration_ms: 5 * 60_000,
    max_side: None,
};
/// How long to wait before looking again at a video Threads is still processing.
const PROCESSING_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// What a text post carries besides its text. Threads takes a link or a poll on a post
/// without media, and the two exclude each other.
#[derive(Debug, Clone, PartialEq)]
enum Attachment {
    /// An http(s) URL, shown as a link preview.
    Link(String),
    /// 2 to 4 options.
    Poll(Vec<String>),
}

impl Attachment {
    /// `threads_link_attachment` or `threads_poll_options`, checked as Threads would.
    fn parse(fields: &Fields) -> Result<Option<Self>, PublishError> {
        let link = fields.text("threads_link_attachment").map(str::trim);
        let options = fields.list("threads_poll_options", &[","]);
        match (link, options.is_empty()) {
            (Some(_), false) => Err(invalid(
                "invalid_field",
                "threads_link_attachment and threads_poll_options cannot be combined",
            )),
            (Some(link), true) => Self::link(link).map(Some),
            (None, false) => Self::poll(options).map(Some),
            (None, true) => Ok(None),
        }
    }

    fn link(link: &str) -> Result<Self, PublishError> {
        let web = url::Url::parse(link)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !web {
            return Err(invalid(
                "invalid_field",
                format!("threads_link_attachment must be an http(s) URL, not {link:?}"),
            ));
        }
        Ok(Self::Link(link.to_owned()))
    }

    fn poll(options: Vec<String>) -> Result<Self, PublishError> {
        let counted = (MIN_POLL_OPTIONS..=POLL_KEYS.len()).contains(&options.len());
        if !counted
            || options
                .iter()
                .any(|o| o.chars().count() > POLL_OPTION_CHARS)
        {
            return Err(invalid(
                "invalid_field",
                format!(
                    "threads_poll_options takes {MIN_POLL_OPTIONS} to {} options of at most {POLL_OPTION_CHARS} characters",
                    POLL_KEYS.len()
                ),
            ));
        }
        Ok(Self::Poll(options))
    }

    /// The container parameter: `link_attachment`, or `poll_attachment` as the JSON object
    /// Threads reads (`{"option_a": …, "option_b": …}`).
    fn param(&self) -> (&'static str, String) {
        match self {
            Self::Link(url) => ("link_attachment", url.clone()),
            Self::Poll(options) => {
                let poll: Map<String, Value> = POLL_KEYS
                    .iter()
                    .zip(options)
                    .map(|(k, o)| ((*k).to_owned(), o.as_str().into()))
                    .collect();
                ("poll_attachment", Value::Object(poll).to_string())
            }
        }
    }
}

/// A post as Threads will get it, read from the request once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    /// The head post's text, then the replies that carry the rest.
    parts: Vec<String>,
    /// Images per post of the thread, in order.
    images: Vec<usize>,
    reply_to: Option<String>,
    quote: Option<String>,
    topic_tag: Option<String>,
    reply_control: Option<String>,
    attachment: Option<Attachment>,
    /// Text containers publish themselves (`auto_publish_text`).
    auto_publish: bool,
    alt_texts: Vec<String>,
    first_comment: Option<String>,
}

impl Plan {
    /// How many posts the thread has.
    fn len(&self) -> usize {
        self.parts.len().max(self.images.len())
    }

    /// What only the head container carries: what it answers or quotes, who may reply,
    /// its topic and its attachment.
    fn head_options(&self) -> Vec<(&'static str, String)> {
        let options = [
            ("reply_to_id", &self.reply_to),
            ("quote_post_id", &self.quote),
            ("topic_tag", &self.topic_tag),
            ("reply_control", &self.reply_control),
        ];
        options
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .chain(self.attachment.as_ref().map(Attachment::param))
            .collect()
    }
}

fn invalid(code: &str, message: impl Into<String>) -> PublishError {
    PublishError::invalid(code, message)
}

fn field_error(e: crate::domain::upload::FieldValueError) -> PublishError {
    invalid("invalid_field", e.to_string())
}

/// The kinds and media Threads takes: text, JPEG and PNG images, MP4 and MOV videos.
fn check_media(post: &Post) -> Result<(), PublishError> {
    match post.kind {
        PostKind::Video if post.media.len() != 1 => Err(invalid(
            "media_required",
            "A Threads video post takes one video",
        )),
        PostKind::Video => VIDEO.check(&post.media[0]),
        PostKind::Document => Err(invalid(
            "unsupported_media",
            "Threads does not take documents",
        )),
        PostKind::Photos if post.media.is_empty() => Err(invalid(
            "media_required",
            "A Threads photo post needs at least one image",
        )),
        // A carousel may mix images and videos.
        PostKind::Photos => post.media.iter().try_for_each(|m| match m.kind {
            MediaKind::Video => VIDEO.check(m),
            _ if m.kind == MediaKind::Image && IMAGE_TYPES.contains(&m.content_type.as_str()) => {
                Ok(())
            }
            _ => Err(invalid(
                "unsupported_media",
                format!("Threads takes JPEG and PNG images, not {}", m.content_type),
            )),
        }),
        PostKind::Text if post.text(PLATFORM).trim().is_empty() => {
            Err(invalid("text_required", "A Threads text post needs a text"))
        }
        PostKind::Text => Ok(()),
    }
}

fn topic_tag(fields: &Fields) -> Result<Option<String>, PublishError> {
    let tag = fields.text("threads_topic_tag").map(str::to_owned);
    if let Some(tag) = &tag
        && (tag.chars().count() > MAX_TOPIC_TAG || tag.contains(['.', '&']))
    {
        return Err(invalid(
            "invalid_topic_tag",
            "threads_topic_tag is 1 to 50 characters without '.' or '&'",
        ));
    }
    Ok(tag)
}

fn reply_control(fields: &Fields) -> Result<Option<String>, PublishError> {
    let control = fields
        .text("threads_reply_control")
        .map(|c| c.trim().to_ascii_lowercase());
    if let Some(control) = &control
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
    Ok(control)
}

/// Every post of the thread needs text or images: a layout may leave one with neither.
fn check_posts(plan: &Plan) -> Result<(), PublishError> {
    let empty = (0..plan.len()).find(|&i| {
        plan.parts.get(i).is_none_or(|t| t.is_empty()) && plan.images.get(i).is_none_or(|n| *n == 0)
    });
    match empty {
        Some(i) => Err(invalid(
            "invalid_field",
            format!(
                "threads_thread_media_layout leaves post {} of the thread with neither text nor images",
                i + 1
            ),
        )),
        None => Ok(()),
    }
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    check_media(post)?;
    let fields = &post.fields;
    let whole = post.text(PLATFORM);
    let as_one = fields
        .flag("threads_long_text_as_post")
        .map_err(field_error)?
        .unwrap_or(false);
    // As one post, the platform decides on the length.
    let parts = if as_one {
        vec![whole.to_owned()]
    } else {
        text::split(whole, Measure::THREADS)
    };
    let attachment = Attachment::parse(fields)?;
    let auto_publish = fields
        .flag("threads_auto_publish_text")
        .map_err(field_error)?
        .unwrap_or(false);
    // Threads takes these on text containers only.
    if post.kind != PostKind::Text && (attachment.is_some() || auto_publish) {
        return Err(invalid(
            "invalid_field",
            "threads_link_attachment, threads_poll_options and threads_auto_publish_text are for text posts only",
        ));
    }
    let plan = Plan {
        parts,
        images: image_layout(
            "threads_thread_media_layout",
            fields.text("threads_thread_media_layout"),
            post.media.len(),
            MAX_CAROUSEL,
        )?,
        reply_to: fields.text("threads_reply_to_id").map(str::to_owned),
        quote: fields.text("threads_quote_post_id").map(str::to_owned),
        topic_tag: topic_tag(fields)?,
        reply_control: reply_control(fields)?,
        attachment,
        auto_publish,
        alt_texts: post.alt_texts(PLATFORM),
        first_comment: post.first_comment(PLATFORM).map(str::to_owned),
    };
    check_posts(&plan)?;
    Ok(plan)
}

/// An image or video container's parameters: Threads pulls the media from its URL.
fn media_params(call: &Call<'_>, media: &Media, alt: Option<&str>) -> Vec<(&'static str, String)> {
    let url = call.media.public_url(media);
    let mut params = match media.kind {
        MediaKind::Video => vec![("media_type", "VIDEO".to_owned()), ("video_url", url)],
        _ => vec![("media_type", "IMAGE".to_owned()), ("image_url", url)],
    };
    params.extend(alt.map(|a| ("alt_text", a.to_owned())));
    params
}

/// Makes a container; `Effect::Creates` when the container publishes itself.
async fn make_container(
    call: &Call<'_>,
    params: &[(&str, String)],
    effect: Effect,
) -> Result<Value, PublishError> {
    let uid = &call.connection.platform_user_id;
    graph::post(
        call.app,
        &format!("{uid}/threads"),
        params,
        &call.tokens.access_token,
        effect,
    )
    .await
}

/// A container: its id. Nothing is visible yet, so repeating it is harmless.
async fn container(call: &Call<'_>, params: &[(&str, String)]) -> Result<String, PublishError> {
    let made = make_container(call, params, Effect::Harmless).await?;
    string_at(&made, "id").ok_or_else(|| {
        PublishError::refused("malformed_answer", "Threads named no container", true)
    })
}
/// A container's `status`.
async fn status(call: &Call<'_>, container: &str) -> Result<Value, PublishError> {
    graph::get(
        call.app,
        container,
        &[("fields", "status,error_message")],
        &call.tokens.access_token,
    )
    .await
}

/// Looks once: whether Threads has built the container (`false` while it is in progress).
async fn built(call: &Call<'_>, container: &str) -> Result<bool, PublishError> {
    let status = status(call, container).await?;
    match status["status"].as_str() {
        Some("FINISHED") => Ok(true),
        // A video Threads could not process is `processing_failed`; anything else it could
        // not build (an image it could not fetch) is the media's fault.
        Some("ERROR") => {
            let why = status["error_message"].as_str().unwrap_or("UNKNOWN");
            let code = if why.starts_with("FAILED_PROCESSING") {
                "processing_failed"
            } else {
                "media_rejected"
            };
            Err(PublishError::refused(
                code,
                format!("Threads could not build the post: {why}"),
                false,
            ))
        }
        Some("EXPIRED" | "PUBLISHED") => Err(PublishError::refused(
            "container_expired",
            "The Threads container can no longer be published",
            true,
        )),
        _ => Ok(false),
    }
}

/// Waits until Threads has built the container.
async fn ready(call: &Call<'_>, container: &str) -> Result<(), PublishError> {
    for wait in STATUS_WAITS_MS {
        if built(call, container).await? {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    }
    Err(PublishError::refused(
        "container_not_ready",
        "Threads did not finish preparing the post in time",
        true,
    ))
}

/// With `wait`, waits until Threads has built the container; else looks once.
async fn settled(call: &Call<'_>, container: &str, wait: bool) -> Result<bool, PublishError> {
    if wait {
        ready(call, container).await.map(|()| true)
    } else {
        built(call, container).await
    }
}

/// Publishes a built container: the post's id.
async fn publish_container(call: &Call<'_>, container: &str) -> Result<String, PublishError> {
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

/// One image with its alt text.
type Image<'a> = (&'a Media, Option<&'a str>);

/// A post made from one container.
struct Made {
    post_id: String,
    /// `None` when the text container published itself.
    container: Option<String>,
}

/// The containers of a post made so far: kept in `Pending` state while Threads processes a
/// video, so that the next call goes on with them and makes none twice.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Containers {
    /// A carousel's items.
    #[serde(default)]
    children: Vec<String>,
    /// The container to publish.
    #[serde(default)]
    container: Option<String>,
}

/// Makes one post of `text` and `media` (none: TEXT, one: IMAGE or VIDEO, more: a CAROUSEL
/// of them) with `options`, and publishes it: a text container asked to (`auto_publish`) is
/// the post as soon as it is made, any other is built, then published. With `wait` false,
/// a container still being built answers `None`, `made` holding what there is.
async fn post_one(
    call: &Call<'_>,
    text: &str,
    images: &[Image<'_>],
    options: Vec<(&'static str, String)>,
    auto_publish: bool,
    made: &mut Containers,
    wait: bool,
) -> Result<Option<Made>, PublishError> {
    if auto_publish && images.is_empty() {
        return auto_published(call, text, options).await.map(Some);
    }
    let container = match made.container.clone() {
        Some(id) => id,
        None => {
            let mut params = match images {
                [] => vec![("media_type", "TEXT".to_owned())],
                [(media, alt)] => media_params(call, media, *alt),
                _ => {
                    if made.children.is_empty() {
                        for (media, alt) in images {
                            let mut item = media_params(call, media, *alt);
                            item.push(("is_carousel_item", "true".to_owned()));
                            made.children.push(container(call, &item).await?);
                        }
                    }
                    for child in &made.children {
                        if !settled(call, child, wait).await? {
                            return Ok(None);
                        }
                    }
                    vec![
                        ("media_type", "CAROUSEL".to_owned()),
                        ("children", made.children.join(",")),
                    ]
                }
            };
            if !text.is_empty() {
                params.push(("text", text.to_owned()));
            }
            params.extend(options);
            let id = container(call, &params).await?;
            made.container = Some(id.clone());
            id
        }
    };
    if !settled(call, &container, wait).await? {
        return Ok(None);
    }
    Ok(Some(Made {
        post_id: publish_container(call, &container).await?,
        container: Some(container),
    }))
}

/// A text container made with `auto_publish_text`: the post itself.
async fn auto_published(
    call: &Call<'_>,
    text: &str,
    options: Vec<(&'static str, String)>,
) -> Result<Made, PublishError> {
    let mut params = vec![("media_type", "TEXT".to_owned()), ("text", text.to_owned())];
    params.extend(options);
    params.push(("auto_publish_text", "true".to_owned()));
    // The answer names the published post; lost, the post may be out.
    let made = make_container(call, &params, Effect::Creates).await?;
    Ok(Made {
        post_id: id_of(&made, "id")?,
        container: None,
    })
}

#[async_trait]
impl Publisher for Threads {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|_| Vec::new())
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        let mut images = post
            .media
            .iter()
            .enumerate()
            .map(|(i, m)| (m, plan.alt_texts.get(i).map(String::as_str)));
        let mut published = Published::default();
        let mut ids: Vec<String> = Vec::new();
        // The head's containers, resumed from the last call while Threads processed a video.
        let mut head: Containers = call
            .resume
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .unwrap_or_default();
        for i in 0..plan.len() {
            let group: Vec<Image<'_>> = images
                .by_ref()
                .take(plan.images.get(i).copied().unwrap_or(0))
                .collect();
            let text = plan.parts.get(i).map_or("", String::as_str);
            let options = match ids.last() {
                None => plan.head_options(),
                Some(previous) => vec![("reply_to_id", previous.clone())],
            };
            // The head waits for its videos across calls (`Pending`); once it is out, the
            // replies wait within this call.
            let mut reply = Containers::default();
            let (made, wait) = if ids.is_empty() {
                let video = group.iter().any(|(m, _)| m.kind == MediaKind::Video);
                (&mut head, !video)
            } else {
                (&mut reply, true)
            };
            match post_one(call, text, &group, options, plan.auto_publish, made, wait).await {
                Ok(None) => {
                    return Ok(Progress::Pending {
                        state: serde_json::to_value(&head).unwrap_or_default(),
                        after: PROCESSING_WAIT,
                    });
                }
                Ok(Some(made)) => {
                    if let (true, Some(container)) = (ids.is_empty(), made.container) {
                        published
                            .extra
                            .insert("container_id".to_owned(), container.into());
                    }
                    ids.push(made.post_id);
                }
                Err(e) if ids.is_empty() => return Err(e),
                // The head is out: what follows can only add to it, so a failure is a warning.
                Err(e) => {
                    published.warnings.push(format!(
                        "The thread stopped after {} of {} posts: {e}",
                        ids.len(),
                        plan.len()
                    ));
                    break;
                }
            }
        }
        let post_id = ids[0].clone();
        note_thread(&mut published, &ids);
        if let Some(text) = &plan.first_comment {
            let answer = vec![("reply_to_id", post_id.clone())];
            let mut comment = Containers::default();
            let outcome = post_one(
                call,
                text,
                &[],
                answer,
                plan.auto_publish,
                &mut comment,
                true,
            )
            .await
            .map(drop);
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
        published.post_id = post_id;
        Ok(Progress::Done(published))
    }

    /// A head container that was not published may be published again; else the account's
    /// posts since `call.since`, for one with the head post's text.
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let plan = plan(post)?;
        let head: Containers = call
            .resume
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .unwrap_or_default();
        if let Some(container) = &head.container
            && status(call, container).await?["status"] != "PUBLISHED"
        {
            return Ok(None);
        }
        graph::own_recent_post(call, "threads", "text", &plan.parts[0]).await
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
    use crate::publish::publisher::samples;

    fn post(kind: PostKind, pairs: &[(&str, &str)], images: usize) -> Post {
        samples::post(kind, pairs, samples::images(images, "image/jpeg"))
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
        assert_eq!(code(&post(PostKind::Photos, &[], 0)), "media_required");
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
        assert_eq!(code(&post(PostKind::Video, &[], 0)), "media_required");
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

    #[test]
    fn more_than_twenty_images_or_a_layout_make_a_thread() {
        let many = plan(&post(PostKind::Photos, &[("title", "a")], 45)).unwrap();
        assert_eq!((many.len(), many.images.clone()), (3, vec![20, 20, 5]));
        let laid = plan(&post(
            PostKind::Photos,
            &[("title", "a"), ("threads_thread_media_layout", "3,2")],
            5,
        ))
        .unwrap();
        assert_eq!(laid.images, [3, 2]);
        // The second post would have neither text nor images.
        assert_eq!(
            code(&post(
                PostKind::Photos,
                &[("title", "a"), ("threads_thread_media_layout", "3,0,2")],
                5
            )),
            "invalid_field"
        );
        for bad in ["21", "3,3", "2,x"] {
            let p = post(
                PostKind::Photos,
                &[("threads_thread_media_layout", bad)],
                if bad == "21" { 21 } else { 5 },
            );
            assert_eq!(code(&p), "invalid_field", "{bad}");
        }
    }

    #[test]
    fn links_and_polls_are_typed_and_for_text_only() {
        let link = [
            ("title", "a"),
            ("threads_link_attachment", "https://a.example/x"),
        ];
        let ok = plan(&post(PostKind::Text, &link, 0)).unwrap();
        assert_eq!(
            ok.attachment.as_ref().map(Attachment::param),
            Some(("link_attachment", "https://a.example/x".to_owned()))
        );
        assert_eq!(code(&post(PostKind::Photos, &link, 1)), "invalid_field");
        for bad in ["ftp://a.example/x", "a.example", "https://"] {
            let p = post(
                PostKind::Text,
                &[("title", "a"), ("threads_link_attachment", bad)],
                0,
            );
            assert_eq!(code(&p), "invalid_field", "{bad}");
        }

        let poll = [
            ("title", "q?"),
            ("threads_poll_options[]", "yes"),
            ("threads_poll_options[]", "no"),
            ("threads_poll_options[]", "maybe"),
        ];
        let ok = plan(&post(PostKind::Text, &poll, 0)).unwrap();
        let (key, value) = ok.attachment.as_ref().map(Attachment::param).unwrap();
        assert_eq!(key, "poll_attachment");
        assert_eq!(
            serde_json::from_str::<Value>(&value).unwrap(),
            serde_json::json!({"option_a": "yes", "option_b": "no", "option_c": "maybe"})
        );
        assert_eq!(code(&post(PostKind::Photos, &poll, 1)), "invalid_field");
        let one = [("title", "q"), ("threads_poll_options", r#"["only"]"#)];
        assert_eq!(code(&post(PostKind::Text, &one, 0)), "invalid_field");
        let five = [("title", "q"), ("threads_poll_options", "a,b,c,d,e")];
        assert_eq!(code(&post(PostKind::Text, &five, 0)), "invalid_field");
        let long = [
            ("title", "q"),
            ("threads_poll_options", &format!("a,{}", "b".repeat(26))),
        ];
        assert_eq!(code(&post(PostKind::Text, &long, 0)), "invalid_field");
        let both = [
            ("title", "q"),
            ("threads_poll_options", "a,b"),
            ("threads_link_attachment", "https://a.example"),
        ];
        assert_eq!(code(&post(PostKind::Text, &both, 0)), "invalid_field");
    }

    #[test]
    fn quotes_and_auto_publishing_are_read() {
        let p = plan(&post(
            PostKind::Text,
            &[
                ("title", "a"),
                ("threads_quote_post_id", "77"),
                ("threads_auto_publish_text", "TRUE"),
            ],
            0,
        ))
        .unwrap();
        assert!(p.auto_publish);
        assert!(
            p.head_options()
                .contains(&("quote_post_id", "77".to_owned()))
        );
        let photo = [("threads_auto_publish_text", "true")];
        assert_eq!(code(&post(PostKind::Photos, &photo, 1)), "invalid_field");
        let odd = [("title", "a"), ("threads_auto_publish_text", "sometimes")];
        assert_eq!(code(&post(PostKind::Text, &odd, 0)), "invalid_field");
    }
}
