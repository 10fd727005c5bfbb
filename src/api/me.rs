//! `GET /api/uploadposts/me`: the current API account (n8n's credential test).

use super::extract::Authenticated;
use super::preferences;
use super::usage;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use serde_json::json;

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(get, path = "/api/uploadposts/me", tag = "account", security(("apikey" = [])), responses((status = 200, description = "The calling account: email, plan, preferences, allowed_redirect_origins (ours), limits, usage, api_usage (this month's posts: `{count, limit, last_reset}`)", body = super::responses::Me)))]
pub async fn get(state: Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let account = auth.0;
    let usage::Current {
        plan,
        profiles,
        posts,
        ..
    } = usage::current(&state, &account).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Token is valid",
        "email": account.email,
        "plan": plan.display_name,
        "preferences": preferences::view(&account),
        "allowed_redirect_origins": preferences::redirect_origins(&account),
        "account": {"id": account.id, "name": account.name, "plan": plan.name},
        "limits": {"profiles": plan.profiles.as_json(), "monthly_posts": plan.monthly_posts.as_json()},
        "usage": {"profiles": profiles, "posts": posts.count},
        // Upload-Post documents only `api_usage.count`; the rest is the `usage` object of
        // its upload responses.
        "api_usage": posts,
    })))
}
