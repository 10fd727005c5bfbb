//! TikTok (Content Posting API v2): the creator's settings first (`creator_info`), then an
//! init that answers a `publish_id` — a direct post, or a draft sent to the creator's
//! inbox — then, for a `FILE_UPLOAD`, the video in chunks PUT to the init's `upload_url`,
//! then the status polled until TikTok has published it (or sent it to the inbox).
//!
//! The `publish_id` is kept (`Progress::Pending`) from the moment the init answers, so a
//! later call never inits again (a second init would be a second post): an interrupted
//! upload goes on from the bytes TikTok reports it has.

mod api;
mod options;

use super::sandbox_page;
use crate::domain::Platform;
use crate::publish::http::Effect;
use crate::publish::publisher::{Call, Post, Progress, PublishError, Published, Publisher};
use api::{Chunks, Creator};
use async_trait::async_trait;
use options::{Kind, Mode, Plan, Source};
use serde_json::{Value, json};
use std::time::Duration;

pub struct Tiktok;

const PLATFORM: Platform = Platform::Tiktok;
/// How long TikTok usually takes between looks at a processing upload.
const POLL: Duration = Duration::from_secs(3);
/// Direct-post refusals a draft gets past (reference 1.5, `fallback_to_inbox`): the app may
/// not publish for the account (no `video.publish` grant, an unaudited app posting to a
/// public account), while it may still send the creator a draft.
const FALLBACK_CODES: [&str; 2] = [
    "scope_not_authorized",
    "unaudited_client_can_only_post_to_private_accounts",
];
/// Upload-Post's `post_url` of a video draft (reference 1.5); a photo draft has none.
const INBOX_URL: &str = "Video sent to Inbox (No Public URL)";

/// Where a post stands between calls.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct State {
    publish_id: String,
    mode: Mode,
    photo: bool,
    /// The direct post went to the inbox instead.
    fallback: bool,
    /// A `FILE_UPLOAD` still sending its chunks; `None` once TikTok has the whole file.
    upload: Option<Upload>,
    warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Upload {
    url: String,
    /// Where the next chunk starts, as far as the last call knew.
    offset: u64,
    chunks: Chunks,
}

fn malformed(what: &str) -> PublishError {
    PublishError::refused(
        "malformed_answer",
        format!("TikTok's answer had no {what}"),
        true,
    )
}

/// Refuses what the creator does not allow, naming the limit, before any upload.
fn check_creator(plan: &Plan, post: &Post, creator: &Creator) -> Result<String, PublishError> {
    let privacy = plan.privacy_level(&creator.privacy_level_options)?;
    let refuse = |what: &str| {
        Err(PublishError::invalid(
            "tiktok_interaction_disabled",
            format!("This TikTok account has turned {what} off; the post cannot allow them"),
        ))
    };
    if creator.comment_disabled && !plan.disable_comment {
        return refuse("comments");
    }
    if let Kind::Video(video) = &plan.kind {
        if creator.duet_disabled && !video.disable_duet {
            return refuse("duets");
        }
        if creator.stitch_disabled && !video.disable_stitch {
            return refuse("stitches");
        }
        let cap_ms = creator.max_video_post_duration_sec.saturating_mul(1000);
        if let Some(info) = post.media.first().and_then(|m| m.video.as_ref())
            && cap_ms > 0
            && info.duration_ms > cap_ms
        {
            return Err(PublishError::invalid(
                "video_too_long",
                format!(
                    "This TikTok account posts videos up to {} seconds; this one lasts {} seconds",
                    creator.max_video_post_duration_sec,
                    info.duration_ms / 1000
                ),
            ));
        }
    }
    Ok(privacy)
}

/// The init's `post_info`.
fn post_info(plan: &Plan, privacy: &str) -> Value {
    let mut info = json!({
        "title": plan.title,
        "privacy_level": privacy,
        "disable_comment": plan.disable_comment,
        "brand_content_toggle": plan.brand_content,
        "brand_organic_toggle": plan.brand_organic,
    });
    match &plan.kind {
        Kind::Video(v) => {
            info["disable_duet"] = v.disable_duet.into();
            info["disable_stitch"] = v.disable_stitch.into();
            info["video_cover_timestamp_ms"] = v.cover_ms.into();
            info["is_aigc"] = v.is_aigc.into();
        }
        Kind::Photos(p) => {
            info["auto_add_music"] = p.auto_add_music.into();
            if let Some(d) = &p.description {
                info["description"] = d.as_str().into();
            }
        }
    }
    info
}

/// The first call of a post: creator settings (direct posts), then the init, with the
/// inbox as fallback when TikTok allows a draft where it refused the post.
async fn start(call: &Call<'_>, post: &Post, plan: Plan) -> Result<Progress, PublishError> {
    let mut warnings = plan.warnings.clone();
    let (mode, fallback) = match plan.mode {
        Mode::Inbox => (Mode::Inbox, false),
        Mode::Direct => match direct(call, post, &plan).await {
            Ok(state) => return Ok(pending(state, warnings, Duration::ZERO)),
            Err(e) if falls_back(&plan, &e) => {
                warnings.push(format!(
                    "TikTok refused the direct post ({e}); it was sent to the creator's inbox as a draft instead"
                ));
                (Mode::Inbox, true)
            }
            Err(e) => return Err(e),
        },
    };
    let mut state = init(call, post, &plan, mode, None).await?;
    state.fallback = fallback;
    Ok(pending(state, warnings, Duration::ZERO))
}

/// Whether a refused direct post goes to the inbox instead.
fn falls_back(plan: &Plan, refused: &PublishError) -> bool {
    plan.inbox_fallback
        && matches!(refused, PublishError::Refused { code, .. } if FALLBACK_CODES.contains(&code.as_str()))
}

async fn direct(call: &Call<'_>, post: &Post, plan: &Plan) -> Result<State, PublishError> {
    let creator = api::creator_info(call).await?;
    let privacy = check_creator(plan, post, &creator)?;
    init(call, post, plan, Mode::Direct, Some(&privacy)).await
}

fn pending(mut state: State, warnings: Vec<String>, after: Duration) -> Progress {
    state.warnings = warnings;
    Progress::Pending {
        state: serde_json::to_value(&state).unwrap_or_default(),
        after,
    }
}

/// Inits the post in `mode` (`privacy` for a direct post): its `publish_id`, and where a
/// `FILE_UPLOAD` sends its chunks.
async fn init(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    mode: Mode,
    privacy: Option<&str>,
) -> Result<State, PublishError> {
    let (endpoint, body, effect, upload) = match &plan.kind {
        Kind::Photos(photos) => {
            let urls: Vec<String> = post
                .media
                .iter()
                .map(|m| call.media.public_url(m))
                .collect();
            // A draft's post_info carries no privacy level.
            let mut info = post_info(plan, privacy.unwrap_or_default());
            if privacy.is_none()
                && let Some(o) = info.as_object_mut()
            {
                o.remove("privacy_level");
            }
            let body = json!({
                "post_info": info,
                "source_info": {"source": "PULL_FROM_URL", "photo_images": urls,
                                "photo_cover_index": photos.cover_index},
                "post_mode": mode.wire(),
                "media_type": "PHOTO",
            });
            ("content_init", body, Effect::Creates, None)
        }
        Kind::Video(video) => {
            let media = post
                .media
                .first()
                .ok_or_else(|| PublishError::invalid("media_required", "no video"))?;
            let (source, effect, chunks) = match video.source {
                Source::PullFromUrl => (
                    json!({"source": "PULL_FROM_URL", "video_url": call.media.public_url(media)}),
                    Effect::Creates,
                    None,
                ),
                Source::FileUpload => {
                    let chunks = Chunks::of(media.size);
                    (
                        json!({"source": "FILE_UPLOAD", "video_size": chunks.size,
                               "chunk_size": chunks.chunk_size, "total_chunk_count": chunks.count}),
                        // Nothing is posted before the file is uploaded.
                        Effect::Harmless,
                        Some(chunks),
                    )
                }
            };
            match (mode, privacy) {
                (Mode::Direct, Some(privacy)) => (
                    "video_init",
                    json!({"post_info": post_info(plan, privacy), "source_info": source}),
                    effect,
                    chunks,
                ),
                // The inbox takes the video alone: the creator adds the rest in the app.
                _ => (
                    "inbox_video_init",
                    json!({"source_info": source}),
                    effect,
                    chunks,
                ),
            }
        }
    };
    let data = api::post(call, endpoint, &body, effect).await?;
    let publish_id = data["publish_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| malformed("publish_id"))?
        .to_owned();
    let upload = match upload {
        Some(chunks) => Some(Upload {
            url: data["upload_url"]
                .as_str()
                .ok_or_else(|| malformed("upload_url"))?
                .to_owned(),
            offset: 0,
            chunks,
        }),
        None => None,
    };
    Ok(State {
        publish_id,
        mode,
        photo: matches!(plan.kind, Kind::Photos(_)),
        fallback: false,
        upload,
        warnings: Vec::new(),
    })
}

/// Sends the chunks TikTok does not have yet, from the offset it reports.
async fn send_chunks(
    call: &Call<'_>,
    post: &Post,
    state: &State,
    upload: &Upload,
) -> Result<(), PublishError> {
    let media = post
        .media
        .first()
        .ok_or_else(|| PublishError::invalid("media_required", "no video"))?;
    let status = api::status(call, &state.publish_id).await?;
    let offset = status.uploaded_bytes.unwrap_or(upload.offset);
    if offset >= upload.chunks.size {
        return Ok(());
    }
    let first = upload.chunks.starting_at(offset).ok_or_else(|| {
        PublishError::refused(
            "upload_out_of_step",
            format!("TikTok reports {offset} bytes of the video, not a whole number of chunks"),
            false,
        )
    })?;
    for index in first..upload.chunks.count {
        let range = upload.chunks.range(index);
        let bytes = call.media.range(media, range.clone()).await?;
        api::put_chunk(
            call,
            &upload.url,
            range,
            upload.chunks.size,
            &media.content_type,
            bytes,
        )
        .await?;
    }
    Ok(())
}

/// The post where the status says it is.
fn outcome(call: &Call<'_>, state: State, status: api::Status) -> Result<Progress, PublishError> {
    let mut published = Published {
        post_id: state.publish_id.clone(),
        url: None,
        warnings: state.warnings.clone(),
        ..Published::default()
    };
    published
        .extra
        .insert("publish_id".to_owned(), state.publish_id.clone().into());
    if state.fallback {
        published
            .extra
            .insert("fallback_to_inbox".to_owned(), true.into());
    }
    match status.status.as_str() {
        "PUBLISH_COMPLETE" => {
            if let Some(id) = status.post_ids.first() {
                published.url = post_url(call, id, state.photo);
                published.post_id = id.clone();
            }
            Ok(Progress::Done(published))
        }
        "SEND_TO_USER_INBOX" => {
            published.url = (!state.photo).then(|| INBOX_URL.to_owned());
            Ok(Progress::Done(published))
        }
        "FAILED" => Err(failure(status.fail_reason.as_deref())),
        // PROCESSING_UPLOAD, PROCESSING_DOWNLOAD.
        _ => {
            let warnings = state.warnings.clone();
            Ok(pending(state, warnings, POLL))
        }
    }
}

/// Where a published post is seen: the sandbox's page of it, or tiktok.com under the
/// account's handle.
fn post_url(call: &Call<'_>, id: &str, photo: bool) -> Option<String> {
    if call.app.sandbox {
        return sandbox_page(call.app, "publish_status", id);
    }
    let handle = call.connection.handle.as_deref()?;
    let kind = if photo { "photo" } else { "video" };
    Some(format!("https://www.tiktok.com/@{handle}/{kind}/{id}"))
}

/// A `FAILED` status as a final failure under TikTok's `fail_reason`.
fn failure(reason: Option<&str>) -> PublishError {
    let reason = reason.unwrap_or("unknown");
    let why = match reason {
        "file_format_check_failed" => "the file format is not one TikTok takes",
        "duration_check_failed" => "the video's length is outside what TikTok takes",
        "frame_rate_check_failed" => "the video's frame rate is outside what TikTok takes",
        "picture_size_check_failed" => "the picture size is outside what TikTok takes",
        "video_pull_failed" | "photo_pull_failed" => "TikTok could not download the media",
        "spam_risk_too_many_posts" => "the account posted too many times today",
        "spam_risk_user_banned_from_posting" => "the account is banned from posting",
        "auth_removed" => "the creator removed Postgate's access",
        _ => "TikTok could not process the post",
    };
    PublishError::refused(
        reason,
        format!("TikTok failed the post: {why} ({reason})"),
        false,
    )
}

/// A later call: the rest of the upload, then the status.
async fn resume(call: &Call<'_>, post: &Post, mut state: State) -> Result<Progress, PublishError> {
    if let Some(upload) = state.upload.take() {
        send_chunks(call, post, &state, &upload).await?;
    }
    let status = api::status(call, &state.publish_id).await?;
    outcome(call, state, status)
}

fn state_of(value: &Value) -> Result<State, PublishError> {
    serde_json::from_value(value.clone()).map_err(|e| {
        PublishError::refused(
            "internal_error",
            format!("the stored TikTok upload state is unreadable: {e}"),
            false,
        )
    })
}

#[async_trait]
impl Publisher for Tiktok {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        options::plan(post).map(|p| p.warnings)
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        match call.resume {
            Some(state) => resume(call, post, state_of(state)?).await,
            None => start(call, post, options::plan(post)?).await,
        }
    }

    /// TikTok cannot be searched for a post; a `publish_id` kept from an init can be asked.
    async fn find(&self, call: &Call<'_>, _post: &Post) -> Result<Option<Published>, PublishError> {
        let Some(state) = call.resume else {
            return Err(PublishError::unsupported(
                "lookup_not_supported",
                "TikTok's API cannot look a post up",
            ));
        };
        let state = state_of(state)?;
        let status = api::status(call, &state.publish_id).await?;
        match outcome(call, state, status) {
            Ok(Progress::Done(published)) => Ok(Some(published)),
            // Still uploading or processing, or failed: the next step says so again.
            _ => Ok(None),
        }
    }

    async fn unpublish(&self, _call: &Call<'_>, _post_id: &str) -> Result<(), PublishError> {
        Err(PublishError::unsupported(
            "delete_not_supported",
            "TikTok's API cannot delete a post",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::upload::{MediaKind, PostKind};
    use crate::publish::publisher::samples::post;
    use crate::publish::publisher::{Media, VideoInfo};

    fn video(duration_ms: u64) -> Media {
        Media {
            id: "v".into(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            size: 100,
            filename: None,
            video: Some(VideoInfo {
                duration_ms,
                width: 720,
                height: 1280,
                video_codec: None,
                audio_codec: None,
            }),
        }
    }

    fn creator() -> Creator {
        Creator {
            privacy_level_options: vec!["PUBLIC_TO_EVERYONE".into(), "SELF_ONLY".into()],
            comment_disabled: false,
            duet_disabled: true,
            stitch_disabled: false,
            max_video_post_duration_sec: 60,
        }
    }

    fn checked(fields: &[(&str, &str)], duration_ms: u64) -> Result<String, PublishError> {
        let p = post(PostKind::Video, fields, vec![video(duration_ms)]);
        check_creator(&options::plan(&p)?, &p, &creator())
    }

    #[test]
    fn the_creators_settings_are_limits() {
        let ok = [("disable_duet", "true")];
        assert_eq!(checked(&ok, 1000).unwrap(), "PUBLIC_TO_EVERYONE");
        let duet = checked(&[], 1000).unwrap_err();
        assert_eq!(duet.code(), "tiktok_interaction_disabled");
        assert!(duet.to_string().contains("duets"), "{duet}");
        let long = checked(&ok, 61_000).unwrap_err();
        assert_eq!(long.code(), "video_too_long");
        assert!(long.to_string().contains("up to 60 seconds"), "{long}");
        let friends = [
            ("disable_duet", "true"),
            ("privacy_level", "MUTUAL_FOLLOW_FRIENDS"),
        ];
        assert_eq!(
            checked(&friends, 1000).unwrap_err().code(),
            "tiktok_privacy_unavailable"
        );
    }

    #[test]
    fn post_info_carries_every_setting() {
        let p = post(
            PostKind::Video,
            &[
                ("title", "t"),
                ("disable_stitch", "true"),
                ("is_aigc", "true"),
            ],
            vec![video(1000)],
        );
        let info = post_info(&options::plan(&p).unwrap(), "SELF_ONLY");
        assert_eq!(
            info,
            json!({"title": "t", "privacy_level": "SELF_ONLY", "disable_comment": false,
                   "brand_content_toggle": false, "brand_organic_toggle": false,
                   "disable_duet": false, "disable_stitch": true,
                   "video_cover_timestamp_ms": 1000, "is_aigc": true})
        );
    }

    #[test]
    fn only_refusals_that_allow_a_draft_fall_back() {
        let plan = |fields: &[(&str, &str)]| {
            options::plan(&post(PostKind::Video, fields, vec![video(1000)])).unwrap()
        };
        let unaudited = PublishError::refused(
            "unaudited_client_can_only_post_to_private_accounts",
            "private only",
            false,
        );
        assert!(falls_back(&plan(&[]), &unaudited));
        assert!(!falls_back(
            &plan(&[("disable_inbox_fallback", "true")]),
            &unaudited
        ));
        let spam = PublishError::refused("spam_risk_too_many_posts", "cap", false);
        assert!(!falls_back(&plan(&[]), &spam));
        let privacy = PublishError::invalid("tiktok_privacy_unavailable", "no");
        assert!(!falls_back(&plan(&[]), &privacy));
    }

    #[test]
    fn failures_are_final_and_named() {
        let e = failure(Some("duration_check_failed"));
        assert_eq!(e.code(), "duration_check_failed");
        assert!(!e.retryable());
        assert!(e.to_string().contains("length"), "{e}");
    }
}
