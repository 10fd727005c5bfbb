//! `/api/uploadposts/users`: create, list, read and delete profiles.

use super::extract::{Authenticated, JsonObject};
use super::views::ProfileView;
use crate::db::connections;
use crate::db::profiles::{self, CreateError, DeleteOutcome, NewProfile};
use crate::domain::Username;
use crate::domain::profile_fields::{ExternalId, Metadata, ProfileName};
use crate::error::ApiError;
use crate::oauth::flow;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Query};
use serde::Deserialize;
use serde_json::json;

const MAX_PER_PAGE: i64 = 1000;
const DEFAULT_PER_PAGE: i64 = 100;

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(post, path = "/api/uploadposts/users", tag = "profiles", security(("apikey" = [])), request_body = super::schemas::CreateProfile, responses((status = 201, description = "`{success, profile}`", body = serde_json::Value), (status = 403, description = "PROFILE_LIMIT_REACHED", body = crate::error::ErrorBody), (status = 409, description = "PROFILE_EXISTS / EXTERNAL_ID_EXISTS", body = crate::error::ErrorBody)))]
pub async fn create(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let new = NewProfile {
        username: Username::from_json(body.get("username"))?,
        name: ProfileName::from_json(body.get("name"))?,
        external_id: ExternalId::from_json(body.get("external_id"))?,
        metadata: Metadata::from_json(body.get("metadata"))?,
    };
    let plan = state.plan_of(&auth.0)?.clone();
    let account_id = auth.0.id;
    let username = new.username.to_string();
    let profile = state
        .db
        .run(move |conn| {
            profiles::create_within_limit(conn, &account_id, plan.profiles, new).map_err(
                |e| match e {
                    CreateError::LimitReached { limit } => ApiError::ProfileLimitReached {
                        plan: plan.name,
                        limit,
                    },
                    CreateError::UsernameTaken => ApiError::ProfileExists(username),
                    CreateError::ExternalIdTaken => ApiError::ExternalIdExists,
                    CreateError::AccountMissing => ApiError::InvalidApiKey,
                    CreateError::Db(e) => e.into(),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({
        "success": true,
        "profile": ProfileView::new(profile, false, &[])?,
    })))
}

/// Optional pagination; without it every profile is returned, as Upload-Post does.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    per_page: Option<String>,
}

impl ListQuery {
    /// `(page, per_page)` when the caller asked for a page.
    fn window(&self) -> Result<Option<(i64, i64)>, ApiError> {
        if self.page.is_none() && self.per_page.is_none() {
            return Ok(None);
        }
        let number = |name: &str, raw: Option<&str>, default: i64, max: i64| match raw {
            None => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::InvalidQuery(format!("{name} must be a whole number from 1 to {max}"))
                }),
        };
        let page = number("page", self.page.as_deref(), 1, i64::MAX / MAX_PER_PAGE)?;
        let per_page = number(
            "per_page",
            self.per_page.as_deref(),
            DEFAULT_PER_PAGE,
            MAX_PER_PAGE,
        )?;
        Ok(Some((page, per_page)))
    }
}

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(get, path = "/api/uploadposts/users", tag = "profiles", security(("apikey" = [])), params(("page" = Option<i64>, Query, description = "Optional page (with per_page)"), ("per_page" = Option<i64>, Query, description = "1–1000")), responses((status = 200, description = "`{success, plan, limit, profiles}`", body = serde_json::Value)))]
pub async fn list(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let window = query.window()?;
    let plan = state.plan_of(&auth.0)?.clone();
    let account_id = auth.0.id;
    let (offset, page_size) = window.map_or((0, i64::MAX), |(page, per)| ((page - 1) * per, per));
    let (rows, total, connected) = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let rows = profiles::list(conn, &account_id, offset, page_size)?;
            let total = profiles::count(conn, &account_id)?;
            let ids: Vec<&str> = rows.iter().map(|p| p.id.as_str()).collect();
            let connected = connections::for_profiles(conn, &ids)?;
            Ok((rows, total, connected))
        })
        .await?;
    let profiles = rows
        .into_iter()
        .zip(offset..)
        .map(|(p, position)| {
            ProfileView::new(p, plan.profiles.blocks_position(position), &connected)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut body = json!({
        "success": true,
        "plan": plan.name,
        "limit": plan.profiles.as_json(),
        "profiles": profiles,
    });
    if let Some((page, per_page)) = window {
        body["page"] = page.into();
        body["per_page"] = per_page.into();
        body["total"] = total.into();
    }
    Ok(HttpResponse::Ok().json(body))
}

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(get, path = "/api/uploadposts/users/{username}", tag = "profiles", security(("apikey" = [])), params(("username" = String, Path, description = "Percent-encoded username")), responses((status = 200, description = "`{success, profile}`", body = serde_json::Value)))]
pub async fn get_one(
    state: Data<AppState>,
    auth: Authenticated,
    path: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let username = Username::parse(&path.into_inner()).map_err(|_| ApiError::ProfileNotFound)?;
    let plan = state.plan_of(&auth.0)?.clone();
    let account_id = auth.0.id;
    let (profile, position, connected) = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let profile =
                profiles::find(conn, &account_id, &username)?.ok_or(ApiError::ProfileNotFound)?;
            let position = profiles::position(conn, &profile)?;
            let connected = connections::for_profiles(conn, &[&profile.id])?;
            Ok((profile, position, connected))
        })
        .await?;
    let blocked = plan.profiles.blocks_position(position);
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "profile": ProfileView::new(profile, blocked, &connected)?,
    })))
}

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(delete, path = "/api/uploadposts/users", tag = "profiles", security(("apikey" = [])), request_body = super::schemas::NamedProfile, responses((status = 200, description = "Deleted, with its links and connections", body = serde_json::Value), (status = 409, description = "DEFAULT_PROFILE", body = crate::error::ErrorBody)))]
pub async fn delete(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let username = Username::from_json(body.get("username"))?;
    let account_id = auth.0.id;
    let outcome = state
        .db
        .run_queueing(move |conn| {
            profiles::delete(conn, &account_id, &username).map_err(ApiError::from)
        })
        .await?;
    match outcome {
        DeleteOutcome::Deleted(removed) => {
            // The grants end at the platforms too; the request does not wait for that.
            let oauth = state.oauth.clone();
            state
                .detached
                .spawn(async move { flow::revoke_all(&oauth, removed).await });
            Ok(HttpResponse::Ok().json(json!({
                "success": true,
                // Upload-Post's documented text, kept byte for byte.
                "message": "Perfil eliminado correctamente",
            })))
        }
        DeleteOutcome::NotFound => Err(ApiError::ProfileNotFound),
        DeleteOutcome::IsDefault => Err(ApiError::DefaultProfileProtected),
    }
}
