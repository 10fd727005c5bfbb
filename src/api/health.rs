//! Liveness and readiness probes.

use crate::db::DbError;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use diesel::RunQueryDsl;
use serde_json::json;

#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "The process is up", body = serde_json::Value)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "status": "ok"}))
}

/// Ready when the database answers a query.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "The database answers", body = serde_json::Value), (status = 503, description = "The database does not answer", body = crate::error::ErrorBody)))]
pub async fn ready(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Any failure to answer means "not ready", not "broken".
    state
        .db
        .run(|conn| {
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .map_err(|e| ApiError::Unavailable(DbError::Connect(e.to_string())))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "status": "ready",
        "database": state.db.backend().to_string(),
    })))
}
