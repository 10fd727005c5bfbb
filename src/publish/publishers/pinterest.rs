//! Pinterest API v5: a pin on a board (`pinterest_board_id`), made by `POST /v5/pins` from
//! one image URL, 2 to 5 image URLs (a carousel), or an uploaded video. Pinterest pulls
//! images from the signed URLs Postgate serves them at. A video is registered
//! (`POST /v5/media`), posted to the S3 form the answer leases, and processed by Pinterest:
//! the publisher answers `Pending` with the media id until `GET /v5/media/{id}` says
//! `succeeded`, then makes the pin with a cover. Only the pin itself is visible, so only
//! that call can leave a post in doubt; `find` looks for it among the board's pins.
//!
//! `pinterest_cover_image_key_frame_time` is read in milliseconds, as Upload-Post's SDK
//! documents it (its clients send what the SDK says), and sent in whole seconds, the unit of
//! Pinterest's `cover_image_key_frame_time`.

use super::{endpoint, form_upload, sandbox_page};
use crate::domain::Platform;
use crate::domain::upload::PostKind;
use crate::oauth::http::string_at;
use crate::publish::http::{self, Effect};
use crate::publish::publisher::{Call, Media, Post, Progress, PublishError, Published, Publisher};
use crate::publish::video::VideoLimits;
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::time::Duration;

pub struct Pinterest;

const PLATFORM: Platform = Platform::Pinterest;
const MAX_TITLE: usize = 100;
const MAX_DESCRIPTION: usize = 800;
const MAX_LINK: usize = 2048;
const MAX_ALT_TEXT: usize = 500;
const CAROUSEL: std::ops::RangeInclusive<usize> = 2..=5;
const AI_DISCLOSURES: [&str; 2] = ["AI_MODIFIED", "SYNTHETIC_PERFORMER"];
const IMAGE_TYPES: [&str; 6] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
];
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
const COVER_TYPES: [&str; 2] = ["image/jpeg", "image/png"];
/// developers.pinterest.com/docs/content/content-creation/#Videos: MP4, MOV or M4V,
/// 4 seconds to 15 minutes, up to 2 GB.
const VIDEO: VideoLimits = VideoLimits {
    platform: "Pinterest",
    types: &["video/mp4", "video/quicktime", "video/x-m4v"],
    max_bytes: 2 * 1024 * 1024 * 1024,
    min_duration_ms: 4_000,
    max_duration_ms: 15 * 60 * 1000,
    max_side: None,
};
/// How long Pinterest is given to process a video before it is asked again.
const PROCESSING_WAIT: Duration = Duration::from_secs(3);

/// A video pin's cover, as Pinterest's `video_id` media source takes it.
#[derive(Debug, Clone, PartialEq)]
enum Cover {
    Url(String),
    Data {
        content_type: String,
        data: String,
    },
    /// A frame of the video, in seconds.
    KeyFrame(u64),
}

#[derive(Debug, Clone, PartialEq)]
enum Source {
    Image,
    /// Per-image title, description and link, and the image shown first.
    Carousel {
        items: Vec<Map<String, Value>>,
        index: Option<u64>,
    },
    /// The cover named by the request; `None`: the file sent as `thumbnail` or
    /// `cover_image`, else the first frame.
    Video(Option<Cover>),
}

/// A pin as Pinterest will get it, read from the request once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    /// `board_id`, `board_section_id`, `title`, `description`, `link`, `alt_text`,
    /// `ai_disclosures`.
    pin: Map<String, Value>,
    source: Source,
    warnings: Vec<String>,
}

fn invalid(message: impl Into<String>) -> PublishError {
    PublishError::invalid("invalid_field", message)
}

fn is_web_url(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// A text field within Pinterest's limit, kept when given.
fn limited(
    pin: &mut Map<String, Value>,
    key: &str,
    field: &str,
    value: Option<&str>,
    limit: usize,
) -> Result<(), PublishError> {
    let Some(value) = value else {
        return Ok(());
    };
    if value.chars().count() > limit {
        return Err(PublishError::invalid(
            "text_too_long",
            format!("Pinterest takes a {field} of at most {limit} characters"),
        ));
    }
    pin.insert(key.to_owned(), value.into());
    Ok(())
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let fields = &post.fields;
    let Some(board) = fields.text("pinterest_board_id").map(str::trim) else {
        return Err(PublishError::invalid(
            "pinterest_board_required",
            "A Pinterest pin needs pinterest_board_id: the board to pin to",
        ));
    };
    let mut pin = Map::new();
    pin.insert("board_id".to_owned(), board.into());
    if let Some(section) = fields.text("pinterest_board_section_id") {
        pin.insert("board_section_id".to_owned(), section.trim().into());
    }
    let title = Some(post.text(PLATFORM)).filter(|t| !t.is_empty());
    limited(&mut pin, "title", "title", title, MAX_TITLE)?;
    let description = post.description(PLATFORM);
    limited(
        &mut pin,
        "description",
        "description",
        description,
        MAX_DESCRIPTION,
    )?;
    let alt = fields.first_text(&["pinterest_alt_text", "alt_text"]);
    limited(&mut pin, "alt_text", "alt text", alt, MAX_ALT_TEXT)?;
    if let Some(link) = fields.text("pinterest_link").map(str::trim) {
        if !is_web_url(link) {
            return Err(invalid("pinterest_link must be an http(s) URL"));
        }
        limited(&mut pin, "link", "link", Some(link), MAX_LINK)?;
    }
    let disclosures: Vec<String> = fields
        .list("pinterest_ai_disclosures", &[","])
        .iter()
        .map(|d| d.to_ascii_uppercase())
        .collect();
    if let Some(unknown) = disclosures
        .iter()
        .find(|d| !AI_DISCLOSURES.contains(&d.as_str()))
    {
        return Err(invalid(format!(
            "pinterest_ai_disclosures takes {}, not {unknown}",
            AI_DISCLOSURES.join(" and ")
        )));
    }
    if !disclosures.is_empty() {
        pin.insert("ai_disclosures".to_owned(), json!({"values": disclosures}));
    }
    let mut warnings = Vec::new();
    let source = source(post, &mut warnings)?;
    Ok(Plan {
        pin,
        source,
        warnings,
    })
}

const CAROUSEL_FIELDS: [&str; 4] = [
    "pinterest_carousel_titles",
    "pinterest_carousel_descriptions",
    "pinterest_carousel_links",
    "pinterest_carousel_index",
];
const COVER_FIELDS: [&str; 4] = [
    "pinterest_cover_image_url",
    "pinterest_cover_image_content_type",
    "pinterest_cover_image_data",
    "pinterest_cover_image_key_frame_time",
];

/// Names each field given for another kind of pin, as a warning.
fn ignored(post: &Post, names: &[&str], what: &str, warnings: &mut Vec<String>) {
    for name in names {
        if !post.fields.all(name).is_empty() {
            warnings.push(format!("{name} is only for {what} and was ignored"));
        }
    }
}

fn source(post: &Post, warnings: &mut Vec<String>) -> Result<Source, PublishError> {
    match post.kind {
        PostKind::Text => Err(PublishError::invalid(
            "media_required",
            "A Pinterest pin needs an image or a video",
        )),
        PostKind::Document => Err(PublishError::invalid(
            "unsupported_media",
            "Pinterest does not take documents",
        )),
        PostKind::Video => {
            let [video] = post.media.as_slice() else {
                return Err(PublishError::invalid(
                    "unsupported_media",
                    "A Pinterest video pin takes one video",
                ));
            };
            VIDEO.check(video)?;
            ignored(post, &CAROUSEL_FIELDS, "carousels", warnings);
            Ok(Source::Video(cover(post)?))
        }
        PostKind::Photos => {
            check_images(&post.media)?;
            ignored(post, &COVER_FIELDS, "video pins", warnings);
            if post.media.len() == 1 {
                ignored(post, &CAROUSEL_FIELDS, "carousels", warnings);
                return Ok(Source::Image);
            }
            carousel(post)
        }
    }
}

fn check_images(media: &[Media]) -> Result<(), PublishError> {
    if media.is_empty() || media.len() > *CAROUSEL.end() {
        return Err(PublishError::invalid(
            "too_many_images",
            "A Pinterest pin takes one image, or a carousel of 2 to 5",
        ));
    }
    super::check_images(
        media,
        "Pinterest",
        (&IMAGE_TYPES, "JPEG, PNG, GIF, WEBP, BMP and TIFF"),
        MAX_IMAGE_BYTES,
    )
}

/// The carousel's items: each image's title, description and link from the
/// `pinterest_carousel_*` lists, in order.
fn carousel(post: &Post) -> Result<Source, PublishError> {
    let fields = &post.fields;
    let n = post.media.len();
    let lists = [
        ("title", "pinterest_carousel_titles", MAX_TITLE),
        (
            "description",
            "pinterest_carousel_descriptions",
            MAX_DESCRIPTION,
        ),
        ("link", "pinterest_carousel_links", MAX_LINK),
    ];
    let mut items = vec![Map::new(); n];
    for (key, name, limit) in lists {
        let values = fields.list(name, &["||", "|"]);
        if values.len() > n {
            return Err(invalid(format!(
                "{name} has {} entries for {n} images",
                values.len()
            )));
        }
        for (item, value) in items.iter_mut().zip(values) {
            if value.chars().count() > limit {
                return Err(invalid(format!(
                    "{name}: each is at most {limit} characters"
                )));
            }
            if key == "link" && !is_web_url(&value) {
                return Err(invalid(format!("{name}: {value:?} is not an http(s) URL")));
            }
            item.insert(key.to_owned(), value.into());
        }
    }
    let index = fields
        .number("pinterest_carousel_index")
        .map_err(|e| invalid(e.to_string()))?;
    let index = match index {
        None => None,
        Some(i) => Some(
            u64::try_from(i)
                .ok()
                .filter(|i| *i < n as u64)
                .ok_or_else(|| invalid(format!("pinterest_carousel_index is 0 to {}", n - 1)))?,
        ),
    };
    Ok(Source::Carousel { items, index })
}

/// The cover the request names: a URL, base64 data with its type, or a key frame.
fn cover(post: &Post) -> Result<Option<Cover>, PublishError> {
    let fields = &post.fields;
    if let Some(url) = fields.text("pinterest_cover_image_url").map(str::trim) {
        if !is_web_url(url) {
            return Err(invalid("pinterest_cover_image_url must be an http(s) URL"));
        }
        return Ok(Some(Cover::Url(url.to_owned())));
    }
    let content_type = fields.text("pinterest_cover_image_content_type");
    let data = fields.text("pinterest_cover_image_data");
    match (content_type, data) {
        (Some(t), Some(d)) if COVER_TYPES.contains(&t.trim()) => {
            return Ok(Some(Cover::Data {
                content_type: t.trim().to_owned(),
                data: d.trim().to_owned(),
            }));
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "pinterest_cover_image_content_type is image/jpeg or image/png",
            ));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(invalid(
                "pinterest_cover_image_content_type and pinterest_cover_image_data go together",
            ));
        }
        (None, None) => {}
    }
    let frame = fields
        .number("pinterest_cover_image_key_frame_time")
        .map_err(|e| invalid(e.to_string()))?;
    match frame.map(u64::try_from) {
        None => Ok(None),
        Some(Ok(ms)) => Ok(Some(Cover::KeyFrame(ms / 1000))),
        Some(Err(_)) => Err(invalid(
            "pinterest_cover_image_key_frame_time is a time into the video, in milliseconds",
        )),
    }
}

/// A request to a Pinterest endpoint with the account's token.
fn api(call: &Call<'_>, method: Method, url: &url::Url) -> reqwest::RequestBuilder {
    call.app
        .http
        .request(method, url)
        .bearer_auth(&call.tokens.access_token)
}

/// `name`'s base (`…/v5/pins/`) with `rest` appended.
fn under(call: &Call<'_>, name: &str, rest: &str) -> Result<url::Url, PublishError> {
    endpoint(call.app, name)?
        .join(rest)
        .map_err(|e| PublishError::refused("invalid_id", format!("{rest:?}: {e}"), false))
}

/// The pin's `media_source`.
fn media_source(call: &Call<'_>, post: &Post, plan: &Plan, media_id: Option<&str>) -> Value {
    match &plan.source {
        Source::Image => {
            json!({"source_type": "image_url", "url": call.media.public_url(&post.media[0])})
        }
        Source::Carousel { items, index } => {
            let items: Vec<Value> = items
                .iter()
                .zip(&post.media)
                .map(|(item, media)| {
                    let mut item = item.clone();
                    item.insert("url".to_owned(), call.media.public_url(media).into());
                    Value::Object(item)
                })
                .collect();
            let mut source = json!({"source_type": "multiple_image_urls", "items": items});
            if let Some(i) = index {
                source["index"] = (*i).into();
            }
            source
        }
        Source::Video(cover) => {
            let mut source = json!({"source_type": "video_id", "media_id": media_id});
            let attached = post
                .attachment("thumbnail")
                .or_else(|| post.attachment("cover_image"));
            match (cover, attached) {
                (Some(Cover::Url(url)), _) => source["cover_image_url"] = url.as_str().into(),
                (Some(Cover::Data { content_type, data }), _) => {
                    source["cover_image_content_type"] = content_type.as_str().into();
                    source["cover_image_data"] = data.as_str().into();
                }
                (Some(Cover::KeyFrame(s)), _) => source["cover_image_key_frame_time"] = (*s).into(),
                (None, Some(file)) => {
                    source["cover_image_url"] = call.media.public_url(file).into()
                }
                (None, None) => source["cover_image_key_frame_time"] = 0.into(),
            }
            source
        }
    }
}

/// Makes the pin: what it became.
async fn create(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    media_id: Option<&str>,
) -> Result<Published, PublishError> {
    let mut body = plan.pin.clone();
    body.insert(
        "media_source".to_owned(),
        media_source(call, post, plan, media_id),
    );
    let url = endpoint(call.app, "pins")?;
    let made = http::send(api(call, Method::POST, &url).json(&body), Effect::Creates).await?;
    let mut published = published(call, &made.body)?;
    published.warnings = plan.warnings.clone();
    Ok(published)
}

fn published(call: &Call<'_>, pin: &Value) -> Result<Published, PublishError> {
    let id = string_at(pin, "id")
        .ok_or_else(|| PublishError::InDoubt(format!("Pinterest named no pin: {pin}")))?;
    let mut extra = Map::new();
    if let Some(board) = string_at(pin, "board_id") {
        extra.insert("board_id".to_owned(), board.into());
    }
    Ok(Published {
        url: Some(
            sandbox_page(call.app, "pins", &id)
                .unwrap_or_else(|| format!("https://www.pinterest.com/pin/{id}/")),
        ),
        post_id: id,
        extra,
        warnings: Vec::new(),
    })
}

/// Registers the video and uploads it to the S3 form Pinterest leases: its media id.
async fn upload_video(call: &Call<'_>, video: &Media) -> Result<String, PublishError> {
    let url = endpoint(call.app, "media")?;
    let body = json!({"media_type": "video"});
    let registered = http::send(api(call, Method::POST, &url).json(&body), Effect::Harmless)
        .await?
        .body;
    let (Some(media_id), Some(action)) = (
        string_at(&registered, "media_id"),
        registered["upload_url"]
            .as_str()
            .and_then(|u| url::Url::parse(u).ok()),
    ) else {
        return Err(PublishError::refused(
            "malformed_answer",
            "Pinterest named no media id or upload URL",
            true,
        ));
    };
    let fields = form_upload::fields(&registered["upload_parameters"]);
    form_upload::upload(call, &action, &fields, video).await?;
    Ok(media_id)
}

/// Pinterest's status of an uploaded video.
async fn video_status(call: &Call<'_>, media_id: &str) -> Result<String, PublishError> {
    let url = under(call, "media_status", media_id)?;
    let status = http::send(api(call, Method::GET, &url), Effect::Harmless).await?;
    Ok(status.body["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[async_trait]
impl Publisher for Pinterest {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|p| p.warnings)
    }

    /// Images make the pin at once. A video is uploaded once (its media id is the state),
    /// then looked at until Pinterest has processed it.
    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        if !matches!(plan.source, Source::Video(_)) {
            return create(call, post, &plan, None).await.map(Progress::Done);
        }
        let media_id = match call.resume.and_then(|s| s["media_id"].as_str()) {
            Some(id) => id.to_owned(),
            None => upload_video(call, &post.media[0]).await?,
        };
        match video_status(call, &media_id).await?.as_str() {
            "succeeded" => create(call, post, &plan, Some(&media_id))
                .await
                .map(Progress::Done),
            "failed" => Err(PublishError::refused(
                "media_processing_failed",
                "Pinterest could not process the video",
                false,
            )),
            _ => Ok(Progress::Pending {
                state: json!({"media_id": media_id}),
                after: PROCESSING_WAIT,
            }),
        }
    }

    /// The board's pins made since `call.since` with the same title and description.
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let plan = plan(post)?;
        let board = plan.pin["board_id"].as_str().unwrap_or_default();
        let mut url = under(call, "board", &format!("{board}/pins"))?;
        url.query_pairs_mut().append_pair("page_size", "100");
        let listed = http::send(api(call, Method::GET, &url), Effect::Harmless).await?;
        let since = call.looked_up_since();
        let same = |pin: &&Value| {
            ["title", "description"].iter().all(|k| {
                pin[*k].as_str().unwrap_or_default()
                    == plan.pin.get(*k).and_then(Value::as_str).unwrap_or_default()
            }) && pin["created_at"]
                .as_str()
                .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok())
                .is_some_and(|t| t >= since)
        };
        listed.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(same)
            .map(|pin| published(call, pin))
            .transpose()
    }

    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let url = under(call, "pin", post_id)?;
        http::send(api(call, Method::DELETE, &url), Effect::Harmless).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::upload::MediaKind;
    use crate::publish::publisher::samples;

    fn photos(pairs: &[(&str, &str)], n: usize) -> Post {
        samples::post(PostKind::Photos, pairs, samples::images(n, "image/png"))
    }

    fn video(pairs: &[(&str, &str)]) -> Post {
        let mut v = samples::images(1, "video/mp4");
        v[0].kind = MediaKind::Video;
        samples::post(PostKind::Video, pairs, v)
    }

    fn code(p: &Post) -> String {
        plan(p).unwrap_err().code().to_owned()
    }

    #[test]
    fn fields_reach_the_pin() {
        let p = photos(
            &[
                ("pinterest_board_id", "b1"),
                ("pinterest_board_section_id", "s1"),
                ("title", "generic"),
                ("pinterest_title", "Pin title"),
                ("description", "About it"),
                ("pinterest_link", "https://e.com/x"),
                ("alt_text", "generic alt"),
                ("pinterest_alt_text", "a cake"),
                (
                    "pinterest_ai_disclosures",
                    "ai_modified,SYNTHETIC_PERFORMER",
                ),
            ],
            1,
        );
        let plan = plan(&p).unwrap();
        assert_eq!(
            Value::Object(plan.pin),
            json!({"board_id": "b1", "board_section_id": "s1", "title": "Pin title",
                "description": "About it", "alt_text": "a cake", "link": "https://e.com/x",
                "ai_disclosures": {"values": ["AI_MODIFIED", "SYNTHETIC_PERFORMER"]}})
        );
        assert_eq!(plan.source, Source::Image);
    }

    #[test]
    fn a_carousel_takes_its_items_fields() {
        let p = photos(
            &[
                ("pinterest_board_id", "b"),
                ("pinterest_carousel_titles", r#"["One", "Two"]"#),
                ("pinterest_carousel_links", "https://e.com/1"),
                ("pinterest_carousel_index", "1"),
            ],
            3,
        );
        let Source::Carousel { items, index } = plan(&p).unwrap().source else {
            panic!("a carousel");
        };
        assert_eq!(index, Some(1));
        assert_eq!(items[0]["title"], "One");
        assert_eq!(items[0]["link"], "https://e.com/1");
        assert_eq!(items[1]["title"], "Two");
        assert!(items[2].is_empty());
    }

    #[test]
    fn covers_and_the_key_frame_unit() {
        let frame = video(&[
            ("pinterest_board_id", "b"),
            ("pinterest_cover_image_key_frame_time", "3500"),
        ]);
        assert_eq!(
            plan(&frame).unwrap().source,
            Source::Video(Some(Cover::KeyFrame(3)))
        );
        let data = video(&[
            ("pinterest_board_id", "b"),
            ("pinterest_cover_image_content_type", "image/png"),
            ("pinterest_cover_image_data", "iVBO"),
        ]);
        assert!(matches!(
            plan(&data).unwrap().source,
            Source::Video(Some(Cover::Data { .. }))
        ));
        let half = video(&[
            ("pinterest_board_id", "b"),
            ("pinterest_cover_image_data", "iVBO"),
        ]);
        assert_eq!(code(&half), "invalid_field");
        let warned = video(&[
            ("pinterest_board_id", "b"),
            ("pinterest_carousel_titles", "x"),
        ]);
        assert_eq!(plan(&warned).unwrap().warnings.len(), 1);
    }

    #[test]
    fn refusals_before_any_call() {
        assert_eq!(code(&photos(&[], 1)), "pinterest_board_required");
        let b = ("pinterest_board_id", "b");
        assert_eq!(code(&photos(&[b], 6)), "too_many_images");
        assert_eq!(
            code(&samples::post(PostKind::Text, &[b, ("title", "t")], vec![])),
            "media_required"
        );
        assert_eq!(
            code(&photos(&[b, ("title", &"x".repeat(101))], 1)),
            "text_too_long"
        );
        assert_eq!(
            code(&photos(&[b, ("pinterest_link", "ftp://x")], 1)),
            "invalid_field"
        );
        assert_eq!(
            code(&photos(&[b, ("pinterest_ai_disclosures", "FAKE")], 1)),
            "invalid_field"
        );
        assert_eq!(
            code(&photos(&[b, ("pinterest_carousel_index", "2")], 2)),
            "invalid_field"
        );
        assert_eq!(
            code(&photos(&[b, ("pinterest_carousel_titles", "a|b|c")], 2)),
            "invalid_field"
        );
        let mut mov = video(&[b]);
        mov.media[0].content_type = "video/webm".into();
        assert_eq!(code(&mov), "unsupported_media_type");
    }
}
