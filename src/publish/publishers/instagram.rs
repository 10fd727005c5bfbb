//! Instagram (Instagram API with Instagram Login, `graph.instagram.com`): a post is a
//! container Instagram builds by pulling its media from the signed URL Postgate serves it
//! at — an image, a reel, a story, or a carousel of up to 10 image and video items — then
//! publishes on `media_publish`. Video containers take a while: until Instagram reports
//! them `FINISHED` the publisher answers `Pending` with the container ids, so a later call
//! goes on from there and never makes a container twice. Only `media_publish` makes the
//! post visible, so only its lost answer leaves a post in doubt.

use super::graph::{self, id_of};
use super::note_first_comment;
use crate::domain::Platform;
use crate::domain::upload::{Fields, MediaKind, PostKind};
use crate::oauth::http::string_at;
use crate::publish::http::Effect;
use crate::publish::publisher::{Call, Media, Post, Progress, PublishError, Published, Publisher};
use crate::publish::video::VideoLimits;
use async_trait::async_trait;
use serde_json::{Value, json};

pub struct Instagram;

const PLATFORM: Platform = Platform::Instagram;
const MAX_CAPTION: usize = 2200;
const MAX_HASHTAGS: usize = 30;
const MAX_CAROUSEL: usize = 10;
const MAX_COLLABORATORS: usize = 3;
/// Instagram's API takes JPEG images only, up to 8 MB.
const IMAGE_TYPES: [&str; 1] = ["image/jpeg"];
const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;
const VIDEO_TYPES: &[&str] = &["video/mp4", "video/quicktime"];
/// Reels: 3 s to 15 min, 300 MB (developers.facebook.com/docs/instagram-platform/reference/
/// instagram-media, "Reel specifications").
const REEL: VideoLimits = VideoLimits {
    platform: "Instagram Reels",
    types: VIDEO_TYPES,
    max_bytes: 300 * 1024 * 1024,
    min_duration_ms: 3_000,
    max_duration_ms: 15 * 60_000,
    max_side: None,
};
/// Story and carousel videos: 3 s to 60 s, 100 MB.
const SHORT: VideoLimits = VideoLimits {
    platform: "Instagram stories and carousels",
    types: VIDEO_TYPES,
    max_bytes: 100 * 1024 * 1024,
    min_duration_ms: 3_000,
    max_duration_ms: 60_000,
    max_side: None,
};
/// How long to wait before looking again at a container Instagram is still building.
const PROCESSING_WAIT: std::time::Duration = std::time::Duration::from_secs(3);
/// Graph's error code for the 24-hour publishing limit (with subcode 2207042).
const PUBLISHING_LIMIT_CODE: &str = "9";

/// What the post becomes on Instagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Image,
    Reel,
    Story,
    Carousel,
}

/// A post as Instagram will get it, read from the request once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    shape: Shape,
    caption: String,
    /// Parameters of the post's own container (the carousel's parent).
    options: Vec<(&'static str, String)>,
    /// Parameters of each media item's container, in order.
    items: Vec<Vec<(&'static str, String)>>,
    first_comment: Option<String>,
    warnings: Vec<String>,
}

/// The containers made so far, kept in `Pending` state so a later call goes on with them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Made {
    /// A carousel's items.
    #[serde(default)]
    children: Vec<String>,
    /// The container `media_publish` publishes.
    #[serde(default)]
    container: Option<String>,
}

fn invalid(code: &str, message: impl Into<String>) -> PublishError {
    PublishError::invalid(code, message)
}

/// `instagram_{name}` when given, else `{name}` (the SDKs send Instagram's fields bare).
fn name_of(fields: &Fields, name: &str) -> String {
    let own = format!("instagram_{name}");
    if fields.text(&own).is_some() {
        own
    } else {
        name.to_owned()
    }
}

fn text<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .for_platform(PLATFORM.key(), name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn flag(fields: &Fields, name: &str) -> Result<Option<bool>, PublishError> {
    fields
        .flag(&name_of(fields, name))
        .map_err(|e| invalid("invalid_field", e.to_string()))
}

/// The shape `media_type` asks for: videos are `REELS` (default) or `STORIES`, photos
/// `IMAGE` (default) or `STORIES`; several photos make a carousel.
fn shape(post: &Post) -> Result<Shape, PublishError> {
    let asked = text(&post.fields, "media_type").map(str::to_ascii_uppercase);
    let n = post.media.len();
    let shape = match (post.kind, asked.as_deref()) {
        (PostKind::Video, None | Some("REELS")) => Shape::Reel,
        (PostKind::Photos, None | Some("IMAGE")) if n > 1 => Shape::Carousel,
        (PostKind::Photos, None | Some("IMAGE")) => Shape::Image,
        (PostKind::Video | PostKind::Photos, Some("STORIES")) => Shape::Story,
        (PostKind::Video | PostKind::Photos, Some(other)) => {
            return Err(invalid(
                "invalid_field",
                format!(
                    "media_type {other:?} is not one Instagram takes here: REELS or STORIES for a video, IMAGE or STORIES for photos"
                ),
            ));
        }
        (PostKind::Text, _) => {
            return Err(invalid(
                "media_required",
                "Instagram posts need an image or a video",
            ));
        }
        (PostKind::Document, _) => {
            return Err(invalid(
                "unsupported_media",
                "Instagram does not take documents",
            ));
        }
    };
    match (shape, n) {
        (_, 0) => Err(invalid(
            "media_required",
            "An Instagram post needs an image or a video",
        )),
        (Shape::Carousel, n) if n > MAX_CAROUSEL => Err(invalid(
            "too_many_media",
            format!("An Instagram carousel takes up to {MAX_CAROUSEL} items; this post has {n}"),
        )),
        (Shape::Reel | Shape::Story | Shape::Image, n) if n > 1 => Err(invalid(
            "too_many_media",
            "An Instagram reel or story takes one image or video",
        )),
        _ => Ok(shape),
    }
}

/// Checks each item against Instagram's rules for where it goes.
fn check_media(shape: Shape, media: &[Media]) -> Result<(), PublishError> {
    for m in media {
        match (m.kind, shape) {
            (MediaKind::Video, Shape::Reel) => REEL.check(m)?,
            (MediaKind::Video, Shape::Story | Shape::Carousel | Shape::Image) => SHORT.check(m)?,
            (MediaKind::Image, Shape::Reel) => {
                return Err(invalid("unsupported_media", "A reel needs a video"));
            }
            (MediaKind::Image, _) => {
                if !IMAGE_TYPES.contains(&m.content_type.as_str()) {
                    return Err(invalid(
                        "unsupported_media_type",
                        format!("Instagram takes JPEG images, not {}", m.content_type),
                    ));
                }
                if let Some(e) = super::too_large(m, MAX_IMAGE_BYTES, "Instagram") {
                    return Err(e);
                }
            }
            (MediaKind::Document, _) => {
                return Err(invalid(
                    "unsupported_media",
                    "Instagram does not take documents",
                ));
            }
        }
    }
    Ok(())
}

fn check_caption(caption: &str) -> Result<(), PublishError> {
    let chars = caption.chars().count();
    if chars > MAX_CAPTION {
        return Err(invalid(
            "text_too_long",
            format!("Instagram captions take up to {MAX_CAPTION} characters; this one has {chars}"),
        ));
    }
    let tags = caption.matches('#').count();
    if tags > MAX_HASHTAGS {
        return Err(invalid(
            "too_many_hashtags",
            format!("Instagram captions take up to {MAX_HASHTAGS} hashtags; this one has {tags}"),
        ));
    }
    Ok(())
}

/// `user_tags` as Graph takes them: a JSON array of `{username, x, y}` (photos; a bare
/// username is placed at the centre) or of `{username}` (videos), from a JSON array or a
/// comma list of usernames.
fn user_tags(raw: &str, on_image: bool) -> Result<String, PublishError> {
    let bad = || {
        invalid(
            "invalid_field",
            "user_tags is a comma list of usernames, or a JSON array of {username, x, y} with x and y from 0 to 1",
        )
    };
    let entries: Vec<Value> = if raw.trim_start().starts_with('[') {
        serde_json::from_str(raw).map_err(|_| bad())?
    } else {
        raw.split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| Value::from(u.trim_start_matches('@')))
            .collect()
    };
    let tags = entries
        .into_iter()
        .map(|e| {
            let (username, x, y) = match &e {
                Value::String(u) => (u.clone(), None, None),
                Value::Object(o) => (
                    o.get("username")
                        .and_then(Value::as_str)
                        .ok_or_else(bad)?
                        .to_owned(),
                    o.get("x").and_then(Value::as_f64),
                    o.get("y").and_then(Value::as_f64),
                ),
                _ => return Err(bad()),
            };
            if username.is_empty() || [x, y].iter().flatten().any(|v| !(0.0..=1.0).contains(v)) {
                return Err(bad());
            }
            Ok(if on_image {
                json!({"username": username, "x": x.unwrap_or(0.5), "y": y.unwrap_or(0.5)})
            } else {
                json!({"username": username})
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::from(tags).to_string())
}

/// `share_mode` as Graph's `trial_params`: trial reels graduate to followers when they do
/// well, or never on their own.
fn trial_params(mode: &str) -> Result<Option<String>, PublishError> {
    match mode.to_ascii_uppercase().as_str() {
        "CUSTOM" => Ok(None),
        "TRIAL_REELS_SHARE_TO_FOLLOWERS_IF_LIKED" => Ok(Some(
            json!({"graduation_strategy": "SS_PERFORMANCE"}).to_string(),
        )),
        "TRIAL_REELS_DONT_SHARE_TO_FOLLOWERS" => {
            Ok(Some(json!({"graduation_strategy": "MANUAL"}).to_string()))
        }
        _ => Err(invalid(
            "invalid_field",
            "share_mode is CUSTOM, TRIAL_REELS_SHARE_TO_FOLLOWERS_IF_LIKED or TRIAL_REELS_DONT_SHARE_TO_FOLLOWERS",
        )),
    }
}

/// Options that only some shapes take: kept for those, named in warnings for the others.
struct Options<'a> {
    post: &'a Post,
    shape: Shape,
    out: Vec<(&'static str, String)>,
    warnings: Vec<String>,
}

impl Options<'_> {
    /// Whether `name`, when sent, goes on this post; a warning when it does not.
    fn fits(&mut self, name: &str, shapes: &[Shape], why: &str) -> bool {
        let sent = text(&self.post.fields, name).is_some();
        if sent && !shapes.contains(&self.shape) {
            self.warnings
                .push(format!("{name} was ignored: Instagram takes it {why}"));
        }
        sent && shapes.contains(&self.shape)
    }
}

/// The post's own container parameters (reference 1.3, Instagram).
fn options(post: &Post, shape: Shape) -> Result<Options<'_>, PublishError> {
    use Shape::{Carousel, Image, Reel};
    let fields = &post.fields;
    let mut o = Options {
        post,
        shape,
        out: Vec::new(),
        warnings: Vec::new(),
    };
    if o.fits(
        "collaborators",
        &[Image, Reel, Carousel],
        "on feed posts and reels",
    ) {
        let names = fields.list(&name_of(fields, "collaborators"), &[","]);
        if names.len() > MAX_COLLABORATORS {
            return Err(invalid(
                "invalid_field",
                format!("Instagram takes up to {MAX_COLLABORATORS} collaborators"),
            ));
        }
        let names: Vec<&str> = names.iter().map(|n| n.trim_start_matches('@')).collect();
        o.out.push(("collaborators", json!(names).to_string()));
    }
    if o.fits(
        "location_id",
        &[Image, Reel, Carousel],
        "on feed posts and reels",
    ) {
        let id = text(fields, "location_id").unwrap_or_default();
        if !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "invalid_field",
                "location_id must be a Page id (digits)",
            ));
        }
        o.out.push(("location_id", id.to_owned()));
    }
    let reel_only = "on reels";
    if o.fits("share_to_feed", &[Reel], reel_only)
        && let Some(share) = flag(fields, "share_to_feed")?
    {
        o.out.push(("share_to_feed", share.to_string()));
    }
    if o.fits("thumb_offset", &[Reel], reel_only) {
        let ms = fields
            .number(&name_of(fields, "thumb_offset"))
            .map_err(|e| invalid("invalid_field", e.to_string()))?
            .filter(|ms| *ms >= 0)
            .ok_or_else(|| invalid("invalid_field", "thumb_offset is milliseconds from 0"))?;
        o.out.push(("thumb_offset", ms.to_string()));
    }
    if o.fits("audio_name", &[Reel], reel_only) {
        o.out.push((
            "audio_name",
            text(fields, "audio_name").unwrap_or_default().to_owned(),
        ));
    }
    if o.fits("share_mode", &[Reel], reel_only)
        && let Some(trial) = trial_params(text(fields, "share_mode").unwrap_or_default())?
    {
        o.out.push(("trial_params", trial));
    }
    if o.fits("cover_url", &[Reel], reel_only) {
        let url = text(fields, "cover_url").unwrap_or_default();
        if !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err(invalid("invalid_field", "cover_url must be an http(s) URL"));
        }
        o.out.push(("cover_url", url.to_owned()));
    }
    if text(fields, "is_ai_generated").is_some() {
        o.warnings.push(
            "is_ai_generated was ignored: Instagram's API has no AI label for posts".to_owned(),
        );
    }
    Ok(o)
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let shape = shape(post)?;
    check_media(shape, &post.media)?;
    let caption = post.text(PLATFORM).to_owned();
    check_caption(&caption)?;
    let Options {
        out: mut options,
        mut warnings,
        ..
    } = options(post, shape)?;
    if shape == Shape::Story && !caption.trim().is_empty() {
        warnings.push("Instagram stories have no caption: the title was left out".to_owned());
    }
    if shape != Shape::Story && !caption.is_empty() {
        options.push(("caption", caption.clone()));
    }
    if post.attachment("cover_image").is_some() && shape != Shape::Reel {
        warnings.push("cover_image was ignored: Instagram takes a cover on reels".to_owned());
    }
    let alts = post.alt_texts(PLATFORM);
    if shape != Shape::Image && shape != Shape::Carousel && !alts.is_empty() {
        warnings.push(
            "instagram_alt_text was ignored: Instagram takes alt text on feed images".to_owned(),
        );
    }
    let tags = text(&post.fields, "user_tags");
    let mut items = Vec::new();
    let mut tagged = false;
    for (i, m) in post.media.iter().enumerate() {
        let image = m.kind == MediaKind::Image;
        let mut params = Vec::new();
        if image && let Some(alt) = alts.get(i).filter(|a| !a.is_empty()) {
            params.push(("alt_text", alt.clone()));
        }
        // One list of tags: on the post's only item, or a carousel's first image.
        let takes_tags = match shape {
            Shape::Carousel => image && !tagged,
            _ => true,
        };
        if let Some(raw) = tags.filter(|_| takes_tags) {
            params.push(("user_tags", user_tags(raw, image && shape != Shape::Story)?));
            tagged = true;
        }
        items.push(params);
    }
    if tags.is_some() && !tagged {
        warnings.push("user_tags was ignored: a carousel takes tags on its images".to_owned());
    }
    Ok(Plan {
        shape,
        caption,
        options,
        items,
        first_comment: post.first_comment(PLATFORM).map(str::to_owned),
        warnings,
    })
}

/// An item's container parameters: where Instagram pulls it from and what it is.
fn item_params(
    call: &Call<'_>,
    plan: &Plan,
    media: &Media,
    i: usize,
) -> Vec<(&'static str, String)> {
    let url = call.media.public_url(media);
    let video = media.kind == MediaKind::Video;
    let mut params = match (plan.shape, video) {
        (Shape::Carousel, true) => vec![
            ("media_type", "VIDEO".to_owned()),
            ("video_url", url),
            ("is_carousel_item", "true".to_owned()),
        ],
        (Shape::Carousel, false) => {
            vec![("image_url", url), ("is_carousel_item", "true".to_owned())]
        }
        (Shape::Story, true) => vec![("media_type", "STORIES".to_owned()), ("video_url", url)],
        (Shape::Story, false) => vec![("media_type", "STORIES".to_owned()), ("image_url", url)],
        (_, true) => vec![("media_type", "REELS".to_owned()), ("video_url", url)],
        (_, false) => vec![("image_url", url)],
    };
    params.extend(plan.items.get(i).cloned().unwrap_or_default());
    params
}

/// Makes a container: its id. Containers are invisible until published, so a repeat is
/// harmless.
async fn container(call: &Call<'_>, params: &[(&str, String)]) -> Result<String, PublishError> {
    let uid = &call.connection.platform_user_id;
    let made = graph::post(
        call.app,
        &format!("{uid}/media"),
        params,
        &call.tokens.access_token,
        Effect::Harmless,
    )
    .await?;
    string_at(&made, "id").ok_or_else(|| {
        PublishError::refused("malformed_answer", "Instagram named no container", true)
    })
}

/// Where a container is.
#[derive(Debug, PartialEq)]
enum Status {
    Finished,
    InProgress,
    Published,
}

async fn status(call: &Call<'_>, container: &str) -> Result<Status, PublishError> {
    let read = graph::get(
        call.app,
        container,
        &[("fields", "status_code,status")],
        &call.tokens.access_token,
    )
    .await?;
    let why = read["status"].as_str().unwrap_or("no reason given");
    match read["status_code"].as_str() {
        Some("FINISHED") => Ok(Status::Finished),
        Some("PUBLISHED") => Ok(Status::Published),
        Some("ERROR") => Err(PublishError::refused(
            "processing_failed",
            format!("Instagram could not process the media: {why}"),
            false,
        )),
        Some("EXPIRED") => Err(PublishError::refused(
            "container_expired",
            format!("The Instagram container expired before it was published: {why}"),
            false,
        )),
        _ => Ok(Status::InProgress),
    }
}

/// Refuses before any container when the account used up its 24-hour publishing limit.
async fn check_quota(call: &Call<'_>) -> Result<(), PublishError> {
    let uid = &call.connection.platform_user_id;
    let limit = graph::get(
        call.app,
        &format!("{uid}/content_publishing_limit"),
        &[("fields", "quota_usage,config")],
        &call.tokens.access_token,
    )
    .await?;
    let row = &limit["data"][0];
    let (usage, total) = (
        row["quota_usage"].as_i64(),
        row["config"]["quota_total"].as_i64(),
    );
    match (usage, total) {
        (Some(usage), Some(total)) if usage >= total => Err(quota_exceeded(format!(
            "This Instagram account published {usage} of its {total} posts allowed in 24 hours"
        ))),
        _ => Ok(()),
    }
}

fn quota_exceeded(message: String) -> PublishError {
    PublishError::refused("quota_exceeded", message, false)
}

/// Graph's publishing-limit error (code 9) under the reference's name.
fn named(e: PublishError) -> PublishError {
    match e {
        PublishError::Refused { code, message, .. } if code == PUBLISHING_LIMIT_CODE => {
            quota_exceeded(message)
        }
        other => other,
    }
}

/// Looks at `container`: `Some(Pending)` while Instagram builds it. A look that failed after
/// containers were made this call is a `Pending` too, so the next call keeps them.
async fn wait_for(
    call: &Call<'_>,
    made: &Made,
    container: &str,
) -> Result<Option<Progress>, PublishError> {
    let pending = || {
        Some(Progress::Pending {
            state: serde_json::to_value(made).unwrap_or_default(),
            after: PROCESSING_WAIT,
        })
    };
    match status(call, container).await {
        Ok(Status::Finished) => Ok(None),
        Ok(Status::InProgress) => Ok(pending()),
        // Published by a call whose answer was lost: only `find` can tell which post.
        Ok(Status::Published) => Err(PublishError::InDoubt(format!(
            "the Instagram container {container} was already published"
        ))),
        Err(e) if e.retryable() => Ok(pending()),
        Err(e) => Err(e),
    }
}

/// The containers of the post, made or resumed, up to the one to publish: `Err(Pending)`
/// while Instagram builds them.
async fn prepare(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    made: &mut Made,
) -> Result<Result<String, Progress>, PublishError> {
    if plan.shape == Shape::Carousel && made.container.is_none() {
        if made.children.is_empty() {
            for (i, m) in post.media.iter().enumerate() {
                made.children
                    .push(container(call, &item_params(call, plan, m, i)).await?);
            }
        }
        for child in &made.children {
            if let Some(pending) = wait_for(call, made, child).await? {
                return Ok(Err(pending));
            }
        }
        let mut params = vec![
            ("media_type", "CAROUSEL".to_owned()),
            ("children", made.children.join(",")),
        ];
        params.extend(plan.options.iter().cloned());
        made.container = Some(container(call, &params).await?);
    }
    let id = match &made.container {
        Some(id) => id.clone(),
        None => {
            let mut params = item_params(call, plan, &post.media[0], 0);
            params.extend(plan.options.iter().cloned());
            if let (Shape::Reel, Some(cover)) = (plan.shape, post.attachment("cover_image")) {
                params.push(("cover_url", call.media.public_url(cover)));
            }
            let id = container(call, &params).await?;
            made.container = Some(id.clone());
            id
        }
    };
    Ok(match wait_for(call, made, &id).await? {
        Some(pending) => Err(pending),
        None => Ok(id),
    })
}

#[async_trait]
impl Publisher for Instagram {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|p| p.warnings)
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        let mut made: Made = match call.resume {
            Some(state) => serde_json::from_value(state.clone()).unwrap_or_default(),
            None => {
                check_quota(call).await?;
                Made::default()
            }
        };
        let container = match prepare(call, post, &plan, &mut made).await? {
            Ok(id) => id,
            Err(pending) => return Ok(pending),
        };
        let uid = &call.connection.platform_user_id;
        let token = &call.tokens.access_token;
        let params = [("creation_id", container.clone())];
        let published = graph::post(
            call.app,
            &format!("{uid}/media_publish"),
            &params,
            token,
            Effect::Creates,
        )
        .await
        .map_err(named)?;
        let media_id = id_of(&published, "id")?;
        let mut published = Published {
            url: permalink(call, &media_id).await,
            post_id: media_id,
            warnings: plan.warnings.clone(),
            ..Published::default()
        };
        published
            .extra
            .insert("container_id".to_owned(), container.into());
        if let Some(text) = plan.first_comment.filter(|_| plan.shape != Shape::Story) {
            let outcome = graph::post(
                call.app,
                &format!("{}/comments", published.post_id),
                &[("message", text)],
                token,
                Effect::Creates,
            )
            .await
            .map(drop);
            note_first_comment(&mut published, outcome);
        }
        Ok(Progress::Done(published))
    }

    /// A container that was not published may be published again; else the account's
    /// recent media since `call.since`, for one with the post's caption. Stories are not
    /// listed, so a published story cannot be told apart.
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let plan = plan(post)?;
        let made: Made = call
            .resume
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .unwrap_or_default();
        if let Some(container) = &made.container
            && status(call, container).await? != Status::Published
        {
            return Ok(None);
        }
        if plan.shape == Shape::Story {
            return Err(PublishError::unsupported(
                "outcome_unknown",
                "Instagram does not list stories by caption: the story cannot be looked up",
            ));
        }
        graph::own_recent_post(call, "media", "caption", &plan.caption).await
    }

    /// Instagram's API has no delete for published media.
    async fn unpublish(&self, _call: &Call<'_>, _post_id: &str) -> Result<(), PublishError> {
        Err(PublishError::unsupported(
            "platform_not_supported",
            "Deleting posts is not supported on Instagram",
        ))
    }
}

/// The post's permalink, when Instagram gives it.
async fn permalink(call: &Call<'_>, media_id: &str) -> Option<String> {
    graph::get(
        call.app,
        media_id,
        &[("fields", "permalink")],
        &call.tokens.access_token,
    )
    .await
    .ok()
    .and_then(|p| string_at(&p, "permalink"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::{VideoInfo, samples};

    fn video(seconds: u64) -> Media {
        Media {
            id: "v".into(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            size: 1000,
            filename: Some("v.mp4".into()),
            video: Some(VideoInfo {
                duration_ms: seconds * 1000,
                width: 1080,
                height: 1920,
                video_codec: Some("avc1".into()),
                audio_codec: None,
            }),
        }
    }

    fn code(p: &Post) -> String {
        plan(p).unwrap_err().code().to_owned()
    }

    #[test]
    fn media_type_chooses_the_shape() {
        let reel = samples::post(PostKind::Video, &[("title", "a")], vec![video(10)]);
        assert_eq!(plan(&reel).unwrap().shape, Shape::Reel);
        let story = samples::post(
            PostKind::Video,
            &[("media_type", "stories")],
            vec![video(10)],
        );
        assert_eq!(plan(&story).unwrap().shape, Shape::Story);
        let jpegs = samples::images(3, "image/jpeg");
        let carousel = samples::post(PostKind::Photos, &[], jpegs.clone());
        assert_eq!(plan(&carousel).unwrap().shape, Shape::Carousel);
        let bad = samples::post(PostKind::Video, &[("media_type", "IMAGE")], vec![video(10)]);
        assert_eq!(code(&bad), "invalid_field");
        let many = samples::post(PostKind::Photos, &[], samples::images(11, "image/jpeg"));
        assert_eq!(code(&many), "too_many_media");
        let png = samples::post(PostKind::Photos, &[], samples::images(1, "image/png"));
        assert_eq!(code(&png), "unsupported_media_type");
        // Stories take one minute of video, reels fifteen.
        let long_story = samples::post(
            PostKind::Video,
            &[("media_type", "STORIES")],
            vec![video(90)],
        );
        assert_eq!(code(&long_story), "video_too_long");
        let long_reel = samples::post(PostKind::Video, &[], vec![video(90)]);
        assert!(plan(&long_reel).is_ok());
    }

    #[test]
    fn captions_are_limited() {
        let jpeg = || samples::images(1, "image/jpeg");
        let long = "x".repeat(MAX_CAPTION + 1);
        assert_eq!(
            code(&samples::post(
                PostKind::Photos,
                &[("title", &long)],
                jpeg()
            )),
            "text_too_long"
        );
        let tags = "#a ".repeat(MAX_HASHTAGS + 1);
        assert_eq!(
            code(&samples::post(
                PostKind::Photos,
                &[("title", &tags)],
                jpeg()
            )),
            "too_many_hashtags"
        );
    }

    #[test]
    fn reel_options_map_to_graph_parameters() {
        let reel = samples::post(
            PostKind::Video,
            &[
                ("title", "cap"),
                ("collaborators", "ann,@bob"),
                ("location_id", "123"),
                ("share_to_feed", "false"),
                ("thumb_offset", "1500"),
                ("audio_name", "Tune"),
                ("share_mode", "TRIAL_REELS_DONT_SHARE_TO_FOLLOWERS"),
                ("user_tags", "carl"),
                ("is_ai_generated", "true"),
            ],
            vec![video(10)],
        );
        let p = plan(&reel).unwrap();
        let get = |k: &str| {
            p.options
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("collaborators").as_deref(), Some(r#"["ann","bob"]"#));
        assert_eq!(get("share_to_feed").as_deref(), Some("false"));
        assert_eq!(get("thumb_offset").as_deref(), Some("1500"));
        assert_eq!(get("caption").as_deref(), Some("cap"));
        assert_eq!(
            get("trial_params").as_deref(),
            Some(r#"{"graduation_strategy":"MANUAL"}"#)
        );
        assert_eq!(
            p.items[0],
            [("user_tags", r#"[{"username":"carl"}]"#.to_owned())]
        );
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        let bad = samples::post(
            PostKind::Video,
            &[("collaborators", "a,b,c,d")],
            vec![video(10)],
        );
        assert_eq!(code(&bad), "invalid_field");
    }

    #[test]
    fn photo_tags_carry_places_and_reel_options_are_warned_on_photos() {
        let p = plan(&samples::post(
            PostKind::Photos,
            &[
                ("user_tags", r#"[{"username":"ann","x":0.1,"y":0.9}]"#),
                ("share_to_feed", "true"),
                ("instagram_alt_text", "a cat"),
            ],
            samples::images(1, "image/jpeg"),
        ))
        .unwrap();
        assert!(p.items[0].contains(&("alt_text", "a cat".to_owned())));
        assert!(p.items[0].contains(&(
            "user_tags",
            r#"[{"username":"ann","x":0.1,"y":0.9}]"#.to_owned()
        )));
        assert!(
            p.warnings[0].starts_with("share_to_feed"),
            "{:?}",
            p.warnings
        );
        let off = samples::post(
            PostKind::Photos,
            &[("user_tags", r#"[{"username":"ann","x":2}]"#)],
            samples::images(1, "image/jpeg"),
        );
        assert_eq!(code(&off), "invalid_field");
    }
}
