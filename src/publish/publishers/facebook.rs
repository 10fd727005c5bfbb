//! Facebook Pages through the Graph API, always as a Page with the Page's own token: text
//! and links to `/{page}/feed`, one photo to `/{page}/photos`, several photos uploaded
//! unpublished and then attached to one `feed` post. Facebook pulls each photo from the
//! signed URL Postgate serves it at. A post's place and audience go with it; a link post
//! may carry a call to action or several link cards (`child_attachments`). A video goes to
//! `/{page}/videos` (`video`).

mod video;

use super::graph::{self, id_of};
use super::note_first_comment;
use crate::domain::Platform;
use crate::domain::upload::{MediaKind, PostKind};
use crate::oauth::http::string_at;
use crate::publish::http::Effect;
use crate::publish::publisher::{Call, Post, Progress, PublishError, Published, Publisher};
use async_trait::async_trait;
use serde_json::{Value, json};

pub struct Facebook;

const PLATFORM: Platform = Platform::Facebook;
/// A Page post's message, in characters.
const MAX_TEXT: usize = 63_206;
/// Photos attached to one post.
const MAX_PHOTOS: usize = 10;
const PHOTO_TYPES: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/bmp",
    "image/tiff",
];

/// Link cards of a multi-link post, as the Graph API takes them.
const CHILD_ATTACHMENTS: std::ops::RangeInclusive<usize> = 2..=5;

/// A post as the Graph API will get it, read from the request once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    message: String,
    link: Option<String>,
    /// Graph parameters that go with the post itself: `place`, `targeting`,
    /// `feed_targeting`, and on link posts `call_to_action`, `child_attachments`,
    /// `multi_share_end_card`.
    options: Vec<(&'static str, String)>,
    alt_texts: Vec<String>,
    first_comment: Option<String>,
    /// `facebook_page_id`, for a connection without a pinned Page.
    page: Option<String>,
    /// A video post's own parameters (`title`, `description`, …).
    video: Vec<(&'static str, String)>,
    warnings: Vec<String>,
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let message = post.text(PLATFORM);
    if message.chars().count() > MAX_TEXT {
        return Err(PublishError::invalid(
            "text_too_long",
            format!("Facebook posts are at most {MAX_TEXT} characters"),
        ));
    }
    let mut warnings = Vec::new();
    let mut video = Vec::new();
    let link = match (post.kind, post.link_url(PLATFORM)) {
        (PostKind::Text, link) => link.map(str::to_owned),
        (_, Some(_)) => {
            warnings.push("A link is only attached to text posts; the link was ignored".to_owned());
            None
        }
        (_, None) => None,
    };
    match post.kind {
        PostKind::Video => {
            let options = video::options(post)?;
            video = options.params;
            warnings.extend(options.warnings);
        }
        PostKind::Document => {
            return Err(PublishError::invalid(
                "unsupported_media",
                "Facebook Pages do not take documents",
            ));
        }
        PostKind::Photos if post.media.is_empty() || post.media.len() > MAX_PHOTOS => {
            return Err(PublishError::invalid(
                "too_many_images",
                format!("A Facebook post takes 1 to {MAX_PHOTOS} photos"),
            ));
        }
        PostKind::Photos => {
            if let Some(m) = post.media.iter().find(|m| {
                m.kind != MediaKind::Image || !PHOTO_TYPES.contains(&m.content_type.as_str())
            }) {
                return Err(PublishError::invalid(
                    "unsupported_media",
                    format!(
                        "Facebook takes JPEG, PNG, GIF, BMP and TIFF photos, not {}",
                        m.content_type
                    ),
                ));
            }
        }
        PostKind::Text if message.is_empty() && link.is_none() => {
            return Err(PublishError::invalid(
                "text_required",
                "A Facebook text post needs a text or a link",
            ));
        }
        PostKind::Text => {}
    }
    let options = options(post, link.as_deref())?;
    Ok(Plan {
        message: message.to_owned(),
        link,
        options,
        alt_texts: post.alt_texts(PLATFORM),
        first_comment: post.first_comment(PLATFORM).map(str::to_owned),
        page: post.fields.text("facebook_page_id").map(str::to_owned),
        video,
        warnings,
    })
}

fn invalid_option(name: &str, why: &str) -> PublishError {
    PublishError::invalid("invalid_field", format!("{name} {why}"))
}

/// A JSON field that must hold a value of the right kind; its compact text.
fn json_field(
    post: &Post,
    name: &str,
    is_right: fn(&Value) -> bool,
) -> Result<Option<Value>, PublishError> {
    post.fields
        .text(name)
        .map(|raw| {
            serde_json::from_str::<Value>(raw)
                .ok()
                .filter(is_right)
                .ok_or_else(|| invalid_option(name, "is not the JSON Facebook takes"))
        })
        .transpose()
}

fn is_http_url(v: &Value) -> bool {
    v.as_str()
        .and_then(|s| url::Url::parse(s).ok())
        .is_some_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// The post's own Graph options, checked as Facebook would (reference 1.3, Facebook).
fn options(post: &Post, link: Option<&str>) -> Result<Vec<(&'static str, String)>, PublishError> {
    let mut out = Vec::new();
    if let Some(place) = post.fields.text("facebook_place_id").map(str::trim) {
        if place.is_empty() || !place.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_option(
                "facebook_place_id",
                "must be a Page id (digits)",
            ));
        }
        out.push(("place", place.to_owned()));
    }
    for (field, param) in [
        ("facebook_targeting", "targeting"),
        ("facebook_feed_targeting", "feed_targeting"),
    ] {
        if let Some(v) = json_field(post, field, Value::is_object)? {
            out.push((param, v.to_string()));
        }
    }
    let cta = json_field(post, "facebook_call_to_action", |v| {
        v["type"].as_str().is_some_and(|t| !t.is_empty())
    })?;
    let children = json_field(post, "facebook_child_attachments", |v| {
        v.as_array().is_some_and(|cards| {
            CHILD_ATTACHMENTS.contains(&cards.len())
                && cards.iter().all(|c| is_http_url(&c["link"]))
        })
    })?;
    let end_card = post
        .fields
        .flag("facebook_multi_share_end_card")
        .map_err(|e| PublishError::invalid("invalid_field", e.to_string()))?;
    if (cta.is_some() || children.is_some()) && link.is_none() {
        return Err(invalid_option(
            if cta.is_some() {
                "facebook_call_to_action"
            } else {
                "facebook_child_attachments"
            },
            "needs a link post (facebook_link_url)",
        ));
    }
    if let Some(mut cta) = cta {
        // The button leads to the post's link unless it names its own.
        if cta["value"]["link"].is_null() {
            cta["value"]["link"] = link.unwrap_or_default().into();
        }
        if !is_http_url(&cta["value"]["link"]) {
            return Err(invalid_option(
                "facebook_call_to_action",
                "needs an http(s) link",
            ));
        }
        out.push(("call_to_action", cta.to_string()));
    }
    match (children, end_card) {
        (Some(cards), end_card) => {
            out.push(("child_attachments", cards.to_string()));
            if let Some(end_card) = end_card {
                out.push(("multi_share_end_card", end_card.to_string()));
            }
        }
        (None, Some(_)) => {
            return Err(invalid_option(
                "facebook_multi_share_end_card",
                "goes with facebook_child_attachments",
            ));
        }
        (None, None) => {}
    }
    Ok(out)
}

/// The Page a post goes to and its token: the pinned Page, else `facebook_page_id`, else the
/// account's only Page.
async fn page(call: &Call<'_>, requested: Option<&str>) -> Result<(String, String), PublishError> {
    if let Some(id) = call.connection.selected_target_id.as_deref().or(requested) {
        return Ok((id.to_owned(), page_token(call, id).await?));
    }
    let mut url = super::endpoint(call.app, "accounts")?;
    url.query_pairs_mut()
        .append_pair("fields", "id,name,access_token")
        .append_pair("limit", "100")
        .append_pair("access_token", &call.tokens.access_token);
    let listed = crate::publish::http::send_reading(
        call.app.http.request(reqwest::Method::GET, &url),
        Effect::Harmless,
        graph::refusal,
    )
    .await?;
    let pages: Vec<&Value> = listed.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    match pages.as_slice() {
        [one] => match (string_at(one, "id"), string_at(one, "access_token")) {
            (Some(id), Some(token)) => Ok((id, token)),
            _ => Err(no_page_token()),
        },
        [] => Err(PublishError::invalid(
            "facebook_page_required",
            "This Facebook account manages no Page to post to",
        )),
        several => Err(PublishError::invalid(
            "facebook_page_required",
            format!(
                "This Facebook account manages several Pages: choose one with facebook_page_id or pin it. available_pages: {}",
                several
                    .iter()
                    .map(|p| format!(
                        "{} ({})",
                        string_at(p, "id").unwrap_or_default(),
                        string_at(p, "name").unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn no_page_token() -> PublishError {
    PublishError::refused(
        "facebook_page_token_missing",
        "Facebook gave no access token for the Page: the account may no longer manage it",
        false,
    )
}

/// The Page's own token, which the account's token can read while it manages the Page.
async fn page_token(call: &Call<'_>, page_id: &str) -> Result<String, PublishError> {
    let page = graph::get(
        call.app,
        page_id,
        &[("fields", "access_token")],
        &call.tokens.access_token,
    )
    .await?;
    string_at(&page, "access_token").ok_or_else(no_page_token)
}

/// `attached_media[i]` parameters for unpublished photos.
fn attached_media(photo_ids: &[String]) -> Vec<(String, String)> {
    photo_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                format!("attached_media[{i}]"),
                json!({"media_fbid": id}).to_string(),
            )
        })
        .collect()
}

fn photo_params(
    call: &Call<'_>,
    plan: &Plan,
    post: &Post,
    i: usize,
) -> Vec<(&'static str, String)> {
    let mut params = vec![("url", call.media.public_url(&post.media[i]))];
    if let Some(alt) = plan.alt_texts.get(i) {
        params.push(("alt_text_custom", alt.clone()));
    }
    params
}

/// Makes the post: its id.
async fn create(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    page: &str,
    token: &str,
) -> Result<String, PublishError> {
    let app = call.app;
    if post.kind == PostKind::Photos && post.media.len() == 1 {
        let mut params = photo_params(call, plan, post, 0);
        if !plan.message.is_empty() {
            params.push(("caption", plan.message.clone()));
        }
        params.extend(plan.options.iter().cloned());
        let made = graph::post(
            app,
            &format!("{page}/photos"),
            &params,
            token,
            Effect::Creates,
        )
        .await?;
        return id_of(&made, "post_id");
    }
    let mut photo_ids = Vec::new();
    for i in 0..post.media.len() {
        let mut params = photo_params(call, plan, post, i);
        params.push(("published", "false".to_owned()));
        // Unpublished photos are seen by no one: uploading them again is harmless.
        let photo = graph::post(
            app,
            &format!("{page}/photos"),
            &params,
            token,
            Effect::Harmless,
        )
        .await?;
        photo_ids.push(string_at(&photo, "id").ok_or_else(|| {
            PublishError::refused("malformed_answer", "Facebook named no photo", true)
        })?);
    }
    let mut params: Vec<(String, String)> = attached_media(&photo_ids);
    if !plan.message.is_empty() {
        params.push(("message".to_owned(), plan.message.clone()));
    }
    if let Some(link) = &plan.link {
        params.push(("link".to_owned(), link.clone()));
    }
    params.extend(
        plan.options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    let params: Vec<(&str, String)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let made = graph::post(
        app,
        &format!("{page}/feed"),
        &params,
        token,
        Effect::Creates,
    )
    .await?;
    id_of(&made, "id")
}

/// Where the post is seen: its `permalink_url`, else Facebook's page for the id.
async fn permalink(call: &Call<'_>, post_id: &str, token: &str) -> String {
    graph::get(call.app, post_id, &[("fields", "permalink_url")], token)
        .await
        .ok()
        .and_then(|p| string_at(&p, "permalink_url"))
        .unwrap_or_else(|| format!("https://www.facebook.com/{post_id}"))
}

#[async_trait]
impl Publisher for Facebook {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|p| p.warnings)
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        if post.kind == PostKind::Video {
            return video::publish(call, post, &plan).await;
        }
        let (page, token) = page(call, plan.page.as_deref()).await?;
        let post_id = create(call, post, &plan, &page, &token).await?;
        let mut published = Published {
            url: Some(permalink(call, &post_id, &token).await),
            post_id,
            warnings: plan.warnings.clone(),
            ..Published::default()
        };
        if let Some(text) = &plan.first_comment {
            let params = [("message", text.clone())];
            let outcome = graph::post(
                call.app,
                &format!("{}/comments", published.post_id),
                &params,
                &token,
                Effect::Creates,
            )
            .await
            .map(drop);
            note_first_comment(&mut published, outcome);
        }
        Ok(Progress::Done(published))
    }

    /// The Page's feed since `call.since`, for a post with the same message.
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let plan = plan(post)?;
        // A video's post carries its description.
        let wanted = plan
            .video
            .iter()
            .find(|(k, _)| *k == "description")
            .map_or(plan.message.as_str(), |(_, v)| v.as_str());
        let (page, token) = page(call, plan.page.as_deref()).await?;
        Ok(graph::recent(
            call,
            &format!("{page}/feed"),
            "id,message,created_time,permalink_url",
            &token,
        )
        .await?
        .iter()
        .find(|p| p["message"].as_str().unwrap_or_default() == wanted)
        .and_then(|p| {
            let id = string_at(p, "id")?;
            Some(Published {
                url: Some(
                    string_at(p, "permalink_url")
                        .unwrap_or_else(|| format!("https://www.facebook.com/{id}")),
                ),
                post_id: id,
                ..Published::default()
            })
        }))
    }

    /// Deletes with the token of the Page the post is on (a Page post's id starts with it).
    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let page = match post_id.split_once('_') {
            Some((page, _)) => page.to_owned(),
            None => page(call, None).await?.0,
        };
        let token = page_token(call, &page).await?;
        graph::delete(call.app, post_id, &token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::samples;

    fn post(kind: PostKind, pairs: &[(&str, &str)], photos: usize) -> Post {
        samples::post(kind, pairs, samples::images(photos, "image/png"))
    }

    #[test]
    fn fields_read_once() {
        let p = post(
            PostKind::Text,
            &[
                ("title", "Hi"),
                ("facebook_link_url", "https://e.com"),
                ("link_url", "https://other"),
                ("facebook_page_id", "42"),
                ("facebook_first_comment", "c"),
            ],
            0,
        );
        let plan = plan(&p).unwrap();
        assert_eq!(plan.link.as_deref(), Some("https://e.com"));
        assert_eq!(plan.page.as_deref(), Some("42"));
        assert_eq!(plan.first_comment.as_deref(), Some("c"));
        let photos = post(PostKind::Photos, &[("link_url", "https://e.com")], 2);
        let plan = super::plan(&photos).unwrap();
        assert_eq!(plan.link, None);
        assert_eq!(plan.warnings.len(), 1);
    }

    #[test]
    fn limits_before_any_call() {
        let code = |p: &Post| plan(p).unwrap_err().code().to_owned();
        assert_eq!(code(&post(PostKind::Photos, &[], 11)), "too_many_images");
        assert_eq!(code(&post(PostKind::Text, &[], 0)), "text_required");
        assert_eq!(
            code(&post(
                PostKind::Text,
                &[("title", &"x".repeat(MAX_TEXT + 1))],
                0
            )),
            "text_too_long"
        );
        assert_eq!(code(&post(PostKind::Video, &[], 0)), "media_required");
    }

    #[test]
    fn several_photos_are_attached_by_id() {
        assert_eq!(
            attached_media(&["1".to_owned(), "2".to_owned()]),
            [
                (
                    "attached_media[0]".to_owned(),
                    r#"{"media_fbid":"1"}"#.to_owned()
                ),
                (
                    "attached_media[1]".to_owned(),
                    r#"{"media_fbid":"2"}"#.to_owned()
                ),
            ]
        );
    }
}
