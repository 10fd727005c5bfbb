//! YouTube (Data API v3): a video goes up through a resumable upload session — the video
//! resource is POSTed to `upload/youtube/v3/videos?uploadType=resumable`, which answers the
//! session URI; the bytes are PUT there in chunks of 256 KiB multiples, each answered
//! `308 Resume Incomplete` with what the session holds, the last one with the video. YouTube
//! then processes it; once `processingDetails.processingStatus` says `succeeded` the thumbnail,
//! the playlists and the first comment follow (their failures are warnings).
//!
//! The session URI is kept (`Progress::Pending`) before any byte is sent, and every later
//! call asks the session how much it holds before sending more: a video is never uploaded
//! twice, and a second session — a second video — is never opened for the same post.

use super::{endpoint, note_first_comment, sandbox_page};
use crate::domain::upload::{Fields, MediaKind, PostKind};
use crate::domain::{Platform, time};
use crate::publish::http::{self, Answer, Effect};
use crate::publish::publisher::{Call, Media, Post, Progress, PublishError, Published, Publisher};
use crate::publish::video::{VideoLimits, parts};
use async_trait::async_trait;
use reqwest::{Method, StatusCode, header};
use serde_json::{Map, Value, json};
use std::time::Duration;

pub struct Youtube;

const PLATFORM: Platform = Platform::Youtube;

const LIMITS: VideoLimits = VideoLimits {
    platform: "YouTube",
    types: &[
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "video/x-msvideo",
        "video/mpeg",
    ],
    max_bytes: 256 * 1024 * 1024 * 1024,
    min_duration_ms: 1,
    max_duration_ms: 12 * 3600 * 1000,
    max_side: None,
};

/// Chunks of a resumable upload are multiples of this, but the last.
pub const CHUNK_QUANTUM: u64 = 256 * 1024;
/// The chunk the publisher sends: small enough that a failed one costs little, and that a
/// few megabytes make several.
pub const CHUNK_BYTES: u64 = 4 * CHUNK_QUANTUM;
/// What one call sends before it hands back `Pending` with the offset, so that a long
/// upload keeps its progress and frees the worker now and then.
const STEP_BYTES: u64 = 64 * CHUNK_BYTES;
/// Interrupted chunks in a row that one call resumes before giving up for a later attempt.
const MAX_INTERRUPTIONS: u32 = 3;
/// A chunk's time on the wire may exceed the client's usual timeout.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(600);
/// When to look again at a video YouTube is processing.
const PROCESSING_POLL: Duration = Duration::from_secs(5);

const MAX_TITLE_CHARS: usize = 100;
const MAX_DESCRIPTION_BYTES: usize = 5000;
const MAX_TAGS_CHARS: usize = 500;
const MAX_THUMBNAIL_BYTES: u64 = 2 * 1024 * 1024;
const THUMBNAIL_TYPES: [&str; 2] = ["image/jpeg", "image/png"];
/// The categories a video can be given (videoCategories.list, `assignable: true`).
pub const CATEGORIES: [&str; 15] = [
    "1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29",
];
const DEFAULT_CATEGORY: &str = "22";
pub const PRIVACY_STATUSES: [&str; 3] = ["public", "unlisted", "private"];
pub const LICENSES: [&str; 2] = ["youtube", "creativeCommon"];
const SEARCH_RESULTS: &str = "25";

/// What a post asks of YouTube, checked before any call.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    /// The video resource of `videos.insert`.
    resource: Value,
    /// Its parts, for the `part` parameter.
    parts: String,
    notify_subscribers: Option<bool>,
    playlists: Vec<String>,
    first_comment: Option<String>,
    warnings: Vec<String>,
}

/// The first boolean of `names` that is given (a field and its aliases).
fn flag(fields: &Fields, names: &[&str]) -> Result<Option<bool>, PublishError> {
    for name in names {
        if let Some(v) = fields
            .flag(name)
            .map_err(|e| PublishError::invalid("invalid_field", e.to_string()))?
        {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// YouTube refuses `<` and `>` in titles and descriptions.
fn no_angle_brackets(field: &str, text: &str) -> Result<(), PublishError> {
    if text.contains(['<', '>']) {
        return Err(PublishError::invalid(
            "invalid_field",
            format!("YouTube does not take < or > in the {field}"),
        ));
    }
    Ok(())
}

/// How YouTube counts tags against its 500 characters: a tag with a space counts its
/// quotes, and the commas between tags count.
fn tags_length(tags: &[String]) -> usize {
    let own: usize = tags
        .iter()
        .map(|t| t.chars().count() + if t.contains(' ') { 2 } else { 0 })
        .sum();
    own + tags.len().saturating_sub(1)
}

fn rfc3339(field: &str, raw: &str) -> Result<chrono::DateTime<chrono::Utc>, PublishError> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|d| d.to_utc())
        .map_err(|_| {
            PublishError::invalid(
                "invalid_field",
                format!("{field} must be an RFC 3339 date and time, such as 2026-12-24T18:00:00Z"),
            )
        })
}

/// `value` when it is one of `allowed`.
fn one_of<'a>(field: &str, value: &'a str, allowed: &[&str]) -> Result<&'a str, PublishError> {
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(PublishError::invalid(
            "invalid_field",
            format!(
                "{field} must be one of {}; got {value:?}",
                allowed.join(", ")
            ),
        ))
    }
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let fields = &post.fields;
    let mut warnings = Vec::new();
    let title = post.text(PLATFORM).trim();
    if title.is_empty() {
        return Err(PublishError::invalid(
            "missing_title",
            "YouTube needs a title (title or youtube_title)",
        ));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(PublishError::invalid(
            "title_too_long",
            format!("YouTube titles are up to {MAX_TITLE_CHARS} characters"),
        ));
    }
    no_angle_brackets("title", title)?;
    let mut snippet = Map::new();
    snippet.insert("title".into(), title.into());
    if let Some(description) = post.description(PLATFORM) {
        if description.len() > MAX_DESCRIPTION_BYTES {
            return Err(PublishError::invalid(
                "description_too_long",
                format!("YouTube descriptions are up to {MAX_DESCRIPTION_BYTES} bytes"),
            ));
        }
        no_angle_brackets("description", description)?;
        snippet.insert("description".into(), description.into());
    }
    let tags = fields.list("tags", &[","]);
    if tags_length(&tags) > MAX_TAGS_CHARS {
        return Err(PublishError::invalid(
            "tags_too_long",
            format!("YouTube takes up to {MAX_TAGS_CHARS} characters of tags"),
        ));
    }
    if !tags.is_empty() {
        snippet.insert("tags".into(), json!(tags));
    }
    let category = fields.text("categoryId").unwrap_or(DEFAULT_CATEGORY).trim();
    snippet.insert(
        "categoryId".into(),
        one_of("categoryId", category, &CATEGORIES)?.into(),
    );
    for name in ["defaultLanguage", "defaultAudioLanguage"] {
        if let Some(language) = fields.text(name) {
            snippet.insert(name.into(), language.trim().into());
        }
    }

    let mut status = Map::new();
    let privacy = fields
        .text("privacyStatus")
        .map(|p| one_of("privacyStatus", p.trim(), &PRIVACY_STATUSES))
        .transpose()?;
    if let Some(raw) = fields.text("youtube_publish_at") {
        let at = rfc3339("youtube_publish_at", raw)?;
        if at <= time::now().and_utc() {
            return Err(PublishError::invalid(
                "invalid_field",
                "youtube_publish_at must be in the future",
            ));
        }
        if privacy.is_some_and(|p| p != "private") {
            warnings.push("youtube_publish_at makes the video private until then".to_owned());
        }
        status.insert("privacyStatus".into(), "private".into());
        status.insert(
            "publishAt".into(),
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into(),
        );
    } else {
        status.insert("privacyStatus".into(), privacy.unwrap_or("public").into());
    }
    if let Some(license) = fields.text("license") {
        status.insert(
            "license".into(),
            one_of("license", license.trim(), &LICENSES)?.into(),
        );
    }
    for (key, names) in [
        ("embeddable", &["embeddable"][..]),
        ("publicStatsViewable", &["publicStatsViewable"]),
        (
            "selfDeclaredMadeForKids",
            &["selfDeclaredMadeForKids", "madeForKids"],
        ),
        (
            "containsSyntheticMedia",
            &["containsSyntheticMedia", "is_ai_generated"],
        ),
    ] {
        if let Some(v) = flag(fields, names)? {
            status.insert(key.into(), v.into());
        }
    }

    let mut resource = json!({"snippet": snippet, "status": status});
    let mut parts = vec!["snippet", "status"];
    if let Some(raw) = fields.text("recordingDate") {
        let at = rfc3339("recordingDate", raw)?;
        resource["recordingDetails"] = json!({
            "recordingDate": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
        parts.push("recordingDetails");
    }
    if let Some(paid) = flag(fields, &["hasPaidProductPlacement"])? {
        resource["paidProductPlacementDetails"] = json!({"hasPaidProductPlacement": paid});
        parts.push("paidProductPlacementDetails");
    }

    let allowed = fields.list("allowedCountries", &[","]);
    let blocked = fields.list("blockedCountries", &[","]);
    if !allowed.is_empty() && !blocked.is_empty() {
        return Err(PublishError::invalid(
            "invalid_field",
            "allowedCountries and blockedCountries exclude each other",
        ));
    }
    if !allowed.is_empty() || !blocked.is_empty() {
        // contentDetails.regionRestriction is read-only in the Data API.
        warnings.push(
            "allowedCountries/blockedCountries cannot be set through the YouTube API and were ignored"
                .to_owned(),
        );
    }
    if fields.names().any(|n| n.starts_with("youtube_subtitle_")) {
        warnings.push(
            "YouTube subtitles are not supported by Postgate yet and were ignored".to_owned(),
        );
    }
    Ok(Plan {
        resource,
        parts: parts.join(","),
        notify_subscribers: flag(fields, &["youtube_notify_subscribers"])?,
        playlists: fields.list("youtube_playlist_id", &[","]),
        first_comment: post
            .first_comment(PLATFORM)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        warnings,
    })
}

/// The post's one video.
fn the_video(post: &Post) -> Result<&Media, PublishError> {
    match (post.kind, post.media.as_slice()) {
        (PostKind::Video, [video]) => Ok(video),
        (PostKind::Video, _) => Err(PublishError::invalid(
            "invalid_media_count",
            "YouTube takes one video per post",
        )),
        _ => Err(PublishError::invalid(
            "unsupported_post_type",
            "YouTube takes videos only",
        )),
    }
}

fn check_thumbnail(post: &Post) -> Result<(), PublishError> {
    let Some(thumbnail) = post.attachment("thumbnail") else {
        return Ok(());
    };
    if thumbnail.kind != MediaKind::Image
        || !THUMBNAIL_TYPES.contains(&thumbnail.content_type.as_str())
    {
        return Err(PublishError::invalid(
            "unsupported_media_type",
            "YouTube thumbnails are JPEG or PNG images",
        ));
    }
    if thumbnail.size > MAX_THUMBNAIL_BYTES {
        return Err(PublishError::invalid(
            "media_too_large",
            format!("YouTube thumbnails are up to {MAX_THUMBNAIL_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Where a post stands between calls.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Stage {
    /// The session is open; `offset` is how much it held at the last answer.
    Uploading { session_uri: String, offset: u64 },
    /// The upload is complete: YouTube has the video.
    Processing { video_id: String },
}

impl Stage {
    fn of(state: &Value) -> Result<Self, PublishError> {
        serde_json::from_value(state.clone()).map_err(|e| {
            PublishError::refused(
                "invalid_state",
                format!("the stored upload state is unreadable: {e}"),
                false,
            )
        })
    }

    fn pending(self, after: Duration) -> Progress {
        Progress::Pending {
            state: serde_json::to_value(self).unwrap_or_default(),
            after,
        }
    }
}

/// What a resumable session holds.
#[derive(Debug, Clone, PartialEq)]
enum Session {
    /// The bytes before this offset.
    Holds(u64),
    /// Everything: the video's id.
    Complete(String),
}

/// Google's errors are `{"error": {"code", "message", "errors": [{"reason", "domain"}]}}`;
/// the reason says more than the status (a used-up quota and a rate limit are both 403).
fn refusal(status: StatusCode, body: &Value, effect: Effect) -> PublishError {
    let reason = body["error"]["errors"][0]["reason"].as_str().unwrap_or("");
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    match reason {
        "quotaExceeded" => PublishError::refused("quota_exceeded", message, false),
        "uploadLimitExceeded" => PublishError::refused("upload_limit_exceeded", message, false),
        "rateLimitExceeded" | "userRateLimitExceeded" => {
            PublishError::refused("rate_limited", message, true)
        }
        _ if status == StatusCode::UNAUTHORIZED => PublishError::Reauth {
            reason: if reason.is_empty() {
                "authError"
            } else {
                reason
            }
            .to_owned(),
            message,
        },
        _ if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
            http::refusal(status, body, effect)
        }
        "" => PublishError::refused(&format!("http_{}", status.as_u16()), message, false),
        _ => PublishError::refused(reason, message, false),
    }
}

fn authed(call: &Call<'_>, method: Method, url: &url::Url) -> reqwest::RequestBuilder {
    call.app
        .http
        .request(method, url)
        .bearer_auth(&call.tokens.access_token)
}

async fn send(request: reqwest::RequestBuilder, effect: Effect) -> Result<Answer, PublishError> {
    http::send_reading(request, effect, refusal).await
}

/// Opens the resumable session: its URI.
async fn start_session(
    call: &Call<'_>,
    plan: &Plan,
    video: &Media,
) -> Result<String, PublishError> {
    let mut url = endpoint(call.app, "videos_upload")?;
    url.query_pairs_mut()
        .append_pair("uploadType", "resumable")
        .append_pair("part", &plan.parts);
    if let Some(notify) = plan.notify_subscribers {
        url.query_pairs_mut()
            .append_pair("notifySubscribers", &notify.to_string());
    }
    let request = authed(call, Method::POST, &url)
        .header("X-Upload-Content-Length", video.size)
        .header("X-Upload-Content-Type", &video.content_type)
        .json(&plan.resource);
    // A session is invisible: a lost answer leaves nothing to find.
    let answer = send(request, Effect::Harmless).await?;
    answer
        .header("location")
        .filter(|l| url::Url::parse(l).is_ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            PublishError::refused(
                "invalid_answer",
                "YouTube opened no upload session (no Location)",
                true,
            )
        })
}

/// What a chunk's or a status query's answer says the session holds.
fn session_of(answer: &Answer) -> Result<Session, PublishError> {
    if answer.status != StatusCode::PERMANENT_REDIRECT {
        return answer.body["id"]
            .as_str()
            .map(|id| Session::Complete(id.to_owned()))
            .ok_or_else(|| {
                PublishError::refused("invalid_answer", "the finished upload named no video", true)
            });
    }
    // `Range: bytes=0-N` once the session holds anything.
    let Some(range) = answer.header("range") else {
        return Ok(Session::Holds(0));
    };
    range
        .strip_prefix("bytes=0-")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map(|last| Session::Holds(last + 1))
        .ok_or_else(|| {
            PublishError::refused(
                "invalid_answer",
                format!("YouTube answered an unreadable Range: {range}"),
                true,
            )
        })
}

async fn put_session(
    call: &Call<'_>,
    session_uri: &str,
    content_range: String,
    body: bytes::Bytes,
) -> Result<Session, PublishError> {
    let url = url::Url::parse(session_uri)
        .map_err(|e| PublishError::refused("invalid_state", e.to_string(), false))?;
    let request = authed(call, Method::PUT, &url)
        .timeout(CHUNK_TIMEOUT)
        .header(header::CONTENT_RANGE, content_range)
        .header(header::CONTENT_LENGTH, body.len())
        .body(body);
    // Harmless: a chunk whose answer is lost is found out by asking the session.
    let answer = http::send_accepting(
        request,
        Effect::Harmless,
        refusal,
        Some(StatusCode::PERMANENT_REDIRECT),
    )
    .await;
    match answer {
        Ok(answer) => session_of(&answer),
        Err(PublishError::Refused { code, .. }) if code == "http_404" || code == "notFound" => {
            Err(PublishError::refused(
                "upload_session_expired",
                "the YouTube upload session expired before the video was complete",
                false,
            ))
        }
        Err(e) => Err(e),
    }
}

/// Asks the session what it holds (an empty PUT with `bytes */total`).
async fn ask(call: &Call<'_>, session_uri: &str, total: u64) -> Result<Session, PublishError> {
    put_session(
        call,
        session_uri,
        format!("bytes */{total}"),
        bytes::Bytes::new(),
    )
    .await
}

/// Whether an interrupted chunk is resumed by asking the session: an outage or a lost
/// answer, not a refusal.
fn interrupted(e: &PublishError) -> bool {
    e.retryable() && e.code() != "rate_limited"
}

/// Sends the bytes the session lacks, at most `STEP_BYTES` of them.
async fn upload(
    call: &Call<'_>,
    video: &Media,
    session_uri: &str,
) -> Result<Session, PublishError> {
    let total = video.size;
    let mut held = match ask(call, session_uri, total).await? {
        Session::Holds(n) => n,
        complete => return Ok(complete),
    };
    let stop = held.saturating_add(STEP_BYTES);
    let mut interruptions = 0;
    while held < total {
        if held >= stop {
            return Ok(Session::Holds(held));
        }
        // The chunk the session is in, from what it holds.
        let Some(chunk) = parts(total, CHUNK_BYTES).find(|r| r.end > held) else {
            break;
        };
        let range = held..chunk.end;
        let bytes = call.media.range(video, range.clone()).await?;
        let content_range = format!("bytes {}-{}/{total}", range.start, range.end - 1);
        let answer = match put_session(call, session_uri, content_range, bytes).await {
            Err(e) if interrupted(&e) && interruptions < MAX_INTERRUPTIONS => {
                interruptions += 1;
                ask(call, session_uri, total).await?
            }
            other => {
                interruptions = 0;
                other?
            }
        };
        match answer {
            Session::Holds(n) => held = n,
            complete => return Ok(complete),
        }
    }
    // Every byte was sent and no answer said the video was made: the session knows.
    match ask(call, session_uri, total).await? {
        Session::Holds(n) if n >= total => Err(PublishError::refused(
            "invalid_answer",
            "YouTube holds the whole upload but made no video",
            true,
        )),
        other => Ok(other),
    }
}

/// How YouTube's processing of a video went.
#[derive(Debug, Clone, PartialEq)]
enum Processing {
    Running,
    Succeeded,
    Failed(String),
}

/// Reads `videos.list` (`part=status,processingDetails`) of one video.
fn processing_of(item: &Value) -> Processing {
    let status = &item["status"];
    let details = &item["processingDetails"];
    let reason = |keys: &[(&Value, &str)]| {
        keys.iter()
            .find_map(|(v, k)| v[*k].as_str())
            .unwrap_or("unknown")
            .to_owned()
    };
    match status["uploadStatus"].as_str() {
        Some("rejected") => {
            return Processing::Failed(format!(
                "YouTube rejected the video ({})",
                reason(&[(status, "rejectionReason")])
            ));
        }
        Some("failed") => {
            return Processing::Failed(format!(
                "YouTube could not process the video ({})",
                reason(&[
                    (status, "failureReason"),
                    (details, "processingFailureReason")
                ])
            ));
        }
        _ => {}
    }
    match details["processingStatus"].as_str() {
        Some("succeeded") => Processing::Succeeded,
        Some("failed" | "terminated") => Processing::Failed(format!(
            "YouTube could not process the video ({})",
            reason(&[
                (details, "processingFailureReason"),
                (status, "failureReason")
            ])
        )),
        _ => Processing::Running,
    }
}

/// The video's processing, `None` when the channel has no such video.
async fn look(call: &Call<'_>, video_id: &str) -> Result<Option<Processing>, PublishError> {
    let mut url = endpoint(call.app, "videos")?;
    url.query_pairs_mut()
        .append_pair("part", "status,processingDetails")
        .append_pair("id", video_id);
    let answer = send(authed(call, Method::GET, &url), Effect::Harmless).await?;
    Ok(answer.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == video_id))
        .map(processing_of))
}

fn published(call: &Call<'_>, video_id: &str) -> Published {
    let url = sandbox_page(call.app, "videos", video_id)
        .unwrap_or_else(|| format!("https://www.youtube.com/watch?v={video_id}"));
    let mut extra = Map::new();
    extra.insert("video_id".into(), video_id.into());
    Published {
        post_id: video_id.to_owned(),
        url: Some(url),
        extra,
        warnings: Vec::new(),
    }
}

/// The video is processed: the thumbnail, playlists and first comment, none of which
/// fails the post.
async fn follow_ups(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    video_id: &str,
) -> Result<Published, PublishError> {
    let mut done = published(call, video_id);
    done.warnings.extend(plan.warnings.iter().cloned());
    if let Some(thumbnail) = post.attachment("thumbnail") {
        match set_thumbnail(call, video_id, thumbnail).await {
            Ok(()) => {
                done.extra.insert("thumbnail_set".into(), true.into());
            }
            Err(e) => {
                done.extra.insert("thumbnail_set".into(), false.into());
                done.warnings
                    .push(format!("The thumbnail was not set: {e}"));
            }
        }
    }
    let mut items = Vec::new();
    for playlist in &plan.playlists {
        match add_to_playlist(call, video_id, playlist).await {
            Ok(item) => items.push(item),
            Err(e) => done.warnings.push(format!(
                "The video was not added to playlist {playlist}: {e}"
            )),
        }
    }
    if !items.is_empty() {
        done.extra.insert("playlist_item_ids".into(), json!(items));
    }
    if let Some(text) = &plan.first_comment {
        note_first_comment(&mut done, comment(call, video_id, text).await);
    }
    Ok(done)
}

async fn set_thumbnail(call: &Call<'_>, video_id: &str, image: &Media) -> Result<(), PublishError> {
    let bytes = call.media.bytes(image).await?;
    let mut url = endpoint(call.app, "thumbnails_set")?;
    url.query_pairs_mut()
        .append_pair("videoId", video_id)
        .append_pair("uploadType", "media");
    let request = authed(call, Method::POST, &url)
        .header(header::CONTENT_TYPE, &image.content_type)
        .body(bytes);
    send(request, Effect::Harmless).await.map(drop)
}

async fn add_to_playlist(
    call: &Call<'_>,
    video_id: &str,
    playlist: &str,
) -> Result<String, PublishError> {
    let mut url = endpoint(call.app, "playlist_items")?;
    url.query_pairs_mut().append_pair("part", "snippet");
    let body = json!({"snippet": {"playlistId": playlist,
        "resourceId": {"kind": "youtube#video", "videoId": video_id}}});
    let answer = send(
        authed(call, Method::POST, &url).json(&body),
        Effect::Creates,
    )
    .await?;
    Ok(answer.body["id"].as_str().unwrap_or_default().to_owned())
}

async fn comment(call: &Call<'_>, video_id: &str, text: &str) -> Result<(), PublishError> {
    let mut url = endpoint(call.app, "comment_threads")?;
    url.query_pairs_mut().append_pair("part", "snippet");
    let body = json!({"snippet": {"videoId": video_id,
        "topLevelComment": {"snippet": {"textOriginal": text}}}});
    send(
        authed(call, Method::POST, &url).json(&body),
        Effect::Creates,
    )
    .await
    .map(drop)
}

/// The next step of a video YouTube has: done once processed.
async fn after_upload(
    call: &Call<'_>,
    post: &Post,
    plan: &Plan,
    video_id: String,
) -> Result<Progress, PublishError> {
    match look(call, &video_id).await? {
        None => Err(PublishError::refused(
            "video_not_found",
            format!("YouTube no longer has video {video_id}"),
            false,
        )),
        Some(Processing::Succeeded) => Ok(follow_ups(call, post, plan, &video_id).await?.into()),
        Some(Processing::Failed(why)) => {
            Err(PublishError::refused("processing_failed", why, false))
        }
        Some(Processing::Running) => Ok(Stage::Processing { video_id }.pending(PROCESSING_POLL)),
    }
}

/// The channel's video of this post among its recent uploads: its title, made since the
/// first attempt.
async fn search_uploads(call: &Call<'_>, title: &str) -> Result<Option<String>, PublishError> {
    let mut url = endpoint(call.app, "search")?;
    url.query_pairs_mut()
        .append_pair("part", "snippet")
        .append_pair("forMine", "true")
        .append_pair("type", "video")
        .append_pair("order", "date")
        .append_pair("maxResults", SEARCH_RESULTS);
    let answer = send(authed(call, Method::GET, &url), Effect::Harmless).await?;
    let since = call.looked_up_since().and_utc();
    Ok(answer.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| {
            let snippet = &item["snippet"];
            let recent = snippet["publishedAt"]
                .as_str()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .is_some_and(|at| at >= since);
            recent && snippet["title"].as_str() == Some(title)
        })
        .and_then(|item| item["id"]["videoId"].as_str().map(str::to_owned)))
}

#[async_trait]
impl Publisher for Youtube {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        let video = the_video(post)?;
        LIMITS.check(video)?;
        check_thumbnail(post)?;
        Ok(plan(post)?.warnings)
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        let video = the_video(post)?;
        match call.resume.map(Stage::of).transpose()? {
            None => {
                let session_uri = start_session(call, &plan, video).await?;
                Ok(Stage::Uploading {
                    session_uri,
                    offset: 0,
                }
                .pending(Duration::ZERO))
            }
            Some(Stage::Uploading { session_uri, .. }) => {
                match upload(call, video, &session_uri).await? {
                    Session::Holds(offset) => Ok(Stage::Uploading {
                        session_uri,
                        offset,
                    }
                    .pending(Duration::ZERO)),
                    Session::Complete(video_id) => after_upload(call, post, &plan, video_id).await,
                }
            }
            Some(Stage::Processing { video_id }) => after_upload(call, post, &plan, video_id).await,
        }
    }

    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let video_id = match call.resume.map(Stage::of).transpose()? {
            // The first step opens a session; a video of this post would be among the
            // channel's uploads.
            None => {
                return Ok(search_uploads(call, post.text(PLATFORM).trim())
                    .await?
                    .map(|id| published(call, &id)));
            }
            Some(Stage::Uploading { session_uri, .. }) => {
                let video = the_video(post)?;
                match ask(call, &session_uri, video.size).await? {
                    Session::Complete(id) => id,
                    // Sending more of it is harmless.
                    Session::Holds(_) => return Ok(None),
                }
            }
            Some(Stage::Processing { video_id }) => video_id,
        };
        // A video still processing is looked at again by the next step.
        Ok(match look(call, &video_id).await? {
            Some(Processing::Succeeded) => Some(published(call, &video_id)),
            _ => None,
        })
    }

    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let mut url = endpoint(call.app, "videos")?;
        url.query_pairs_mut().append_pair("id", post_id);
        send(authed(call, Method::DELETE, &url), Effect::Harmless)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::samples;

    fn video_post(pairs: &[(&str, &str)]) -> Post {
        let mut media = samples::images(1, "video/mp4");
        media[0].kind = MediaKind::Video;
        samples::post(PostKind::Video, pairs, media)
    }

    fn code(pairs: &[(&str, &str)]) -> String {
        Youtube
            .check(&video_post(pairs))
            .unwrap_err()
            .code()
            .to_owned()
    }

    #[test]
    fn every_option_reaches_the_video_resource() {
        let plan = plan(&video_post(&[
            ("title", "Generic"),
            ("youtube_title", "Own title"),
            ("youtube_description", "About it"),
            ("tags", "a,b c"),
            ("categoryId", "10"),
            ("privacyStatus", "unlisted"),
            ("embeddable", "false"),
            ("license", "creativeCommon"),
            ("publicStatsViewable", "no"),
            ("madeForKids", "true"),
            ("is_ai_generated", "yes"),
            ("hasPaidProductPlacement", "true"),
            ("defaultLanguage", "en"),
            ("defaultAudioLanguage", "en-US"),
            ("recordingDate", "2026-01-02T03:04:05+01:00"),
            ("youtube_playlist_id", "PL1,PL2"),
            ("youtube_notify_subscribers", "false"),
            ("youtube_first_comment", "First!"),
        ]))
        .unwrap();
        assert_eq!(
            plan.resource,
            json!({
                "snippet": {"title": "Own title", "description": "About it", "tags": ["a", "b c"],
                    "categoryId": "10", "defaultLanguage": "en", "defaultAudioLanguage": "en-US"},
                "status": {"privacyStatus": "unlisted", "embeddable": false,
                    "license": "creativeCommon", "publicStatsViewable": false,
                    "selfDeclaredMadeForKids": true, "containsSyntheticMedia": true},
                "recordingDetails": {"recordingDate": "2026-01-02T02:04:05Z"},
                "paidProductPlacementDetails": {"hasPaidProductPlacement": true},
            })
        );
        assert_eq!(
            plan.parts,
            "snippet,status,recordingDetails,paidProductPlacementDetails"
        );
        assert_eq!(plan.notify_subscribers, Some(false));
        assert_eq!(plan.playlists, ["PL1", "PL2"]);
        assert_eq!(plan.first_comment.as_deref(), Some("First!"));
    }

    #[test]
    fn a_publish_time_makes_the_video_private() {
        let at = (time::now() + chrono::Duration::days(2))
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let plan = plan(&video_post(&[
            ("title", "Later"),
            ("privacyStatus", "public"),
            ("youtube_publish_at", &at),
        ]))
        .unwrap();
        assert_eq!(plan.resource["status"]["privacyStatus"], "private");
        assert_eq!(plan.resource["status"]["publishAt"], at.as_str());
        assert_eq!(plan.resource["snippet"]["categoryId"], DEFAULT_CATEGORY);
        assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    }

    #[test]
    fn what_youtube_refuses_is_refused_before_any_call() {
        assert!(Youtube.check(&video_post(&[("title", "Fine")])).is_ok());
        assert_eq!(code(&[]), "missing_title");
        assert_eq!(code(&[("title", &"t".repeat(101))]), "title_too_long");
        assert_eq!(code(&[("title", "a <b>")]), "invalid_field");
        let long = "é".repeat(2501);
        assert_eq!(
            code(&[("title", "t"), ("description", &long)]),
            "description_too_long"
        );
        let tags = vec!["tag"; 126].join(",");
        assert_eq!(code(&[("title", "t"), ("tags", &tags)]), "tags_too_long");
        for (name, bad) in [
            ("categoryId", "99"),
            ("privacyStatus", "secret"),
            ("license", "gpl"),
            ("embeddable", "maybe"),
            ("youtube_publish_at", "tomorrow"),
            ("youtube_publish_at", "2001-01-01T00:00:00Z"),
            ("recordingDate", "yesterday"),
        ] {
            assert_eq!(
                code(&[("title", "t"), (name, bad)]),
                "invalid_field",
                "{name}"
            );
        }
        assert_eq!(
            code(&[
                ("title", "t"),
                ("allowedCountries", "US"),
                ("blockedCountries", "FR")
            ]),
            "invalid_field"
        );
        let photo = samples::post(
            PostKind::Photos,
            &[("title", "t")],
            samples::images(1, "image/png"),
        );
        assert_eq!(
            Youtube.check(&photo).unwrap_err().code(),
            "unsupported_post_type"
        );
    }

    #[test]
    fn tags_count_as_youtube_counts_them() {
        assert_eq!(tags_length(&[]), 0);
        assert_eq!(tags_length(&["ab".into(), "c d".into()]), 2 + 5 + 1);
    }

    #[test]
    fn google_errors_are_read_by_their_reason() {
        let body = |reason: &str| {
            json!({"error": {"code": 403, "message": "no",
            "errors": [{"reason": reason, "domain": "youtube.quota"}]}})
        };
        let quota = refusal(
            StatusCode::FORBIDDEN,
            &body("quotaExceeded"),
            Effect::Harmless,
        );
        assert_eq!(quota, PublishError::refused("quota_exceeded", "no", false));
        let uploads = refusal(
            StatusCode::BAD_REQUEST,
            &body("uploadLimitExceeded"),
            Effect::Harmless,
        );
        assert_eq!(uploads.code(), "upload_limit_exceeded");
        assert!(!uploads.retryable());
        for reason in ["rateLimitExceeded", "userRateLimitExceeded"] {
            assert!(refusal(StatusCode::FORBIDDEN, &body(reason), Effect::Harmless).retryable());
        }
        assert!(matches!(
            refusal(StatusCode::UNAUTHORIZED, &json!({}), Effect::Harmless),
            PublishError::Reauth { .. }
        ));
        assert!(
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                &body("backendError"),
                Effect::Harmless
            )
            .retryable()
        );
        let other = refusal(
            StatusCode::NOT_FOUND,
            &body("playlistNotFound"),
            Effect::Creates,
        );
        assert_eq!(other.code(), "playlistNotFound");
    }

    #[test]
    fn processing_is_read_from_status_and_details() {
        let item = |upload: &str, processing: &str| {
            json!({"status": {"uploadStatus": upload,
            "failureReason": "codec", "rejectionReason": "duplicate"},
            "processingDetails": {"processingStatus": processing}})
        };
        assert_eq!(
            processing_of(&item("uploaded", "processing")),
            Processing::Running
        );
        assert_eq!(
            processing_of(&item("processed", "succeeded")),
            Processing::Succeeded
        );
        let Processing::Failed(why) = processing_of(&item("uploaded", "terminated")) else {
            panic!("terminated is a failure");
        };
        assert!(why.contains("codec"), "{why}");
        let Processing::Failed(why) = processing_of(&item("rejected", "succeeded")) else {
            panic!("rejected is a failure");
        };
        assert!(why.contains("duplicate"), "{why}");
    }

    #[test]
    fn stages_survive_their_json() {
        for stage in [
            Stage::Uploading {
                session_uri: "https://u/x?upload_id=1".into(),
                offset: 42,
            },
            Stage::Processing {
                video_id: "abc".into(),
            },
        ] {
            let Progress::Pending { state, .. } = stage.clone().pending(Duration::ZERO) else {
                panic!("pending");
            };
            assert_eq!(Stage::of(&state).unwrap(), stage);
        }
    }
}
