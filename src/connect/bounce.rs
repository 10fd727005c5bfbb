//! `GET /api/uploadposts/oauth/bounce?id=…`: on phones, the way out to a platform's sign-in
//! page. It redirects by script (with a visible link as fallback) so that the platform's
//! installed app cannot capture the navigation. It only ever sends the browser to the
//! authorize URL of a pending OAuth state that it looks up itself: nothing in the request can
//! choose the destination.

use super::assets;
use super::failure::Failure;
use super::pages::{badge, fail};
use super::templates::BouncePage;
use crate::db::oauth_states;
use crate::domain::{Platform, time};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Deserialize;

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
    let expired = || fail(&req, None, Failure::SigninExpired).error_response();
    let Some(id) = query
        .into_inner()
        .id
        .filter(|id| !id.is_empty() && id.len() <= 128)
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
    let page = BouncePage {
        t: super::pages::texts_for(&req, None),
        assets: &assets::URLS,
        platform_key: platform.key(),
        platform_name: platform.display_name(),
        badge: badge(platform),
        url: pending.authorize_url,
    };
    match page.render() {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => fail(&req, None, ApiError::Internal(e.into()).into()).error_response(),
    }
}

/// Phones and tablets, by User-Agent: where platform apps capture OAuth links.
pub fn is_handheld(user_agent: &str) -> bool {
    const MARKERS: [&str; 8] = [
        "Mobi",
        "Android",
        "iPhone",
        "iPad",
        "iPod",
        "Tablet",
        "Silk/",
        "Opera Mini",
    ];
    MARKERS.iter().any(|m| user_agent.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handhelds() {
        let phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 \
                     (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        let android = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like \
                       Gecko) Chrome/131.0 Mobile Safari/537.36";
        let tablet = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like \
                      Gecko) Chrome/131.0 Safari/537.36";
        let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/131.0 Safari/537.36";
        assert!(is_handheld(phone));
        assert!(is_handheld(android));
        assert!(is_handheld(tablet));
        assert!(!is_handheld(desktop));
        assert!(!is_handheld(""));
    }
}
