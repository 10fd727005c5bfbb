//! `POST /api/uploadposts/posts/retry` and `/posts/unpublish`: acting on uploads after the
//! fact.

use super::extract::{Authenticated, JsonObject};
use crate::api::accounts::named_field;
use crate::db::{connections, profiles};
use crate::domain::profile_fields::FieldError;
use crate::domain::{Platform, Username};
use crate::error::ApiError;
use crate::publish::publisher::PublishError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Data;
use serde_json::json;

/// Ids and names in these bodies are short.
const MAX_FIELD_CHARS: usize = 512;

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(post, path = "/api/uploadposts/posts/retry", tag = "publishing", security(("apikey" = [])),
    request_body = super::schemas::RetryUpload,
    responses((status = 200, description = "`{success, request_id, message}`: the failed platforms are queued again (a platform whose last call's outcome is unknown is looked up first)", body = super::responses::Retried),
              (status = 409, description = "NOTHING_TO_RETRY", body = crate::error::ErrorBody)))]
pub async fn retry(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let job_id = named_field(&body, &["job_id"], MAX_FIELD_CHARS)?.filter(|s| !s.is_empty());
    let request_id =
        named_field(&body, &["request_id"], MAX_FIELD_CHARS)?.filter(|s| !s.is_empty());
    if job_id.is_none() && request_id.is_none() {
        return Err(FieldError::new("request_id", "request_id or job_id is required").into());
    }
    let (job, queued) = state
        .publishing
        .retry(&auth.0.id, job_id, request_id)
        .await?
        .ok_or(ApiError::JobNotFound)?;
    if queued == 0 {
        return Err(ApiError::NothingToRetry);
    }
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "request_id": job.request_id,
        "job_id": job.id,
        "retried": queued,
        "message": "Failed platforms re-enqueued for retry",
    })))
}

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(post, path = "/api/uploadposts/posts/unpublish", tag = "publishing", security(("apikey" = [])),
    request_body = super::schemas::Unpublish,
    responses((status = 200, description = "`{success, message: \"Post deleted successfully\"}`", body = super::responses::Done),
              (status = 400, description = "`platform_not_supported` (Threads, Instagram, TikTok) or a post id the platform does not take", body = crate::error::ErrorBody)))]
pub async fn unpublish(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let field = |name: &'static str| -> Result<String, ApiError> {
        named_field(&body, &[name], MAX_FIELD_CHARS)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| FieldError::new(name, "is required").into())
    };
    let (user, platform_name, post_id) = (field("user")?, field("platform")?, field("post_id")?);
    let user = Username::parse(&user)?;
    let platform =
        Platform::parse(&platform_name).ok_or(ApiError::UnknownPlatform(platform_name))?;
    let account_id = auth.0.id.clone();
    let connection = state
        .db
        .run(move |conn| {
            let Some(profile) = profiles::find(conn, &account_id, &user)? else {
                return Err(ApiError::ProfileNotFound);
            };
            Ok(connections::find(conn, &profile.id, platform.key())?)
        })
        .await?
        .ok_or(ApiError::NotConnected(platform))?;
    state
        .publishing
        .unpublish(&connection, platform, &post_id)
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "message": "Post deleted successfully"})))
}

/// A publisher's refusal, as this API answers it.
fn refused(e: PublishError) -> ApiError {
    let status = match &e {
        PublishError::Invalid { .. } | PublishError::Unsupported { .. } => StatusCode::BAD_REQUEST,
        PublishError::Reauth { .. } => StatusCode::UNAUTHORIZED,
        PublishError::Refused {
            retryable: true, ..
        }
        | PublishError::InDoubt(_) => StatusCode::SERVICE_UNAVAILABLE,
        PublishError::Refused { .. } => StatusCode::BAD_GATEWAY,
    };
    ApiError::PostActionFailed {
        status,
        code: e.code().to_owned(),
        message: e.to_string(),
    }
}
