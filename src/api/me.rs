//! `GET /api/uploadposts/me`: the current API account (n8n's credential test).

use super::extract::Authenticated;
use super::preferences;
use crate::db::profiles;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use serde_json::json;

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(get, path = "/api/uploadposts/me", tag = "account", security(("apikey" = [])), responses((status = 200, description = "The calling account: email, plan, preferences, limits, usage", body = serde_json::Value)))]
pub async fn get(state: Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let account = auth.0;
    let plan = state.plan_of(&account)?.clone();
    let account_id = account.id.clone();
    let profile_count = state
        .db
        .run(move |conn| profiles::count(conn, &account_id).map_err(ApiError::from))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Token is valid",
        "email": account.email,
        "plan": plan.display_name,
        "preferences": preferences::view(&account),
        "account": {"id": account.id, "name": account.name, "plan": plan.name},
        "limits": {"profiles": plan.profiles.as_json(), "monthly_posts": plan.monthly_posts.as_json()},
        "usage": {"profiles": profile_count},
    })))
}
