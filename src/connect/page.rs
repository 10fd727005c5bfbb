//! The page toolkit every connect page shares: the link behind a request, its strings, its
//! frame, loading from the database, and rendering with the page's security headers.

use super::failure::{Failure, PageError};
use super::headers::page_csp;
use super::i18n::Texts;
use super::templates::{Frame, PageLinks};
use crate::db::DbConn;
use crate::domain::Platform;
use crate::domain::connect_settings::{LinkSettings, PageUrl, UiLabels};
use crate::domain::language::Language;
use crate::error::ApiError;
use crate::links::scope::Act;
use crate::links::{self, LiveLink};
use crate::state::AppState;
use crate::web;
use actix_web::http::{StatusCode, header};
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub token: Option<String>,
    pub month: Option<String>,
    /// A finished sign-in of this link, whose outcome the page reports.
    pub oauth: Option<String>,
    /// A platform just connected by app password, or disconnected.
    pub connected: Option<String>,
    pub disconnected: Option<String>,
    /// A platform whose Page / location was just chosen.
    pub pinned: Option<String>,
}

/// The strings for this request: the link's language (or its profile's), else the browser's,
/// else English; with the profile's `ui_labels` once the link is known.
pub fn texts_for(req: &HttpRequest, live: Option<&LiveLink>) -> Texts {
    let language = live
        .and_then(LiveLink::forced_language)
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Language::from_accept_language)
        })
        .unwrap_or(Language::En);
    let labels = live
        .map(|l| UiLabels::from_stored(l.profile.ui_labels.as_deref()))
        .unwrap_or_default();
    Texts::new(language, labels)
}

pub fn fail(req: &HttpRequest, live: Option<&LiveLink>, failure: Failure) -> PageError {
    // The app always has its state; a page without it would only lack its stylesheet.
    let assets = req
        .app_data::<Data<AppState>>()
        .map(|s| s.assets.clone())
        .unwrap_or_default();
    PageError::new(failure, texts_for(req, live), assets)
}

/// Counts a request that opens the link `token` (`None`: one that names a pending sign-in)
/// against the link's and the client address's rate limits; over either, the 429 page.
pub fn admit(req: &HttpRequest, state: &AppState, token: Option<&str>) -> Result<(), PageError> {
    links::admission::admit(state, req, token).map_err(|e| fail(req, None, e.into()))
}

/// The live link behind `token`, or the 401 page.
pub async fn open(
    req: &HttpRequest,
    state: &Data<AppState>,
    token: Option<&str>,
) -> Result<LiveLink, PageError> {
    admit(req, state, token)?;
    let invalid = || fail(req, None, Failure::InvalidLink);
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(invalid)?;
    match links::check(state, token, None).await {
        Ok(Ok(live)) => Ok(live),
        Ok(Err(_)) => Err(invalid()),
        Err(e) => Err(fail(req, None, e.into())),
    }
}

/// A page's link, its token as given, and its settings.
pub async fn open_page(
    req: &HttpRequest,
    state: &Data<AppState>,
    query: &PageQuery,
) -> Result<(LiveLink, String, LinkSettings), PageError> {
    let live = open(req, state, query.token.as_deref()).await?;
    let token = query.token.as_deref().unwrap_or_default().trim().to_owned();
    let settings = live.link.settings();
    Ok((live, token, settings))
}

/// The frame of both tabs: branding from the link (or the localized defaults), the tabs,
/// the redirect button, and the token and CSRF token their links and forms carry.
pub fn frame(
    state: &AppState,
    live: &LiveLink,
    settings: &LinkSettings,
    t: &Texts,
    token: String,
    active_tab: &'static str,
) -> Frame {
    let or_text =
        |value: &Option<String>, key| value.clone().unwrap_or_else(|| t.get(key).to_owned());
    Frame {
        csrf: state.link_signer.csrf_token(&live.link.id),
        links: PageLinks::new(&state.urls, &token),
        token,
        logo: settings.logo_image.as_ref().map(|u| u.as_str().to_owned()),
        title: or_text(&settings.connect_title, "connect.title"),
        description: or_text(&settings.connect_description, "connect.subtitle"),
        show_calendar: settings.show_calendar,
        readonly: settings.readonly_calendar,
        active_tab,
        redirect_url: settings
            .redirect_url
            .as_ref()
            .map(|u| u.as_str().to_owned()),
        redirect_text: or_text(&settings.redirect_button_text, "connect.redirectButton"),
    }
}

/// Loads what a page shows; a database failure becomes the page's error.
pub async fn load<T: Send + 'static>(
    req: &HttpRequest,
    state: &AppState,
    live: &LiveLink,
    f: impl FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
) -> Result<T, PageError> {
    state
        .db
        .run(move |conn| f(conn).map_err(ApiError::from))
        .await
        .map_err(|e| fail(req, Some(live), e.into()))
}

/// An image URL the page may show (https, or http on loopback), as `PageUrl` accepts it.
pub fn image_url(url: Option<&str>) -> Option<String> {
    url.and_then(|u| PageUrl::parse("image", u).ok())
        .map(|u| u.as_str().to_owned())
}

/// Renders a page whose images (besides the logo) are `images`. The CSP admits exactly the
/// http (loopback) origins among them; https is admitted wholesale.
pub fn render<'a>(
    req: &HttpRequest,
    live: &LiveLink,
    page: &impl Template,
    frame: &'a Frame,
    images: impl Iterator<Item = &'a String>,
    form_origins: &[String],
) -> Result<HttpResponse, PageError> {
    let mut origins: Vec<String> = frame
        .logo
        .iter()
        .chain(images)
        .filter_map(|u| url::Url::parse(u).ok())
        .filter(|u| u.scheme() == "http")
        .map(|u| u.origin().ascii_serialization())
        .collect();
    origins.sort();
    origins.dedup();
    let mut resp = html(req, Some(live), StatusCode::OK, page)?;
    if let Ok(csp) = header::HeaderValue::from_str(&page_csp(&origins, form_origins)) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

/// A page as HTML with `status`; a template that fails to render gives the error page.
pub fn html(
    req: &HttpRequest,
    live: Option<&LiveLink>,
    status: StatusCode,
    page: &impl Template,
) -> Result<HttpResponse, PageError> {
    web::html(status, page).map_err(|e| fail(req, live, ApiError::Internal(e.into()).into()))
}

pub fn allowed_platforms(settings: &LinkSettings) -> &[Platform] {
    settings.platforms.as_deref().unwrap_or(&Platform::ALL)
}

/// The checks every form post makes, in order: a live link, one that may do `act`
/// (`links::scope`, as for the Bearer API), and the link's own CSRF token.
pub async fn open_form(
    req: &HttpRequest,
    state: &Data<AppState>,
    token: &str,
    csrf: &str,
    act: Act,
) -> Result<LiveLink, PageError> {
    let live = open(req, state, Some(token)).await?;
    let back = || state.urls.connect_page(token.trim());
    live.allows(act)
        .map_err(|e| fail(req, Some(&live), e.into()).with_back(back()))?;
    if !state.link_signer.csrf_matches(&live.link.id, csrf) {
        return Err(fail(req, Some(&live), Failure::FormExpired).with_back(back()));
    }
    Ok(live)
}

/// The platform a form or query names; a name the page never sends is a malformed request.
pub fn platform_named(req: &HttpRequest, name: &str) -> Result<Platform, PageError> {
    Platform::parse(name).ok_or_else(|| fail(req, None, Failure::BadRequest))
}

/// Any other path under `/connect`.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    fail(&req, None, Failure::NotFound).error_response()
}

/// Malformed forms and queries get the page's 400, not actix's plain text.
pub fn bad_request(req: &HttpRequest) -> actix_web::Error {
    fail(req, None, Failure::BadRequest).into()
}
