//! `ApiError`: every failure a JSON client can see, and the only place that knows how it looks
//! on the wire (`{"success": false, "message", "error_code"}`, as Upload-Post answers).

use crate::db::DbError;
use crate::domain::link_token::TokenError;
use crate::domain::platform_list::PlatformListError;
use crate::domain::profile_fields::FieldError;
use crate::domain::upload::FieldValueError;
use crate::domain::usage::{CapViolation, Exceeded};
use crate::domain::{Limit, Platform, UsernameError};
use crate::telemetry::loggable;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Every JSON error, as the OpenAPI document describes it: Upload-Post's shape.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub error_code: Option<String>,
}

/// When a client should try again after the database was unreachable or saturated.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Authorization header required")]
    MissingCredentials,
    #[error("Invalid API key")]
    InvalidApiKey,
    #[error("A valid metrics token is required")]
    InvalidMetricsToken,
    #[error("Request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("Request body must be a JSON object")]
    BodyNotAnObject,
    #[error("Request body is too large (limit {0} bytes)")]
    PayloadTooLarge(usize),
    /// An upload over one of the `uploads_*` limits; the text names the limit.
    #[error("Upload too large: {0}")]
    UploadTooLarge(String),
    #[error("Malformed request body: {0}")]
    MalformedBody(String),
    /// The body stalled or trickled in below the configured pace.
    #[error("The request body arrived too slowly")]
    BodyTimeout,
    #[error(
        "Unsupported Content-Type {0:?}: send multipart/form-data, \
         application/x-www-form-urlencoded or application/json"
    )]
    UnsupportedMediaType(String),
    #[error("{0}")]
    InvalidValue(#[from] FieldValueError),
    #[error("{0}")]
    InvalidPlatforms(#[from] PlatformListError),
    #[error("{0}")]
    InvalidUsername(#[from] UsernameError),
    #[error("{0}")]
    InvalidField(#[from] FieldError),
    #[error("Invalid query parameter: {0}")]
    InvalidQuery(String),
    /// Text no backend can store (a NUL byte), refused before any SQL; names where it was.
    #[error("{0} must not contain NUL bytes")]
    UnstorableText(String),
    #[error("Profile not found")]
    ProfileNotFound,
    #[error("A profile with username '{0}' already exists")]
    ProfileExists(String),
    #[error("A profile with this external_id already exists")]
    ExternalIdExists,
    #[error(
        "This profile is over your plan's profile limit ({plan}: {limit} profiles) and is \
         blocked until the limit allows it again"
    )]
    ProfileBlocked { plan: String, limit: Limit },
    #[error("Invalid or expired token")]
    InvalidToken(TokenError),
    #[error("Connect link not found")]
    LinkNotFound,
    #[error("Webhook delivery not found")]
    DeliveryNotFound,
    #[error(
        "This calendar is read-only: accounts cannot be connected or disconnected with this link"
    )]
    ReadonlyCalendar,
    /// A connect link restricted to other platforms.
    #[error("This link does not offer {}", .0.display_name())]
    PlatformNotOffered(Platform),
    #[error("Unknown platform '{0}'")]
    UnknownPlatform(String),
    #[error("{} is not configured on this server", .0.display_name())]
    PlatformNotConfigured(Platform),
    #[error("Reddit is not available on this server")]
    RedditUnavailable,
    #[error("{0}")]
    UnsupportedSignIn(&'static str),
    #[error("No {} account is connected to this profile", .0.display_name())]
    NotConnected(Platform),
    #[error("{} refused the request: {}", .0.display_name(), .1)]
    PlatformRefused(Platform, String),
    #[error("{} is not answering; try again in a moment", .0.display_name())]
    PlatformUnavailable(Platform),
    #[error("{0}")]
    NothingFound(&'static str),
    #[error("The default profile cannot be deleted")]
    DefaultProfileProtected,
    #[error("Profile limit reached for your plan ({plan}: {limit} profiles)")]
    ProfileLimitReached { plan: String, limit: Limit },
    #[error("Too many requests: the limit is {limit} per minute")]
    RateLimited { limit: u32, retry_after: u64 },
    #[error(
        "Too many failed authentication attempts from this address; try again in {retry_after} seconds"
    )]
    AuthBlocked { retry_after: u64 },
    /// An upload none of whose platforms is connected to the profile; each platform with why.
    #[error("Invalid platforms: none of the requested platforms is connected to this profile")]
    NoConnectedPlatform(Vec<(String, String)>),
    /// A publishing request (an upload, a status or history query) that cannot be taken;
    /// publishing's clients read `error` as well as `message`.
    #[error("{0}")]
    UploadRejected(String),
    /// An action on a published post that the platform or this server refused, with the
    /// platform-level code (`platform_not_supported`, `account_reauth_required`, …).
    #[error("{message}")]
    PostActionFailed {
        status: StatusCode,
        code: String,
        message: String,
    },
    /// A retry with nothing to retry.
    #[error("Nothing to retry: no platform of this upload failed")]
    NothingToRetry,
    /// No scheduled job with this id that the caller may see.
    #[error("Job not found")]
    JobNotFound,
    /// No upload with this id (`by_job`: it was asked for as `job_id`).
    #[error("No upload request found with this ID")]
    UploadNotFound { id: String, by_job: bool },
    #[error("{0}")]
    MonthlyLimitExceeded(#[from] Exceeded),
    #[error("Post verification failed")]
    DailyCapReached(Vec<CapViolation>),
    #[error("{message}")]
    MediaTooLarge { message: String },
    #[error("{0}")]
    UnsupportedMedia(String),
    #[error("{0}")]
    InvalidMediaUrl(String),
    #[error("Media storage is full; try again once older media has been deleted")]
    MediaStorageFull,
    #[error("Media upload not found")]
    MediaUploadNotFound,
    #[error("{0}")]
    MediaUrlRefused(&'static str),
    #[error("{0}")]
    MediaUploadState(String),
    #[error("{0}")]
    InvalidMediaUpload(String),
    #[error("Not found")]
    RouteNotFound,
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("Service temporarily unavailable, try again")]
    Unavailable(#[source] DbError),
    #[error("Internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingCredentials
            | ApiError::InvalidApiKey
            | ApiError::InvalidMetricsToken => "UNAUTHORIZED",
            ApiError::InvalidJson(_) | ApiError::BodyNotAnObject => "INVALID_JSON",
            ApiError::PayloadTooLarge(_) | ApiError::UploadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::MalformedBody(_) => "MALFORMED_BODY",
            ApiError::BodyTimeout => "REQUEST_TIMEOUT",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::InvalidValue(_) => "INVALID_FIELD",
            ApiError::InvalidPlatforms(PlatformListError::Missing) => "PLATFORM_REQUIRED",
            ApiError::InvalidPlatforms(PlatformListError::Unknown(_)) => "INVALID_PLATFORMS",
            ApiError::InvalidUsername(_) => "INVALID_USERNAME",
            ApiError::InvalidField(_) => "INVALID_FIELD",
            ApiError::InvalidQuery(_) => "INVALID_QUERY",
            ApiError::UnstorableText(_) => "INVALID_TEXT",
            ApiError::ProfileNotFound => "PROFILE_NOT_FOUND",
            ApiError::ProfileExists(_) => "PROFILE_EXISTS",
            ApiError::ExternalIdExists => "EXTERNAL_ID_EXISTS",
            ApiError::DefaultProfileProtected => "DEFAULT_PROFILE",
            ApiError::ProfileLimitReached { .. } => "PROFILE_LIMIT_REACHED",
            ApiError::ProfileBlocked { .. } => "PROFILE_BLOCKED",
            ApiError::InvalidToken(_) => "INVALID_TOKEN",
            ApiError::LinkNotFound => "LINK_NOT_FOUND",
            ApiError::DeliveryNotFound => "DELIVERY_NOT_FOUND",
            ApiError::ReadonlyCalendar => "READONLY_CALENDAR",
            ApiError::PlatformNotOffered(_) => "PLATFORM_NOT_OFFERED",
            ApiError::UnknownPlatform(_) => "UNKNOWN_PLATFORM",
            ApiError::PlatformNotConfigured(_) => "PLATFORM_NOT_CONFIGURED",
            ApiError::RedditUnavailable => "reddit_unavailable",
            ApiError::UnsupportedSignIn(_) => "UNSUPPORTED_SIGN_IN",
            ApiError::NotConnected(_) => "NOT_CONNECTED",
            ApiError::PlatformRefused(..) => "PLATFORM_ERROR",
            ApiError::PlatformUnavailable(_) => "PLATFORM_UNAVAILABLE",
            ApiError::NothingFound(_) => "NOT_FOUND",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::AuthBlocked { .. } => "AUTH_BLOCKED",
            ApiError::NoConnectedPlatform(_) => "INVALID_PLATFORMS",
            ApiError::UploadRejected(_) => "INVALID_REQUEST",
            ApiError::UploadNotFound { .. } => "NOT_FOUND",
            ApiError::JobNotFound => "JOB_NOT_FOUND",
            ApiError::PostActionFailed { .. } => "POST_ACTION_FAILED",
            ApiError::NothingToRetry => "NOTHING_TO_RETRY",
            ApiError::MonthlyLimitExceeded(_) => "MONTHLY_LIMIT_EXCEEDED",
            ApiError::DailyCapReached(_) => "DAILY_CAP_REACHED",
            ApiError::MediaTooLarge { .. } => "MEDIA_TOO_LARGE",
            ApiError::UnsupportedMedia(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::InvalidMediaUrl(_) => "INVALID_MEDIA_URL",
            ApiError::MediaStorageFull => "MEDIA_STORAGE_FULL",
            ApiError::MediaUploadNotFound => "MEDIA_UPLOAD_NOT_FOUND",
            ApiError::MediaUrlRefused(_) => "INVALID_SIGNATURE",
            ApiError::MediaUploadState(_) => "MEDIA_UPLOAD_STATE",
            ApiError::InvalidMediaUpload(_) => "INVALID_MEDIA_UPLOAD",
            ApiError::RouteNotFound => "NOT_FOUND",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ApiError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL_ERROR",
        }
    }
}

impl ApiError {
    /// Logs the whole cause of a failure of ours (5xx); the client is never shown it. Every
    /// rendering of an `ApiError`, JSON or page, calls this.
    pub fn log_if_ours(&self) {
        match self {
            // A platform that is down, refusing, or not set up here: worth a line, not an
            // alarm about Postgate itself.
            ApiError::PlatformNotConfigured(_)
            | ApiError::RedditUnavailable
            | ApiError::PlatformUnavailable(_)
            | ApiError::PlatformRefused(..) => {
                tracing::warn!(error = %self, code = self.code(), "platform not available");
            }
            _ if self.status_code().is_server_error() => {
                tracing::error!(error = %loggable(&cause_chain(self)), code = self.code(), "request failed");
            }
            _ => {}
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MissingCredentials
            | ApiError::InvalidApiKey
            | ApiError::InvalidMetricsToken
            | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::InvalidJson(_)
            | ApiError::BodyNotAnObject
            | ApiError::InvalidUsername(_)
            | ApiError::InvalidField(_)
            | ApiError::InvalidQuery(_)
            | ApiError::UnstorableText(_)
            | ApiError::NoConnectedPlatform(_)
            | ApiError::UploadRejected(_)
            | ApiError::UnsupportedSignIn(_)
            | ApiError::MalformedBody(_)
            | ApiError::InvalidValue(_)
            | ApiError::InvalidPlatforms(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) | ApiError::UploadTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::ProfileNotFound
            | ApiError::RouteNotFound
            | ApiError::LinkNotFound
            | ApiError::DeliveryNotFound
            | ApiError::UploadNotFound { .. }
            | ApiError::JobNotFound
            | ApiError::UnknownPlatform(_)
            | ApiError::NotConnected(_)
            | ApiError::NothingFound(_) => StatusCode::NOT_FOUND,
            ApiError::ReadonlyCalendar | ApiError::PlatformNotOffered(_) => StatusCode::FORBIDDEN,
            ApiError::PlatformNotConfigured(_)
            | ApiError::RedditUnavailable
            | ApiError::PlatformUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PlatformRefused(..) => StatusCode::BAD_GATEWAY,
            ApiError::ProfileExists(_)
            | ApiError::ExternalIdExists
            | ApiError::DefaultProfileProtected => StatusCode::CONFLICT,
            ApiError::ProfileLimitReached { .. } | ApiError::ProfileBlocked { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::RateLimited { .. }
            | ApiError::AuthBlocked { .. }
            | ApiError::MonthlyLimitExceeded(_)
            | ApiError::DailyCapReached(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MediaTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InvalidMediaUrl(_) | ApiError::InvalidMediaUpload(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::MediaStorageFull => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::MediaUploadNotFound => StatusCode::NOT_FOUND,
            ApiError::MediaUrlRefused(_) => StatusCode::FORBIDDEN,
            ApiError::MediaUploadState(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PostActionFailed { status, .. } => *status,
            ApiError::NothingToRetry => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log_if_ours();
        let status = self.status_code();
        let mut builder = HttpResponse::build(status);
        let retry_after = match self {
            ApiError::RateLimited { retry_after, .. } | ApiError::AuthBlocked { retry_after } => {
                Some(*retry_after)
            }
            ApiError::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            builder.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        let mut body = json!({
            "success": false,
            "message": self.to_string(),
            "error_code": self.code(),
        });
        match self {
            // validate-jwt's documented invalid-token fields, for clients that read them.
            ApiError::InvalidToken(reason) => {
                body["isValid"] = false.into();
                body["reason"] = reason.to_string().into();
            }
            // Upload-Post's quota 429s carry the usage, or what broke which daily cap.
            ApiError::MonthlyLimitExceeded(e) => body["usage"] = json!(e.usage),
            ApiError::DailyCapReached(violations) => body["violations"] = json!(violations),
            _ => {}
        }
        match self {
            ApiError::UploadRejected(why) => body["error"] = why.as_str().into(),
            ApiError::JobNotFound => body["error"] = "Job not found".into(),
            ApiError::PostActionFailed { code, message, .. } => {
                body["error_code"] = code.as_str().into();
                body["error"] = message.as_str().into();
            }
            ApiError::NothingToRetry => body["error"] = self.to_string().into(),
            ApiError::UploadNotFound { id, by_job } => {
                body[if *by_job { "job_id" } else { "request_id" }] = id.as_str().into();
                body["status"] = "not_found".into();
            }
            _ => {}
        }
        if let ApiError::NoConnectedPlatform(platforms) = self {
            body["invalid_platforms"] = platforms
                .iter()
                .map(|(p, why)| (p.clone(), serde_json::Value::from(why.as_str())))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        builder.json(body)
    }
}

/// The whole cause chain, for the log only.
fn cause_chain(e: &ApiError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_outage() {
            ApiError::Unavailable(e)
        } else {
            ApiError::Internal(e.into())
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if let Some(outage) = DbError::outage(&e) {
            return ApiError::Unavailable(outage);
        }
        match e {
            // A write under a row that a request committing first deleted (a profile, say):
            // the request answers as if it had come after the deletion.
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                tracing::info!(error = %e, "a write lost a race with a deletion");
                ApiError::NothingFound("What this request refers to no longer exists")
            }
            e => ApiError::Internal(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn wire_shape() {
        let resp = ApiError::ProfileNotFound.error_response();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body = to_bytes(resp.into_body()).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"success": false, "message": "Profile not found", "error_code": "PROFILE_NOT_FOUND"})
        );
    }

    async fn wire(e: ApiError) -> (StatusCode, serde_json::Value) {
        let resp = e.error_response();
        let status = resp.status();
        let body = to_bytes(resp.into_body()).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[actix_web::test]
    async fn quota_429s_carry_the_reference_bodies() {
        use crate::domain::usage::{Period, Usage};
        let period = Period::containing(
            chrono::NaiveDate::from_ymd_opt(2025, 9, 3)
                .unwrap()
                .and_hms_opt(8, 0, 0)
                .unwrap(),
        );
        let usage = Usage::new(10, Limit::Max(10), &period);
        assert_eq!(
            wire(Exceeded { usage }.into()).await,
            (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"success": false,
                       "message": "This upload would exceed your monthly limit.",
                       "usage": {"count": 10, "limit": 10,
                                 "last_reset": "2025-09-01T00:00:00.000Z"},
                       "error_code": "MONTHLY_LIMIT_EXCEEDED"})
            )
        );
        let violations = [(Platform::Instagram, 50), (Platform::Tiktok, 15)]
            .into_iter()
            .filter_map(|(p, used)| CapViolation::check(p, used))
            .collect();
        assert_eq!(
            wire(ApiError::DailyCapReached(violations)).await,
            (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"success": false, "message": "Post verification failed",
                       "violations": [
                           {"platform": "instagram", "type": "hard_cap",
                            "message": "Daily cap reached for instagram: 50/50 in last 24h",
                            "used_last_24h": 50, "cap": 50},
                           {"platform": "tiktok", "type": "hard_cap",
                            "message": "Daily cap reached for tiktok: 15/15 in last 24h",
                            "used_last_24h": 15, "cap": 15}],
                       "error_code": "DAILY_CAP_REACHED"})
            )
        );
    }

    #[actix_web::test]
    async fn a_database_outage_is_a_503_with_retry_after() {
        use diesel::result::{DatabaseErrorKind, Error};
        let lost = Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        for e in [
            ApiError::from(lost),
            ApiError::from(Error::BrokenTransactionManager),
            ApiError::from(DbError::PoolTimeout),
        ] {
            let resp = e.error_response();
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{e:?}");
            assert_eq!(resp.headers().get("retry-after").unwrap(), "5");
            let body = to_bytes(resp.into_body()).await.unwrap();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["error_code"], "SERVICE_UNAVAILABLE");
            assert!(!v["message"].as_str().unwrap().contains("server closed"));
        }
        // Other database failures stay ours.
        assert!(matches!(
            ApiError::from(Error::NotFound),
            ApiError::Internal(_)
        ));
        assert!(matches!(
            ApiError::from(DbError::TaskFailed("panic".into())),
            ApiError::Internal(_)
        ));
    }

    #[actix_web::test]
    async fn internals_never_leak() {
        let resp = ApiError::Internal(anyhow::anyhow!("secret table xyz")).error_response();
        let body = to_bytes(resp.into_body()).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("xyz"));
    }
}
