//! Reddit (`oauth.reddit.com`): a post to a subreddit by `POST /api/submit` — `self` (the
//! title and `description` as its text), `link`, `image` or `video` — or a gallery by
//! `POST /api/submit_gallery_post.json`. Media goes up as assets: a lease from
//! `POST /api/media/asset.json`, then the file posted to the S3 form it names. Reddit
//! answers an image or video submission without the post's id (it announces it on a
//! websocket, and processes a video first), so the publisher looks for the post among the
//! account's submissions (`GET /user/{name}/submitted`), `Pending` until it is listed; the
//! state only says the submission was made, so a resumed call never submits again.

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

pub struct Reddit;

const PLATFORM: Platform = Platform::Reddit;
const MAX_TITLE: usize = 300;
const MAX_TEXT: usize = 40_000;
const MAX_GALLERY: usize = 20;
const MAX_CAPTION: usize = 180;
const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/gif"];
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// Reddit's video posts: MP4 or MOV, up to 15 minutes and 1 GB.
const VIDEO: VideoLimits = VideoLimits {
    platform: "Reddit",
    types: &["video/mp4", "video/quicktime"],
    max_bytes: 1024 * 1024 * 1024,
    min_duration_ms: 0,
    max_duration_ms: 15 * 60 * 1000,
    max_side: None,
};
const PROCESSING_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    SelfText(String),
    Link(String),
    Image,
    Video,
    /// Each image's caption and outbound link.
    Gallery {
        captions: Vec<String>,
        urls: Vec<String>,
    },
}

/// A post as Reddit will get it, read from the request once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    subreddit: String,
    title: String,
    kind: Kind,
    /// `flair_id`, `flair_text`, `nsfw`, `spoiler`, `resubmit`, `sendreplies`.
    options: Vec<(&'static str, String)>,
}

fn invalid(message: impl Into<String>) -> PublishError {
    PublishError::invalid("invalid_field", message)
}

fn is_web_url(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// `reddit_{name}`, else `{name}`, as a flag.
fn flag(post: &Post, name: &str) -> Result<Option<bool>, PublishError> {
    let own = format!("reddit_{name}");
    let value = match post.fields.flag(&own) {
        Ok(None) => post.fields.flag(name),
        other => other,
    };
    value.map_err(|e| invalid(e.to_string()))
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let fields = &post.fields;
    let subreddit = fields
        .first_text(&["reddit_subreddit", "subreddit"])
        .map(|s| s.trim().trim_start_matches("/r/").trim_start_matches("r/"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            PublishError::invalid(
                "reddit_subreddit_required",
                "A Reddit post needs subreddit: where to post",
            )
        })?;
    let title = post.text(PLATFORM).trim();
    if title.is_empty() {
        return Err(PublishError::invalid(
            "title_required",
            "A Reddit post needs a title",
        ));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(PublishError::invalid(
            "text_too_long",
            format!("Reddit titles are at most {MAX_TITLE} characters"),
        ));
    }
    let mut options = Vec::new();
    if let Some(id) = fields.first_text(&["reddit_flair_id", "flair_id"]) {
        options.push(("flair_id", id.trim().to_owned()));
    }
    if let Some(text) = fields.text("reddit_flair_text") {
        options.push(("flair_text", text.to_owned()));
    }
    for (name, param, default) in [
        ("nsfw", "nsfw", false),
        ("spoiler", "spoiler", false),
        ("resubmit", "resubmit", true),
        ("send_replies", "sendreplies", true),
    ] {
        let on = flag(post, name)?.unwrap_or(default);
        options.push((param, on.to_string()));
    }
    Ok(Plan {
        subreddit: subreddit.to_owned(),
        title: title.to_owned(),
        kind: kind(post)?,
        options,
    })
}

fn kind(post: &Post) -> Result<Kind, PublishError> {
    match post.kind {
        PostKind::Text => match post.link_url(PLATFORM).map(str::trim) {
            Some(link) if is_web_url(link) => Ok(Kind::Link(link.to_owned())),
            Some(_) => Err(invalid("reddit_link_url must be an http(s) URL")),
            None => {
                let text = post.description(PLATFORM).unwrap_or_default();
                if text.chars().count() > MAX_TEXT {
                    return Err(PublishError::invalid(
                        "text_too_long",
                        format!("A Reddit text post is at most {MAX_TEXT} characters"),
                    ));
                }
                Ok(Kind::SelfText(text.to_owned()))
            }
        },
        PostKind::Document => Err(PublishError::invalid(
            "unsupported_media",
            "Reddit does not take documents",
        )),
        PostKind::Video => {
            let [video] = post.media.as_slice() else {
                return Err(PublishError::invalid(
                    "unsupported_media",
                    "A Reddit video post takes one video",
                ));
            };
            VIDEO.check(video)?;
            if poster(post).is_none() {
                return Err(PublishError::invalid(
                    "thumbnail_required",
                    "Reddit shows a poster image before a video plays: send one as thumbnail",
                ));
            }
            Ok(Kind::Video)
        }
        PostKind::Photos => {
            check_images(&post.media)?;
            if post.media.len() == 1 {
                return Ok(Kind::Image);
            }
            let captions = post.fields.list("reddit_gallery_captions", &["||", "|"]);
            let urls = post.fields.list("reddit_gallery_urls", &["||", "|", ","]);
            if captions.len() > post.media.len() || urls.len() > post.media.len() {
                return Err(invalid(
                    "reddit_gallery_captions and reddit_gallery_urls have one entry per image at most",
                ));
            }
            if captions.iter().any(|c| c.chars().count() > MAX_CAPTION) {
                return Err(invalid(format!(
                    "reddit_gallery_captions are at most {MAX_CAPTION} characters"
                )));
            }
            if let Some(bad) = urls.iter().find(|u| !is_web_url(u)) {
                return Err(invalid(format!(
                    "reddit_gallery_urls: {bad:?} is not an http(s) URL"
                )));
            }
            Ok(Kind::Gallery { captions, urls })
        }
    }
}

/// The video's poster: the file sent as `thumbnail` or `cover_image`.
fn poster(post: &Post) -> Option<&Media> {
    post.attachment("thumbnail")
        .or_else(|| post.attachment("cover_image"))
}

fn check_images(media: &[Media]) -> Result<(), PublishError> {
    if media.is_empty() || media.len() > MAX_GALLERY {
        return Err(PublishError::invalid(
            "too_many_images",
            format!("A Reddit post takes 1 image, or a gallery of 2 to {MAX_GALLERY}"),
        ));
    }
    super::check_images(
        media,
        "Reddit",
        (&IMAGE_TYPES, "JPEG, PNG and GIF"),
        MAX_IMAGE_BYTES,
    )
}

fn api(call: &Call<'_>, method: Method, url: &url::Url) -> reqwest::RequestBuilder {
    call.app
        .http
        .request(method, url)
        .bearer_auth(&call.tokens.access_token)
}

/// The `data` of an `api_type=json` answer, or the refusal its `errors` hold (Reddit answers
/// them with a 200): `RATELIMIT` may pass later, anything else is final.
fn data(body: &Value) -> Result<&Value, PublishError> {
    let json = &body["json"];
    match json["errors"].as_array().and_then(|e| e.first()) {
        Some(error) => {
            let code = error[0].as_str().unwrap_or("REDDIT_ERROR");
            let message = error[1].as_str().unwrap_or(code).to_owned();
            Err(if code == "RATELIMIT" {
                PublishError::refused("rate_limited", message, true)
            } else {
                PublishError::refused(&code.to_ascii_lowercase(), message, false)
            })
        }
        None => Ok(&json["data"]),
    }
}

/// Leases an asset and uploads `media` to it: the asset's id and URL.
async fn upload_asset(call: &Call<'_>, media: &Media) -> Result<(String, String), PublishError> {
    let url = endpoint(call.app, "media_asset")?;
    let filename = media
        .filename
        .clone()
        .unwrap_or_else(|| "upload".to_owned());
    let form = [
        ("filepath", filename.as_str()),
        ("mimetype", media.content_type.as_str()),
    ];
    let leased = http::send(api(call, Method::POST, &url).form(&form), Effect::Harmless)
        .await?
        .body;
    let malformed = || PublishError::refused("malformed_answer", "Reddit leased no upload", true);
    let asset = string_at(&leased["asset"], "asset_id").ok_or_else(malformed)?;
    // The action has no scheme (`//reddit-uploaded-media.s3-accelerate.amazonaws.com`).
    let action = leased["args"]["action"]
        .as_str()
        .and_then(|a| url.join(a).ok())
        .ok_or_else(malformed)?;
    let fields = form_upload::fields(&leased["args"]["fields"]);
    let key = fields
        .iter()
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.clone())
        .ok_or_else(malformed)?;
    form_upload::upload(call, &action, &fields, media).await?;
    Ok((
        asset,
        format!("{}/{key}", action.as_str().trim_end_matches('/')),
    ))
}

/// Submits the post. `Some`: Reddit named it; `None`: it will be listed once made.
async fn submit(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
) -> Result<Option<Published>, PublishError> {
    if let Kind::Gallery { captions, urls } = &plan.kind {
        return gallery(call, post, plan, captions, urls).await.map(Some);
    }
    let mut form: Vec<(&str, String)> = vec![
        ("api_type", "json".to_owned()),
        ("sr", plan.subreddit.clone()),
        ("title", plan.title.clone()),
    ];
    form.extend(plan.options.iter().cloned());
    match &plan.kind {
        Kind::SelfText(text) => {
            form.push(("kind", "self".to_owned()));
            form.push(("text", text.clone()));
        }
        Kind::Link(url) => {
            form.push(("kind", "link".to_owned()));
            form.push(("url", url.clone()));
        }
        Kind::Image => {
            let (_, url) = upload_asset(call, &post.media[0]).await?;
            form.push(("kind", "image".to_owned()));
            form.push(("url", url));
        }
        Kind::Video => {
            let (_, url) = upload_asset(call, &post.media[0]).await?;
            let cover = poster(post).ok_or_else(|| invalid("a Reddit video needs a thumbnail"))?;
            let (_, poster_url) = upload_asset(call, cover).await?;
            form.push(("kind", "video".to_owned()));
            form.push(("url", url));
            form.push(("video_poster_url", poster_url));
        }
        Kind::Gallery { .. } => {}
    }
    let url = endpoint(call.app, "submit")?;
    let answer = http::send(api(call, Method::POST, &url).form(&form), Effect::Creates).await?;
    let made = data(&answer.body)?;
    Ok(string_at(made, "id").map(|id| published(call, &id, string_at(made, "url"))))
}

async fn gallery(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    captions: &[String],
    urls: &[String],
) -> Result<Published, PublishError> {
    let mut items = Vec::new();
    for (i, media) in post.media.iter().enumerate() {
        let (asset, _) = upload_asset(call, media).await?;
        items.push(json!({
            "media_id": asset,
            "caption": captions.get(i).map_or("", String::as_str),
            "outbound_url": urls.get(i).map_or("", String::as_str),
        }));
    }
    let mut body = Map::new();
    for (k, v) in [
        ("api_type", json!("json")),
        ("show_error_list", json!(true)),
        ("sr", json!(plan.subreddit)),
        ("title", json!(plan.title)),
        ("items", json!(items)),
    ] {
        body.insert(k.to_owned(), v);
    }
    for (k, v) in &plan.options {
        let value = match v.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            text => json!(text),
        };
        body.insert((*k).to_owned(), value);
    }
    let url = endpoint(call.app, "submit_gallery")?;
    let answer = http::send(api(call, Method::POST, &url).json(&body), Effect::Creates).await?;
    let made = data(&answer.body)?;
    let name = string_at(made, "id")
        .ok_or_else(|| PublishError::InDoubt(format!("Reddit named no post: {made}")))?;
    Ok(published(call, &name, string_at(made, "url")))
}

/// A post by its id36 or fullname (`t3_…`).
fn published(call: &Call<'_>, id: &str, url: Option<String>) -> Published {
    let id36 = id.trim_start_matches("t3_");
    Published {
        post_id: format!("t3_{id36}"),
        url: sandbox_page(call.app, "submit", id36)
            .or(url)
            .or_else(|| Some(format!("https://www.reddit.com/comments/{id36}/"))),
        ..Published::default()
    }
}

/// The account's post in the plan's subreddit with its title, made since `call.since`.
async fn look(call: &Call<'_>, plan: &Plan) -> Result<Option<Published>, PublishError> {
    let Some(user) = call.connection.handle.as_deref() else {
        return Err(PublishError::unsupported(
            "reddit_username_unknown",
            "The Reddit account's name is not known: connect it again",
        ));
    };
    let mut url = endpoint(call.app, "user")?
        .join(&format!("{user}/submitted"))
        .map_err(|e| PublishError::refused("invalid_id", e.to_string(), false))?;
    url.query_pairs_mut()
        .append_pair("sort", "new")
        .append_pair("limit", "25")
        .append_pair("raw_json", "1");
    let listed = http::send(api(call, Method::GET, &url), Effect::Harmless).await?;
    let since = call.looked_up_since().and_utc().timestamp() as f64;
    Ok(listed.body["data"]["children"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| &c["data"])
        .find(|p| {
            p["title"].as_str() == Some(plan.title.as_str())
                && p["subreddit"]
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&plan.subreddit))
                && p["created_utc"].as_f64().is_some_and(|t| t >= since)
        })
        .and_then(|p| {
            let id = string_at(p, "id")?;
            let url = string_at(p, "permalink").map(|l| format!("https://www.reddit.com{l}"));
            Some(published(call, &id, url))
        }))
}

#[async_trait]
impl Publisher for Reddit {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|_| Vec::new())
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        let submitted = call.resume.is_some_and(|s| s["submitted"] == true);
        if !submitted && let Some(made) = submit(call, post, &plan).await? {
            return Ok(Progress::Done(made));
        }
        Ok(match look(call, &plan).await? {
            Some(made) => Progress::Done(made),
            None => Progress::Pending {
                state: json!({"submitted": true}),
                after: PROCESSING_WAIT,
            },
        })
    }

    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        look(call, &plan(post)?).await
    }

    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let url = endpoint(call.app, "del")?;
        let id = format!("t3_{}", post_id.trim_start_matches("t3_"));
        let form = [("id", id.as_str())];
        http::send(api(call, Method::POST, &url).form(&form), Effect::Harmless).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::upload::MediaKind;
    use crate::publish::publisher::samples;

    fn text(pairs: &[(&str, &str)]) -> Post {
        samples::post(PostKind::Text, pairs, vec![])
    }

    #[test]
    fn fields_reach_the_submission() {
        let p = text(&[
            ("subreddit", "r/rust"),
            ("title", "Hello"),
            ("description", "body"),
            ("flair_id", "f1"),
            ("reddit_flair_text", "News"),
            ("nsfw", "true"),
            ("reddit_spoiler", "yes"),
            ("reddit_resubmit", "false"),
            ("reddit_send_replies", "0"),
        ]);
        let plan = plan(&p).unwrap();
        assert_eq!(plan.subreddit, "rust");
        assert_eq!(plan.kind, Kind::SelfText("body".into()));
        assert_eq!(
            plan.options,
            [
                ("flair_id", "f1".to_owned()),
                ("flair_text", "News".to_owned()),
                ("nsfw", "true".to_owned()),
                ("spoiler", "true".to_owned()),
                ("resubmit", "false".to_owned()),
                ("sendreplies", "false".to_owned()),
            ]
        );
        let link = text(&[
            ("subreddit", "rust"),
            ("title", "t"),
            ("link_url", "https://e.com"),
        ]);
        assert_eq!(plan_kind(&link), Kind::Link("https://e.com".into()));
    }

    fn plan_kind(p: &Post) -> Kind {
        plan(p).unwrap().kind
    }

    #[test]
    fn refusals_before_any_call() {
        let code = |p: &Post| plan(p).unwrap_err().code().to_owned();
        assert_eq!(code(&text(&[("title", "t")])), "reddit_subreddit_required");
        assert_eq!(code(&text(&[("subreddit", "a")])), "title_required");
        assert_eq!(
            code(&text(&[("subreddit", "a"), ("title", &"x".repeat(301))])),
            "text_too_long"
        );
        assert_eq!(
            code(&text(&[
                ("subreddit", "a"),
                ("title", "t"),
                ("nsfw", "maybe")
            ])),
            "invalid_field"
        );
        let gallery = samples::post(
            PostKind::Photos,
            &[
                ("subreddit", "a"),
                ("title", "t"),
                ("reddit_gallery_urls", "notaurl"),
            ],
            samples::images(2, "image/png"),
        );
        assert_eq!(code(&gallery), "invalid_field");
        let mut v = samples::images(1, "video/mp4");
        v[0].kind = MediaKind::Video;
        let video = samples::post(PostKind::Video, &[("subreddit", "a"), ("title", "t")], v);
        assert_eq!(code(&video), "thumbnail_required");
    }

    #[test]
    fn errors_in_a_200_are_refusals() {
        let limited = json!({"json": {"errors": [["RATELIMIT", "take a break", "ratelimit"]]}});
        assert!(data(&limited).unwrap_err().retryable());
        let bad = json!({"json": {"errors": [["SUBREDDIT_NOEXIST", "no such", "sr"]]}});
        assert_eq!(data(&bad).unwrap_err().code(), "subreddit_noexist");
        let ok = json!({"json": {"errors": [], "data": {"id": "abc"}}});
        assert_eq!(data(&ok).unwrap()["id"], "abc");
    }
}
