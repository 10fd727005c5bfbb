//! `GET /connect`: the accounts tab, a row per platform the link offers.

use super::assets;
use super::failure::{PageError, signin_notice};
use super::i18n::Texts;
use super::page::{
    PageQuery, allowed_platforms, badge, frame, image_url, load, open_page, render, texts_for,
};
use super::templates::{ConnectPage, Notice, Picker, PickerOption, PlatformRow};
use crate::db::connections::{self, Connection};
use crate::db::oauth_states::{self, Outcome};
use crate::domain::Platform;
use crate::links::LiveLink;
use crate::oauth::{flow, targets};
use crate::state::AppState;
use crate::web::see_other;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};

/// How long the page waits for a platform's list of Pages or locations.
const PICKER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

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
