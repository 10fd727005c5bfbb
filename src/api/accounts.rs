//! Connected accounts through the API: start a connection (Upload-Post's Connect API) and
//! disconnect one.

use super::extract::{Authenticated, JsonObject};
use crate::db::accounts::Account;
use crate::db::connections;
use crate::db::profiles::{self, Profile};
use crate::domain::connect_settings::PageUrl;
use crate::domain::profile_fields::{FieldError, text_field};
use crate::domain::webhooks::DisconnectReason;
use crate::domain::{Platform, Username};
use crate::error::ApiError;
use crate::links::LiveLink;
use crate::links::scope::{self, Act};
use crate::oauth::flow::{self, Return, StartRequest};
use crate::oauth::provider::{App, SignIn};
use crate::state::AppState;
use crate::web::bearer_token;
use actix_web::web::{Data, Path};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde_json::{Value, json};

/// Longest `redirect_url` accepted (Upload-Post's limit).
const MAX_REDIRECT_URL_CHARS: usize = 2000;

/// The profile a call is about: named by a profile JWT (`Authorization: Bearer`), or by a
/// body field under an API key.
pub struct ProfileAccess {
    pub account: Account,
    pub profile: Profile,
    /// The link the call came with; `None` under the API key.
    pub link: Option<LiveLink>,
}

/// The first of several spellings of a text field that the body has.
pub fn named_field(
    body: &JsonObject,
    names: &[&'static str],
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    for name in names {
        if let Some(value) = text_field(name, body.get(name), max_chars)? {
            return Ok(Some(value.trim().to_owned()));
        }
    }
    Ok(None)
}

impl ProfileAccess {
    /// The profile, if the caller may do `act` with it (`links::scope` decides): a link
    /// within its scope, or the API key, which sets nothing up for a profile its plan
    /// blocks. `profile` names the profile under an API key (ignored with a profile JWT).
    pub async fn resolve(
        req: &HttpRequest,
        state: &Data<AppState>,
        profile: Option<&str>,
        profile_field: &'static str,
        act: Act,
    ) -> Result<Self, ApiError> {
        let bearer = bearer_token(req);
        if let Some(token) = bearer {
            let live = crate::links::check(state, &token, None)
                .await?
                .map_err(ApiError::InvalidToken)?;
            live.allows(act)?;
            return Ok(Self {
                account: live.account.clone(),
                profile: live.profile.clone(),
                link: Some(live),
            });
        }
        let auth = Authenticated::extract(req).await?;
        let username =
            Username::parse(profile.ok_or_else(|| FieldError::new(profile_field, "is required"))?)?;
        let account_id = auth.0.id.clone();
        let plan = state.plan_of(&auth.0)?.clone();
        let profile = state
            .db
            .run(move |conn| {
                let profile = profiles::find(conn, &account_id, &username)?
                    .ok_or(ApiError::ProfileNotFound)?;
                scope::key_allows(conn, &plan, &profile, act)?;
                Ok::<_, ApiError>(profile)
            })
            .await?;
        Ok(Self {
            account: auth.0,
            profile,
            link: None,
        })
    }
}

/// The platform named in a path or body (either spelling), and its app here.
pub fn connectable<'a>(state: &'a AppState, name: &str) -> Result<&'a App, ApiError> {
    let platform = Platform::parse(name).ok_or_else(|| ApiError::UnknownPlatform(name.into()))?;
    state.oauth.platforms.get(platform).ok_or(match platform {
        Platform::Reddit => ApiError::RedditUnavailable,
        p => ApiError::PlatformNotConfigured(p),
    })
}

/// `POST /api/uploadposts/oauth/{platform}/start`: a consent URL for the profile, with a
/// single-use state valid for 15 minutes. The browser comes back to `redirect_url` with
/// `connect_status`, `platform` and, on failure, `error_code` and `error_description`.
#[tracing::instrument(skip_all, fields(platform = %platform))]
#[utoipa::path(post, path = "/api/uploadposts/oauth/{platform}/start", tag = "accounts", security(("link_token" = []), ("apikey" = [])), params(("platform" = String, Path, description = "tiktok, instagram, facebook, linkedin, youtube, x (twitter), threads, pinterest, google-business, reddit")), request_body = Option<super::schemas::StartConnection>, responses((status = 200, description = "`{success, platform, authorize_url, state, expires_in}`", body = serde_json::Value), (status = 400, description = "No profile under an API key, bad redirect_url (under a link: one outside the origins the account allows), or a platform that signs in without OAuth", body = crate::error::ErrorBody), (status = 401, description = "INVALID_TOKEN: the link is forged, expired, revoked, or its profile is blocked", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR, PLATFORM_NOT_OFFERED (a link restricted to other platforms), or PROFILE_BLOCKED (the plan blocks the profile)", body = crate::error::ErrorBody), (status = 404, description = "Unknown platform or PROFILE_NOT_FOUND", body = crate::error::ErrorBody), (status = 503, description = "PLATFORM_NOT_CONFIGURED / reddit_unavailable", body = crate::error::ErrorBody)))]
pub async fn start(
    req: HttpRequest,
    state: Data<AppState>,
    platform: Path<String>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let app = connectable(&state, &platform)?;
    if app.provider.sign_in() != SignIn::OAuth {
        return Err(ApiError::UnsupportedSignIn(
            "This platform signs in with a handle and app password: use the connect page",
        ));
    }
    let redirect_url = named_field(&body, &["redirect_url"], MAX_REDIRECT_URL_CHARS)?
        .map(|u| PageUrl::parse("redirect_url", &u))
        .transpose()?;
    let access = ProfileAccess::resolve(
        &req,
        &state,
        named_field(&body, &["profile", "profile_username", "username"], 256)?.as_deref(),
        "profile",
        Act::SetUp(app.platform()),
    )
    .await?;
    // The API key's owner may send the browser anywhere; a link's holder only where the
    // account allows.
    if let (Some(live), Some(url)) = (&access.link, &redirect_url) {
        live.may_return_to(&state, url)?;
    }
    let started = flow::start(
        &state.oauth,
        app,
        StartRequest {
            account_id: access.account.id,
            profile_id: access.profile.id,
            // A sign-in started with a link is bound to it: revoking the link stops it.
            link_id: access.link.map(|live| live.link.id),
            return_to: Return::Caller(redirect_url.map(|u| u.as_str().to_owned())),
            switch_account: matches!(body.get("switch_account"), Some(Value::Bool(true))),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "platform": app.platform().key(),
        "authorize_url": started.authorize_url.as_str(),
        "state": started.state,
        "expires_in": started.expires_in,
    })))
}

/// `DELETE /api/uploadposts/users/social`: disconnects a platform from a profile, revoking
/// the grant at the platform where it offers revocation.
#[tracing::instrument(skip_all)]
#[utoipa::path(delete, path = "/api/uploadposts/users/social", tag = "accounts", security(("link_token" = []), ("apikey" = [])), request_body = super::schemas::Disconnect, responses((status = 200, description = "`{success, platform, username, revoked_at_platform}`", body = serde_json::Value), (status = 400, description = "Missing fields", body = crate::error::ErrorBody), (status = 401, description = "INVALID_TOKEN: the link is forged, expired, revoked, or its profile is blocked", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR, or PLATFORM_NOT_OFFERED (a link restricted to other platforms)", body = crate::error::ErrorBody), (status = 404, description = "PROFILE_NOT_FOUND, UNKNOWN_PLATFORM or NOT_CONNECTED", body = crate::error::ErrorBody)))]
pub async fn disconnect(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let name = named_field(&body, &["platform"], 64)?
        .ok_or_else(|| ApiError::from(FieldError::new("platform", "is required")))?;
    let platform = Platform::parse(&name).ok_or(ApiError::UnknownPlatform(name))?;
    let access = ProfileAccess::resolve(
        &req,
        &state,
        named_field(&body, &["username", "profile_username", "profile"], 256)?.as_deref(),
        "username",
        Act::Remove(platform),
    )
    .await?;
    let profile_id = access.profile.id.clone();
    let connection = state
        .db
        .run(move |conn| {
            connections::find(conn, &profile_id, platform.key()).map_err(ApiError::from)
        })
        .await?
        .ok_or(ApiError::NotConnected(platform))?;
    let revoked =
        flow::disconnect(&state.oauth, connection, DisconnectReason::ManualDisconnect).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": format!("{} disconnected", platform.display_name()),
        "platform": platform.key(),
        "username": access.profile.username,
        "revoked_at_platform": revoked,
    })))
}
