//! X (API v2): images through `POST /2/media/upload` with alt text through
//! `/2/media/metadata`, posts through `POST /2/tweets`. Long text and more than four
//! images become a thread of replies; a first comment is one more reply.

use super::{endpoint, note_first_comment, note_thread, sandbox_page, too_large};
use crate::domain::Platform;
use crate::domain::time;
use crate::domain::upload::{MediaKind, PostKind};
use crate::publish::http::{Effect, send};
use crate::publish::layout::image_layout;
use crate::publish::publisher::{Call, Media, Post, PublishError, Published, Publisher};
use crate::publish::text::{Measure, next_url, split};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Map, Value, json};

pub struct X;

const IMAGES_PER_POST: usize = 4;
const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;
const REPLY_SETTINGS: [&str; 4] = ["following", "mentionedUsers", "subscribers", "verified"];
const POLL_OPTIONS: std::ops::RangeInclusive<usize> = 2..=4;
const POLL_OPTION_CHARS: usize = 25;
const POLL_MINUTES: std::ops::RangeInclusive<i64> = 5..=10_080;
const DEFAULT_POLL_MINUTES: i64 = 1440;

/// The posts a request becomes: the thread's texts and images per post, and what the
/// first post carries.
#[derive(Debug, PartialEq)]
struct Thread {
    texts: Vec<String>,
    images: Vec<usize>,
    reply_to: Option<String>,
    quote: Option<String>,
    poll: Option<Value>,
    reply_settings: Option<String>,
}

impl Thread {
    fn len(&self) -> usize {
        self.texts.len().max(self.images.len())
    }

    /// The body of post `i`, replying to `previous` after the first.
    fn body(&self, i: usize, media_ids: &[String], previous: Option<&str>) -> Value {
        let mut body = Map::new();
        if let Some(text) = self.texts.get(i) {
            body.insert("text".into(), text.clone().into());
        }
        if !media_ids.is_empty() {
            body.insert("media".into(), json!({"media_ids": media_ids}));
        }
        if let Some(previous) = previous {
            body.insert("reply".into(), json!({"in_reply_to_tweet_id": previous}));
            return Value::Object(body);
        }
        if let Some(id) = &self.reply_to {
            body.insert("reply".into(), json!({"in_reply_to_tweet_id": id}));
        }
        if let Some(id) = &self.quote {
            body.insert("quote_tweet_id".into(), id.clone().into());
        }
        if let Some(poll) = &self.poll {
            body.insert("poll".into(), poll.clone());
        }
        if let Some(settings) = &self.reply_settings {
            body.insert("reply_settings".into(), settings.clone().into());
        }
        Value::Object(body)
    }
}

fn field_error(e: crate::domain::upload::FieldValueError) -> PublishError {
    PublishError::invalid("invalid_field", e.to_string())
}

/// Reads and checks the request as X would take it.
fn thread(post: &Post) -> Result<Thread, PublishError> {
    match post.kind {
        PostKind::Video => {
            return Err(PublishError::unsupported(
                "video_not_supported_yet",
                "Video posts to X are not supported yet",
            ));
        }
        PostKind::Document => {
            return Err(PublishError::invalid(
                "unsupported_media",
                "X does not take documents",
            ));
        }
        PostKind::Text | PostKind::Photos => {}
    }
    let fields = &post.fields;
    if let Some(m) = post.media.iter().find(|m| m.kind != MediaKind::Image) {
        return Err(PublishError::unsupported(
            "video_not_supported_yet",
            format!(
                "Only images can be posted to X so far, not {}",
                m.content_type
            ),
        ));
    }
    if let Some(e) = post
        .media
        .iter()
        .find_map(|m| too_large(m, MAX_IMAGE_BYTES, "X"))
    {
        return Err(e);
    }
    let text = post.text(Platform::X).trim();
    let as_one = fields
        .flag("x_long_text_as_post")
        .map_err(field_error)?
        .unwrap_or(false);
    let texts = match (text.is_empty(), as_one) {
        (true, _) => Vec::new(),
        (false, true) => vec![text.to_owned()],
        (false, false) => split(text, Measure::X),
    };
    let images = image_layout(
        "x_thread_image_layout",
        fields.text("x_thread_image_layout"),
        post.media.len(),
        IMAGES_PER_POST,
    )?;
    if texts.is_empty() && images.is_empty() {
        return Err(PublishError::invalid(
            "missing_text",
            "An X post needs text or images",
        ));
    }
    let quote = fields.text("quote_tweet_id").map(str::to_owned);
    if quote.is_some() && !post.media.is_empty() {
        return Err(PublishError::invalid(
            "invalid_field",
            "quote_tweet_id cannot be combined with media",
        ));
    }
    let reply_settings = fields.text("reply_settings").map(str::to_owned);
    if let Some(s) = &reply_settings
        && !REPLY_SETTINGS.contains(&s.as_str())
    {
        return Err(PublishError::invalid(
            "invalid_field",
            format!(
                "reply_settings must be one of {}",
                REPLY_SETTINGS.join(", ")
            ),
        ));
    }
    Ok(Thread {
        texts,
        images,
        reply_to: fields
            .first_text(&["x_reply_to_id", "reply_to_id"])
            .map(str::to_owned),
        quote,
        poll: poll(post)?,
        reply_settings,
    })
}

/// `poll_options[]` (2–4, each ≤ 25 characters) and `poll_duration` (5–10080 minutes),
/// for text posts only.
fn poll(post: &Post) -> Result<Option<Value>, PublishError> {
    let options = post.fields.list("poll_options", &[","]);
    if options.is_empty() {
        return Ok(None);
    }
    if !post.media.is_empty() {
        return Err(PublishError::invalid(
            "invalid_field",
            "A post with a poll cannot have media",
        ));
    }
    if !POLL_OPTIONS.contains(&options.len())
        || options
            .iter()
            .any(|o| o.chars().count() > POLL_OPTION_CHARS)
    {
        return Err(PublishError::invalid(
            "invalid_field",
            "poll_options takes 2 to 4 options of at most 25 characters",
        ));
    }
    let minutes = post
        .fields
        .number("poll_duration")
        .map_err(field_error)?
        .unwrap_or(DEFAULT_POLL_MINUTES);
    if !POLL_MINUTES.contains(&minutes) {
        return Err(PublishError::invalid(
            "invalid_field",
            "poll_duration must be 5 to 10080 minutes",
        ));
    }
    Ok(Some(
        json!({"options": options, "duration_minutes": minutes}),
    ))
}

/// X's refusals in Upload-Post's codes: a repeated text is `duplicate_content`.
fn mapped(e: PublishError) -> PublishError {
    match e {
        PublishError::Refused { message, .. } if message.to_lowercase().contains("duplicate") => {
            PublishError::refused("duplicate_content", message, false)
        }
        other => other,
    }
}

fn request(call: &Call<'_>, method: Method, url: &url::Url) -> reqwest::RequestBuilder {
    call.app
        .http
        .request(method, url)
        .bearer_auth(&call.tokens.access_token)
}

/// Uploads one image: its media id.
async fn upload(call: &Call<'_>, media: &Media, alt: Option<&str>) -> Result<String, PublishError> {
    let bytes = call.media.bytes(media).await?;
    let body = json!({
        "media": STANDARD.encode(&bytes),
        "media_category": "tweet_image",
        "media_type": media.content_type,
    });
    let url = endpoint(call.app, "media_upload")?;
    let answer = send(
        request(call, Method::POST, &url).json(&body),
        Effect::Harmless,
    )
    .await
    .map_err(mapped)?;
    let id = answer.body["data"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PublishError::refused("platform_unavailable", "X gave no media id", true))?;
    if let Some(alt) = alt {
        let url = endpoint(call.app, "media_metadata")?;
        let body = json!({"id": id, "metadata": {"alt_text": {"text": alt}}});
        send(
            request(call, Method::POST, &url).json(&body),
            Effect::Harmless,
        )
        .await
        .map_err(mapped)?;
    }
    Ok(id)
}

/// Makes one post: its id.
async fn create(call: &Call<'_>, body: &Value) -> Result<String, PublishError> {
    let url = endpoint(call.app, "tweets")?;
    let answer = send(
        request(call, Method::POST, &url).json(body),
        Effect::Creates,
    )
    .await
    .map_err(mapped)?;
    answer.body["data"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PublishError::InDoubt("X accepted the post but gave no id".into()))
}

fn post_url(call: &Call<'_>, id: &str) -> String {
    sandbox_page(call.app, "tweets", id).unwrap_or_else(|| {
        let handle = call.connection.handle.as_deref().unwrap_or("i");
        format!("https://x.com/{handle}/status/{id}")
    })
}

/// Text as X gives it back: links are rewritten (t.co) and `&<>` escaped, so they are
/// left out of the comparison.
fn comparable(text: &str) -> String {
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some((start, end)) = next_url(rest) {
        out.push_str(&rest[..start]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl Publisher for X {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        thread(post).map(|_| Vec::new())
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Published, PublishError> {
        let thread = thread(post)?;
        let alts = post.alt_texts(Platform::X);
        let mut media_ids = Vec::new();
        for (i, media) in post.media.iter().enumerate() {
            media_ids.push(upload(call, media, alts.get(i).map(String::as_str)).await?);
        }
        let mut media_ids = media_ids.into_iter();
        let mut ids: Vec<String> = Vec::new();
        let mut published = Published::default();
        for i in 0..thread.len() {
            let group: Vec<String> = media_ids
                .by_ref()
                .take(thread.images.get(i).copied().unwrap_or(0))
                .collect();
            let body = thread.body(i, &group, ids.last().map(String::as_str));
            match create(call, &body).await {
                Ok(id) => ids.push(id),
                Err(e) if ids.is_empty() => return Err(e),
                // The thread is out there: stopping short is not a failure of the post.
                Err(e) => {
                    published.warnings.push(format!(
                        "The thread stopped after {} of {} posts: {e}",
                        ids.len(),
                        thread.len()
                    ));
                    break;
                }
            }
        }
        let first = ids[0].clone();
        if let Some(comment) = post.first_comment(Platform::X) {
            let body = json!({"text": comment, "reply": {"in_reply_to_tweet_id": first}});
            note_first_comment(&mut published, create(call, &body).await.map(drop));
        }
        note_thread(&mut published, &ids);
        published.url = Some(post_url(call, &first));
        published.post_id = first;
        Ok(published)
    }

    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let thread = thread(post)?;
        let Some(text) = thread.texts.first() else {
            return Err(PublishError::unsupported(
                "lookup_unsupported",
                "An X post without text cannot be looked up",
            ));
        };
        let mut url = endpoint(call.app, "users")?;
        let path = format!("{}{}/tweets", url.path(), call.connection.platform_user_id);
        url.set_path(&path);
        url.query_pairs_mut()
            .append_pair("start_time", &time::rfc3339(call.since))
            .append_pair("max_results", "100")
            .append_pair("tweet.fields", "created_at");
        let answer = send(request(call, Method::GET, &url), Effect::Harmless)
            .await
            .map_err(mapped)?;
        let wanted = comparable(text);
        let found = answer.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            // Newest first: the oldest match is the first attempt's.
            .rfind(|t| t["text"].as_str().map(comparable).as_deref() == Some(wanted.as_str()))
            .and_then(|t| t["id"].as_str());
        Ok(found.map(|id| Published {
            post_id: id.to_owned(),
            url: Some(post_url(call, id)),
            ..Published::default()
        }))
    }

    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let mut url = endpoint(call.app, "tweet")?;
        let path = format!("{}{post_id}", url.path());
        url.set_path(&path);
        send(request(call, Method::DELETE, &url), Effect::Harmless)
            .await
            .map_err(mapped)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::upload::Fields;

    fn post(kind: PostKind, fields: &[(&str, &str)], images: usize) -> Post {
        let mut f = Fields::new();
        for (k, v) in fields {
            f.push(k, *v);
        }
        Post {
            kind,
            media: (0..images)
                .map(|i| Media {
                    id: format!("m{i}"),
                    kind: MediaKind::Image,
                    content_type: "image/png".into(),
                    size: 10,
                    filename: None,
                })
                .collect(),
            fields: f,
        }
    }

    fn code(r: Result<Thread, PublishError>) -> String {
        r.unwrap_err().code().to_owned()
    }

    #[test]
    fn long_text_and_many_images_make_a_thread() {
        let long = "word ".repeat(100);
        let t = thread(&post(PostKind::Photos, &[("title", &long)], 6)).unwrap();
        assert_eq!(t.texts.len(), 2);
        assert_eq!(t.images, [4, 2]);
        let laid = thread(&post(
            PostKind::Photos,
            &[("title", "hi"), ("x_thread_image_layout", "1,2,3")],
            6,
        ))
        .unwrap();
        assert_eq!((laid.len(), laid.images.clone()), (3, vec![1, 2, 3]));
        let one = thread(&post(
            PostKind::Text,
            &[("title", &long), ("x_long_text_as_post", "true")],
            0,
        ))
        .unwrap();
        assert_eq!(one.texts.len(), 1);
    }

    #[test]
    fn x_rules_are_checked_before_any_call() {
        assert_eq!(
            code(thread(&post(PostKind::Video, &[("title", "v")], 0))),
            "video_not_supported_yet"
        );
        let quote = [("title", "q"), ("quote_tweet_id", "1")];
        assert_eq!(
            code(thread(&post(PostKind::Photos, &quote, 1))),
            "invalid_field"
        );
        assert!(thread(&post(PostKind::Text, &quote, 0)).is_ok());
        let layout = [("title", "t"), ("x_thread_image_layout", "4,4")];
        assert_eq!(
            code(thread(&post(PostKind::Photos, &layout, 5))),
            "invalid_field"
        );
        let settings = [("title", "t"), ("reply_settings", "everyone")];
        assert_eq!(
            code(thread(&post(PostKind::Text, &settings, 0))),
            "invalid_field"
        );
        assert_eq!(code(thread(&post(PostKind::Text, &[], 0))), "missing_text");
    }

    #[test]
    fn polls_are_text_only_and_bounded() {
        let ok = [
            ("title", "q?"),
            ("poll_options[]", "yes"),
            ("poll_options[]", "no"),
        ];
        let t = thread(&post(PostKind::Text, &ok, 0)).unwrap();
        assert_eq!(
            t.poll,
            Some(json!({"options": ["yes", "no"], "duration_minutes": 1440}))
        );
        assert_eq!(
            code(thread(&post(PostKind::Photos, &ok, 1))),
            "invalid_field"
        );
        let long = [
            ("title", "q"),
            ("poll_options", r#"["a","bbbbbbbbbbbbbbbbbbbbbbbbbb"]"#),
        ];
        assert_eq!(
            code(thread(&post(PostKind::Text, &long, 0))),
            "invalid_field"
        );
        let brief = [
            ("title", "q"),
            ("poll_options", "a,b"),
            ("poll_duration", "4"),
        ];
        assert_eq!(
            code(thread(&post(PostKind::Text, &brief, 0))),
            "invalid_field"
        );
    }

    #[test]
    fn duplicates_are_named_and_final() {
        let e = mapped(PublishError::refused(
            "http_403",
            "You are not allowed to create a Tweet with duplicate content.",
            false,
        ));
        assert_eq!(e.code(), "duplicate_content");
        assert!(!e.retryable());
    }

    #[test]
    fn found_text_ignores_rewritten_links_and_escapes() {
        assert_eq!(
            comparable("a &amp; b https://t.co/xyz"),
            comparable("a & b https://example.com/long")
        );
    }
}
