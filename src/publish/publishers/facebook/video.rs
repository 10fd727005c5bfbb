//! A video on a Facebook Page: Facebook pulls it from the signed URL Postgate serves it at
//! (`POST /{page-id}/videos` with `file_url`), then processes it; until its `video_status`
//! is `ready` the publisher answers `Pending` with the video's id, so a later call only
//! looks again and never posts the video twice.

use super::super::graph::{self, id_of};
use super::super::note_first_comment;
use super::{PLATFORM, Plan, page};
use crate::domain::upload::MediaKind;
use crate::oauth::http::string_at;
use crate::publish::http::Effect;
use crate::publish::publisher::{Call, Post, Progress, PublishError, Published};
use crate::publish::video::VideoLimits;
use serde_json::json;

/// Page videos: MP4 or MOV, up to 10 GB and 240 minutes
/// (developers.facebook.com/docs/video-api/guides/publishing).
pub(super) const LIMITS: VideoLimits = VideoLimits {
    platform: "Facebook",
    types: &["video/mp4", "video/quicktime"],
    max_bytes: 10 * 1024 * 1024 * 1024,
    min_duration_ms: 1_000,
    max_duration_ms: 240 * 60_000,
    max_side: None,
};
/// How long to wait before looking again at a video Facebook is processing.
const PROCESSING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
const VIDEO_STATES: [&str; 2] = ["PUBLISHED", "DRAFT"];

fn invalid(message: impl Into<String>) -> PublishError {
    PublishError::invalid("invalid_field", message)
}

/// A video's own Graph parameters, and warnings for the fields a Page video does not take.
pub(super) struct Options {
    pub params: Vec<(&'static str, String)>,
    pub warnings: Vec<String>,
}

/// The video's options as the request gave them (reference 1.3, Facebook, V).
pub(super) fn options(post: &Post) -> Result<Options, PublishError> {
    let fields = &post.fields;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    match post.media.as_slice() {
        [one] if one.kind == MediaKind::Video => LIMITS.check(one)?,
        _ => {
            return Err(PublishError::invalid(
                "media_required",
                "A Facebook video post takes one video",
            ));
        }
    }
    let title = post.text(PLATFORM);
    if !title.is_empty() {
        out.push(("title", title.to_owned()));
    }
    let description = post.description(PLATFORM).unwrap_or(title);
    if !description.is_empty() {
        out.push(("description", description.to_owned()));
    }
    if let Some(state) = fields.text("video_state").map(str::to_ascii_uppercase) {
        if !VIDEO_STATES.contains(&state.as_str()) {
            return Err(invalid("video_state is PUBLISHED or DRAFT"));
        }
        out.push(("published", (state == "PUBLISHED").to_string()));
    }
    if let Some(kind) = fields.text("facebook_unpublished_content_type") {
        out.push(("unpublished_content_type", kind.to_ascii_uppercase()));
    }
    for (field, param) in [
        ("facebook_no_story", "no_story"),
        ("facebook_secret", "secret"),
    ] {
        if let Some(on) = fields.flag(field).map_err(|e| invalid(e.to_string()))? {
            out.push((param, on.to_string()));
        }
    }
    for name in [
        "thumbnail_url",
        "facebook_place_id",
        "facebook_targeting",
        "facebook_feed_targeting",
    ] {
        if fields.text(name).is_some() {
            warnings.push(format!(
                "{name} was ignored: Postgate does not send it with Page videos"
            ));
        }
    }
    Ok(Options {
        params: out,
        warnings,
    })
}

/// Posts the video, or looks again at the one a former call posted (`call.resume`).
pub(super) async fn publish(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
) -> Result<Progress, PublishError> {
    let (page, token) = page(call, plan.page.as_deref()).await?;
    let video = match call.resume.and_then(|s| string_at(s, "video")) {
        Some(id) => id,
        None => {
            let mut params = vec![("file_url", call.media.public_url(&post.media[0]))];
            params.extend(plan.video.iter().cloned());
            // Facebook posts the video once it is processed: a lost answer may be a post.
            let made = graph::post(
                call.app,
                &format!("{page}/videos"),
                &params,
                &token,
                Effect::Creates,
            )
            .await?;
            id_of(&made, "id")?
        }
    };
    let read = graph::get(
        call.app,
        &video,
        &[("fields", "status,permalink_url")],
        &token,
    )
    .await?;
    match read["status"]["video_status"].as_str() {
        Some("ready") => {}
        Some("error") => {
            return Err(PublishError::refused(
                "processing_failed",
                format!(
                    "Facebook could not process the video: {}",
                    read["status"]["processing_phase"]["errors"][0]["message"]
                        .as_str()
                        .unwrap_or("no reason given")
                ),
                false,
            ));
        }
        _ => {
            return Ok(Progress::Pending {
                state: json!({"video": video}),
                after: PROCESSING_WAIT,
            });
        }
    }
    // Facebook names a video's page by its path.
    let url = string_at(&read, "permalink_url").map(|u| {
        if u.starts_with('/') {
            format!("https://www.facebook.com{u}")
        } else {
            u
        }
    });
    let mut published = Published {
        url,
        post_id: video,
        warnings: plan.warnings.clone(),
        ..Published::default()
    };
    if let Some(text) = &plan.first_comment {
        let outcome = graph::post(
            call.app,
            &format!("{}/comments", published.post_id),
            &[("message", text.clone())],
            &token,
            Effect::Creates,
        )
        .await
        .map(drop);
        note_first_comment(&mut published, outcome);
    }
    Ok(Progress::Done(published))
}
