//! `GET /api/uploadposts/oauth/bounce?id=…`: on phones, the way out to a platform's sign-in
//! page. It redirects by script (with a visible link as fallback) so that the platform's
//! installed app cannot capture the navigation. It only ever sends the browser to the
//! authorize URL of a pending OAuth state that it looks up itself: nothing in the request can
//! choose the destination.

use super::failure::Failure;
use super::page::fail;
use super::templates::BouncePage;
use crate::db::oauth_states;
use crate::domain::{Platform, time};
use crate::error::ApiError;
use crate::oauth::flow;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

/// User-Agent words of phones and tablets, whose installed apps may capture the navigation
/// to a platform's sign-in page.
const HANDHELD_MARKERS: &[&str] = &[
    "Mobi",
    "Android",
    "iPhone",
    "iPad",
    "iPod",
    "Tablet",
    "Silk",
    "Opera Mini",
];

/// Whether the request comes from a phone or tablet browser.
pub fn is_handheld(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| HANDHELD_MARKERS.iter().any(|m| ua.contains(m)))
}

#[derive(Debug, Deserialize)]
pub struct BounceQuery {
    id: Option<String>,
}

#[utoipa::path(get, path = "/api/uploadposts/oauth/bounce", tag = "pages", params(("id" = String, Query, description = "A pending OAuth state")), responses((status = 200, description = "A page that continues to the platform's sign-in by script", content_type = "text/html"), (status = 404, description = "No such pending state (HTML page)", content_type = "text/html")))]
pub async fn page(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<BounceQuery>,
) -> HttpResponse {
    if let Err(throttled) = super::page::admit(&req, &state, None) {
        return throttled.error_response();
    }
    let expired = || fail(&req, None, Failure::SigninExpired).error_response();
    let Some(id) = query
        .into_inner()
        .id
        // No stored state holds a NUL byte, and PostgreSQL refuses one in a query.
        .filter(|id| !id.is_empty() && id.len() <= 128 && crate::domain::text::is_storable(id))
    else {
        return expired();
    };
    let pending = state
        .db
        .run(move |conn| oauth_states::find_pending(conn, &id, time::now()).map_err(ApiError::from))
        .await;
    let pending = match pending {
        Ok(Some(p)) => p,
        Ok(None) => return expired(),
        Err(e) => return fail(&req, None, e.into()).error_response(),
    };
    let Some(platform) = Platform::parse(&pending.platform) else {
        return expired();
    };
    let Ok(url) = flow::open_authorize_url(&state.oauth.cipher, &pending) else {
        return expired();
    };
    let page = BouncePage {
        t: super::page::texts_for(&req, None),
        assets: state.assets.clone(),
        platform_name: platform.display_name(),
        logo: state.assets.logo(platform).to_owned(),
        url,
    };
    super::page::html(&req, None, StatusCode::OK, &page).unwrap_or_else(|e| e.error_response())
}
