//! What uploads can target under connected accounts: Facebook Pages, LinkedIn Pages,
//! Pinterest boards and Google Business locations, listed live from the platforms in the
//! shapes Upload-Post's docs and clients use; and the Page / location pins.

use super::accounts::{ProfileAccess, named_field};
use super::extract::{Authenticated, JsonObject};
use crate::db::connections::{self, Connection};
use crate::db::profiles::{self, Profile};
use crate::domain::profile_fields::FieldError;
use crate::domain::{Platform, Username};
use crate::error::ApiError;
use crate::links::scope::Act;
use crate::oauth::{Target, targets};
use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct ProfileQuery {
    profile: Option<String>,
    profile_username: Option<String>,
}

impl ProfileQuery {
    fn name(&self) -> Option<&str> {
        self.profile
            .as_deref()
            .or(self.profile_username.as_deref())
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }
}

/// The account's connections on `platform` (of the named profile, if any), each with its
/// profile.
async fn connections_of(
    state: &Data<AppState>,
    account_id: &str,
    platform: Platform,
    profile: Option<&str>,
) -> Result<Vec<(Connection, Profile)>, ApiError> {
    let account_id = account_id.to_owned();
    let profile = profile.map(Username::parse).transpose()?;
    state
        .db
        .run(move |conn| {
            let only = match &profile {
                Some(name) => Some(
                    profiles::find(conn, &account_id, name)?.ok_or(ApiError::ProfileNotFound)?,
                ),
                None => None,
            };
            Ok(connections::of_account(
                conn,
                &account_id,
                platform.key(),
                only.as_ref().map(|p| p.id.as_str()),
            )?)
        })
        .await
}

/// Every target under the account's `platform` connections, with the connection and profile.
async fn listed(
    state: &Data<AppState>,
    account_id: &str,
    platform: Platform,
    profile: Option<&str>,
) -> Result<Vec<(Target, Connection, Profile)>, ApiError> {
    let mut out = Vec::new();
    for (connection, profile) in connections_of(state, account_id, platform, profile).await? {
        for target in targets::of_connection(&state.oauth, &connection).await? {
            out.push((target, connection.clone(), profile.clone()));
        }
    }
    Ok(out)
}

/// `GET /api/uploadposts/facebook/pages`: the union of both documented item shapes.
#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/facebook/pages", tag = "targets", security(("apikey" = [])), params(("profile" = Option<String>, Query, description = "One profile; without it every Facebook connection of the account")), responses((status = 200, description = "`{success, pages: [{id, name, picture, account_id, followers, likes, page_id, page_name, profile}]}`", body = serde_json::Value), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody), (status = 502, description = "Facebook refused (e.g. the token expired)", body = crate::error::ErrorBody)))]
pub async fn facebook_pages(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<ProfileQuery>,
) -> Result<HttpResponse, ApiError> {
    let pages: Vec<Value> = listed(&state, &auth.0.id, Platform::Facebook, query.name())
        .await?
        .into_iter()
        .map(|(t, c, p)| {
            json!({
                "id": t.id, "name": t.name, "picture": t.picture,
                "account_id": c.platform_user_id,
                "followers": t.followers, "likes": t.likes,
                "page_id": t.id, "page_name": t.name, "profile": p.username,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "pages": pages})))
}

/// `GET /api/uploadposts/linkedin/pages`: organizations the member administers; none is a
/// 404, as Upload-Post documents.
#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/linkedin/pages", tag = "targets", security(("apikey" = [])), params(("profile" = Option<String>, Query, description = "One profile; without it every LinkedIn connection")), responses((status = 200, description = "`{success, pages: [{id (organization URN), name, picture, account_id, vanityName, followers}]}`", body = serde_json::Value), (status = 404, description = "Profile not found, no LinkedIn connection, or no pages", body = crate::error::ErrorBody), (status = 502, description = "LinkedIn refused", body = crate::error::ErrorBody)))]
pub async fn linkedin_pages(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<ProfileQuery>,
) -> Result<HttpResponse, ApiError> {
    let pages: Vec<Value> = listed(&state, &auth.0.id, Platform::Linkedin, query.name())
        .await?
        .into_iter()
        .map(|(t, c, p)| {
            json!({
                "id": t.id, "name": t.name, "picture": t.picture,
                "account_id": t.owner_id.unwrap_or(c.platform_user_id),
                "vanityName": t.detail, "followers": t.followers, "profile": p.username,
            })
        })
        .collect();
    if pages.is_empty() {
        return Err(ApiError::NothingFound("No LinkedIn pages found"));
    }
    Ok(HttpResponse::Ok().json(json!({"success": true, "pages": pages})))
}

/// `GET /api/uploadposts/pinterest/boards`: the boards of the profile's Pinterest account
/// (without `profile`, the account's first Pinterest connection).
#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/pinterest/boards", tag = "targets", security(("apikey" = [])), params(("profile" = Option<String>, Query, description = "One profile; without it the first Pinterest connection")), responses((status = 200, description = "`{success, boards: [{id, name, privacy}], pinterest_account_used}`", body = serde_json::Value), (status = 404, description = "Profile not found or no Pinterest connection", body = crate::error::ErrorBody), (status = 502, description = "Pinterest refused", body = crate::error::ErrorBody)))]
pub async fn pinterest_boards(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<ProfileQuery>,
) -> Result<HttpResponse, ApiError> {
    let found = connections_of(&state, &auth.0.id, Platform::Pinterest, query.name()).await?;
    let (connection, profile) = found
        .into_iter()
        .next()
        .ok_or(ApiError::NotConnected(Platform::Pinterest))?;
    let boards: Vec<Value> = targets::of_connection(&state.oauth, &connection)
        .await?
        .into_iter()
        .map(|t| json!({"id": t.id, "name": t.name, "privacy": t.detail}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "boards": boards,
        "pinterest_account_used": connection.account_name(),
        "profile": profile.username,
    })))
}

/// `accounts/123/locations/111` as Upload-Post's `account_id`: `accounts_123_111`.
fn location_account_id(name: &str) -> String {
    name.replace("/locations/", "_").replace('/', "_")
}

fn location_json(t: &Target, profile: &Profile) -> Value {
    json!({
        "name": t.id, "title": t.name,
        "account_id": location_account_id(&t.id),
        "account_name": t.detail, "profile": profile.username,
    })
}

/// `GET /api/uploadposts/google-business/locations`.
#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/google-business/locations", tag = "targets", security(("apikey" = [])), params(("profile" = Option<String>, Query, description = "One profile; without it every Google Business connection")), responses((status = 200, description = "`{success, locations: [{name, title, account_id, account_name}]}`", body = serde_json::Value), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody), (status = 502, description = "Google refused", body = crate::error::ErrorBody)))]
pub async fn google_locations(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<ProfileQuery>,
) -> Result<HttpResponse, ApiError> {
    let locations: Vec<Value> = listed(&state, &auth.0.id, Platform::GoogleBusiness, query.name())
        .await?
        .iter()
        .map(|(t, _, p)| location_json(t, p))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "locations": locations})))
}

/// A pin endpoint's platform and how its fields are named on the wire.
struct PinKind {
    platform: Platform,
    /// The body field naming the target on POST.
    field: &'static str,
    /// The response fields of a pin: (id, name).
    pinned: (&'static str, &'static str),
    /// The GET fields: (list, selected id, selected name).
    listing: (&'static str, &'static str, &'static str),
}

const FACEBOOK_PAGE: PinKind = PinKind {
    platform: Platform::Facebook,
    field: "facebook_page_id",
    pinned: ("facebook_page_id", "facebook_page_name"),
    listing: ("pages", "selected_page_id", "selected_page_name"),
};

const GOOGLE_LOCATION: PinKind = PinKind {
    platform: Platform::GoogleBusiness,
    field: "gbp_location_id",
    pinned: ("gbp_location_id", "gbp_location_name"),
    listing: (
        "locations",
        "selected_location_id",
        "selected_location_name",
    ),
};

/// The profile (from a profile JWT, or `profile_username` under an API key) and its
/// connection on the pin's platform.
async fn pin_target(
    req: &HttpRequest,
    state: &Data<AppState>,
    kind: &PinKind,
    profile: Option<&str>,
    act: fn(Platform) -> Act,
) -> Result<(Profile, Connection), ApiError> {
    let access =
        ProfileAccess::resolve(req, state, profile, "profile_username", act(kind.platform)).await?;
    let profile_id = access.profile.id.clone();
    let platform = kind.platform;
    let connection = state
        .db
        .run(move |conn| {
            connections::find(conn, &profile_id, platform.key()).map_err(ApiError::from)
        })
        .await?
        .ok_or(ApiError::NotConnected(platform))?;
    Ok((access.profile, connection))
}

async fn get_pin(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<ProfileQuery>,
    kind: &PinKind,
) -> Result<HttpResponse, ApiError> {
    let (profile, connection) = pin_target(&req, &state, kind, query.name(), Act::See).await?;
    let listed: Vec<Value> = targets::of_connection(&state.oauth, &connection)
        .await?
        .iter()
        .map(|t| match kind.platform {
            Platform::GoogleBusiness => location_json(t, &profile),
            _ => json!({"id": t.id, "name": t.name, "picture": t.picture}),
        })
        .collect();
    let (list, id, name) = kind.listing;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        list: listed,
        id: connection.selected_target_id,
        name: connection.selected_target_name,
    })))
}

async fn set_pin(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
    kind: &PinKind,
    fields: (&[&'static str], &[&'static str]),
) -> Result<(Profile, Target), ApiError> {
    let wanted = named_field(&body, fields.1, 512)?
        .ok_or_else(|| ApiError::from(FieldError::new(kind.field, "is required")))?;
    let profile_name = named_field(&body, fields.0, 256)?;
    let (profile, connection) =
        pin_target(&req, &state, kind, profile_name.as_deref(), Act::SetUp).await?;
    let target = targets::pin(&state.oauth, &connection, &wanted).await?;
    Ok((profile, target))
}

async fn post_pin(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
    kind: &PinKind,
) -> Result<HttpResponse, ApiError> {
    let fields: (&[&'static str], &[&'static str]) =
        (&["profile_username", "profile"], &[kind.field]);
    let (_, target) = set_pin(req, state, body, kind, fields).await?;
    let (id, name) = kind.pinned;
    Ok(HttpResponse::Ok().json(json!({"success": true, id: target.id, name: target.name})))
}

async fn delete_pin(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
    kind: &PinKind,
) -> Result<HttpResponse, ApiError> {
    let profile_name = named_field(&body, &["profile_username", "profile"], 256)?;
    let (_, connection) =
        pin_target(&req, &state, kind, profile_name.as_deref(), Act::Remove).await?;
    state
        .db
        .run(move |conn| connections::pin(conn, &connection.id, None).map_err(ApiError::from))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

#[utoipa::path(get, path = "/api/uploadposts/users/facebook-page", tag = "targets", security(("apikey" = []), ("link_token" = [])), params(("profile_username" = Option<String>, Query, description = "The profile (with an API key)")), responses((status = 200, description = "`{success, pages: [{id, name, picture}], selected_page_id, selected_page_name}`", body = serde_json::Value), (status = 403, description = "PLATFORM_NOT_OFFERED: a link restricted to other platforms", body = crate::error::ErrorBody), (status = 404, description = "Profile not found or no Facebook connection", body = crate::error::ErrorBody), (status = 502, description = "Facebook refused (e.g. the token expired)", body = crate::error::ErrorBody)))]
pub async fn get_facebook_page(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<ProfileQuery>,
) -> Result<HttpResponse, ApiError> {
    get_pin(req, state, query, &FACEBOOK_PAGE).await
}

#[utoipa::path(post, path = "/api/uploadposts/users/facebook-page", tag = "targets", security(("apikey" = []), ("link_token" = [])), request_body = super::schemas::PinFacebookPage, responses((status = 200, description = "`{success, facebook_page_id, facebook_page_name}`", body = serde_json::Value), (status = 400, description = "Missing fields", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR or PLATFORM_NOT_OFFERED (a link's scope), or PROFILE_BLOCKED (the plan blocks the profile)", body = crate::error::ErrorBody), (status = 404, description = "Profile, connection or Page not found", body = crate::error::ErrorBody), (status = 502, description = "Facebook refused", body = crate::error::ErrorBody)))]
pub async fn set_facebook_page(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    post_pin(req, state, body, &FACEBOOK_PAGE).await
}

#[utoipa::path(delete, path = "/api/uploadposts/users/facebook-page", tag = "targets", security(("apikey" = []), ("link_token" = [])), request_body = super::schemas::ProfileOnly, responses((status = 200, description = "`{success}`", body = serde_json::Value), (status = 403, description = "READONLY_CALENDAR or PLATFORM_NOT_OFFERED (a link's scope)", body = crate::error::ErrorBody), (status = 404, description = "Profile or connection not found", body = crate::error::ErrorBody)))]
pub async fn delete_facebook_page(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    delete_pin(req, state, body, &FACEBOOK_PAGE).await
}

#[utoipa::path(get, path = "/api/uploadposts/users/google-business-location", tag = "targets", security(("apikey" = []), ("link_token" = [])), params(("profile_username" = Option<String>, Query, description = "The profile (with an API key)")), responses((status = 200, description = "`{success, locations: [...], selected_location_id, selected_location_name}`", body = serde_json::Value), (status = 403, description = "PLATFORM_NOT_OFFERED: a link restricted to other platforms", body = crate::error::ErrorBody), (status = 404, description = "Profile not found or no Google Business connection", body = crate::error::ErrorBody), (status = 502, description = "Google refused", body = crate::error::ErrorBody)))]
pub async fn get_google_location(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<ProfileQuery>,
) -> Result<HttpResponse, ApiError> {
    get_pin(req, state, query, &GOOGLE_LOCATION).await
}

#[utoipa::path(post, path = "/api/uploadposts/users/google-business-location", tag = "targets", security(("apikey" = []), ("link_token" = [])), request_body = super::schemas::PinLocation, responses((status = 200, description = "`{success, gbp_location_id, gbp_location_name}`", body = serde_json::Value), (status = 400, description = "Missing fields", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR or PLATFORM_NOT_OFFERED (a link's scope), or PROFILE_BLOCKED (the plan blocks the profile)", body = crate::error::ErrorBody), (status = 404, description = "Profile, connection or location not found", body = crate::error::ErrorBody), (status = 502, description = "Google refused", body = crate::error::ErrorBody)))]
pub async fn set_google_location(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    post_pin(req, state, body, &GOOGLE_LOCATION).await
}

#[utoipa::path(delete, path = "/api/uploadposts/users/google-business-location", tag = "targets", security(("apikey" = []), ("link_token" = [])), request_body = super::schemas::ProfileOnly, responses((status = 200, description = "`{success}`", body = serde_json::Value), (status = 403, description = "READONLY_CALENDAR or PLATFORM_NOT_OFFERED (a link's scope)", body = crate::error::ErrorBody), (status = 404, description = "Profile or connection not found", body = crate::error::ErrorBody)))]
pub async fn delete_google_location(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    delete_pin(req, state, body, &GOOGLE_LOCATION).await
}

/// `POST /api/uploadposts/google-business/locations/select`: the Python SDK's older form of
/// the location pin (`location_id`, `profile`).
#[utoipa::path(post, path = "/api/uploadposts/google-business/locations/select", tag = "targets", security(("apikey" = []), ("link_token" = [])), request_body = super::schemas::SelectLocation, responses((status = 200, description = "`{success, google_business_id, display_name, gbp_location_id, gbp_location_name}`", body = serde_json::Value), (status = 400, description = "Missing fields", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR or PLATFORM_NOT_OFFERED (a link's scope), or PROFILE_BLOCKED (the plan blocks the profile)", body = crate::error::ErrorBody), (status = 404, description = "Profile, connection or location not found", body = crate::error::ErrorBody)))]
pub async fn select_google_location(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let fields: (&[&'static str], &[&'static str]) = (
        &["profile", "profile_username"],
        &["location_id", "gbp_location_id"],
    );
    let (_, target) = set_pin(req, state, body, &GOOGLE_LOCATION, fields).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "google_business_id": target.id, "display_name": target.name,
        "gbp_location_id": target.id, "gbp_location_name": target.name,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::oauth::targets::names;

    #[test]
    fn locations_are_named_three_ways() {
        let t = Target {
            id: "accounts/98/locations/12".into(),
            name: "Shop".into(),
            picture: None,
            followers: None,
            likes: None,
            detail: None,
            owner_id: None,
        };
        for given in ["accounts/98/locations/12", "locations/12", "12", " 12 "] {
            assert!(names(&t, given), "{given}");
        }
        for given in ["2", "locations/1", "accounts/98", ""] {
            assert!(!names(&t, given), "{given}");
        }
        assert_eq!(location_account_id(&t.id), "accounts_98_12");
    }
}
