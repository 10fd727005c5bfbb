//! The request bodies of the OpenAPI document (`routes::openapi`), named by the handlers'
//! `#[utoipa::path]` attributes.
//!
//! They describe what the handlers' typed parsers accept; the parsers
//! (`Username::from_json`, `ConnectRequest::from_json`, …) remain the authority.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /users`.
#[derive(Serialize, ToSchema)]
pub struct CreateProfile {
    /// 1–100 characters, no `/`, no control characters, not a reserved sub-path.
    pub username: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    /// Any JSON object, ≤ 16 KiB.
    pub metadata: Option<Value>,
}

/// `DELETE /users`.
#[derive(Serialize, ToSchema)]
pub struct NamedProfile {
    pub username: String,
}

/// `POST /users/generate-jwt`.
#[derive(Serialize, ToSchema)]
pub struct GenerateJwt {
    pub username: String,
    /// Absolute https URL (http only for loopback).
    pub redirect_url: Option<String>,
    pub logo_image: Option<String>,
    pub redirect_button_text: Option<String>,
    pub connect_title: Option<String>,
    pub connect_description: Option<String>,
    pub platforms: Option<Vec<String>>,
    pub show_calendar: Option<bool>,
    pub readonly_calendar: Option<bool>,
    /// en, es, de, fr, pt, pl or tr; `null` clears the profile's.
    pub language: Option<String>,
    /// Flat map of page string keys to text; `{}` or `null` clears.
    pub ui_labels: Option<Value>,
    /// Seconds, 60–172800.
    pub expires_in: Option<i64>,
}

/// `validate-jwt` body form (with the API key); the Bearer form has no body.
#[derive(Serialize, ToSchema)]
pub struct ValidateJwt {
    pub jwt: Option<String>,
}

/// `POST /oauth/{platform}/start`. With an API key, `profile` names the profile; with a
/// profile JWT it is not needed.
#[derive(Serialize, ToSchema)]
pub struct StartConnection {
    pub profile: Option<String>,
    /// Absolute http(s), at most 2000 characters.
    pub redirect_url: Option<String>,
    /// Ask the platform to let the person pick another account.
    pub switch_account: Option<bool>,
}

/// `POST /users/facebook-page`.
#[derive(Serialize, ToSchema)]
pub struct PinFacebookPage {
    /// The profile (with an API key).
    pub profile_username: Option<String>,
    pub facebook_page_id: String,
}

/// `POST /users/google-business-location`.
#[derive(Serialize, ToSchema)]
pub struct PinLocation {
    pub profile_username: Option<String>,
    /// `accounts/98/locations/12`, `locations/12` or `12`.
    pub gbp_location_id: String,
}

/// `POST /google-business/locations/select` (the Python SDK's form).
#[derive(Serialize, ToSchema)]
pub struct SelectLocation {
    pub profile: Option<String>,
    pub location_id: String,
}

/// A body naming only the profile.
#[derive(Serialize, ToSchema)]
pub struct ProfileOnly {
    pub profile_username: Option<String>,
}

/// `DELETE /users/social`.
#[derive(Serialize, ToSchema)]
pub struct Disconnect {
    /// The profile (with an API key).
    pub username: Option<String>,
    pub platform: String,
}

/// `POST /users/revoke-jwt`: exactly one of the three.
#[derive(Serialize, ToSchema)]
pub struct RevokeJwt {
    pub jwt: Option<String>,
    pub link_id: Option<String>,
    pub username: Option<String>,
}

/// `POST /users/preferences`: either spelling, 0 (Sunday) or 1 (Monday).
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct Preferences {
    pub weekStartDay: Option<i32>,
    pub week_start_day: Option<i32>,
    /// Ours: origins (`https://host[:port]`) connect-link holders may name as the Connect
    /// API's `redirect_url`; replaces the list, `null` or `[]` clears it.
    pub allowed_redirect_origins: Option<Vec<String>>,
}

/// `POST /users/notifications`, `/notification-config`: an upsert.
#[derive(Serialize, ToSchema)]
pub struct NotificationSettings {
    pub webhook_url: Option<String>,
    /// A list of event names, or a map of event name to boolean.
    pub webhook_events: Option<Value>,
    /// A list of channel names, or a map of channel name to boolean.
    pub channels: Option<Value>,
    pub telegram_chat_id: Option<String>,
    pub slack_webhook_url: Option<String>,
    pub whatsapp_to_phone: Option<String>,
}

/// `POST /users/profile-webhook`.
#[derive(Serialize, ToSchema)]
pub struct ProfileWebhook {
    pub profile_username: String,
    pub webhook_url: String,
    pub webhook_events: Option<Value>,
}

/// `DELETE /users/profile-webhook`.
#[derive(Serialize, ToSchema)]
pub struct ProfileWebhookTarget {
    pub profile_username: String,
}

/// `POST /users/webhook-deliveries/redeliver`.
#[derive(Serialize, ToSchema)]
pub struct Redeliver {
    pub id: String,
}

/// One posting time of a queue, on its zone's wall clock.
#[derive(Serialize, ToSchema)]
pub struct QueueSlotTime {
    /// 0-23.
    pub hour: u32,
    /// 0-59; default 0.
    pub minute: Option<u32>,
}

/// `POST /queue/settings`: only the fields sent change.
#[derive(Serialize, ToSchema)]
pub struct QueueSettingsChange {
    /// The profile (alias `profile`); default: the account's default profile.
    pub profile_username: Option<String>,
    /// IANA name, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// 1-24 distinct times (`"09:30"` strings are accepted too).
    pub slots: Option<Vec<QueueSlotTime>>,
    /// Distinct days, 0 (Monday) to 6 (Sunday).
    pub days_of_week: Option<Vec<u32>>,
    /// 1-100.
    pub max_posts_per_slot: Option<u32>,
}

/// `POST` / `DELETE /queue/slot-full`.
#[derive(Serialize, ToSchema)]
pub struct QueueSlotFull {
    /// The profile (alias `profile`); default: the account's default profile.
    pub profile_username: Option<String>,
    /// The slot as the preview lists it (`datetime_utc`); a time without offset is UTC.
    pub slot_datetime: String,
    /// POST only: true (default) marks the slot full, false frees it.
    pub full: Option<bool>,
}

/// `POST /media-uploads`.
#[derive(Serialize, ToSchema)]
pub struct NewMediaUpload {
    pub filename: String,
    /// What the client believes the file is; the bytes decide on `complete`.
    pub content_type: Option<String>,
    /// The exact size of the file that will be PUT, in bytes.
    pub content_length: u64,
    /// `video`, `image` (or `photo`) or `document`.
    pub media_type: String,
    pub source: Option<String>,
}

/// `PATCH` (or `POST`) `/schedule/{job_id}`: at least one field.
#[derive(Serialize, ToSchema)]
pub struct ScheduleEdit {
    /// ISO 8601; naive times are read in `timezone`.
    pub scheduled_date: Option<String>,
    /// IANA name; default UTC.
    pub timezone: Option<String>,
    pub title: Option<String>,
    pub caption: Option<String>,
}

/// `POST /posts/retry`: one of the two.
#[derive(Serialize, ToSchema)]
pub struct RetryUpload {
    pub request_id: Option<String>,
    pub job_id: Option<String>,
}

/// `POST /posts/unpublish`.
#[derive(Serialize, ToSchema)]
pub struct Unpublish {
    /// The profile's username.
    pub user: String,
    pub platform: String,
    /// The platform's id of the post, as the upload reported it.
    pub post_id: String,
}
