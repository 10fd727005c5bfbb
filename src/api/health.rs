//! Liveness and readiness probes.

use crate::db::DbError;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use diesel::RunQueryDsl;
use serde_json::json;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "status": "ok"}))
}

/// Ready when the database answers a query.
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
