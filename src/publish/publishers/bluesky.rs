//! Bluesky (atproto, at the account's PDS): images through `com.atproto.repo.uploadBlob`,
//! posts as `app.bsky.feed.post` records through `createRecord`, with facets (links,
//! mentions, hashtags) as UTF-8 byte ranges. Each post's record key is a TID derived from
//! `call.marker`, so a repeated create collides instead of doubling the post, and `find`
//! is a `getRecord` of that key.

use super::{endpoint, note_first_comment, note_thread, sandbox_page, too_large};
use crate::domain::Platform;
use crate::domain::tid::tid;
use crate::domain::time;
use crate::domain::upload::{MediaKind, PostKind};
use crate::publish::http::{Effect, send};
use crate::publish::publisher::{Call, Media, Post, PublishError, Published, Publisher};
use crate::publish::text::{Measure, next_url, split};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct Bluesky;

const POST: &str = "app.bsky.feed.post";
const IMAGES_PER_POST: usize = 4;
const MAX_IMAGE_BYTES: u64 = 1_000_000;
const MAX_LANGS: usize = 3;
/// Hashtags longer than this are not tags (the Bluesky app's rule).
const MAX_TAG_CHARS: usize = 64;

/// The posts a request becomes.
#[derive(Debug, PartialEq)]
struct Thread {
    texts: Vec<String>,
    images: Vec<usize>,
    langs: Vec<String>,
}

impl Thread {
    fn len(&self) -> usize {
        self.texts.len().max(self.images.len())
    }
}

fn thread(post: &Post) -> Result<Thread, PublishError> {
    match post.kind {
        PostKind::Video => {
            return Err(PublishError::unsupported(
                "video_not_supported_yet",
                "Video posts to Bluesky are not supported yet",
            ));
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
        return Err(PublishError::unsupported(
            "video_not_supported_yet",
            format!(
                "Only images can be posted to Bluesky so far, not {}",
                m.content_type
            ),
        ));
    }
    if let Some(e) = post
        .media
        .iter()
        .find_map(|m| too_large(m, MAX_IMAGE_BYTES, "Bluesky"))
    {
        return Err(e);
    }
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
    let text = post.text(Platform::Bluesky).trim();
    let texts = if text.is_empty() {
        Vec::new()
    } else {
        split(text, Measure::BLUESKY)
    };
    let images: Vec<usize> = (0..count.div_ceil(IMAGES_PER_POST))
        .map(|i| (count - i * IMAGES_PER_POST).min(IMAGES_PER_POST))
        .collect();
    if texts.is_empty() && images.is_empty() {
        return Err(PublishError::invalid(
            "missing_text",
            "A Bluesky post needs text or images",
        ));
    }
    Ok(Thread {
        texts,
        images,
        langs,
    })
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
    rkey: &str,
) -> Result<Option<Value>, PublishError> {
    let mut url = endpoint(call.app, "get_record")?;
    url.query_pairs_mut()
        .append_pair("repo", repo)
        .append_pair("collection", POST)
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

/// The `reply` of a post answering `reference`: its thread's root, and it as the parent.
async fn reply_to(call: &Call<'_>, reference: &str) -> Result<Value, PublishError> {
    let (repo, rkey) = parse_post_ref(reference).ok_or_else(|| {
        PublishError::invalid(
            "invalid_field",
            "reply_to_id must be an at:// URI or a bsky.app post URL",
        )
    })?;
    let parent = get_record(call, &repo, &rkey).await?.ok_or_else(|| {
        PublishError::invalid(
            "invalid_field",
            format!("reply_to_id {reference} was not found"),
        )
    })?;
    let parent_ref = strong_ref(&parent);
    let root = match &parent["value"]["reply"]["root"] {
        Value::Null => parent_ref.clone(),
        root => root.clone(),
    };
    Ok(json!({"root": root, "parent": parent_ref}))
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
async fn create(call: &Call<'_>, rkey: &str, record: Value) -> Result<Value, PublishError> {
    let url = endpoint(call.app, "create_record")?;
    let body = json!({"repo": repo(call), "collection": POST, "rkey": rkey, "record": record});
    match send(
        request(call, Method::POST, &url).json(&body),
        Effect::Creates,
    )
    .await
    {
        Ok(answer) => Ok(strong_ref(&answer.body)),
        Err(e) if is_existing_record(&e) => match get_record(call, repo(call), rkey).await? {
            Some(existing) => Ok(strong_ref(&existing)),
            None => Err(e),
        },
        Err(e) => Err(mapped(e)),
    }
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

/// One post's record.
struct Part<'a> {
    text: &'a str,
    images: Vec<(Value, String)>,
    external: Option<&'a str>,
    reply: Option<Value>,
    langs: &'a [String],
}

async fn record(call: &Call<'_>, part: Part<'_>) -> Result<Value, PublishError> {
    let mut record = json!({
        "$type": POST,
        "text": part.text,
        "createdAt": time::now().and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
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
    if !part.images.is_empty() {
        record["embed"] = json!({
            "$type": "app.bsky.embed.images",
            "images": part.images.into_iter().map(|(blob, alt)| json!({"image": blob, "alt": alt})).collect::<Vec<_>>(),
        });
    } else if let Some(link) = part.external {
        record["embed"] = json!({
            "$type": "app.bsky.embed.external",
            "external": {"uri": link, "title": link, "description": ""},
        });
    }
    Ok(record)
}

#[async_trait]
impl Publisher for Bluesky {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        thread(post).map(|_| Vec::new())
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Published, PublishError> {
        let thread = thread(post)?;
        let mut alts = post.alt_texts(Platform::Bluesky);
        if alts.is_empty() {
            alts = post.fields.list("bluesky_alt_texts", &["||", "|"]);
        }
        let mut blobs = Vec::new();
        for (i, media) in post.media.iter().enumerate() {
            blobs.push((
                upload(call, media).await?,
                alts.get(i).cloned().unwrap_or_default(),
            ));
        }
        let mut blobs = blobs.into_iter();
        let mut reply = match post
            .fields
            .first_text(&["bluesky_reply_to_id", "reply_to_id"])
        {
            Some(reference) => Some(reply_to(call, reference).await?),
            None => None,
        };
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
                external: if i == 0 {
                    post.link_url(Platform::Bluesky)
                } else {
                    None
                },
                reply: reply.take(),
                langs: &thread.langs,
            };
            let made = match record(call, part).await {
                Ok(r) => create(call, &record_key(call, i), r).await,
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
        if let (Some(comment), Some(root)) = (post.first_comment(Platform::Bluesky), &root) {
            let part = Part {
                text: comment,
                images: Vec::new(),
                external: None,
                reply: Some(json!({"root": root, "parent": root})),
                langs: &thread.langs,
            };
            let made = match record(call, part).await {
                Ok(r) => create(call, &record_key(call, thread.len()), r).await,
                Err(e) => Err(e),
            };
            note_first_comment(&mut published, made.map(drop));
        }
        note_thread(&mut published, &uris);
        published.url = Some(post_url(call, &first));
        published.post_id = first;
        Ok(published)
    }

    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        thread(post)?;
        let found = get_record(call, repo(call), &record_key(call, 0)).await?;
        Ok(found
            .and_then(|r| r["uri"].as_str().map(str::to_owned))
            .map(|uri| Published {
                url: Some(post_url(call, &uri)),
                post_id: uri,
                ..Published::default()
            }))
    }

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
        let url = endpoint(call.app, "delete_record")?;
        let body = json!({"repo": owner, "collection": POST, "rkey": rkey});
        send(
            request(call, Method::POST, &url).json(&body),
            Effect::Harmless,
        )
        .await
        .map_err(mapped)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
