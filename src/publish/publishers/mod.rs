//! One publisher per platform that Postgate can publish to.

pub mod bluesky;
mod facebook;
mod form_upload;
mod google_business;
mod graph;
mod instagram;
mod linkedin;
mod pinterest;
mod reddit;
mod threads;
mod tiktok;
pub mod x;
pub mod youtube;

use super::publisher::{Media, PublishError, Published, Publisher};
use crate::domain::Platform;
use crate::domain::upload::{Fields, MediaKind};
use crate::oauth::provider::App;

/// The publisher of `platform`.
pub fn for_platform(platform: Platform) -> &'static dyn Publisher {
    match platform {
        Platform::X => &x::X,
        Platform::Bluesky => &bluesky::Bluesky,
        Platform::Linkedin => &linkedin::Linkedin,
        Platform::Facebook => &facebook::Facebook,
        Platform::Threads => &threads::Threads,
        Platform::Tiktok => &tiktok::Tiktok,
        Platform::Youtube => &youtube::Youtube,
        Platform::Instagram => &instagram::Instagram,
        Platform::Pinterest => &pinterest::Pinterest,
        Platform::Reddit => &reddit::Reddit,
        Platform::GoogleBusiness => &google_business::GoogleBusiness,
    }
}

/// Options of the Upload-Post API (publishing reference 1.3) that a publisher does not act
/// on yet. Sent, they are named in the result's `warnings`: the post goes out as the
/// platform would show it without them, and the client learns what was left out instead of
/// finding out on the platform.
const NOT_YET: &[(Platform, &[&str])] = &[
    (
        Platform::Linkedin,
        &[
            "linkedin_target_check_audience",
            "linkedin_thumbnail_alt_text",
            "linkedin_subtitles",
            "linkedin_subtitles_url",
            "linkedin_subtitles_text",
        ],
    ),
    (
        Platform::X,
        &[
            "x_article_title",
            "x_article_body",
            "x_article_content_state",
            "x_article_draft",
            "x_article_cover_media",
            // X's subtitles API (`/2/media/subtitles`) is not used yet.
            "x_subtitles",
            "x_subtitles_url",
            "x_subtitles_language",
            "x_subtitles_name",
        ],
    ),
    (
        Platform::Reddit,
        &["reddit_first_comment", "first_comment_media"],
    ),
    (
        Platform::Facebook,
        &[
            "facebook_media_type",
            "facebook_is_ai_generated",
            "facebook_collaborators",
        ],
    ),
];

/// A warning for each option sent for `platform` that its publisher leaves out.
pub fn ignored_options(platform: Platform, fields: &Fields) -> Vec<String> {
    NOT_YET
        .iter()
        .filter(|(p, _)| *p == platform)
        .flat_map(|(_, names)| names.iter())
        .filter(|name| !fields.all(name).is_empty())
        .map(|name| format!("{name} is not supported by Postgate yet and was ignored"))
        .collect()
}

/// In the sandbox, the emulator's page of a post (`…/sandbox/<platform>/_posts/<id>`),
/// found from where the app's `endpoint` was moved; `None` against the real platform.
fn sandbox_page(app: &App, endpoint: &str, post_id: &str) -> Option<String> {
    if !app.sandbox {
        return None;
    }
    let mut url = app.url(endpoint).ok()?;
    let base = format!("/sandbox/{}/", app.platform().key());
    let at = url.path().find(&base)? + base.len();
    let path = format!("{}_posts/{post_id}", &url.path()[..at]);
    url.set_path(&path);
    url.set_query(None);
    Some(url.to_string())
}

/// A named endpoint of the platform's app; a missing one is the operator's configuration.
fn endpoint(app: &App, name: &str) -> Result<url::Url, PublishError> {
    app.url(name)
        .map_err(|e| PublishError::refused("platform_misconfigured", e.to_string(), false))
}

/// The refusal of an image larger than a platform's `limit`.
fn too_large(media: &Media, limit: u64, platform: &str) -> Option<PublishError> {
    (media.size > limit).then(|| {
        PublishError::invalid(
            "media_too_large",
            format!(
                "{platform} takes images up to {limit} bytes; {} is {} bytes",
                media.filename.as_deref().unwrap_or("an image"),
                media.size
            ),
        )
    })
}

/// Refuses an image of a type `platform` does not take (`names`: those types as its users
/// know them) or larger than `limit`.
fn check_images(
    media: &[Media],
    platform: &str,
    (types, names): (&[&str], &str),
    limit: u64,
) -> Result<(), PublishError> {
    if let Some(m) = media
        .iter()
        .find(|m| m.kind != MediaKind::Image || !types.contains(&m.content_type.as_str()))
    {
        return Err(PublishError::invalid(
            "unsupported_media",
            format!("{platform} takes {names} images, not {}", m.content_type),
        ));
    }
    media
        .iter()
        .find_map(|m| too_large(m, limit, platform))
        .map_or(Ok(()), Err)
}

/// Notes how a first comment went: `first_comment_posted` when it was made, a warning when
/// not — a first comment never fails its post.
fn note_first_comment(published: &mut Published, outcome: Result<(), PublishError>) {
    match outcome {
        Ok(()) => {
            published
                .extra
                .insert("first_comment_posted".to_owned(), true.into());
        }
        Err(e) => {
            published
                .extra
                .insert("first_comment_posted".to_owned(), false.into());
            published
                .warnings
                .push(format!("The first comment was not posted: {e}"));
        }
    }
}

/// A post that became several (a thread): every part's id as `post_ids`.
fn note_thread(published: &mut Published, ids: &[String]) {
    if ids.len() > 1 {
        published
            .extra
            .insert("post_ids".to_owned(), serde_json::json!(ids));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_left_out_are_named() {
        let mut fields = Fields::new();
        fields.push("facebook_collaborators", "123");
        fields.push("linkedin_subtitles_url", "a");
        fields.push("title", "hi");
        assert_eq!(
            ignored_options(Platform::Facebook, &fields),
            ["facebook_collaborators is not supported by Postgate yet and was ignored"]
        );
        assert!(ignored_options(Platform::Bluesky, &fields).is_empty());
    }

    #[test]
    fn a_failed_first_comment_is_a_warning() {
        let mut p = Published::default();
        note_first_comment(&mut p, Err(PublishError::refused("x", "no", false)));
        assert_eq!(p.extra["first_comment_posted"], false);
        assert_eq!(p.warnings, ["The first comment was not posted: no"]);
        let mut p = Published::default();
        note_first_comment(&mut p, Ok(()));
        assert_eq!(p.extra["first_comment_posted"], true);
        assert!(p.warnings.is_empty());
    }
}
