//! The response bodies of the publishing, schedule, queue, media and account routes, as the
//! OpenAPI document types them (`#[utoipa::path(... body = ...)]`).
//!
//! The handlers build these bodies from the jobs and targets (`publish::report`,
//! `publish::results`); the test suite checks every body it reads against these schemas, so a
//! field that drifts fails a test. A field that is not `Option` is always present; an
//! `Option` may be absent or `null`. Extra fields may follow (platform extras in results).

use crate::domain::upload::TargetState;
use crate::publish::report::{Lifecycle, SchedulerStatus};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One platform's outcome in an upload answer (publishing reference 1.4).
#[derive(Serialize, ToSchema)]
pub struct PlatformResult {
    pub success: bool,
    /// The published post.
    pub url: Option<String>,
    pub post_id: Option<String>,
    /// Every post of a thread, first first.
    pub post_ids: Option<Vec<String>>,
    pub error: Option<String>,
    pub error_code: Option<String>,
    /// `client`, `platform` or `postgate`.
    pub error_source: Option<String>,
    pub retryable: Option<bool>,
    /// `precheck` or `profile_platform_validation`.
    pub failure_stage: Option<String>,
    /// The profile has no account on this platform.
    pub skipped: Option<bool>,
    pub skip_reason: Option<String>,
    /// Not yet final in a synchronous answer: the target's state.
    pub status: Option<TargetState>,
    pub first_comment_posted: Option<bool>,
    /// What went wrong without failing the post (a first comment, an ignored option).
    pub warnings: Option<Vec<String>>,
}

/// This month's posts, as upload answers and `/me` carry them.
#[derive(Serialize, ToSchema)]
pub struct PostUsage {
    pub count: i64,
    /// `null`: unlimited.
    pub limit: Option<u64>,
    /// The period's first instant.
    pub last_reset: String,
}

/// A synchronous upload that finished within the sync budget.
#[derive(Serialize, ToSchema)]
pub struct UploadDone {
    pub success: bool,
    pub request_id: String,
    pub job_id: String,
    /// Keyed by platform.
    pub results: BTreeMap<String, PlatformResult>,
    pub usage: Option<PostUsage>,
    /// Documents only: `Document uploaded successfully`.
    pub message: Option<String>,
}

/// An upload continuing in the background (`async_upload`, or over the sync budget): poll
/// `/api/uploadposts/status`.
#[derive(Serialize, ToSchema)]
pub struct UploadInBackground {
    pub success: bool,
    pub message: String,
    pub request_id: String,
    pub job_id: String,
    pub total_platforms: usize,
}

/// The 200 of an upload: done, or continuing in the background.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum UploadAnswer {
    Done(UploadDone),
    InBackground(UploadInBackground),
}

/// The 202 of a scheduled or queued upload.
#[derive(Serialize, ToSchema)]
pub struct UploadScheduled {
    pub success: bool,
    pub job_id: String,
    pub request_id: String,
    /// UTC: `Z` for a date, `+00:00` for a queue slot.
    pub scheduled_date: Option<String>,
    /// Queued uploads: the slot taken.
    pub queue_slot: Option<String>,
    /// Queued uploads: `Post added to queue`.
    pub message: Option<String>,
}

/// One platform in the status body.
#[derive(Serialize, ToSchema)]
pub struct PlatformStatus {
    pub platform: String,
    pub success: bool,
    pub status: TargetState,
    pub message: String,
    pub attempts: i32,
    pub platform_post_id: Option<String>,
    pub post_url: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub failure_stage: Option<String>,
    pub skip_reason: Option<String>,
    pub error_source: Option<String>,
    pub warnings: Option<Vec<String>>,
    pub retryable: Option<bool>,
    pub upload_timestamp: String,
    pub request_id: String,
    pub job_id: String,
}

/// `GET /api/uploadposts/status` (publishing reference 1.5).
#[derive(Serialize, ToSchema)]
pub struct UploadStatus {
    /// Only once `status` is final: true when completed. Pollers stop on it.
    pub success: Option<bool>,
    pub request_id: String,
    /// When asked by job id, or for a scheduled or background upload.
    pub job_id: Option<String>,
    pub external_id: Option<String>,
    pub status: Lifecycle,
    pub scheduler_status: SchedulerStatus,
    /// Platforms final (published, failed or skipped).
    pub completed: usize,
    pub total: usize,
    pub failed: usize,
    pub retryable: usize,
    pub skipped: usize,
    pub scheduled_date: Option<String>,
    pub message: String,
    pub results: Vec<PlatformStatus>,
    pub last_update: String,
}

/// One platform of one upload in history (publishing reference 1.7).
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub user_email: Option<String>,
    pub profile_username: String,
    pub platform: String,
    /// `text`, `photos`, `video` or `document`.
    pub media_type: String,
    pub upload_timestamp: String,
    pub success: bool,
    pub status: TargetState,
    /// A string, a list for a thread, or `null`.
    pub platform_post_id: Value,
    pub post_url: Option<String>,
    pub error_message: Option<String>,
    pub error_code: Option<String>,
    pub media_size_bytes: u64,
    pub post_title: Option<String>,
    pub post_caption: Option<String>,
    pub is_async: bool,
    pub job_id: String,
    pub request_id: String,
    pub external_id: Option<String>,
    pub request_total_platforms: usize,
    pub dashboard: bool,
    pub video_was_transcoded: bool,
    pub changes: Value,
    pub prevalidation_metadata: Value,
    pub fallback_to_inbox: bool,
}

/// `GET /api/uploadposts/history`.
#[derive(Serialize, ToSchema)]
pub struct UploadHistory {
    pub success: bool,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
    /// Uploads of the last 24 hours not final yet.
    pub in_progress: Vec<UploadStatus>,
    pub total: i64,
    pub page: i64,
    pub limit: i64,
}

/// A platform's own title and caption in a scheduled post.
#[derive(Serialize, ToSchema)]
pub struct PlatformContent {
    pub title: Option<String>,
    pub caption: Option<String>,
}

/// One scheduled post.
#[derive(Serialize, ToSchema)]
pub struct ScheduledPost {
    pub job_id: String,
    pub request_id: String,
    pub scheduled_date: Option<String>,
    /// `text`, `photos`, `video`, or `unknown` (documents).
    pub post_type: String,
    pub profile_username: String,
    pub title: Option<String>,
    pub caption: Option<String>,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub source_filename: Option<String>,
    pub platforms: Vec<String>,
    pub platform_content: BTreeMap<String, PlatformContent>,
    pub queued: bool,
    pub has_cover: bool,
    pub cover_preview_url: Option<String>,
    pub has_preview: bool,
    pub preview_url: Option<String>,
    pub thumbnail_url: Option<String>,
    pub original_timezone: Option<String>,
    pub original_scheduled_str: Option<String>,
}

/// `GET /api/uploadposts/schedule`.
#[derive(Serialize, ToSchema)]
pub struct ScheduledPosts {
    pub success: bool,
    pub scheduled_posts: Vec<ScheduledPost>,
    pub total: i64,
    /// `null`: no limit asked.
    pub limit: Option<i64>,
    pub offset: i64,
}

/// `DELETE /api/uploadposts/schedule/{job_id}`.
#[derive(Serialize, ToSchema)]
pub struct ScheduleCancelled {
    pub success: bool,
    pub message: String,
    pub credits_refunded: i32,
}

/// `PATCH` (or `POST`) `/api/uploadposts/schedule/{job_id}`.
#[derive(Serialize, ToSchema)]
pub struct ScheduleEdited {
    pub success: bool,
    pub job_id: String,
    pub scheduled_date: Option<String>,
    pub title: Option<String>,
    pub caption: Option<String>,
}

/// One media item of a scheduled post, behind a signed URL.
#[derive(Serialize, ToSchema)]
pub struct PreviewMedia {
    pub media_type: String,
    pub content_type: String,
    pub url: String,
}

/// `GET /api/uploadposts/schedule/{job_id}/preview`.
#[derive(Serialize, ToSchema)]
pub struct SchedulePreview {
    pub success: bool,
    pub job_id: String,
    pub media: Vec<PreviewMedia>,
}

/// A slot's time of day, in the queue's timezone.
#[derive(Serialize, ToSchema)]
pub struct SlotTime {
    pub hour: u32,
    pub minute: u32,
}

/// A profile's queue.
#[derive(Serialize, ToSchema)]
pub struct QueueSettingsView {
    /// IANA name.
    pub timezone: String,
    pub slots: Vec<SlotTime>,
    /// 0 = Monday.
    pub days_of_week: Vec<u32>,
    pub max_posts_per_slot: u32,
    /// Upcoming slots marked full by hand (`+00:00`).
    pub full_slots: Vec<String>,
}

/// `GET` and `POST /api/uploadposts/queue/settings`.
#[derive(Serialize, ToSchema)]
pub struct QueueSettingsAnswer {
    pub success: bool,
    /// After a change: `Queue settings updated`.
    pub message: Option<String>,
    pub queue_settings: QueueSettingsView,
}

/// A slot as an instant, in UTC and in the queue's timezone.
#[derive(Serialize, ToSchema)]
pub struct SlotInstant {
    pub datetime_utc: String,
    pub datetime_local: String,
    pub timezone: String,
}

/// A post waiting in a slot.
#[derive(Serialize, ToSchema)]
pub struct SlotPost {
    pub job_id: String,
    pub title: Option<String>,
    pub platforms: Vec<String>,
}

/// One slot of the queue preview.
#[derive(Serialize, ToSchema)]
pub struct QueueSlot {
    pub datetime_utc: String,
    pub datetime_local: String,
    pub available: bool,
    pub post_count: i64,
    pub max_posts_per_slot: u32,
    pub is_full: bool,
    pub manually_full: bool,
    pub scheduled_posts: Vec<SlotPost>,
}

/// `GET /api/uploadposts/queue/preview`.
#[derive(Serialize, ToSchema)]
pub struct QueuePreview {
    pub success: bool,
    pub timezone: String,
    pub slots: Vec<QueueSlot>,
    pub next_available: Option<SlotInstant>,
}

/// `GET /api/uploadposts/queue/next-slot`.
#[derive(Serialize, ToSchema)]
pub struct NextSlot {
    pub success: bool,
    /// `null` when every slot of the next 365 days is taken.
    pub next_slot: Option<SlotInstant>,
}

/// `POST` and `DELETE /api/uploadposts/queue/slot-full`.
#[derive(Serialize, ToSchema)]
pub struct SlotMarked {
    pub success: bool,
    pub message: String,
    pub slot_datetime: String,
    pub manually_full: bool,
}

/// `POST /api/uploadposts/posts/retry`.
#[derive(Serialize, ToSchema)]
pub struct Retried {
    pub success: bool,
    pub request_id: String,
    pub job_id: String,
    /// Platforms queued again.
    pub retried: usize,
    pub message: String,
}

/// A plain `{success, message}`.
#[derive(Serialize, ToSchema)]
pub struct Done {
    pub success: bool,
    pub message: String,
}

/// A staged media upload.
#[derive(Serialize, ToSchema)]
pub struct MediaUpload {
    pub success: bool,
    pub upload_id: String,
    /// `pending`, `uploaded` or `ready`.
    pub status: String,
    pub filename: Option<String>,
    /// `video`, `photo` or `document`.
    pub media_type: String,
    pub content_type: Option<String>,
    pub content_length: Option<i64>,
    pub source: Option<String>,
    /// Where to `PUT` the bytes while pending.
    pub upload_url: Option<String>,
    pub method: Option<String>,
    /// Once ready: what to pass as `video`, `photos[]` or `document`.
    pub media_url: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
}

/// `DELETE /api/uploadposts/media-uploads/{id}`.
#[derive(Serialize, ToSchema)]
pub struct MediaUploadDeleted {
    pub success: bool,
    pub upload_id: String,
}

/// `PUT /media/{id}`: the bytes arrived.
#[derive(Serialize, ToSchema)]
pub struct MediaReceived {
    pub success: bool,
    pub upload_id: String,
    pub status: String,
    pub content_length: Option<i64>,
}

/// The week start, in both spellings clients use, and the origins connect-link holders may
/// return to.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct Preferences {
    /// 0 = Sunday, 1 = Monday.
    pub weekStartDay: i32,
    pub week_start_day: i32,
    /// Ours: `scheme://host[:port]` each.
    pub allowed_redirect_origins: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountSummary {
    pub id: String,
    pub name: Option<String>,
    /// The plan's key.
    pub plan: String,
}

/// `null`: unlimited.
#[derive(Serialize, ToSchema)]
pub struct PlanLimits {
    pub profiles: Option<u64>,
    pub monthly_posts: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct MeUsage {
    pub profiles: i64,
    pub posts: i64,
}

/// `GET /api/uploadposts/me`.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub success: bool,
    pub message: String,
    pub email: Option<String>,
    /// The plan's display name.
    pub plan: String,
    pub preferences: Preferences,
    pub account: AccountSummary,
    pub limits: PlanLimits,
    pub usage: MeUsage,
    pub api_usage: PostUsage,
}
