//! Staged uploads (`/media-uploads`) and the signed media URLs: `PUT /media/{id}` receives a
//! staged upload's bytes, `GET /media/{id}` serves stored media to platforms.

use super::extract::{Authenticated, JsonObject};
use crate::db::media::{MediaObject, READY};
use crate::domain::profile_fields::FieldError;
use crate::domain::time;
use crate::domain::upload::MediaKind;
use crate::error::ApiError;
use crate::media::MediaError;
use crate::media::staged::{NewUpload, Staged};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{Data, Path, Payload, Query};
use serde::Deserialize;
use serde_json::{Value, json};

impl From<MediaError> for ApiError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::TooLarge { .. } => ApiError::MediaTooLarge {
                message: e.to_string(),
            },
            MediaError::Unsupported(m) => ApiError::UnsupportedMedia(m),
            MediaError::BadUrl(m) => ApiError::InvalidMediaUrl(m),
            MediaError::StorageFull => ApiError::MediaStorageFull,
            MediaError::NotFound => ApiError::MediaUploadNotFound,
            MediaError::Forbidden(m) => ApiError::MediaUrlRefused(m),
            MediaError::WrongState(m) => ApiError::MediaUploadState(m),
            MediaError::BadRequest(m) => ApiError::InvalidMediaUpload(m),
            MediaError::Internal(e) => ApiError::Internal(e),
            MediaError::Unavailable(e) => ApiError::Unavailable(e),
        }
    }
}

/// A staged upload as every answer shows it.
fn view(staged: &Staged) -> Value {
    let row = &staged.row;
    let ready = row.state == READY;
    json!({
        "success": true,
        "upload_id": row.id,
        "status": row.state,
        "filename": row.filename,
        "media_type": row.kind,
        "content_type": row.content_type,
        "content_length": row.size,
        "source": row.source,
        "upload_url": staged.upload_url,
        "method": (!ready).then_some("PUT"),
        "media_url": staged.media_url,
        "expires_at": row.expires_at.map(time::rfc3339),
        "created_at": time::rfc3339(row.created_at),
    })
}

fn text<'a>(body: &'a JsonObject, field: &'static str) -> Result<Option<&'a str>, FieldError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(FieldError::new(field, "must be a string")),
    }
}

/// `content_length` as a number or a numeric string.
fn length(body: &JsonObject) -> Result<u64, FieldError> {
    let bad = || FieldError::new("content_length", "must be a positive whole number of bytes");
    match body.get("content_length") {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn new_upload(body: &JsonObject) -> Result<NewUpload, ApiError> {
    let filename =
        text(body, "filename")?.ok_or_else(|| FieldError::new("filename", "is required"))?;
    let kind = match text(body, "media_type")? {
        Some("photo") => MediaKind::Image,
        Some(k) => MediaKind::parse(&k.to_ascii_lowercase())
            .ok_or_else(|| FieldError::new("media_type", "must be video, image or document"))?,
        None => return Err(FieldError::new("media_type", "is required").into()),
    };
    Ok(NewUpload {
        filename: filename.to_owned(),
        content_type: text(body, "content_type")?
            .unwrap_or("application/octet-stream")
            .to_owned(),
        content_length: length(body)?,
        kind,
        source: text(body, "source")?.map(str::to_owned),
    })
}

/// Stages an upload: `PUT` the file to `upload_url`, then call `complete`.
#[utoipa::path(post, path = "/api/uploadposts/media-uploads", tag = "media", security(("apikey" = [])), request_body = super::schemas::NewMediaUpload, responses((status = 200, description = "`{success, upload_id, upload_url, method, expires_at, …}`", body = super::responses::MediaUpload), (status = 413, description = "Larger than the limit of its media type", body = crate::error::ErrorBody), (status = 507, description = "Media storage is full", body = crate::error::ErrorBody)))]
pub async fn create(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let new = new_upload(&body)?;
    let staged = state.media.stage(&auth.0.id, new).await?;
    Ok(HttpResponse::Ok().json(view(&staged)))
}

/// A staged upload of this account.
#[utoipa::path(get, path = "/api/uploadposts/media-uploads/{id}", tag = "media", security(("apikey" = [])), params(("id" = String, Path, description = "The upload_id")), responses((status = 200, description = "The upload, with `media_url` once complete", body = super::responses::MediaUpload)))]
pub async fn get(
    state: Data<AppState>,
    auth: Authenticated,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staged = state.media.upload(&auth.0.id, &id).await?;
    Ok(HttpResponse::Ok().json(view(&staged)))
}

/// Deletes a staged upload and its file.
#[utoipa::path(delete, path = "/api/uploadposts/media-uploads/{id}", tag = "media", security(("apikey" = [])), params(("id" = String, Path, description = "The upload_id")), responses((status = 200, description = "`{success, upload_id}`", body = super::responses::MediaUploadDeleted)))]
pub async fn delete(
    state: Data<AppState>,
    auth: Authenticated,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.media.delete_upload(&auth.0.id, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "upload_id": id.into_inner()})))
}

/// Completes an upload: the file is sniffed and must be of the declared `media_type`. The
/// `media_url` is what to pass as `video`, `photos[]` or `document` until `expires_at`.
#[utoipa::path(post, path = "/api/uploadposts/media-uploads/{id}/complete", tag = "media", security(("apikey" = [])), params(("id" = String, Path, description = "The upload_id")), responses((status = 200, description = "`{success, upload_id, media_url, …}`", body = super::responses::MediaUpload), (status = 409, description = "Nothing was uploaded yet", body = crate::error::ErrorBody), (status = 415, description = "The file is not of the declared media_type", body = crate::error::ErrorBody)))]
pub async fn complete(
    state: Data<AppState>,
    auth: Authenticated,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staged = state.media.complete(&auth.0.id, &id).await?;
    Ok(HttpResponse::Ok().json(view(&staged)))
}

/// The signature of a media URL.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Signed {
    /// Unix seconds after which the URL is refused.
    exp: i64,
    sig: String,
}

/// Receives a staged upload's file (the `upload_url`; the signature is the credential).
#[utoipa::path(put, path = "/media/{id}", tag = "media", params(("id" = String, Path, description = "The upload_id"), Signed), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 200, description = "`{success, upload_id, status: uploaded}`", body = super::responses::MediaReceived), (status = 400, description = "The body is not the declared length", body = crate::error::ErrorBody), (status = 403, description = "Invalid or expired signature", body = crate::error::ErrorBody), (status = 404, description = "No such upload", body = crate::error::ErrorBody)))]
pub async fn receive(
    state: Data<AppState>,
    id: Path<String>,
    signed: Query<Signed>,
    body: Payload,
) -> Result<HttpResponse, ApiError> {
    let row: MediaObject = state
        .media
        .receive(&id, signed.exp, &signed.sig, body)
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "upload_id": row.id,
        "status": row.state,
        "content_length": row.size,
    })))
}

/// Serves stored media through a signed, expiring URL (what platforms fetch, and a
/// completed upload's `media_url`).
#[utoipa::path(get, path = "/media/{id}", tag = "media", params(("id" = String, Path, description = "The media id"), Signed), responses((status = 200, description = "The file, with its sniffed content type", content_type = "application/octet-stream", body = Vec<u8>), (status = 403, description = "Invalid or expired signature", body = crate::error::ErrorBody), (status = 404, description = "No such media", body = crate::error::ErrorBody)))]
pub async fn serve(
    state: Data<AppState>,
    id: Path<String>,
    signed: Query<Signed>,
) -> Result<HttpResponse, ApiError> {
    let (row, stream) = state
        .media
        .open_signed(&id, signed.exp, &signed.sig)
        .await?;
    // Headers are sent by now: a store failure can only cut the body short.
    let stream = futures_util::StreamExt::map(stream, |chunk| {
        chunk.map_err(|e| {
            tracing::warn!(error = %e, "media read failed mid-stream");
            actix_web::error::ErrorInternalServerError("media read failed")
        })
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, row.content_type))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .no_chunking(u64::try_from(row.size).unwrap_or(0))
        .streaming(stream))
}
