//! The webhook delivery log: `GET /users/webhook-deliveries` and a redeliver call.

use super::extract::{Authenticated, JsonObject};
use crate::db::outbox::{self, DELIVERED, Delivery, FAILED, PENDING};
use crate::domain::profile_fields::FieldError;
use crate::domain::time;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use serde::Deserialize;
use serde_json::{Value, json};

const MAX_LIMIT: i64 = 500;

/// One delivery as the log shows it.
pub fn view(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "event": d.event,
        "target_url": d.target_url,
        "state": d.state,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": time::rfc3339(d.created_at),
        "next_attempt_at": (d.state == PENDING).then(|| time::rfc3339(d.next_attempt_at)),
        "delivered_at": d.delivered_at.map(time::rfc3339),
        "cursor": d.seq,
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
    before: Option<i64>,
}

/// Newest first; `?state=pending|delivered|failed`, `?limit=` (≤ 500), and `?before=<cursor>`
/// for the next page.
#[utoipa::path(get, path = "/api/uploadposts/users/webhook-deliveries", tag = "webhooks", security(("apikey" = [])), params(("state" = Option<String>, Query, description = "pending, delivered or failed"), ("limit" = Option<i64>, Query, description = "1–500"), ("before" = Option<i64>, Query, description = "The cursor of the last delivery seen")), responses((status = 200, description = "`{success, deliveries, next_before}`", body = serde_json::Value)))]
pub async fn list(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    if let Some(s) = query.state.as_deref()
        && ![PENDING, DELIVERED, FAILED].contains(&s)
    {
        return Err(ApiError::InvalidQuery(
            "state must be pending, delivered or failed".to_owned(),
        ));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let account_id = auth.0.id;
    let rows = state
        .db
        .run(move |conn| {
            outbox::list(
                conn,
                &account_id,
                query.state.as_deref(),
                query.before,
                limit,
            )
            .map_err(ApiError::from)
        })
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|d| d.seq))
        .flatten();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "deliveries": rows.iter().map(view).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

/// Sends a delivered or failed delivery again (same id and body, fresh retry window).
#[utoipa::path(post, path = "/api/uploadposts/users/webhook-deliveries/redeliver", tag = "webhooks", security(("apikey" = [])), request_body = super::schemas::Redeliver, responses((status = 200, description = "Queued again", body = serde_json::Value)))]
pub async fn redeliver(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let id = match body.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(FieldError::new("id", "is required").into()),
    };
    let account_id = auth.0.id;
    let retry_for = state.webhooks.retry_for;
    let found = {
        let id = id.clone();
        state
            .db
            .run(move |conn| {
                outbox::redeliver(conn, Some(&account_id), &id, retry_for).map_err(ApiError::from)
            })
            .await?
    };
    if !found {
        return Err(ApiError::DeliveryNotFound);
    }
    state.webhook_wake.notify_one();
    Ok(HttpResponse::Ok().json(json!({"success": true, "id": id, "state": PENDING})))
}
