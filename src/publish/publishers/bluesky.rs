//! Bluesky (atproto, at the account's PDS): images through `com.atproto.repo.uploadBlob`,
//! posts as `app.bsky.feed.post` records through `createRecord`, with facets (links,
//! mentions, hashtags) as UTF-8 byte ranges. Each post's record key is a TID derived from
//! `call.marker`, so a repeated create collides instead of doubling the post, and `find`
//! is a `getRecord` of that key.

mod video;

use super::{endpoint, note_first_comment, note_thread, sandbox_page, too_large};
use crate::domain::Platform;
use crate::domain::tid::tid;
use crate::domain::time;
use crate::domain::upload::{Fields, MediaKind, PostKind};
use crate::publish::http::{Effect, send};
use crate::publish::publisher::{Call, Media, Post, Progress, PublishError, Published, Publisher};
use crate::publish::text::{Measure, next_url, split};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct Bluesky;

const POST: &str = "app.bsky.feed.post";
const THREADGATE: &str = "app.bsky.feed.threadgate";
const POSTGATE: &str = "app.bsky.feed.postgate";
const IMAGES_PER_POST: usize = 4;
const MAX_IMAGE_BYTES: u64 = 1_000_000;
const MAX_LANGS: usize = 3;
/// Hashtags longer than this are not tags (the Bluesky app's rule).
const MAX_TAG_CHARS: usize = 64;

/// The posts a request becomes, and what it asks of them besides text and images.
#[derive(Debug, PartialEq)]
struct Thread {
    texts: Vec<String>,
    images: Vec<usize>,
    /// The first post carries the request's video.
    video: bool,
    langs: Vec<String>,
    /// The first post's link card; `None` when the post has images, which win (the link is
    /// in the text then).
    external: Option<External>,
    /// The post the first one quotes.
    quote: Option<PostRef>,
    /// The post the first one answers.
    reply_to: Option<PostRef>,
    /// Self-labels of every post of the thread.
    labels: Vec<&'static str>,
    gates: Gates,
}

impl Thread {
    fn len(&self) -> usize {
        self.texts
            .len()
            .max(self.images.len())
            .max(usize::from(self.video))
    }
}

/// The refusal of what Bluesky cannot take at all: documents, oversized images, a video
/// beyond its limits.
fn check_media(post: &Post) -> Result<(), PublishError> {
    match post.kind {
        PostKind::Video => {
            return match post.media.as_slice() {
                [one] => video::LIMITS.check(one),
                _ => Err(PublishError::invalid(
                    "invalid_field",
                    "A Bluesky post takes exactly one video",
                )),
            };
        }
        PostKind::Document => {
            return Err(PublishError::invalid(
                "unsupported_media",
                "Bluesky does not take documents",
            ));
        }
        PostKind::Text | PostKind::Photos => {}
    }
    if let Some(m) = post.media.iter().find(|m| m.kind != MediaKind::Image) {
        return Err(PublishError::invalid(
            "unsupported_media_type",
            format!(
                "A photo post to Bluesky takes images, not {}; send a video as a video post",
                m.content_type
            ),
        ));
    }
    match post
        .media
        .iter()
        .find_map(|m| too_large(m, MAX_IMAGE_BYTES, "Bluesky"))
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Everything a request asks is checked here, before anything is sent: a bad setting never
/// leaves a post out without it.
fn thread(post: &Post) -> Result<Thread, PublishError> {
    check_media(post)?;
    let gallery = post
        .fields
        .flag("bluesky_gallery")
        .map_err(|e| PublishError::invalid("invalid_field", e.to_string()))?
        .unwrap_or(false);
    let count = post.media.len();
    if count > IMAGES_PER_POST && !gallery {
        return Err(PublishError::invalid(
            "too_many_images",
            format!(
                "Bluesky takes at most {IMAGES_PER_POST} images per post; set bluesky_gallery=true to continue the rest in replies"
            ),
        ));
    }
    let langs = post.fields.list("bluesky_langs", &[","]);
    if langs.len() > MAX_LANGS {
        return Err(PublishError::invalid(
            "invalid_field",
            format!("bluesky_langs takes at most {MAX_LANGS} languages"),
        ));
    }
    let link = post.link_url(Platform::Bluesky);
    let text = post.text(Platform::Bluesky).trim();
    let text = match link {
        Some(link) if count > 0 => with_link(text, link),
        _ => text.to_owned(),
    };
    let texts = if text.is_empty() {
        Vec::new()
    } else {
        split(&text, Measure::BLUESKY)
    };
    let video = post.kind == PostKind::Video;
    let images: Vec<usize> = if video {
        Vec::new()
    } else {
        (0..count.div_ceil(IMAGES_PER_POST))
            .map(|i| (count - i * IMAGES_PER_POST).min(IMAGES_PER_POST))
            .collect()
    };
    if texts.is_empty() && images.is_empty() && !video {
        return Err(PublishError::invalid(
            "missing_text",
            "A Bluesky post needs text or images",
        ));
    }
    Ok(Thread {
        texts,
        images,
        video,
        langs,
        external: link.filter(|_| count == 0).map(|uri| External {
            uri: uri.to_owned(),
            title: post.text(Platform::Bluesky).trim().to_owned(),
            description: post.description(Platform::Bluesky).unwrap_or("").to_owned(),
        }),
        quote: post_ref_field(
            post,
            &["bluesky_quote_uri", "bluesky_quote_id", "bluesky_quote_url"],
        )?,
        reply_to: post_ref_field(post, &["bluesky_reply_to_id", "reply_to_id"])?,
        labels: self_labels(&post.fields)?,
        gates: Gates::parse(&post.fields)?,
    })
}

/// The text with the link at its end, unless the text has it already: a post with images
/// has no room for a link card, and the link must not be lost.
fn with_link(text: &str, link: &str) -> String {
    if text.contains(link) {
        text.to_owned()
    } else if text.is_empty() {
        link.to_owned()
    } else {
        format!("{text}\n\n{link}")
    }
}

/// A link card (`app.bsky.embed.external`); Bluesky needs no thumbnail.
#[derive(Debug, PartialEq)]
struct External {
    uri: String,
    title: String,
    description: String,
}

/// A post a request names (a quote or a reply target), as given and as parsed.
#[derive(Debug, PartialEq)]
struct PostRef {
    /// The field it came in, for messages.
    field: &'static str,
    reference: String,
    repo: String,
    rkey: String,
}

/// The first given of `names` (a field and its aliases) as a post reference.
fn post_ref_field(post: &Post, names: &[&'static str]) -> Result<Option<PostRef>, PublishError> {
    let Some((field, reference)) = names
        .iter()
        .find_map(|n| post.fields.text(n).map(|v| (*n, v.trim())))
    else {
        return Ok(None);
    };
    let (repo, rkey) = parse_post_ref(reference).ok_or_else(|| {
        PublishError::invalid(
            "invalid_field",
            format!("{field} must be an at:// URI or a bsky.app post URL"),
        )
    })?;
    Ok(Some(PostRef {
        field,
        reference: reference.to_owned(),
        repo,
        rkey,
    }))
}

/// The first given of `names` (a setting and its aliases), as the lower-case words of its
/// comma list, with the name it was given under.
fn setting(fields: &Fields, names: &[&'static str]) -> Option<(&'static str, Vec<String>)> {
    let name = names.iter().copied().find(|n| fields.text(n).is_some())?;
    let words = fields.list(name, &[","]);
    Some((name, words.iter().map(|w| w.to_lowercase()).collect()))
}

fn invalid_setting(name: &str, value: &str, expected: &str) -> PublishError {
    PublishError::invalid(
        "invalid_field",
        format!("Invalid value for '{name}': '{value}'; expected {expected}"),
    )
}

/// Who besides the author may reply: one rule of a threadgate's `allow`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ReplyRule {
    Mentioned,
    Following,
    Followers,
}

impl ReplyRule {
    fn parse(word: &str) -> Option<Self> {
        match word {
            "mentioned" => Some(Self::Mentioned),
            "following" => Some(Self::Following),
            "followers" => Some(Self::Followers),
            _ => None,
        }
    }

    fn record(self) -> Value {
        let rule = match self {
            Self::Mentioned => "mentionRule",
            Self::Following => "followingRule",
            Self::Followers => "followerRule",
        };
        json!({"$type": format!("{THREADGATE}#{rule}")})
    }
}

/// The self-labels Bluesky's app offers for adult content (`bluesky_labels`).
const SELF_LABELS: [&str; 4] = ["sexual", "nudity", "porn", "graphic-media"];

fn self_labels(fields: &Fields) -> Result<Vec<&'static str>, PublishError> {
    let Some((name, words)) = setting(fields, &["bluesky_labels"]) else {
        return Ok(Vec::new());
    };
    let mut labels = Vec::new();
    for word in &words {
        let label = SELF_LABELS
            .iter()
            .copied()
            .find(|l| l == word)
            .ok_or_else(|| invalid_setting(name, word, &SELF_LABELS.join(", ")))?;
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    Ok(labels)
}

/// Who may reply to and quote the thread's root, kept by atproto in records of their own
/// (a threadgate, a postgate) under the post's record key.
#[derive(Debug, Default, PartialEq)]
struct Gates {
    /// `None`: everyone may reply, and no threadgate is made; empty: nobody but the author.
    replies: Option<Vec<ReplyRule>>,
    quotes_disabled: bool,
}

impl Gates {
    fn parse(fields: &Fields) -> Result<Self, PublishError> {
        Ok(Self {
            replies: reply_rules(fields)?,
            quotes_disabled: quotes_disabled(fields)?,
        })
    }

    /// The records these gates are, `(collection, record)`, for the post at `post_uri`.
    fn records(&self, post_uri: &str) -> Vec<(&'static str, Value)> {
        let mut records = Vec::new();
        if let Some(rules) = &self.replies {
            records.push((
                THREADGATE,
                json!({
                    "$type": THREADGATE,
                    "post": post_uri,
                    "allow": rules.iter().map(|r| r.record()).collect::<Vec<_>>(),
                    "createdAt": created_at(),
                }),
            ));
        }
        if self.quotes_disabled {
            records.push((
                POSTGATE,
                json!({
                    "$type": POSTGATE,
                    "post": post_uri,
                    "embeddingRules": [{"$type": format!("{POSTGATE}#disableRule")}],
                    "createdAt": created_at(),
                }),
            ));
        }
        records
    }
}

/// `bluesky_threadgate`: `everyone`, `nobody`, or a comma list of rules.
fn reply_rules(fields: &Fields) -> Result<Option<Vec<ReplyRule>>, PublishError> {
    const EXPECTED: &str = "everyone, nobody, or a comma list of mentioned, following, followers";
    let Some((name, words)) = setting(fields, &["bluesky_threadgate", "bluesky_reply_settings"])
    else {
        return Ok(None);
    };
    match words.as_slice() {
        [one] if one == "everyone" => return Ok(None),
        [one] if one == "nobody" => return Ok(Some(Vec::new())),
        _ => {}
    }
    let mut rules = Vec::new();
    for word in &words {
        let rule = ReplyRule::parse(word).ok_or_else(|| invalid_setting(name, word, EXPECTED))?;
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    Ok(Some(rules))
}

/// `bluesky_postgate`: whether quoting is turned off.
fn quotes_disabled(fields: &Fields) -> Result<bool, PublishError> {
    let Some((name, words)) = setting(fields, &["bluesky_postgate", "bluesky_quote_settings"])
    else {
        return Ok(false);
    };
    match words.join(",").as_str() {
        "disabled" | "none" | "nobody" => Ok(true),
        "everyone" | "enabled" => Ok(false),
        other => Err(invalid_setting(
            name,
            other,
            "disabled (or none, nobody) or everyone (or enabled)",
        )),
    }
}

/// Post `part`'s record key: a TID at the first attempt's time, made unique to this post by
/// the marker, so that every attempt uses the same key.
fn record_key(call: &Call<'_>, part: usize) -> String {
    let hash = Sha256::digest(call.marker.as_bytes());
    let clock = u16::from_be_bytes([hash[0], hash[1]]);
    let spread = u64::from(u16::from_be_bytes([hash[2], hash[3]]) & 0x3ff);
    let since = u64::try_from(call.since.and_utc().timestamp_micros()).unwrap_or_default();
    tid((since & !0x3ff) + spread + part as u64, clock)
}

/// What a facet marks.
#[derive(Debug, Clone, PartialEq)]
enum Feature {
    Link(String),
    Mention(String),
    Tag(String),
}

/// Links, @handles and #tags in `text`, as byte ranges.
fn detect(text: &str) -> Vec<(usize, usize, Feature)> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some((start, end)) = next_url(&text[offset..]) {
        let (start, end) = (offset + start, offset + end);
        found.push((start, end, Feature::Link(text[start..end].to_owned())));
        offset = end;
    }
    let in_link = |i: usize| found.iter().any(|(s, e, _)| (*s..*e).contains(&i));
    let mut marks = Vec::new();
    for (i, c) in text.char_indices() {
        if !matches!(c, '@' | '#') || in_link(i) {
            continue;
        }
        let starts_word = text[..i]
            .chars()
            .next_back()
            .is_none_or(|p| p.is_whitespace() || p == '(');
        if !starts_word {
            continue;
        }
        let body_start = i + 1;
        let word: &str = &text[body_start..];
        if c == '@' {
            let len = word
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '-'))
                .unwrap_or(word.len());
            let handle = word[..len].trim_end_matches(['.', '-']);
            if handle.contains('.') && !handle.starts_with('.') {
                let end = body_start + handle.len();
                marks.push((i, end, Feature::Mention(handle.to_owned())));
            }
        } else {
            let len = word
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .unwrap_or(word.len());
            let tag = &word[..len];
            let is_tag = !tag.is_empty()
                && !tag.chars().all(|ch| ch.is_ascii_digit())
                && tag.chars().count() <= MAX_TAG_CHARS;
            if is_tag {
                marks.push((i, body_start + len, Feature::Tag(tag.to_owned())));
            }
        }
    }
    found.extend(marks);
    found.sort_by_key(|(s, _, _)| *s);
    found
}

fn request(call: &Call<'_>, method: Method, url: &url::Url) -> reqwest::RequestBuilder {
    call.app
        .http
        .request(method, url)
        .bearer_auth(&call.tokens.access_token)
}

/// XRPC refusals of the session are a grant Bluesky no longer takes.
fn mapped(e: PublishError) -> PublishError {
    match e {
        PublishError::Refused { code, message, .. }
            if matches!(
                code.as_str(),
                "ExpiredToken" | "InvalidToken" | "AuthenticationRequired"
            ) =>
        {
            PublishError::Reauth {
                reason: code,
                message,
            }
        }
        other => other,
    }
}

fn is_existing_record(e: &PublishError) -> bool {
    matches!(e, PublishError::Refused { code, message, .. }
        if code == "RecordAlreadyExists" || message.to_lowercase().contains("already exists"))
}

/// The account's repo: its DID.
fn repo<'a>(call: &'a Call<'_>) -> &'a str {
    call.tokens
        .user_id
        .as_deref()
        .unwrap_or(&call.connection.platform_user_id)
}

/// `at://<repo>/app.bsky.feed.post/<rkey>` or `https://bsky.app/profile/<repo>/post/<rkey>`.
fn parse_post_ref(reference: &str) -> Option<(String, String)> {
    if let Some(rest) = reference.strip_prefix("at://") {
        let mut parts = rest.split('/');
        let (repo, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
        return (collection == POST && !rkey.is_empty())
            .then(|| (repo.to_owned(), rkey.to_owned()));
    }
    let url = url::Url::parse(reference).ok()?;
    let segments: Vec<&str> = url.path_segments()?.collect();
    match segments.as_slice() {
        ["profile", repo, "post", rkey] if !rkey.is_empty() => {
            Some(((*repo).to_owned(), (*rkey).to_owned()))
        }
        _ => None,
    }
}

/// A record (`{uri, cid, value}`), `None` when the PDS has none under that key.
async fn get_record(
    call: &Call<'_>,
    repo: &str,
    collection: &str,
    rkey: &str,
) -> Result<Option<Value>, PublishError> {
    let mut url = endpoint(call.app, "get_record")?;
    url.query_pairs_mut()
        .append_pair("repo", repo)
        .append_pair("collection", collection)
        .append_pair("rkey", rkey);
    match send(request(call, Method::GET, &url), Effect::Harmless).await {
        Ok(answer) => Ok(Some(answer.body)),
        Err(PublishError::Refused { code, .. }) if code == "RecordNotFound" => Ok(None),
        Err(e) => Err(mapped(e)),
    }
}

/// A strong ref (`{uri, cid}`) of a record answer.
fn strong_ref(record: &Value) -> Value {
    json!({"uri": record["uri"], "cid": record["cid"]})
}

/// The post a request names; one the PDS does not have is the request's mistake.
async fn named_post(call: &Call<'_>, post: &PostRef) -> Result<Value, PublishError> {
    get_record(call, &post.repo, POST, &post.rkey)
        .await?
        .ok_or_else(|| {
            PublishError::invalid(
                "invalid_field",
                format!("{} {} was not found", post.field, post.reference),
            )
        })
}

/// The `reply` of a post answering `parent`: its thread's root, and it as the parent.
fn reply_to(parent: &Value) -> Value {
    let parent_ref = strong_ref(parent);
    let root = match &parent["value"]["reply"]["root"] {
        Value::Null => parent_ref.clone(),
        root => root.clone(),
    };
    json!({"root": root, "parent": parent_ref})
}

/// The facets of `text`; a handle that does not resolve stays plain text.
async fn facets(call: &Call<'_>, text: &str) -> Result<Vec<Value>, PublishError> {
    let mut facets = Vec::new();
    for (start, end, feature) in detect(text) {
        let feature = match feature {
            Feature::Link(uri) => json!({"$type": "app.bsky.richtext.facet#link", "uri": uri}),
            Feature::Tag(tag) => json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
            Feature::Mention(handle) => {
                let mut url = endpoint(call.app, "resolve_handle")?;
                url.query_pairs_mut().append_pair("handle", &handle);
                let resolved = send(request(call, Method::GET, &url), Effect::Harmless).await;
                let Some(did) = resolved
                    .ok()
                    .and_then(|a| a.body["did"].as_str().map(str::to_owned))
                else {
                    continue;
                };
                json!({"$type": "app.bsky.richtext.facet#mention", "did": did})
            }
        };
        facets.push(json!({"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}));
    }
    Ok(facets)
}

/// Uploads one image: its blob reference.
async fn upload(call: &Call<'_>, media: &Media) -> Result<Value, PublishError> {
    let bytes = call.media.bytes(media).await?;
    let url = endpoint(call.app, "upload_blob")?;
    let answer = send(
        request(call, Method::POST, &url)
            .header(reqwest::header::CONTENT_TYPE, &media.content_type)
            .body(bytes),
        Effect::Harmless,
    )
    .await
    .map_err(mapped)?;
    match &answer.body["blob"] {
        Value::Null => Err(PublishError::refused(
            "platform_unavailable",
            "Bluesky gave no blob",
            true,
        )),
        blob => Ok(blob.clone()),
    }
}

/// Creates the record under `rkey`; one that exists already is an earlier attempt's.
async fn create(
    call: &Call<'_>,
    collection: &str,
    rkey: &str,
    record: Value,
) -> Result<Value, PublishError> {
    let url = endpoint(call.app, "create_record")?;
    let body =
        json!({"repo": repo(call), "collection": collection, "rkey": rkey, "record": record});
    match send(
        request(call, Method::POST, &url).json(&body),
        Effect::Creates,
    )
    .await
    {
        Ok(answer) => Ok(strong_ref(&answer.body)),
        Err(e) if is_existing_record(&e) => {
            match get_record(call, repo(call), collection, rkey).await? {
                Some(existing) => Ok(strong_ref(&existing)),
                None => Err(e),
            }
        }
        Err(e) => Err(mapped(e)),
    }
}

/// Deletes the record under `rkey`; one that is not there is deleted already.
async fn delete(
    call: &Call<'_>,
    repo: &str,
    collection: &str,
    rkey: &str,
) -> Result<(), PublishError> {
    let url = endpoint(call.app, "delete_record")?;
    let body = json!({"repo": repo, "collection": collection, "rkey": rkey});
    send(
        request(call, Method::POST, &url).json(&body),
        Effect::Harmless,
    )
    .await
    .map(drop)
    .map_err(mapped)
}

fn rkey_of(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

fn post_url(call: &Call<'_>, uri: &str) -> String {
    let rkey = rkey_of(uri);
    sandbox_page(call.app, "create_record", rkey).unwrap_or_else(|| {
        let profile = call.connection.handle.as_deref().unwrap_or(repo(call));
        format!("https://bsky.app/profile/{profile}/post/{rkey}")
    })
}

fn created_at() -> String {
    time::now()
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One post's record.
struct Part<'a> {
    text: &'a str,
    images: Vec<(Value, String)>,
    /// An `app.bsky.embed.video`, which takes the place of images.
    video: Option<Value>,
    external: Option<&'a External>,
    /// A strong ref of the quoted post.
    quote: Option<Value>,
    reply: Option<Value>,
    langs: &'a [String],
    labels: &'a [&'static str],
}

/// The `app.bsky.embed.video` of a processed video: its alt text, and its aspect ratio
/// when probing found it.
fn video_embed(blob: Value, alt: Option<&String>, media: &Media) -> Value {
    let mut embed = json!({"$type": "app.bsky.embed.video", "video": blob});
    if let Some(alt) = alt {
        embed["alt"] = alt.as_str().into();
    }
    if let Some(info) = media.video.as_ref().filter(|v| v.width > 0 && v.height > 0) {
        embed["aspectRatio"] = json!({"width": info.width, "height": info.height});
    }
    embed
}

/// A post's `embed`: a video or images win over a link card, and a quote carries either as its media.
fn embed(
    images: Vec<(Value, String)>,
    video: Option<Value>,
    external: Option<&External>,
    quote: Option<Value>,
) -> Option<Value> {
    let media = if video.is_some() {
        video
    } else if images.is_empty() {
        external.map(|e| {
            json!({
                "$type": "app.bsky.embed.external",
                "external": {"uri": e.uri, "title": e.title, "description": e.description},
            })
        })
    } else {
        Some(json!({
            "$type": "app.bsky.embed.images",
            "images": images.into_iter().map(|(blob, alt)| json!({"image": blob, "alt": alt})).collect::<Vec<_>>(),
        }))
    };
    let Some(quote) = quote else {
        return media;
    };
    let record = json!({"$type": "app.bsky.embed.record", "record": quote});
    Some(match media {
        Some(media) => json!({
            "$type": "app.bsky.embed.recordWithMedia", "record": record, "media": media,
        }),
        None => record,
    })
}

async fn record(call: &Call<'_>, part: Part<'_>) -> Result<Value, PublishError> {
    let mut record = json!({"$type": POST, "text": part.text, "createdAt": created_at()});
    let facets = facets(call, part.text).await?;
    if !facets.is_empty() {
        record["facets"] = facets.into();
    }
    if !part.langs.is_empty() {
        record["langs"] = part.langs.into();
    }
    if let Some(reply) = part.reply {
        record["reply"] = reply;
    }
    if let Some(embed) = embed(part.images, part.video, part.external, part.quote) {
        record["embed"] = embed;
    }
    if !part.labels.is_empty() {
        record["labels"] = json!({
            "$type": "com.atproto.label.defs#selfLabels",
            "values": part.labels.iter().map(|l| json!({"val": l})).collect::<Vec<_>>(),
        });
    }
    Ok(record)
}

/// Makes the root's gates under its record key. The post is out already, so a gate the PDS
/// refuses for good is a warning; a failure a later attempt may get past fails this one,
/// and the next attempt makes the gate (`find` does not report a post missing its gates,
/// and the thread's records collide with themselves).
async fn make_gates(
    call: &Call<'_>,
    gates: &Gates,
    root_uri: &str,
    published: &mut Published,
) -> Result<(), PublishError> {
    for (collection, gate) in gates.records(root_uri) {
        match create(call, collection, rkey_of(root_uri), gate).await {
            Ok(_) => {}
            Err(e)
                if e.retryable()
                    || matches!(e, PublishError::InDoubt(_) | PublishError::Reauth { .. }) =>
            {
                return Err(e);
            }
            Err(e) => published
                .warnings
                .push(format!("The post went out without its {collection}: {e}")),
        }
    }
    Ok(())
}

#[async_trait]
impl Publisher for Bluesky {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        thread(post).map(|_| Vec::new())
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let thread = thread(post)?;
        let mut quote = match &thread.quote {
            Some(quoted) => Some(strong_ref(&named_post(call, quoted).await?)),
            None => None,
        };
        let mut reply = match &thread.reply_to {
            Some(parent) => Some(reply_to(&named_post(call, parent).await?)),
            None => None,
        };
        let mut alts = post.alt_texts(Platform::Bluesky);
        if alts.is_empty() {
            alts = post.fields.list("bluesky_alt_texts", &["||", "|"]);
        }
        let mut video = None;
        let mut blobs = Vec::new();
        if let (true, Some(media)) = (thread.video, post.media.first()) {
            match video::advance(call, media, video::resumed(call.resume)).await? {
                video::Step::Wait { job_id, after } => {
                    return Ok(Progress::Pending {
                        state: video::state(&job_id),
                        after,
                    });
                }
                video::Step::Ready(blob) => {
                    video = Some(video_embed(blob, alts.first(), media));
                }
            }
        } else {
            for (i, media) in post.media.iter().enumerate() {
                blobs.push((
                    upload(call, media).await?,
                    alts.get(i).cloned().unwrap_or_default(),
                ));
            }
        }
        let mut blobs = blobs.into_iter();
        let mut root: Option<Value> = None;
        let mut uris: Vec<String> = Vec::new();
        let mut published = Published::default();
        for i in 0..thread.len() {
            let part = Part {
                text: thread.texts.get(i).map(String::as_str).unwrap_or(""),
                images: blobs
                    .by_ref()
                    .take(thread.images.get(i).copied().unwrap_or(0))
                    .collect(),
                video: video.take(),
                external: thread.external.as_ref().filter(|_| i == 0),
                quote: quote.take(),
                reply: reply.take(),
                langs: &thread.langs,
                labels: &thread.labels,
            };
            let made = match record(call, part).await {
                Ok(r) => create(call, POST, &record_key(call, i), r).await,
                Err(e) => Err(e),
            };
            let made = match made {
                Ok(made) => made,
                Err(e) if uris.is_empty() => return Err(e),
                Err(e) => {
                    published.warnings.push(format!(
                        "The thread stopped after {} of {} posts: {e}",
                        uris.len(),
                        thread.len()
                    ));
                    break;
                }
            };
            let thread_root = root.get_or_insert_with(|| made.clone()).clone();
            reply = Some(json!({"root": thread_root, "parent": made}));
            uris.push(made["uri"].as_str().unwrap_or_default().to_owned());
        }
        let first = uris[0].clone();
        make_gates(call, &thread.gates, &first, &mut published).await?;
        if let (Some(comment), Some(root)) = (post.first_comment(Platform::Bluesky), &root) {
            let part = Part {
                text: comment,
                images: Vec::new(),
                video: None,
                external: None,
                quote: None,
                reply: Some(json!({"root": root, "parent": root})),
                langs: &thread.langs,
                labels: &[],
            };
            let made = match record(call, part).await {
                Ok(r) => create(call, POST, &record_key(call, thread.len()), r).await,
                Err(e) => Err(e),
            };
            note_first_comment(&mut published, made.map(drop));
        }
        note_thread(&mut published, &uris);
        published.url = Some(post_url(call, &first));
        published.post_id = first;
        Ok(Progress::Done(published))
    }

    /// The root post, once it has its gates: one still missing a gate is not done, and is
    /// published again (its records collide, the gate is made).
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let thread = thread(post)?;
        let rkey = record_key(call, 0);
        let Some(uri) = get_record(call, repo(call), POST, &rkey)
            .await?
            .and_then(|r| r["uri"].as_str().map(str::to_owned))
        else {
            return Ok(None);
        };
        for (collection, _) in thread.gates.records(&uri) {
            if get_record(call, repo(call), collection, &rkey)
                .await?
                .is_none()
            {
                return Ok(None);
            }
        }
        Ok(Some(Published {
            url: Some(post_url(call, &uri)),
            post_id: uri,
            ..Published::default()
        }))
    }

    /// Deletes the post and any gates it has (they share its record key).
    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let (owner, rkey) = parse_post_ref(post_id).ok_or_else(|| {
            PublishError::invalid("invalid_field", "post_id must be an at:// URI of a post")
        })?;
        if owner != repo(call) {
            return Err(PublishError::invalid(
                "invalid_field",
                "post_id is not a post of this account",
            ));
        }
        for collection in [POST, THREADGATE, POSTGATE] {
            delete(call, &owner, collection, &rkey).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let mut f = Fields::new();
        for (k, v) in pairs {
            f.push(k, *v);
        }
        f
    }

    fn text_post(pairs: &[(&str, &str)]) -> Post {
        Post {
            kind: PostKind::Text,
            media: Vec::new(),
            attachments: Vec::new(),
            fields: fields(pairs),
        }
    }

    #[test]
    fn reply_settings_become_threadgate_rules() {
        let rules = |value: &str| reply_rules(&fields(&[("bluesky_threadgate", value)]));
        assert_eq!(rules("everyone"), Ok(None), "no threadgate at all");
        assert_eq!(rules("Nobody"), Ok(Some(Vec::new())));
        assert_eq!(
            rules("mentioned, Following,followers,following"),
            Ok(Some(vec![
                ReplyRule::Mentioned,
                ReplyRule::Following,
                ReplyRule::Followers
            ]))
        );
        assert_eq!(
            reply_rules(&fields(&[("bluesky_reply_settings", "followers")])),
            Ok(Some(vec![ReplyRule::Followers])),
            "the alias"
        );
        assert_eq!(reply_rules(&Fields::new()), Ok(None));
        for bad in ["anyone", "nobody,mentioned", "everyone,following"] {
            let e = rules(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_field", "{bad}");
            assert!(e.to_string().contains("bluesky_threadgate"), "{e}");
        }
    }

    #[test]
    fn quote_settings_turn_quoting_off_or_leave_it() {
        let disabled = |name: &str, value: &str| quotes_disabled(&fields(&[(name, value)]));
        for off in ["disabled", "None", "nobody"] {
            assert_eq!(disabled("bluesky_postgate", off), Ok(true), "{off}");
        }
        for on in ["everyone", "enabled"] {
            assert_eq!(disabled("bluesky_quote_settings", on), Ok(false), "{on}");
        }
        assert_eq!(quotes_disabled(&Fields::new()), Ok(false));
        assert!(disabled("bluesky_postgate", "followers").is_err());
        assert!(disabled("bluesky_postgate", "disabled,enabled").is_err());
    }

    #[test]
    fn only_the_apps_self_labels_are_taken() {
        let labels = |value: &str| self_labels(&fields(&[("bluesky_labels", value)]));
        assert_eq!(
            labels("porn, Graphic-Media,porn"),
            Ok(vec!["porn", "graphic-media"])
        );
        assert_eq!(
            labels("[\"sexual\",\"nudity\"]"),
            Ok(vec!["sexual", "nudity"])
        );
        let e = labels("nudity,spam").unwrap_err();
        assert_eq!(e.code(), "invalid_field");
        assert!(e.to_string().contains("'spam'"), "{e}");
    }

    #[test]
    fn gates_are_records_of_the_post() {
        let gates = Gates {
            replies: Some(vec![ReplyRule::Mentioned, ReplyRule::Followers]),
            quotes_disabled: true,
        };
        let uri = "at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a";
        let records = gates.records(uri);
        let collections: Vec<&str> = records.iter().map(|(c, _)| *c).collect();
        assert_eq!(collections, [THREADGATE, POSTGATE]);
        let (_, threadgate) = &records[0];
        assert_eq!(threadgate["post"], uri);
        assert_eq!(
            threadgate["allow"],
            json!([
                {"$type": "app.bsky.feed.threadgate#mentionRule"},
                {"$type": "app.bsky.feed.threadgate#followerRule"},
            ])
        );
        let (_, postgate) = &records[1];
        assert_eq!(
            postgate["embeddingRules"],
            json!([{"$type": "app.bsky.feed.postgate#disableRule"}])
        );
        assert!(Gates::default().records(uri).is_empty());
    }

    #[test]
    fn a_bad_setting_or_reference_fails_before_anything_is_sent() {
        for (name, value) in [
            ("bluesky_threadgate", "friends"),
            ("bluesky_postgate", "maybe"),
            ("bluesky_labels", "spoiler"),
            ("bluesky_quote_uri", "https://example.com/not-a-post"),
            (
                "bluesky_quote_id",
                "at://did:plc:abc/app.bsky.feed.like/3jz",
            ),
        ] {
            let e = Bluesky
                .check(&text_post(&[("title", "hi"), (name, value)]))
                .unwrap_err();
            assert_eq!(e.code(), "invalid_field", "{name}");
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn a_link_is_a_card_without_images_and_text_with_them() {
        let link = [
            ("title", "Read this"),
            ("description", "All of it"),
            ("link_url", "https://example.com/a"),
        ];
        let card = thread(&text_post(&link)).unwrap();
        assert_eq!(
            card.external,
            Some(External {
                uri: "https://example.com/a".into(),
                title: "Read this".into(),
                description: "All of it".into(),
            })
        );
        assert_eq!(card.texts, ["Read this"]);
        let mut photo = text_post(&link);
        photo.kind = PostKind::Photos;
        photo.media.push(Media {
            id: "one".into(),
            kind: MediaKind::Image,
            content_type: "image/png".into(),
            size: 10,
            filename: None,
            video: None,
        });
        let with_images = thread(&photo).unwrap();
        assert_eq!(with_images.external, None);
        assert_eq!(with_images.texts, ["Read this\n\nhttps://example.com/a"]);
        assert_eq!(
            with_link("see https://x.org", "https://x.org"),
            "see https://x.org"
        );
    }

    #[test]
    fn embeds_combine_a_quote_with_images_or_a_card() {
        let quote = json!({"uri": "at://did:plc:abc/app.bsky.feed.post/3jz", "cid": "bafy"});
        let card = External {
            uri: "https://example.com".into(),
            title: String::new(),
            description: String::new(),
        };
        let image = (json!({"$type": "blob"}), "alt".to_owned());
        let only_quote = embed(Vec::new(), None, None, Some(quote.clone())).unwrap();
        assert_eq!(
            only_quote,
            json!({"$type": "app.bsky.embed.record", "record": quote})
        );
        let both = embed(vec![image.clone()], None, Some(&card), Some(quote.clone())).unwrap();
        assert_eq!(both["$type"], "app.bsky.embed.recordWithMedia");
        assert_eq!(both["record"]["record"], quote);
        assert_eq!(
            both["media"]["$type"], "app.bsky.embed.images",
            "images win"
        );
        let quoted_card = embed(Vec::new(), None, Some(&card), Some(quote)).unwrap();
        assert_eq!(
            quoted_card["media"]["external"],
            json!({"uri": "https://example.com", "title": "", "description": ""})
        );
        assert_eq!(embed(Vec::new(), None, None, None), None);
    }

    #[test]
    fn facets_are_byte_ranges() {
        let text =
            "Café ☕ with @alice.bsky.social at https://example.com/ü?x=1 #Süß #123 mail@x.org";
        let found = detect(text);
        let spans: Vec<&str> = found.iter().map(|(s, e, _)| &text[*s..*e]).collect();
        assert_eq!(
            spans,
            ["@alice.bsky.social", "https://example.com/ü?x=1", "#Süß"]
        );
        let (start, _, _) = found[0];
        assert_eq!(start, "Café ☕ with ".len(), "bytes, not characters");
        assert_eq!(found[0].2, Feature::Mention("alice.bsky.social".into()));
        assert_eq!(found[2].2, Feature::Tag("Süß".into()));
    }

    #[test]
    fn post_references_in_both_spellings() {
        let want = Some(("did:plc:abc".to_owned(), "3jzfcijpj2z2a".to_owned()));
        assert_eq!(
            parse_post_ref("at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a"),
            want
        );
        assert_eq!(
            parse_post_ref("https://bsky.app/profile/did:plc:abc/post/3jzfcijpj2z2a"),
            want
        );
        assert_eq!(
            parse_post_ref("at://did:plc:abc/app.bsky.feed.like/3jz"),
            None
        );
        assert_eq!(parse_post_ref("https://bsky.app/profile/x"), None);
    }

    #[test]
    fn session_refusals_need_a_new_sign_in() {
        let e = mapped(PublishError::refused(
            "ExpiredToken",
            "Token has expired",
            false,
        ));
        assert!(matches!(e, PublishError::Reauth { .. }));
        assert!(is_existing_record(&PublishError::refused(
            "RecordAlreadyExists",
            "Record already exists",
            false
        )));
    }
}
