//! The connect page, its calendar, and the forms they post.

use super::assets;
use super::failure::{Failure, PageError, signin_notice};
use super::headers::page_csp;
use super::i18n::Texts;
use super::templates::{
    CalendarPage, Chip, ConnectPage, DayCell, Frame, Notice, PageLinks, Picker, PickerOption,
    PlatformRow, PostRow,
};
use crate::db::DbConn;
use crate::db::connections::{self, Connection};
use crate::db::oauth_states::{self, Outcome};
use crate::db::posts::{self, Post};
use crate::domain::Platform;
use crate::domain::calendar::{Month, weekday_columns};
use crate::domain::connect_settings::{LinkSettings, PageUrl, UiLabels};
use crate::domain::language::Language;
use crate::domain::time;
use crate::error::ApiError;
use crate::links::{self, LiveLink};
use crate::oauth::{flow, targets};
use crate::state::AppState;
use crate::web::see_other;
use actix_web::http::header;
use actix_web::web::{Data, Form, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::{Datelike, NaiveDateTime};
use serde::Deserialize;

/// How long the page waits for a platform's list of Pages or locations.
const PICKER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Longest post text the calendar shows.
const POST_TEXT_CHARS: usize = 160;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    token: Option<String>,
    month: Option<String>,
    /// A finished sign-in of this link, whose outcome the page reports.
    oauth: Option<String>,
    /// A platform just connected by app password, or disconnected.
    connected: Option<String>,
    disconnected: Option<String>,
    /// A platform whose Page / location was just chosen.
    pinned: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    token: String,
    csrf: String,
    post_id: String,
    month: Option<String>,
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
    PageError::new(failure, texts_for(req, live))
}

/// The live link behind `token`, or the 401 page.
pub async fn open(
    req: &HttpRequest,
    state: &Data<AppState>,
    token: Option<&str>,
) -> Result<LiveLink, PageError> {
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
async fn open_page(
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
fn frame(
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
fn image_url(url: Option<&str>) -> Option<String> {
    url.and_then(|u| PageUrl::parse("image", u).ok())
        .map(|u| u.as_str().to_owned())
}

/// Renders a page whose images (besides the logo) are `images`. The CSP admits exactly the
/// http (loopback) origins among them; https is admitted wholesale.
fn render<'a>(
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
    let html = page
        .render()
        .map_err(|e| fail(req, Some(live), ApiError::Internal(e.into()).into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            page_csp(&origins, form_origins),
        ))
        .body(html))
}

pub fn allowed_platforms(settings: &LinkSettings) -> &[Platform] {
    settings.platforms.as_deref().unwrap_or(&Platform::ALL)
}

/// A short mark for the platform's badge (no third-party logos are bundled).
pub fn badge(platform: Platform) -> &'static str {
    match platform {
        Platform::Tiktok => "TT",
        Platform::Instagram => "IG",
        Platform::Facebook => "f",
        Platform::Linkedin => "in",
        Platform::Youtube => "YT",
        Platform::X => "X",
        Platform::Threads => "@",
        Platform::GoogleBusiness => "G",
        Platform::Pinterest => "P",
        Platform::Bluesky => "B",
        Platform::Reddit => "r",
    }
}

fn platform_row(
    platform: Platform,
    connection: Option<&Connection>,
    sandbox: bool,
    t: &Texts,
) -> PlatformRow {
    let (state, status, button) = match connection {
        None => (
            "not-connected",
            "connect.notConnected",
            "connect.connectButton",
        ),
        Some(c) if c.reauth_required => (
            "reauth",
            "connect.reauthRequired",
            "connect.reconnectButton",
        ),
        Some(_) => ("connected", "connect.connected", "connect.reconnectButton"),
    };
    PlatformRow {
        key: platform.key(),
        name: platform.display_name(),
        badge: badge(platform),
        state,
        status: t.get(status).to_owned(),
        handle: connection.map(|c| {
            c.handle.clone().map_or_else(
                || c.platform_user_id.clone(),
                |h| format!("@{}", h.trim_start_matches('@')),
            )
        }),
        display_name: connection.and_then(|c| c.display_name.clone()),
        avatar: image_url(connection.and_then(|c| c.avatar_url.as_deref())),
        button: t.get(button).to_owned(),
        connected: connection.is_some(),
        sandbox,
        picker: None,
    }
}

/// The Page / location choice of a connected Facebook or Google Business account, from the
/// platform's live list. A platform that does not answer just gets no picker.
async fn picker(state: &AppState, connection: &Connection, t: &Texts) -> Option<Picker> {
    let label = match Platform::parse(&connection.platform)? {
        Platform::Facebook => "connect.pickPage",
        Platform::GoogleBusiness => "connect.pickLocation",
        _ => return None,
    };
    if connection.reauth_required {
        return None;
    }
    // The page does not wait on a slow platform for longer than this; it shows no picker.
    let listed = tokio::time::timeout(PICKER_WAIT, targets::of_connection(state, connection))
        .await
        .map_err(|_| "the platform is slow".to_owned())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .inspect_err(|e| tracing::info!(platform = %connection.platform, error = %e, "no picker"))
        .ok()?;
    (!listed.is_empty()).then(|| Picker {
        label: t.get(label).to_owned(),
        options: listed
            .into_iter()
            .map(|target| PickerOption {
                selected: connection.selected_target_id.as_deref() == Some(target.id.as_str()),
                id: target.id,
                name: target.name,
            })
            .collect(),
    })
}

/// What the page reports at the top: a sign-in that just finished (from our own record of
/// it, never from text in the URL), or an account just connected or disconnected.
async fn notice(
    req: &HttpRequest,
    state: &AppState,
    live: &LiveLink,
    query: &PageQuery,
    t: &Texts,
) -> Result<Option<Notice>, PageError> {
    let named = |key: &str, platform: Option<&String>| {
        platform
            .and_then(|p| Platform::parse(p))
            .map(|p| t.fill(key, &[("platform", p.display_name())]))
    };
    if let Some(text) = named("notice.connected", query.connected.as_ref()) {
        return Ok(Some(Notice::new("success", text, None)));
    }
    if let Some(text) = named("notice.disconnected", query.disconnected.as_ref()) {
        return Ok(Some(Notice::new("info", text, None)));
    }
    if let Some(text) = named("notice.pinned", query.pinned.as_ref()) {
        return Ok(Some(Notice::new("success", text, None)));
    }
    let Some(id) = query.oauth.clone().filter(|id| id.len() <= 64) else {
        return Ok(None);
    };
    let link_id = live.link.id.clone();
    let finished = load(req, state, live, move |conn| {
        oauth_states::finished_for_link(conn, &id, &link_id)
    })
    .await?;
    let Some(finished) = finished else {
        return Ok(None);
    };
    let (Some(platform), Some(status)) = (
        Platform::parse(&finished.platform),
        finished.outcome_status.as_deref(),
    ) else {
        return Ok(None);
    };
    let outcome = Outcome {
        status: match status {
            "success" => "success",
            "cancelled" => "cancelled",
            _ => "error",
        },
        code: finished.outcome_code.as_deref().and_then(flow::known_code),
        detail: finished.outcome_detail.clone(),
    };
    let (text, detail) = signin_notice(t, platform, &outcome);
    let kind = match outcome.status {
        "success" => "success",
        "cancelled" => "info",
        _ => "error",
    };
    Ok(Some(Notice::new(kind, text, detail)))
}

/// `GET /connect?token=…`: the accounts tab.
#[utoipa::path(get, path = "/connect", tag = "pages", params(("token" = String, Query, description = "The link token from access_url"), ("oauth" = Option<String>, Query, description = "A finished sign-in to report"), ("connected" = Option<String>, Query, description = "A platform just connected"), ("disconnected" = Option<String>, Query, description = "A platform just disconnected"), ("pinned" = Option<String>, Query, description = "A platform whose Page or location was just chosen")), responses((status = 200, description = "The connect page", content_type = "text/html"), (status = 303, description = "A read-only link goes to the calendar"), (status = 401, description = "Missing, forged, expired or revoked link (HTML page)", content_type = "text/html")))]
pub async fn connect(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let (live, token, settings) = open_page(&req, &state, &query).await?;
    if settings.readonly_calendar {
        return Ok(see_other(state.urls.calendar(&token, None)));
    }
    let profile_id = live.profile.id.clone();
    let connected = load(&req, &state, &live, move |conn| {
        connections::for_profiles(conn, &[&profile_id])
    })
    .await?;
    let t = texts_for(&req, Some(&live));
    let notice = notice(&req, &state, &live, &query, &t).await?;
    // A platform shows only if this server can connect it (configured, or the sandbox).
    let mut platforms: Vec<PlatformRow> = Vec::new();
    for (p, app) in allowed_platforms(&settings)
        .iter()
        .filter_map(|p| Some((*p, state.platforms.get(*p)?)))
    {
        let connection = connected.iter().find(|c| c.platform == p.key());
        let mut row = platform_row(p, connection, app.sandbox, &t);
        if let Some(c) = connection {
            row.picker = picker(&state, c, &t).await;
        }
        platforms.push(row);
    }
    let done = platforms.iter().filter(|p| p.state == "connected").count();
    let page = ConnectPage {
        progress: t.fill(
            "connect.progress",
            &[
                ("count", &done.to_string()),
                ("total", &platforms.len().to_string()),
            ],
        ),
        frame: frame(&state, &live, &settings, &t, token, "accounts"),
        sandbox: platforms.iter().any(|p| p.sandbox),
        platforms,
        notice,
        t,
        assets: &assets::URLS,
    };
    let avatars = page.platforms.iter().filter_map(|p| p.avatar.as_ref());
    render(
        &req,
        &live,
        &page,
        &page.frame,
        avatars,
        &state.platforms.authorize_origins(),
    )
}

/// `GET /connect/calendar?token=…&month=YYYY-MM`: the month view.
#[utoipa::path(get, path = "/connect/calendar", tag = "pages", params(("token" = String, Query, description = "The link token"), ("month" = Option<String>, Query, description = "YYYY-MM")), responses((status = 200, description = "The calendar", content_type = "text/html"), (status = 303, description = "show_calendar is false: back to /connect"), (status = 401, description = "Bad link (HTML page)", content_type = "text/html")))]
pub async fn calendar(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let (live, token, settings) = open_page(&req, &state, &query).await?;
    if !settings.show_calendar && !settings.readonly_calendar {
        return Ok(see_other(state.urls.connect_page(&token)));
    }
    let now = time::now();
    let today = now.date();
    let month = query
        .month
        .as_deref()
        .and_then(Month::parse)
        .unwrap_or_else(|| Month::containing(today));
    let week_start = u32::try_from(live.account.week_start_day).unwrap_or(1) % 7;
    let (from, to) = month.grid_range(week_start);
    let profile_id = live.profile.id.clone();
    let posts = load(&req, &state, &live, move |conn| {
        posts::in_range(conn, &profile_id, from, to)
    })
    .await?;
    let t = texts_for(&req, Some(&live));
    let readonly = settings.readonly_calendar;
    let weeks = month
        .weeks(week_start)
        .iter()
        .map(|week| {
            week.iter()
                .map(|day| DayCell {
                    day: day.day(),
                    in_month: month.contains(*day),
                    today: *day == today,
                    chips: posts
                        .iter()
                        .filter(|p| p.scheduled_for.date() == *day)
                        .filter_map(|p| {
                            let platform = Platform::parse(&p.platform)?;
                            Some(Chip {
                                key: platform.key(),
                                name: platform.display_name(),
                                status: p.status.clone(),
                            })
                        })
                        .collect(),
                })
                .collect()
        })
        .collect();
    let agenda: Vec<PostRow> = posts
        .iter()
        .filter(|p| month.contains(p.scheduled_for.date()))
        .filter_map(|p| post_row(p, &t, now, readonly))
        .collect();
    let month_href = |m: Month| state.urls.calendar(&token, Some(&m.param()));
    let page = CalendarPage {
        month_title: format!(
            "{} {}",
            t.get(&format!("calendar.month.{}", month.number())),
            month.year()
        ),
        month_param: month.param(),
        prev_href: month_href(month.previous()),
        next_href: month_href(month.next()),
        today_href: state.urls.calendar(&token, None),
        weekdays: weekday_columns(week_start)
            .iter()
            .map(|d| t.get(&format!("calendar.day.{d}")).to_owned())
            .collect(),
        weeks,
        agenda,
        frame: frame(&state, &live, &settings, &t, token.clone(), "calendar"),
        t,
        assets: &assets::URLS,
    };
    let media = page.agenda.iter().filter_map(|p| p.media.as_ref());
    render(&req, &live, &page, &page.frame, media, &[])
}

fn post_row(post: &Post, t: &Texts, now: NaiveDateTime, readonly: bool) -> Option<PostRow> {
    let platform = Platform::parse(&post.platform)?;
    let status_key = match post.status.as_str() {
        posts::STATUS_PUBLISHED => "calendar.published",
        posts::STATUS_FAILED => "calendar.failed",
        _ => "calendar.scheduled",
    };
    let text = post
        .title
        .as_deref()
        .or(post.body.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(
            || t.get("calendar.untitled").to_owned(),
            |s| {
                let mut short: String = s.chars().take(POST_TEXT_CHARS).collect();
                if s.chars().count() > POST_TEXT_CHARS {
                    short.push('…');
                }
                short
            },
        );
    let at = post.scheduled_for;
    Some(PostRow {
        id: post.id.clone(),
        platform_key: platform.key(),
        platform_name: platform.display_name(),
        badge: badge(platform),
        status: post.status.clone(),
        status_text: t.get(status_key).to_owned(),
        datetime: time::rfc3339(at),
        date_label: format!(
            "{} {}",
            at.day(),
            t.get(&format!("calendar.month.{}", at.month()))
        ),
        time: at.format("%H:%M").to_string(),
        text,
        media: image_url(post.media_url.as_deref()),
        can_cancel: !readonly && post.status == posts::STATUS_SCHEDULED && at > now,
    })
}

/// The checks every form post makes, in order: a live link, not read-only, and the link's
/// own CSRF token.
pub async fn open_form(
    req: &HttpRequest,
    state: &Data<AppState>,
    token: &str,
    csrf: &str,
) -> Result<LiveLink, PageError> {
    let live = open(req, state, Some(token)).await?;
    if live.link.readonly_calendar {
        return Err(fail(req, Some(&live), Failure::Readonly));
    }
    if !state.link_signer.csrf_matches(&live.link.id, csrf) {
        return Err(fail(req, Some(&live), Failure::FormExpired)
            .with_back(state.urls.connect_page(token.trim())));
    }
    Ok(live)
}

/// `POST /connect/calendar/cancel`: cancels one of the profile's scheduled posts.
#[utoipa::path(post, path = "/connect/calendar/cancel", tag = "pages", request_body(content_type = "application/x-www-form-urlencoded", description = "token, csrf, post_id, month"), responses((status = 303, description = "Cancelled; back to the calendar"), (status = 400, description = "A form the page never sends", content_type = "text/html"), (status = 401, description = "Bad link", content_type = "text/html"), (status = 403, description = "READONLY_CALENDAR or CSRF_FAILED", content_type = "text/html"), (status = 404, description = "POST_NOT_FOUND", content_type = "text/html")))]
pub async fn cancel(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<CancelForm>,
) -> Result<HttpResponse, PageError> {
    let live = open_form(&req, &state, &form.token, &form.csrf).await?;
    let month = form.month.as_deref().and_then(Month::parse);
    let back = state
        .urls
        .calendar(form.token.trim(), month.map(Month::param).as_deref());
    let profile_id = live.profile.id.clone();
    let post_id = form.post_id.clone();
    let cancelled = load(&req, &state, &live, move |conn| {
        posts::cancel(conn, &profile_id, &post_id)
    })
    .await?;
    if !cancelled {
        return Err(fail(&req, Some(&live), Failure::PostGone).with_back(back));
    }
    Ok(see_other(back))
}

/// Any other path under `/connect`.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    fail(&req, None, Failure::NotFound).error_response()
}

/// Malformed forms and queries get the page's 400, not actix's plain text.
pub fn bad_request(req: &HttpRequest) -> actix_web::Error {
    fail(req, None, Failure::BadRequest).into()
}
