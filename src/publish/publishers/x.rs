//! X (API v2): images through `POST /2/media/upload` with alt text through
//! `/2/media/metadata`, a video through the chunked upload (`video`), posts through
//! `POST /2/tweets`. Long text and more than four
//! images become a thread of replies; a first comment is one more reply. The request's
//! settings are read into X's wire names in `check`, so a combination X refuses publishes
//! nothing.

mod video;

use super::{endpoint, note_first_comment, note_thread, sandbox_page, too_large};
use crate::domain::Platform;
use crate::domain::time;
use crate::domain::upload::{Fields, MediaKind, PostKind};
use crate::publish::http::{Effect, refusal, send_reading};
use crate::publish::layout::image_layout;
use crate::publish::publisher::{Call, Media, Post, Progress, PublishError, Published, Publisher};
use crate::publish::text::{Measure, next_url, split};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use video::{Step, Upload};

pub struct X;

const IMAGES_PER_POST: usize = 4;
const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;
const POLL_OPTIONS: std::ops::RangeInclusive<usize> = 2..=4;
const POLL_OPTION_CHARS: usize = 25;
const POLL_MINUTES: std::ops::RangeInclusive<i64> = 5..=10_080;
const DEFAULT_POLL_MINUTES: i64 = 1440;
/// X's schema: `media.tagged_user_ids` has at most 10 items.
const MAX_TAGGED_USERS: usize = 10;
/// Upload-Post strips URLs from X text (X charges more for posts with links), so the
/// link a text post asks for is not attached either.
const POST_URL_DROPPED: &str =
    "post_url was not attached: links are left out of X posts, which cost more with one";

/// Who may reply (`reply_settings`, `poll.reply_settings`). Everyone is X's default and is
/// said by leaving the field out, so it is not a value here (the SDKs never send it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyRule {
    Following,
    MentionedUsers,
    Subscribers,
    Verified,
}

impl ReplyRule {
    const ALL: [Self; 4] = [
        Self::Following,
        Self::MentionedUsers,
        Self::Subscribers,
        Self::Verified,
    ];

    fn wire(self) -> &'static str {
        match self {
            Self::Following => "following",
            Self::MentionedUsers => "mentionedUsers",
            Self::Subscribers => "subscribers",
            Self::Verified => "verified",
        }
    }

    /// The rule `field` names, if given.
    fn parse(fields: &Fields, field: &str) -> Result<Option<Self>, PublishError> {
        let Some(value) = fields.text(field) else {
            return Ok(None);
        };
        Self::ALL
            .into_iter()
            .find(|r| r.wire() == value.trim())
            .map(Some)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|r| r.wire()).collect();
                invalid_field(format!("{field} must be one of {}", names.join(", ")))
            })
    }
}

/// The post being answered, and the users left out of the answer's mentions.
#[derive(Debug, PartialEq)]
struct Reply {
    to: String,
    exclude_user_ids: Vec<String>,
}

impl Reply {
    fn wire(&self) -> Value {
        let mut reply = json!({"in_reply_to_tweet_id": self.to});
        if !self.exclude_user_ids.is_empty() {
            reply["exclude_reply_user_ids"] = json!(self.exclude_user_ids);
        }
        reply
    }
}

/// A community post, optionally shown to the author's followers as well.
#[derive(Debug, PartialEq)]
struct Community {
    id: String,
    share_with_followers: Option<bool>,
}

/// Audience and labels that hold for every post we make, the first comment included:
/// a reply left out would reach followers (nullcast), non-subscribers (super followers) or
/// go without the disclosure the content must carry (paid partnership, AI).
#[derive(Debug, Default, PartialEq)]
struct Everywhere {
    nullcast: Option<bool>,
    for_super_followers_only: Option<bool>,
    paid_partnership: Option<bool>,
    made_with_ai: Option<bool>,
}

impl Everywhere {
    fn parse(fields: &Fields) -> Result<Self, PublishError> {
        Ok(Self {
            nullcast: flag(fields, &["nullcast"])?,
            for_super_followers_only: flag(fields, &["for_super_followers_only"])?,
            paid_partnership: flag(fields, &["x_paid_partnership"])?,
            // `is_ai_generated` is Upload-Post's generic name for X's `made_with_ai`.
            made_with_ai: flag(fields, &["made_with_ai", "is_ai_generated"])?,
        })
    }

    fn apply(&self, body: &mut Map<String, Value>) {
        let flags = [
            ("nullcast", self.nullcast),
            ("for_super_followers_only", self.for_super_followers_only),
            ("paid_partnership", self.paid_partnership),
            ("made_with_ai", self.made_with_ai),
        ];
        for (name, value) in flags {
            if let Some(value) = value {
                body.insert(name.into(), value.into());
            }
        }
    }
}

/// Where and how the thread is posted, on its first post only: the replies that follow
/// join their root's community and conversation, and a place, a card or a DM link belongs
/// to the post once.
#[derive(Debug, Default, PartialEq)]
struct Lead {
    place_id: Option<String>,
    community: Option<Community>,
    direct_message_deep_link: Option<String>,
    card_uri: Option<String>,
}

impl Lead {
    fn parse(fields: &Fields) -> Result<Self, PublishError> {
        let community = id_field(fields, "community_id")?;
        let share = flag(fields, &["share_with_followers"])?;
        if community.is_none() && share == Some(true) {
            return Err(invalid_field(
                "share_with_followers needs community_id: it shares a community post",
            ));
        }
        Ok(Self {
            place_id: fields
                .first_text(&["geo_place_id", "place_id"])
                .map(|p| p.trim().to_owned()),
            community: community.map(|id| Community {
                id,
                share_with_followers: share,
            }),
            direct_message_deep_link: trimmed(fields, "direct_message_deep_link"),
            card_uri: trimmed(fields, "card_uri"),
        })
    }

    fn apply(&self, body: &mut Map<String, Value>) {
        if let Some(place) = &self.place_id {
            body.insert("geo".into(), json!({"place_id": place}));
        }
        if let Some(community) = &self.community {
            body.insert("community_id".into(), community.id.clone().into());
            if let Some(share) = community.share_with_followers {
                body.insert("share_with_followers".into(), share.into());
            }
        }
        if let Some(link) = &self.direct_message_deep_link {
            body.insert("direct_message_deep_link".into(), link.clone().into());
        }
        if let Some(card) = &self.card_uri {
            body.insert("card_uri".into(), card.clone().into());
        }
    }
}

/// The posts a request becomes: the thread's texts and images per post, and what the
/// first post carries.
#[derive(Debug, PartialEq)]
struct Thread {
    texts: Vec<String>,
    images: Vec<usize>,
    reply: Option<Reply>,
    quote: Option<String>,
    poll: Option<Value>,
    reply_settings: Option<ReplyRule>,
    /// Tagged in the first post that has images: one tag is one notification.
    tagged_user_ids: Vec<String>,
    everywhere: Everywhere,
    lead: Lead,
    warnings: Vec<String>,
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
            let mut media = json!({"media_ids": media_ids});
            let first_with_images = self.images.iter().take(i).all(|n| *n == 0);
            if first_with_images && !self.tagged_user_ids.is_empty() {
                media["tagged_user_ids"] = json!(self.tagged_user_ids);
            }
            body.insert("media".into(), media);
        }
        self.everywhere.apply(&mut body);
        if let Some(previous) = previous {
            body.insert("reply".into(), json!({"in_reply_to_tweet_id": previous}));
            return Value::Object(body);
        }
        if let Some(reply) = &self.reply {
            body.insert("reply".into(), reply.wire());
        }
        if let Some(id) = &self.quote {
            body.insert("quote_tweet_id".into(), id.clone().into());
        }
        if let Some(poll) = &self.poll {
            body.insert("poll".into(), poll.clone());
        }
        if let Some(rule) = self.reply_settings {
            body.insert("reply_settings".into(), rule.wire().into());
        }
        self.lead.apply(&mut body);
        Value::Object(body)
    }

    /// The first comment: a reply to the first post, with the thread's audience and labels.
    fn comment(&self, text: &str, first: &str) -> Value {
        let mut body = Map::new();
        body.insert("text".into(), text.into());
        self.everywhere.apply(&mut body);
        body.insert("reply".into(), json!({"in_reply_to_tweet_id": first}));
        Value::Object(body)
    }

    /// X takes one attachment per post (media, a poll, a quote or a card), and a card
    /// without a DM deep link; the request's attachments go on its first post.
    fn check_attachments(&self, with_media: bool) -> Result<(), PublishError> {
        let given: Vec<&str> = [
            ("media", with_media),
            ("poll_options", self.poll.is_some()),
            ("quote_tweet_id", self.quote.is_some()),
            ("card_uri", self.lead.card_uri.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        if given.len() > 1 {
            return Err(invalid_field(format!(
                "An X post takes only one of {}",
                given.join(", ")
            )));
        }
        if self.lead.card_uri.is_some() && self.lead.direct_message_deep_link.is_some() {
            return Err(invalid_field(
                "card_uri cannot be combined with direct_message_deep_link",
            ));
        }
        if !with_media && !self.tagged_user_ids.is_empty() {
            return Err(invalid_field(
                "tagged_user_ids tags users in images: the post has none",
            ));
        }
        Ok(())
    }
}

fn field_error(e: crate::domain::upload::FieldValueError) -> PublishError {
    invalid_field(e.to_string())
}

fn invalid_field(message: impl Into<String>) -> PublishError {
    PublishError::invalid("invalid_field", message)
}

/// The first of `names` given, read as a boolean.
fn flag(fields: &Fields, names: &[&str]) -> Result<Option<bool>, PublishError> {
    match names.iter().find(|n| fields.text(n).is_some()) {
        Some(name) => fields.flag(name).map_err(field_error),
        None => Ok(None),
    }
}

fn trimmed(fields: &Fields, name: &str) -> Option<String> {
    fields.text(name).map(|v| v.trim().to_owned())
}

/// An id as X's schema has it: 1 to 19 digits.
fn is_id(value: &str) -> bool {
    (1..=19).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

fn id_field(fields: &Fields, name: &str) -> Result<Option<String>, PublishError> {
    match trimmed(fields, name) {
        Some(id) if !is_id(&id) => Err(invalid_field(format!(
            "{name} must be a numeric id (1 to 19 digits)"
        ))),
        id => Ok(id),
    }
}

/// A list of user ids in any list encoding, each 1 to 19 digits.
fn user_ids(fields: &Fields, name: &str) -> Result<Vec<String>, PublishError> {
    let ids = fields.list(name, &[","]);
    if let Some(bad) = ids.iter().find(|id| !is_id(id)) {
        return Err(invalid_field(format!(
            "{name} takes numeric user ids, not '{bad}'"
        )));
    }
    Ok(ids)
}

/// `reply_to_id` and the users its mentions leave out, which X takes only on a reply.
fn reply(fields: &Fields) -> Result<Option<Reply>, PublishError> {
    let exclude_user_ids = user_ids(fields, "exclude_reply_user_ids")?;
    let to = fields.first_text(&["x_reply_to_id", "reply_to_id"]);
    match to {
        Some(to) => Ok(Some(Reply {
            to: to.to_owned(),
            exclude_user_ids,
        })),
        None if exclude_user_ids.is_empty() => Ok(None),
        None => Err(invalid_field(
            "exclude_reply_user_ids needs reply_to_id: it only applies to a reply",
        )),
    }
}

fn tagged_user_ids(fields: &Fields) -> Result<Vec<String>, PublishError> {
    let ids = user_ids(fields, "tagged_user_ids")?;
    if ids.len() > MAX_TAGGED_USERS {
        return Err(invalid_field(format!(
            "tagged_user_ids takes at most {MAX_TAGGED_USERS} users"
        )));
    }
    Ok(ids)
}

/// Reads and checks the request as X would take it.
fn thread(post: &Post) -> Result<Thread, PublishError> {
    check_media(post)?;
    let fields = &post.fields;
    let text = post.text(Platform::X).trim();
    let as_one = flag(fields, &["x_long_text_as_post"])?.unwrap_or(false);
    let texts = match (text.is_empty(), as_one) {
        (true, _) => Vec::new(),
        (false, true) => vec![text.to_owned()],
        (false, false) => split(text, Measure::X),
    };
    // A video is the first post's one attachment.
    let images = match post.kind {
        PostKind::Video => vec![1],
        _ => image_layout(
            "x_thread_image_layout",
            fields.text("x_thread_image_layout"),
            post.media.len(),
            IMAGES_PER_POST,
        )?,
    };
    if texts.is_empty() && images.is_empty() {
        return Err(PublishError::invalid(
            "missing_text",
            "An X post needs text or images",
        ));
    }
    let thread = Thread {
        texts,
        images,
        reply: reply(fields)?,
        quote: fields.text("quote_tweet_id").map(str::to_owned),
        poll: poll(fields)?,
        reply_settings: ReplyRule::parse(fields, "reply_settings")?,
        tagged_user_ids: tagged_user_ids(fields)?,
        everywhere: Everywhere::parse(fields)?,
        lead: Lead::parse(fields)?,
        warnings: fields
            .text("post_url")
            .map(|_| POST_URL_DROPPED.to_owned())
            .into_iter()
            .collect(),
    };
    thread.check_attachments(!post.media.is_empty())?;
    Ok(thread)
}

/// Images within X's size limit, or one video within X's video limits.
fn check_media(post: &Post) -> Result<(), PublishError> {
    match post.kind {
        PostKind::Video => {
            return match post.media.as_slice() {
                [video] => video::LIMITS.check(video),
                _ => Err(PublishError::invalid(
                    "invalid_field",
                    "An X post takes exactly one video",
                )),
            };
        }
        PostKind::Document => {
            return Err(PublishError::invalid(
                "unsupported_media",
                "X does not take documents",
            ));
        }
        PostKind::Text | PostKind::Photos => {}
    }
    if let Some(m) = post.media.iter().find(|m| m.kind != MediaKind::Image) {
        return Err(PublishError::invalid(
            "unsupported_media_type",
            format!(
                "A photo post to X takes images, not {}; send a video as a video post",
                m.content_type
            ),
        ));
    }
    match post
        .media
        .iter()
        .find_map(|m| too_large(m, MAX_IMAGE_BYTES, "X"))
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `poll_options[]` (2–4, each ≤ 25 characters), `poll_duration` (5–10080 minutes) and
/// `poll_reply_settings` (X's `poll.reply_settings`, which needs a poll).
fn poll(fields: &Fields) -> Result<Option<Value>, PublishError> {
    let options = fields.list("poll_options", &[","]);
    let reply_settings = ReplyRule::parse(fields, "poll_reply_settings")?;
    if options.is_empty() {
        return match reply_settings {
            Some(_) => Err(invalid_field(
                "poll_reply_settings needs poll_options: it sets who may reply to a poll",
            )),
            None => Ok(None),
        };
    }
    if !POLL_OPTIONS.contains(&options.len())
        || options
            .iter()
            .any(|o| o.chars().count() > POLL_OPTION_CHARS)
    {
        return Err(invalid_field(
            "poll_options takes 2 to 4 options of at most 25 characters",
        ));
    }
    let minutes = fields
        .number("poll_duration")
        .map_err(field_error)?
        .unwrap_or(DEFAULT_POLL_MINUTES);
    if !POLL_MINUTES.contains(&minutes) {
        return Err(invalid_field("poll_duration must be 5 to 10080 minutes"));
    }
    let mut poll = json!({"options": options, "duration_minutes": minutes});
    if let Some(rule) = reply_settings {
        poll["reply_settings"] = rule.wire().into();
    }
    Ok(Some(poll))
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

/// X's refusals: a 429 whose problem type is `usage-capped` is the app's monthly post or
/// upload cap, which waiting a few minutes does not lift.
fn refused(status: StatusCode, body: &Value, effect: Effect) -> PublishError {
    if body["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("/usage-capped"))
    {
        let detail = body["detail"].as_str().unwrap_or("Usage cap exceeded");
        return PublishError::refused("quota_exceeded", detail, false);
    }
    refusal(status, body, effect)
}

/// Sends a call to X and reads the answer as X's refusals mean it.
async fn send(
    request: reqwest::RequestBuilder,
    effect: Effect,
) -> Result<crate::publish::http::Answer, PublishError> {
    send_reading(request, effect, refused).await.map_err(mapped)
}

/// Sends a call that makes nothing visible: the answer's body.
async fn sent(request: reqwest::RequestBuilder) -> Result<Value, PublishError> {
    send(request, Effect::Harmless).await.map(|a| a.body)
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
    .await?;
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
        .await?;
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
    .await?;
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
        thread(post).map(|t| t.warnings)
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let thread = thread(post)?;
        let mut media_ids = Vec::new();
        if let (PostKind::Video, Some(media)) = (post.kind, post.media.first()) {
            match video::advance(call, media, Upload::resumed(call.resume)).await? {
                Step::Wait { upload, after } => {
                    return Ok(Progress::Pending {
                        state: upload.state(),
                        after,
                    });
                }
                Step::Ready(id) => media_ids.push(id),
            }
        } else {
            let alts = post.alt_texts(Platform::X);
            for (i, media) in post.media.iter().enumerate() {
                media_ids.push(upload(call, media, alts.get(i).map(String::as_str)).await?);
            }
        }
        let mut media_ids = media_ids.into_iter();
        let mut ids: Vec<String> = Vec::new();
        let mut published = Published {
            warnings: thread.warnings.clone(),
            ..Published::default()
        };
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
            let body = thread.comment(comment, &first);
            note_first_comment(&mut published, create(call, &body).await.map(drop));
        }
        note_thread(&mut published, &ids);
        published.url = Some(post_url(call, &first));
        published.post_id = first;
        Ok(Progress::Done(published))
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
        let answer = send(request(call, Method::GET, &url), Effect::Harmless).await?;
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
        send(request(call, Method::DELETE, &url), Effect::Harmless).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::samples;

    fn post(kind: PostKind, fields: &[(&str, &str)], images: usize) -> Post {
        samples::post(kind, fields, samples::images(images, "image/png"))
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
            "invalid_field",
            "a video post needs its video"
        );
        let mut photo = post(PostKind::Photos, &[("title", "v")], 1);
        photo.media[0].kind = MediaKind::Video;
        photo.media[0].content_type = "video/mp4".into();
        assert_eq!(code(thread(&photo)), "unsupported_media_type");
        let mut video = photo.clone();
        video.kind = PostKind::Video;
        assert_eq!(thread(&video).unwrap().images, [1], "on the first post");
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

    /// The first post's body for `fields` with `images` images (ids `i0`, `i1`, …).
    fn first_body(kind: PostKind, fields: &[(&str, &str)], images: usize) -> Value {
        let t = thread(&post(kind, fields, images)).unwrap();
        let ids: Vec<String> = (0..t.images.first().copied().unwrap_or(0))
            .map(|i| format!("i{i}"))
            .collect();
        t.body(0, &ids, None)
    }

    #[test]
    fn sdk_names_become_x_wire_names() {
        let body = first_body(
            PostKind::Text,
            &[
                ("title", "hello"),
                ("nullcast", "true"),
                ("geo_place_id", "df51dec6f4ee2b2c"),
                ("for_super_followers_only", "false"),
                ("community_id", "1146654567674912769"),
                ("share_with_followers", "yes"),
                (
                    "direct_message_deep_link",
                    "https://twitter.com/messages/compose?recipient_id=9",
                ),
                ("reply_to_id", "42"),
                ("exclude_reply_user_ids[]", "7"),
                ("exclude_reply_user_ids[]", "8"),
                ("x_paid_partnership", "1"),
                ("is_ai_generated", "true"),
                ("reply_settings", "mentionedUsers"),
            ],
            0,
        );
        assert_eq!(
            body,
            json!({
                "text": "hello",
                "nullcast": true,
                "geo": {"place_id": "df51dec6f4ee2b2c"},
                "for_super_followers_only": false,
                "community_id": "1146654567674912769",
                "share_with_followers": true,
                "direct_message_deep_link": "https://twitter.com/messages/compose?recipient_id=9",
                "reply": {"in_reply_to_tweet_id": "42", "exclude_reply_user_ids": ["7", "8"]},
                "paid_partnership": true,
                "made_with_ai": true,
                "reply_settings": "mentionedUsers",
            })
        );
        let card = first_body(
            PostKind::Text,
            &[("title", "c"), ("card_uri", "card://1"), ("place_id", "p")],
            0,
        );
        assert_eq!(
            card,
            json!({"text": "c", "card_uri": "card://1", "geo": {"place_id": "p"}})
        );
    }

    #[test]
    fn thread_wide_flags_reach_every_post_and_the_rest_only_the_first() {
        let long = "word ".repeat(100);
        let t = thread(&post(
            PostKind::Photos,
            &[
                ("title", &long),
                ("x_thread_image_layout", "0,2"),
                ("tagged_user_ids", "5,6"),
                ("nullcast", "true"),
                ("made_with_ai", "true"),
                ("community_id", "77"),
            ],
            2,
        ))
        .unwrap();
        let first = t.body(0, &[], None);
        let second = t.body(1, &["a".into(), "b".into()], Some("100"));
        assert_eq!(first["community_id"], "77");
        assert_eq!(first["nullcast"], true);
        assert_eq!(second["nullcast"], true);
        assert_eq!(second["made_with_ai"], true);
        assert_eq!(second.get("community_id"), None, "replies join their root");
        assert_eq!(
            second["media"],
            json!({"media_ids": ["a", "b"], "tagged_user_ids": ["5", "6"]}),
            "tags go with the first images"
        );
        let comment = t.comment("more", "100");
        assert_eq!(
            comment,
            json!({"text": "more", "nullcast": true, "made_with_ai": true,
                   "reply": {"in_reply_to_tweet_id": "100"}})
        );
    }

    #[test]
    fn poll_reply_settings_go_inside_the_poll() {
        let body = first_body(
            PostKind::Text,
            &[
                ("title", "q?"),
                ("poll_options", "a,b"),
                ("poll_duration", "60"),
                ("poll_reply_settings", "following"),
            ],
            0,
        );
        assert_eq!(
            body["poll"],
            json!({"options": ["a", "b"], "duration_minutes": 60, "reply_settings": "following"})
        );
        let alone = [("title", "q"), ("poll_reply_settings", "following")];
        let e = thread(&post(PostKind::Text, &alone, 0)).unwrap_err();
        assert!(e.to_string().contains("poll_reply_settings"), "{e}");
        let unknown = [
            ("title", "q"),
            ("poll_options", "a,b"),
            ("poll_reply_settings", "everyone"),
        ];
        assert_eq!(
            code(thread(&post(PostKind::Text, &unknown, 0))),
            "invalid_field"
        );
    }

    #[test]
    fn combinations_x_refuses_are_refused_first() {
        let refused = |kind, fields: &[(&str, &str)], images| {
            let e = thread(&post(kind, fields, images)).unwrap_err();
            assert_eq!(e.code(), "invalid_field", "{fields:?}: {e}");
            e.to_string()
        };
        let t = ("title", "t");
        let poll = ("poll_options", "a,b");
        assert!(refused(PostKind::Photos, &[t, ("card_uri", "c")], 1).contains("card_uri"));
        assert!(refused(PostKind::Text, &[t, ("card_uri", "c"), poll], 0).contains("card_uri"));
        let card_quote = [t, ("card_uri", "c"), ("quote_tweet_id", "1")];
        assert!(refused(PostKind::Text, &card_quote, 0).contains("quote_tweet_id"));
        let card_dm = [t, ("card_uri", "c"), ("direct_message_deep_link", "d")];
        assert!(refused(PostKind::Text, &card_dm, 0).contains("direct_message_deep_link"));
        assert!(refused(PostKind::Text, &[t, poll, ("quote_tweet_id", "1")], 0).contains("poll"));
        assert!(refused(PostKind::Text, &[t, ("community_id", "abc")], 0).contains("community_id"));
        let long_id = "1".repeat(20);
        assert!(refused(PostKind::Text, &[t, ("community_id", &long_id)], 0).contains("digits"));
        assert!(refused(PostKind::Text, &[t, ("tagged_user_ids", "1")], 0).contains("tagged"));
        let eleven = (1..=11)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(refused(PostKind::Photos, &[t, ("tagged_user_ids", &eleven)], 1).contains("10"));
        assert!(refused(PostKind::Photos, &[t, ("tagged_user_ids", "@bob")], 1).contains("@bob"));
        let exclude = [t, ("exclude_reply_user_ids", "1")];
        assert!(refused(PostKind::Text, &exclude, 0).contains("reply_to_id"));
        let share = [t, ("share_with_followers", "true")];
        assert!(refused(PostKind::Text, &share, 0).contains("community_id"));
        assert!(refused(PostKind::Text, &[t, ("nullcast", "maybe")], 0).contains("nullcast"));
        let fine = [t, ("card_uri", "c"), ("community_id", "1")];
        assert!(thread(&post(PostKind::Text, &fine, 0)).is_ok());
    }

    #[test]
    fn post_url_is_left_out_with_a_warning() {
        let fields = [("title", "see"), ("post_url", "https://example.com")];
        let t = thread(&post(PostKind::Text, &fields, 0)).unwrap();
        assert_eq!(t.warnings, [POST_URL_DROPPED]);
        assert_eq!(t.body(0, &[], None), json!({"text": "see"}));
        assert_eq!(
            X.check(&post(PostKind::Text, &fields, 0)).unwrap(),
            [POST_URL_DROPPED]
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
