//! LinkedIn's Posts API (`/rest/posts`, versioned): text, a link as an `article`, a `poll`,
//! one image or a `multiImage`, a document; as the member or the pinned organization.
//!
//! Media is uploaded first (`images|documents?action=initializeUpload`, then a PUT of the
//! bytes to the `uploadUrl` given): nothing is visible until the post is created, so only
//! that one call can leave a post in doubt. The post's URN comes back in `x-restli-id`.

mod video;

use super::{endpoint, note_first_comment};
use crate::domain::Platform;
use crate::domain::upload::{MediaKind, PostKind};
use crate::oauth::providers::LINKEDIN_API_VERSION as API_VERSION;
use crate::publish::http::{self, Effect};
use crate::publish::publisher::{Call, Media, Post, Progress, PublishError, Published, Publisher};
use async_trait::async_trait;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use url::Url;

pub struct Linkedin;

const PLATFORM: Platform = Platform::Linkedin;
/// Commentary, in characters.
const MAX_TEXT: usize = 3000;
const MAX_IMAGES: usize = 20;
const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/gif"];
const MAX_DOCUMENT_BYTES: u64 = 100 * 1024 * 1024;
/// PDF, PPT, PPTX, DOC, DOCX, by sniffed type or, for the Office formats (which sniff as
/// containers), by the file's extension.
const DOCUMENT_TYPES: [&str; 5] = [
    "application/pdf",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];
const DOCUMENT_EXTENSIONS: [&str; 5] = ["pdf", "ppt", "pptx", "doc", "docx"];
/// A media title, in UTF-16 code units (LinkedIn's measure).
const MAX_MEDIA_TITLE: usize = 400;
const VISIBILITIES: [&str; 4] = ["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"];
const PERSON_URN: &str = "urn:li:person:";
const ORGANIZATION_URN: &str = "urn:li:organization:";
/// How many of the author's newest posts `find` reads.
const FIND_WINDOW: &str = "20";

/// An `article` card for a link.
#[derive(Debug, Clone, PartialEq)]
struct Article {
    source: String,
    title: String,
    description: Option<String>,
}

/// A poll's question, in characters.
const MAX_POLL_QUESTION: usize = 140;
/// Each option, in characters.
const MAX_POLL_OPTION: usize = 30;
/// LinkedIn's poll durations, and the day counts clients may send instead.
const POLL_DURATIONS: [(&str, &str); 4] = [
    ("ONE_DAY", "1"),
    ("THREE_DAYS", "3"),
    ("SEVEN_DAYS", "7"),
    ("FOURTEEN_DAYS", "14"),
];

/// Audience targeting lists and how LinkedIn names their values: a bare id gets the URN
/// prefix, a URN is taken as it is. Staff count ranges are LinkedIn's own codes.
const TARGETING: [(&str, &str, &str); 8] = [
    (
        "linkedin_target_geo_locations",
        "geoLocations",
        "urn:li:geo:",
    ),
    (
        "linkedin_target_industries",
        "industries",
        "urn:li:industry:",
    ),
    (
        "linkedin_target_seniorities",
        "seniorities",
        "urn:li:seniority:",
    ),
    (
        "linkedin_target_job_functions",
        "jobFunctions",
        "urn:li:function:",
    ),
    ("linkedin_target_degrees", "degrees", "urn:li:degree:"),
    (
        "linkedin_target_fields_of_study",
        "fieldsOfStudy",
        "urn:li:fieldOfStudy:",
    ),
    (
        "linkedin_target_organizations",
        "organizations",
        ORGANIZATION_URN,
    ),
    ("linkedin_target_staff_count_ranges", "staffCountRanges", ""),
];

/// `distribution.targetEntities`: `linkedin_target_entities` as given (a JSON list of
/// objects), else one entity built from the `linkedin_target_*` lists; empty for everyone.
fn target_entities(post: &Post) -> Result<Vec<Value>, PublishError> {
    let fields = &post.fields;
    if let Some(raw) = fields.text("linkedin_target_entities") {
        return serde_json::from_str::<Vec<Value>>(raw)
            .ok()
            .filter(|all| all.iter().all(Value::is_object))
            .ok_or_else(|| {
                invalid(
                    "invalid_field",
                    "linkedin_target_entities must be a JSON list of targeting objects",
                )
            });
    }
    let mut entity = serde_json::Map::new();
    for (field, key, prefix) in TARGETING {
        let values: Vec<String> = fields
            .list(field, &[","])
            .into_iter()
            .map(|v| {
                if v.starts_with("urn:") || prefix.is_empty() {
                    v
                } else {
                    format!("{prefix}{v}")
                }
            })
            .collect();
        if !values.is_empty() {
            entity.insert(key.to_owned(), json!(values));
        }
    }
    let locales = fields.list("linkedin_target_interface_locales", &[","]);
    if !locales.is_empty() {
        let parsed = locales
            .iter()
            .map(|l| {
                l.split_once(['_', '-'])
                    .map(|(language, country)| json!({"language": language, "country": country}))
                    .ok_or_else(|| {
                        invalid(
                            "invalid_field",
                            format!("linkedin_target_interface_locales: {l} is not like en_US"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        entity.insert("interfaceLocales".to_owned(), json!(parsed));
    }
    Ok(if entity.is_empty() {
        Vec::new()
    } else {
        vec![Value::Object(entity)]
    })
}

/// A text post's poll (`content.poll`).
#[derive(Debug, Clone, PartialEq)]
struct Poll {
    question: String,
    options: Vec<String>,
    duration: &'static str,
}

impl Poll {
    /// `linkedin_poll_question`, `linkedin_poll_options[]` (2–4) and `linkedin_poll_duration`
    /// (default: a week, as LinkedIn's own composer). `None` without a question or options.
    fn parse(post: &Post) -> Result<Option<Self>, PublishError> {
        let fields = &post.fields;
        let question = fields.text("linkedin_poll_question").map(str::trim);
        let options = fields.list("linkedin_poll_options", &[","]);
        let Some(question) = question.filter(|q| !q.is_empty()) else {
            if options.is_empty() {
                return Ok(None);
            }
            return Err(invalid(
                "invalid_poll",
                "linkedin_poll_options needs linkedin_poll_question",
            ));
        };
        if post.kind != PostKind::Text {
            return Err(invalid(
                "invalid_poll",
                "A LinkedIn poll is a text post: it cannot have media",
            ));
        }
        if question.chars().count() > MAX_POLL_QUESTION {
            return Err(invalid(
                "invalid_poll",
                format!("linkedin_poll_question is at most {MAX_POLL_QUESTION} characters"),
            ));
        }
        if !(2..=4).contains(&options.len())
            || options
                .iter()
                .any(|o| o.is_empty() || o.chars().count() > MAX_POLL_OPTION)
        {
            return Err(invalid(
                "invalid_poll",
                format!(
                    "linkedin_poll_options takes 2 to 4 options of 1 to {MAX_POLL_OPTION} characters"
                ),
            ));
        }
        let duration = match fields.text("linkedin_poll_duration").map(str::trim) {
            None | Some("") => "SEVEN_DAYS",
            Some(raw) => POLL_DURATIONS
                .iter()
                .find(|(name, days)| raw.eq_ignore_ascii_case(name) || raw == *days)
                .map(|(name, _)| *name)
                .ok_or_else(|| {
                    invalid(
                        "invalid_poll",
                        "linkedin_poll_duration must be ONE_DAY, THREE_DAYS, SEVEN_DAYS or \
                         FOURTEEN_DAYS (or 1, 3, 7, 14)",
                    )
                })?,
        };
        Ok(Some(Self {
            question: question.to_owned(),
            options,
            duration,
        }))
    }

    fn content(&self) -> Value {
        json!({"poll": {
            "question": self.question,
            "options": self.options.iter().map(|o| json!({"text": o})).collect::<Vec<_>>(),
            "settings": {"duration": self.duration},
        }})
    }
}

/// A post as LinkedIn will get it, read from the request once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    /// Already escaped for LinkedIn's "little text" format.
    commentary: String,
    visibility: String,
    reshare_disabled: bool,
    article: Option<Article>,
    poll: Option<Poll>,
    /// `distribution.targetEntities`: only an organization's posts may be targeted.
    targets: Vec<Value>,
    document_title: Option<String>,
    alt_texts: Vec<String>,
    first_comment: Option<String>,
    /// `target_linkedin_page_id`, as an organization URN.
    page: Option<String>,
    warnings: Vec<String>,
}

fn invalid(code: &str, message: impl Into<String>) -> PublishError {
    PublishError::invalid(code, message)
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let fields = &post.fields;
    let mut warnings = Vec::new();
    let title = post.text(PLATFORM);
    // A document's title names the file; the description is what the post says.
    let text = match post.kind {
        PostKind::Document => post.description(PLATFORM).unwrap_or(title),
        _ => title,
    };
    if text.chars().count() > MAX_TEXT {
        return Err(invalid(
            "text_too_long",
            format!("LinkedIn posts are at most {MAX_TEXT} characters"),
        ));
    }
    let visibility = fields
        .first_text(&["linkedin_visibility", "linkedinVisibility", "visibility"])
        .unwrap_or("PUBLIC")
        .trim()
        .to_ascii_uppercase();
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return Err(invalid(
            "invalid_visibility",
            format!(
                "visibility must be one of {}, not {visibility}",
                VISIBILITIES.join(", ")
            ),
        ));
    }
    let reshare_disabled = fields
        .flag("linkedin_disable_reshare")
        .map_err(|e| invalid("invalid_field", e.to_string()))?
        .unwrap_or(false);
    let page = fields
        .text("target_linkedin_page_id")
        .map(|id| {
            let id = id.trim().trim_start_matches(ORGANIZATION_URN);
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(
                    "invalid_field",
                    "target_linkedin_page_id must be a LinkedIn organization id",
                ));
            }
            Ok(format!("{ORGANIZATION_URN}{id}"))
        })
        .transpose()?;
    let poll = Poll::parse(post)?;
    let link = post.link_url(PLATFORM);
    if poll.is_some() && link.is_some() {
        return Err(invalid(
            "invalid_poll",
            "A LinkedIn post has a poll or a link preview, not both",
        ));
    }
    let article = match (post.kind, link) {
        (PostKind::Text, Some(source)) => {
            let source = Url::parse(source)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    invalid("invalid_link", "linkedin_link_url must be an http(s) URL")
                })?;
            Some(Article {
                title: fields
                    .text("linkedin_link_title")
                    .map_or_else(|| source.to_string(), str::to_owned),
                source: source.into(),
                description: fields.text("linkedin_link_description").map(str::to_owned),
            })
        }
        (_, Some(_)) => {
            warnings.push(
                "A link preview is only made for text posts; the link was ignored".to_owned(),
            );
            None
        }
        (_, None) => None,
    };
    // The title of a document or a video (LinkedIn's `media.title`).
    let document_title = matches!(post.kind, PostKind::Document | PostKind::Video).then(|| {
        let (kept, cut) = cut_utf16(title, MAX_MEDIA_TITLE);
        if cut {
            warnings.push(format!(
                "The document title was cut to {MAX_MEDIA_TITLE} characters"
            ));
        }
        kept
    });
    check_media(post)?;
    // LinkedIn's video thumbnail upload (`uploadThumbnail`) is not used yet.
    if post.kind == PostKind::Video
        && (post.attachment("thumbnail").is_some() || fields.text("thumbnail_url").is_some())
    {
        warnings.push("thumbnail is not supported by Postgate yet and was ignored".to_owned());
    }
    Ok(Plan {
        commentary: little_text(text),
        visibility,
        reshare_disabled,
        article,
        poll,
        targets: target_entities(post)?,
        document_title,
        alt_texts: post.alt_texts(PLATFORM),
        first_comment: post.first_comment(PLATFORM).map(str::to_owned),
        page,
        warnings,
    })
}

fn check_media(post: &Post) -> Result<(), PublishError> {
    match post.kind {
        PostKind::Video => match post.media.as_slice() {
            [one] => video::LIMITS.check(one),
            _ => Err(invalid(
                "invalid_field",
                "A LinkedIn video post takes one video",
            )),
        },
        PostKind::Text => Ok(()),
        PostKind::Photos => {
            if post.media.is_empty() || post.media.len() > MAX_IMAGES {
                return Err(invalid(
                    "too_many_images",
                    format!("LinkedIn takes 1 to {MAX_IMAGES} images"),
                ));
            }
            match post.media.iter().find(|m| {
                m.kind != MediaKind::Image || !IMAGE_TYPES.contains(&m.content_type.as_str())
            }) {
                Some(m) => Err(invalid(
                    "unsupported_media",
                    format!(
                        "LinkedIn takes JPEG, PNG and GIF images, not {}",
                        m.content_type
                    ),
                )),
                None => Ok(()),
            }
        }
        PostKind::Document => {
            let [doc] = post.media.as_slice() else {
                return Err(invalid(
                    "document_required",
                    "A LinkedIn document post takes one document",
                ));
            };
            if !is_document(doc) {
                return Err(invalid(
                    "unsupported_media",
                    "LinkedIn documents are PDF, PPT, PPTX, DOC or DOCX",
                ));
            }
            if doc.size > MAX_DOCUMENT_BYTES {
                return Err(invalid(
                    "document_too_large",
                    "LinkedIn documents are at most 100 MB",
                ));
            }
            Ok(())
        }
    }
}

fn is_document(media: &Media) -> bool {
    let extension = media
        .filename
        .as_deref()
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    media.kind == MediaKind::Document
        && (DOCUMENT_TYPES.contains(&media.content_type.as_str())
            || extension.is_some_and(|e| DOCUMENT_EXTENSIONS.contains(&e.as_str())))
}

/// `text` cut to at most `max` UTF-16 code units, and whether it was cut.
fn cut_utf16(text: &str, max: usize) -> (String, bool) {
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > max {
            return (text[..at].to_owned(), true);
        }
    }
    (text.to_owned(), false)
}

/// Escapes the characters LinkedIn's "little text" format reserves, which would otherwise cut
/// the commentary short or turn into markup. `#` and `@` stay, so hashtags keep working.
fn little_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '|' | '{' | '}' | '[' | ']' | '(' | ')' | '<' | '>' | '*' | '_' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Who posts: `target_linkedin_page_id`, else the pinned organization, else the member.
fn author(call: &Call<'_>, plan: &Plan) -> String {
    plan.page
        .clone()
        .or_else(|| call.connection.selected_target_id.clone())
        .unwrap_or_else(|| format!("{PERSON_URN}{}", call.connection.platform_user_id))
}

/// The `/rest/posts` body.
fn post_body(author: &str, plan: &Plan, content: Option<Value>) -> Value {
    let mut body = json!({
        "author": author,
        "commentary": plan.commentary,
        "visibility": plan.visibility,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": plan.targets,
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": plan.reshare_disabled,
    });
    if let Some(content) = content {
        body["content"] = content;
    }
    body
}

/// The post's `content`: uploaded images, a document, a poll, or a link's article.
fn content(plan: &Plan, images: &[String], document: Option<&str>) -> Option<Value> {
    if let Some(poll) = &plan.poll {
        return Some(poll.content());
    }
    let image = |(i, urn): (usize, &String)| {
        let mut one = json!({"id": urn});
        if let Some(alt) = plan.alt_texts.get(i) {
            one["altText"] = alt.as_str().into();
        }
        one
    };
    if let Some(urn) = document {
        return Some(json!({"media": {"id": urn, "title": plan.document_title}}));
    }
    match images {
        [] => plan.article.as_ref().map(|a| {
            let mut article = json!({"source": a.source, "title": a.title});
            if let Some(d) = &a.description {
                article["description"] = d.as_str().into();
            }
            json!({"article": article})
        }),
        [one] => Some(json!({"media": image((0, one))})),
        many => Some(
            json!({"multiImage": {"images": many.iter().enumerate().map(image).collect::<Vec<_>>()}}),
        ),
    }
}

fn rest(call: &Call<'_>, method: Method, url: &Url) -> RequestBuilder {
    call.app
        .http
        .request(method, url)
        .bearer_auth(&call.tokens.access_token)
        .header("LinkedIn-Version", API_VERSION)
        .header("X-Restli-Protocol-Version", "2.0.0")
}

/// `endpoint`'s base with `urn` appended, URL-encoded as Rest.li wants keys in paths.
fn with_urn(call: &Call<'_>, name: &str, urn: &str, rest: &str) -> Result<Url, PublishError> {
    let base = endpoint(call.app, name)?;
    let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
    Url::parse(&format!("{base}{encoded}{rest}"))
        .map_err(|e| PublishError::refused("invalid_id", format!("{urn:?}: {e}"), false))
}

/// The page a post is seen at.
fn post_url(call: &Call<'_>, urn: &str) -> Option<String> {
    endpoint(call.app, "post_page")
        .ok()
        .map(|base| format!("{base}{urn}/"))
}

/// Uploads one item to `images` or `documents`: its URN.
async fn upload(
    call: &Call<'_>,
    api: &str,
    owner: &str,
    media: &Media,
) -> Result<String, PublishError> {
    let mut url = endpoint(call.app, api)?;
    url.query_pairs_mut()
        .append_pair("action", "initializeUpload");
    let init = json!({"initializeUploadRequest": {"owner": owner}});
    let answer = http::send(rest(call, Method::POST, &url).json(&init), Effect::Harmless).await?;
    let value = &answer.body["value"];
    let key = if api == "documents" {
        "document"
    } else {
        "image"
    };
    let (Some(upload_url), Some(urn)) = (value["uploadUrl"].as_str(), value[key].as_str()) else {
        return Err(PublishError::refused(
            "malformed_answer",
            format!("LinkedIn's initializeUpload answer lacks uploadUrl or {key}"),
            true,
        ));
    };
    let upload_url = Url::parse(upload_url)
        .map_err(|e| PublishError::refused("malformed_answer", format!("uploadUrl: {e}"), true))?;
    let bytes = call.media.bytes(media).await?;
    let put = call
        .app
        .http
        .request(Method::PUT, &upload_url)
        .bearer_auth(&call.tokens.access_token)
        .header(reqwest::header::CONTENT_TYPE, media.content_type.as_str())
        .body(bytes);
    http::send(put, Effect::Harmless).await?;
    Ok(urn.to_owned())
}

async fn comment(call: &Call<'_>, author: &str, urn: &str, text: &str) -> Result<(), PublishError> {
    let url = with_urn(call, "social_actions", urn, "/comments")?;
    let body = json!({"actor": author, "object": urn, "message": {"text": little_text(text)}});
    http::send(rest(call, Method::POST, &url).json(&body), Effect::Creates).await?;
    Ok(())
}

#[async_trait]
impl Publisher for Linkedin {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|p| p.warnings)
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        let author = author(call, &plan);
        if !plan.targets.is_empty() && !author.starts_with(ORGANIZATION_URN) {
            return Err(invalid(
                "invalid_field",
                "LinkedIn targets the audience of an organization's posts only: pin a page or \
                 set target_linkedin_page_id",
            ));
        }
        let mut images = Vec::new();
        let mut document = None;
        let mut video_urn = None;
        if let (PostKind::Video, Some(media)) = (post.kind, post.media.first()) {
            let resumed = video::Upload::resumed(call.resume);
            match video::advance(call, &author, media, resumed).await? {
                video::Step::Wait { upload, after } => {
                    return Ok(Progress::Pending {
                        state: upload.state(),
                        after,
                    });
                }
                video::Step::Ready(urn) => video_urn = Some(urn),
            }
        }
        for media in post.media.iter().filter(|_| post.kind != PostKind::Video) {
            match post.kind {
                PostKind::Document => {
                    document = Some(upload(call, "documents", &author, media).await?)
                }
                _ => images.push(upload(call, "images", &author, media).await?),
            }
        }
        // A video is media with a title, as a document is.
        let media_urn = document.as_deref().or(video_urn.as_deref());
        let body = post_body(&author, &plan, content(&plan, &images, media_urn));
        let url = endpoint(call.app, "posts")?;
        let answer =
            http::send(rest(call, Method::POST, &url).json(&body), Effect::Creates).await?;
        let urn = answer
            .header("x-restli-id")
            .map(str::to_owned)
            .ok_or_else(|| {
                PublishError::InDoubt("LinkedIn named no post (no x-restli-id)".to_owned())
            })?;
        let mut published = Published {
            url: post_url(call, &urn),
            post_id: urn,
            warnings: plan.warnings.clone(),
            ..Published::default()
        };
        if !images.is_empty() {
            published
                .extra
                .insert("image_urns".to_owned(), json!(images));
        }
        if let Some(d) = document {
            published.extra.insert("document_urn".to_owned(), d.into());
        }
        if let Some(v) = video_urn {
            published.extra.insert("video_urn".to_owned(), v.into());
        }
        if let Some(text) = &plan.first_comment {
            let outcome = comment(call, &author, &published.post_id, text).await;
            note_first_comment(&mut published, outcome);
        }
        Ok(Progress::Done(published))
    }

    /// The author's newest posts, for one made since `call.since` with the same commentary.
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let plan = plan(post)?;
        let author = author(call, &plan);
        let mut url = endpoint(call.app, "posts")?;
        url.query_pairs_mut()
            .append_pair("author", &author)
            .append_pair("q", "author")
            .append_pair("count", FIND_WINDOW)
            .append_pair("sortBy", "LAST_MODIFIED");
        let answer = http::send(rest(call, Method::GET, &url), Effect::Harmless).await?;
        let since = call.looked_up_since().and_utc().timestamp_millis();
        Ok(answer.body["elements"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| {
                p["commentary"].as_str() == Some(plan.commentary.as_str())
                    && p["createdAt"].as_i64().is_some_and(|t| t >= since)
            })
            .and_then(|p| p["id"].as_str())
            .map(|urn| Published {
                post_id: urn.to_owned(),
                url: post_url(call, urn),
                ..Published::default()
            }))
    }

    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let url = with_urn(call, "post", post_id, "")?;
        http::send(rest(call, Method::DELETE, &url), Effect::Harmless).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::samples::post;

    fn media(kind: MediaKind, content_type: &str, filename: &str) -> Media {
        Media {
            id: format!("m-{filename}"),
            kind,
            content_type: content_type.to_owned(),
            size: 1000,
            filename: Some(filename.to_owned()),
            video: None,
        }
    }

    #[test]
    fn a_text_post_with_a_link_is_an_article() {
        let p = post(
            PostKind::Text,
            &[
                ("title", "Read this (really) #rust"),
                ("linkedin_link_url", "https://example.com/a"),
                ("linkedin_link_title", "A"),
                ("visibility", "connections"),
                ("linkedin_disable_reshare", "true"),
            ],
            vec![],
        );
        let plan = plan(&p).unwrap();
        let body = post_body("urn:li:person:abc", &plan, content(&plan, &[], None));
        assert_eq!(
            body,
            json!({
                "author": "urn:li:person:abc",
                "commentary": "Read this \\(really\\) #rust",
                "visibility": "CONNECTIONS",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                    "thirdPartyDistributionChannels": []},
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": true,
                "content": {"article": {"source": "https://example.com/a", "title": "A"}},
            })
        );
    }

    #[test]
    fn a_poll_is_the_posts_content() {
        let p = post(
            PostKind::Text,
            &[
                ("title", "Which?"),
                ("linkedin_poll_question", "Tabs or spaces?"),
                ("linkedin_poll_options[]", "Tabs"),
                ("linkedin_poll_options[]", "Spaces"),
                ("linkedin_poll_duration", "3"),
            ],
            vec![],
        );
        let made = plan(&p).unwrap();
        assert_eq!(
            content(&made, &[], None),
            Some(json!({"poll": {
                "question": "Tabs or spaces?",
                "options": [{"text": "Tabs"}, {"text": "Spaces"}],
                "settings": {"duration": "THREE_DAYS"},
            }}))
        );
        let week = post(
            PostKind::Text,
            &[
                ("linkedin_poll_question", "Q"),
                ("linkedin_poll_options", r#"["a","b","c"]"#),
            ],
            vec![],
        );
        assert_eq!(plan(&week).unwrap().poll.unwrap().duration, "SEVEN_DAYS");
    }

    #[test]
    fn polls_are_checked_before_any_call() {
        let long = "x".repeat(31);
        for pairs in [
            vec![
                ("linkedin_poll_question", "Q"),
                ("linkedin_poll_options", "only"),
            ],
            vec![
                ("linkedin_poll_question", "Q"),
                ("linkedin_poll_options", "a,b,c,d,e"),
            ],
            vec![
                ("linkedin_poll_question", "Q"),
                ("linkedin_poll_options[]", "a"),
                ("linkedin_poll_options[]", long.as_str()),
            ],
            vec![("linkedin_poll_options", "a,b")],
            vec![
                ("linkedin_poll_question", "Q"),
                ("linkedin_poll_options", "a,b"),
                ("linkedin_poll_duration", "TWO_DAYS"),
            ],
            vec![
                ("linkedin_poll_question", "Q"),
                ("linkedin_poll_options", "a,b"),
                ("linkedin_link_url", "https://example.com"),
            ],
        ] {
            assert_eq!(
                plan_error(&post(PostKind::Text, &pairs, vec![])),
                "invalid_poll",
                "{pairs:?}"
            );
        }
        let with_image = post(
            PostKind::Photos,
            &[
                ("linkedin_poll_question", "Q"),
                ("linkedin_poll_options", "a,b"),
            ],
            vec![media(MediaKind::Image, "image/png", "a.png")],
        );
        assert_eq!(plan_error(&with_image), "invalid_poll");
    }

    #[test]
    fn images_become_media_or_multi_image_with_alt_texts() {
        let jpeg = || media(MediaKind::Image, "image/jpeg", "a.jpg");
        let p = post(
            PostKind::Photos,
            &[("title", "two"), ("linkedin_alt_text", "first||second")],
            vec![jpeg(), jpeg()],
        );
        let plan = plan(&p).unwrap();
        let urns = ["urn:li:image:1".to_owned(), "urn:li:image:2".to_owned()];
        assert_eq!(
            content(&plan, &urns, None),
            Some(json!({"multiImage": {"images": [
                {"id": "urn:li:image:1", "altText": "first"},
                {"id": "urn:li:image:2", "altText": "second"},
            ]}}))
        );
        assert_eq!(
            content(&plan, &urns[..1], None),
            Some(json!({"media": {"id": "urn:li:image:1", "altText": "first"}}))
        );
        let many = post(PostKind::Photos, &[], (0..21).map(|_| jpeg()).collect());
        assert_eq!(plan_error(&many), "too_many_images");
        let webp = post(
            PostKind::Photos,
            &[],
            vec![media(MediaKind::Image, "image/webp", "a.webp")],
        );
        assert_eq!(plan_error(&webp), "unsupported_media");
    }

    fn plan_error(p: &Post) -> String {
        plan(p).unwrap_err().code().to_owned()
    }

    #[test]
    fn documents_have_a_title_cut_at_400_and_the_description_as_text() {
        let long = "t".repeat(401);
        let docx = media(MediaKind::Document, "application/zip", "deck.DOCX");
        let p = post(
            PostKind::Document,
            &[("title", &long), ("description", "Our deck")],
            vec![docx],
        );
        let plan = plan(&p).unwrap();
        assert_eq!(plan.commentary, "Our deck");
        assert_eq!(plan.document_title.as_deref().map(str::len), Some(400));
        assert_eq!(plan.warnings.len(), 1);
        assert_eq!(
            content(&plan, &[], Some("urn:li:document:1")),
            Some(json!({"media": {"id": "urn:li:document:1", "title": "t".repeat(400)}}))
        );
        let zip = post(
            PostKind::Document,
            &[],
            vec![media(MediaKind::Document, "application/zip", "a.zip")],
        );
        assert_eq!(plan_error(&zip), "unsupported_media");
        let mut big = media(MediaKind::Document, "application/pdf", "a.pdf");
        big.size = MAX_DOCUMENT_BYTES + 1;
        assert_eq!(
            plan_error(&post(PostKind::Document, &[], vec![big])),
            "document_too_large"
        );
    }

    #[test]
    fn limits_and_refusals_before_any_call() {
        let long = post(PostKind::Text, &[("title", &"x".repeat(3001))], vec![]);
        assert_eq!(plan_error(&long), "text_too_long");
        let fits = post(PostKind::Text, &[("title", &"é".repeat(3000))], vec![]);
        assert!(plan(&fits).is_ok());
        let video = post(PostKind::Video, &[], vec![]);
        assert_eq!(plan_error(&video), "invalid_field", "one video");
        let vis = post(
            PostKind::Text,
            &[("linkedin_visibility", "friends")],
            vec![],
        );
        assert_eq!(plan_error(&vis), "invalid_visibility");
        let page = post(
            PostKind::Text,
            &[("target_linkedin_page_id", "urn:li:organization:42")],
            vec![],
        );
        assert_eq!(
            plan(&page).unwrap().page.as_deref(),
            Some("urn:li:organization:42")
        );
        let bad_page = post(
            PostKind::Text,
            &[("target_linkedin_page_id", "acme")],
            vec![],
        );
        assert_eq!(plan_error(&bad_page), "invalid_field");
    }

    #[test]
    fn utf16_cut_never_splits_a_character() {
        assert_eq!(cut_utf16("a😀b", 2), ("a".to_owned(), true));
        assert_eq!(cut_utf16("a😀b", 3), ("a😀".to_owned(), true));
        assert_eq!(cut_utf16("ab", 2), ("ab".to_owned(), false));
    }
}
