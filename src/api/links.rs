//! Connect links: `generate-jwt`, `validate-jwt` and our `revoke-jwt` extension.

use super::extract::{Authenticated, JsonObject};
use super::views::{ProfileView, social_accounts};
use crate::db::links::{self, NewLink};
use crate::db::{connections, profiles};
use crate::domain::connect_settings::{ConnectRequest, UiLabels, duration_text};
use crate::domain::link_token::LinkClaims;
use crate::domain::profile_fields::FieldError;
use crate::domain::{Platform, Username, time};
use crate::error::ApiError;
use crate::links::LiveLink;
use crate::state::AppState;
use crate::web::bearer_token;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde_json::{Value, json};

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(post, path = "/api/uploadposts/users/generate-jwt", tag = "links", security(("apikey" = [])), request_body = super::schemas::GenerateJwt, responses((status = 200, description = "`{success, access_url, duration, expires_at, link_id}`", body = serde_json::Value), (status = 403, description = "PROFILE_BLOCKED", body = crate::error::ErrorBody)))]
pub async fn generate(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let username = Username::from_json(body.get("username"))?;
    let request = ConnectRequest::from_json(&body.0)?;
    let plan = state.plan_of(&auth.0)?.clone();
    let account_id = auth.0.id;
    let (link, _) = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let profile =
                profiles::find(conn, &account_id, &username)?.ok_or(ApiError::ProfileNotFound)?;
            crate::links::scope::unblocked(conn, &plan, &profile)?;
            let new = NewLink {
                settings: &request.settings,
                profile_language: &request.profile_language,
                ui_labels: &request.ui_labels,
                lifetime_seconds: request.lifetime_seconds,
            };
            Ok(links::create(conn, profile, new)?)
        })
        .await?;
    let claims = LinkClaims::new(
        &link.id,
        &link.profile_id,
        &link.account_id,
        link.created_at.and_utc().timestamp(),
        link.expires_at.and_utc().timestamp(),
    );
    let token = state.link_signer.sign(&claims);
    let access_url = state.urls.access_url(&token);
    let lifetime = (link.expires_at - link.created_at).num_seconds();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "access_url": access_url.as_str(),
        "duration": duration_text(lifetime),
        "expires_at": time::rfc3339(link.expires_at),
        "link_id": link.id,
    })))
}

/// GET or POST. The token comes from `Authorization: Bearer` (the docs, the npm SDK), else
/// from the body's `jwt` under an API key that must own it (the Python SDK, n8n).
#[tracing::instrument(skip_all)]
#[utoipa::path(method(get, post), path = "/api/uploadposts/users/validate-jwt", tag = "links", security(("link_token" = []), ("apikey" = [])), request_body = Option<super::schemas::ValidateJwt>, responses((status = 200, description = "`{success: true, isValid: true, profile, …}`, or in the body form `{success: false, isValid: false, reason}`", body = serde_json::Value)))]
pub async fn validate(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let bearer = bearer_token(&req);
    if let Some(token) = bearer {
        return match crate::links::check(&state, &token, None).await? {
            Ok(live) => valid_response(&state, live).await,
            Err(reason) => Err(ApiError::InvalidToken(reason)),
        };
    }
    let auth = Authenticated::extract(&req).await?;
    let token = match body.get("jwt") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(FieldError::new("jwt", "is required").into());
        }
        Some(_) => return Err(FieldError::new("jwt", "must be a string").into()),
    };
    match crate::links::check(&state, &token, Some(&auth.0.id)).await? {
        Ok(live) => valid_response(&state, live).await,
        // The body form reports a bad token in a 200, as Upload-Post's docs show it.
        Err(reason) => Ok(HttpResponse::Ok().json(json!({
            "success": false,
            "isValid": false,
            "reason": reason.to_string(),
            "message": "Invalid or expired token",
        }))),
    }
}

async fn valid_response(state: &Data<AppState>, live: LiveLink) -> Result<HttpResponse, ApiError> {
    let profile_id = live.profile.id.clone();
    let connected = state
        .db
        .run(move |conn| connections::for_profiles(conn, &[&profile_id]).map_err(ApiError::from))
        .await?;
    let settings = live.link.settings();
    let labels = UiLabels::from_stored(live.profile.ui_labels.as_deref());
    let language = live.forced_language().map(|l| l.code());
    let platforms: Vec<&str> = settings
        .platforms
        .as_deref()
        .unwrap_or(&Platform::ALL)
        .iter()
        .map(|p| p.key())
        .collect();
    let view = ProfileView::new(live.profile.clone(), false, &connected)?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "isValid": true,
        "profile": {
            "username": view.username,
            "social_accounts": social_accounts(&live.profile.id, &connected, Value::Null),
            "ui_labels": labels.to_json(),
            "language": language,
            "redirect_url": settings.redirect_url.as_ref().map(|u| u.as_str()),
            "logo_image": settings.logo_image.as_ref().map(|u| u.as_str()),
            "redirect_button_text": settings.redirect_button_text,
            "connect_title": settings.connect_title,
            "connect_description": settings.connect_description,
            "platforms": platforms,
            "show_calendar": settings.show_calendar,
            "readonly_calendar": settings.readonly_calendar,
            "id": view.id,
            "name": view.name,
            "external_id": view.external_id,
            "metadata": view.metadata,
            "created_at": view.created_at,
        },
        "link_id": live.link.id,
        "expires_at": time::rfc3339(live.link.expires_at),
    })))
}

/// Revokes links at once: `{"jwt"}` or `{"link_id"}` for one link, `{"username"}` for every
/// live link of a profile.
#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(post, path = "/api/uploadposts/users/revoke-jwt", tag = "links", security(("apikey" = [])), request_body = super::schemas::RevokeJwt, responses((status = 200, description = "`{success, revoked}`", body = serde_json::Value)))]
pub async fn revoke(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let text = |field: &'static str| -> Result<Option<String>, ApiError> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(FieldError::new(field, "must be a non-empty string").into()),
        }
    };
    let target = match (text("jwt")?, text("link_id")?, body.get("username")) {
        (Some(token), None, None) => {
            // Expiry does not matter for revocation; the signature does.
            let claims = state
                .link_signer
                .verify(&token, i64::MIN)
                .map_err(|_| ApiError::LinkNotFound)?;
            Target::Link(claims.jti)
        }
        (None, Some(id), None) => Target::Link(id),
        (None, None, Some(username)) => Target::Profile(Username::from_json(Some(username))?),
        _ => {
            return Err(FieldError::worded(
                "jwt",
                "Give exactly one of jwt, link_id or username".to_owned(),
            )
            .into());
        }
    };
    let account_id = auth.0.id;
    let revoked = state
        .db
        .run(move |conn| -> Result<usize, ApiError> {
            match target {
                Target::Link(id) => {
                    links::revoke(conn, &account_id, &id)?.ok_or(ApiError::LinkNotFound)
                }
                Target::Profile(username) => {
                    let profile = profiles::find(conn, &account_id, &username)?
                        .ok_or(ApiError::ProfileNotFound)?;
                    Ok(links::revoke_for_profile(conn, &profile.id)?)
                }
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "revoked": revoked})))
}

enum Target {
    Link(String),
    Profile(Username),
}
