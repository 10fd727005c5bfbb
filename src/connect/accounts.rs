//! The page's account actions: Connect (out to the platform, through the bounce on phones),
//! the platform's redirect back, the app-password sign-in (Bluesky), and Disconnect.

use super::bounce::is_handheld;
use super::failure::{Failure, PageError};
use super::page;
use super::page::{fail, open, open_form, platform_named, texts_for};
use super::templates::{DonePage, SigninPage};
use crate::db::connections;
use crate::domain::Platform;
use crate::domain::sign_in::SignInOutcome;
use crate::domain::webhooks::DisconnectReason;
use crate::error::ApiError;
use crate::limits::{client_ip, unix_now};
use crate::links::LiveLink;
use crate::links::scope::Act;
use crate::oauth::flow::{self, CallbackQuery, ConnectError, Return, Signer, StartRequest};
use crate::oauth::provider::{App, SignIn};
use crate::state::AppState;
use crate::web::see_other;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Form, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct StartForm {
    token: String,
    csrf: String,
    platform: String,
    /// Present to sign in with another account than the platform's current session.
    switch: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DisconnectForm {
    token: String,
    csrf: String,
    platform: String,
}

#[derive(Debug, Deserialize)]
pub struct PinForm {
    token: String,
    csrf: String,
    platform: String,
    target: String,
}

#[derive(Debug, Deserialize)]
pub struct SigninQuery {
    token: Option<String>,
    platform: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SigninForm {
    token: String,
    csrf: String,
    platform: String,
    identifier: String,
    password: String,
}

/// The platform's app here, or the page saying it is not set up on this server.
fn configured<'a>(
    req: &HttpRequest,
    state: &'a AppState,
    live: &LiveLink,
    platform: Platform,
) -> Result<&'a App, PageError> {
    state
        .oauth
        .platforms
        .get(platform)
        .ok_or_else(|| fail(req, Some(live), Failure::PlatformNotConfigured))
}

/// `POST /connect/start`: out to the platform's consent page (by way of the bounce page on
/// phones and tablets), or to the app-password form.
#[utoipa::path(post, path = "/connect/start", tag = "pages", request_body(content_type = "application/x-www-form-urlencoded", description = "token, csrf, platform, switch (optional)"), responses((status = 303, description = "On to the platform's sign-in (or the bounce page on phones)"), (status = 400, description = "A platform name the page never sends", content_type = "text/html"), (status = 401, description = "Bad link", content_type = "text/html"), (status = 403, description = "READONLY_CALENDAR, PLATFORM_NOT_OFFERED (the link is restricted to other platforms) or CSRF_FAILED", content_type = "text/html"), (status = 503, description = "PLATFORM_NOT_CONFIGURED", content_type = "text/html")))]
pub async fn start(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<StartForm>,
) -> Result<HttpResponse, PageError> {
    let token = form.token.trim();
    let platform = platform_named(&req, &form.platform)?;
    let live = open_form(&req, &state, token, &form.csrf, Act::SetUp(platform)).await?;
    let back = state.urls.connect_page(token);
    let app = configured(&req, &state, &live, platform).map_err(|e| e.with_back(back.clone()))?;
    if app.provider.sign_in() == SignIn::AppPassword {
        return Ok(see_other(state.urls.signin_page(token, app.platform())));
    }
    let started = flow::start(
        &state.oauth,
        app,
        StartRequest {
            account_id: live.account.id.clone(),
            profile_id: live.profile.id.clone(),
            link_id: Some(live.link.id.clone()),
            return_to: Return::Page(state.urls.access_url(token).to_string()),
            switch_account: form.switch.is_some(),
        },
    )
    .await
    .map_err(|e| fail(&req, Some(&live), e.into()).with_back(back))?;
    Ok(if is_handheld(&req) {
        see_other(state.urls.bounce(&started.id))
    } else {
        see_other(started.authorize_url.to_string())
    })
}

/// `GET /api/uploadposts/oauth/callback/{platform}`: where platforms send the browser back.
/// Back to the connect page (which reports the outcome from its own records), to the API
/// caller's `redirect_url` with Upload-Post's `connect_status` parameters, or a result page.
#[utoipa::path(get, path = "/api/uploadposts/oauth/callback/{platform}", tag = "pages", params(("platform" = String, Path, description = "Platform key"), ("state" = Option<String>, Query, description = "The state we sent"), ("code" = Option<String>, Query, description = "The authorization code"), ("error" = Option<String>, Query, description = "The platform's error"), ("error_description" = Option<String>, Query, description = "Its description")), responses((status = 303, description = "Back to the connect page or the caller's redirect_url"), (status = 200, description = "Connected; no page to return to", content_type = "text/html"), (status = 400, description = "Not connected, with the reason (HTML page)", content_type = "text/html"), (status = 404, description = "Unknown platform", content_type = "text/html")))]
pub async fn callback(
    req: HttpRequest,
    state: Data<AppState>,
    platform: Path<String>,
    query: Query<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    page::admit(&req, &state, None)?;
    let platform = Platform::parse(&platform).ok_or_else(|| fail(&req, None, Failure::NotFound))?;
    let finished = flow::finish(&state.oauth, platform, query.into_inner())
        .await
        .map_err(|e| fail(&req, None, e.into()))?;
    let outcome = finished.outcome;
    match (finished.state, finished.return_url) {
        (Some(pending), Some(url)) if pending.returns_to_page => {
            Ok(see_other(format!("{url}&oauth={}", pending.id)))
        }
        (Some(_), Some(url)) => {
            let mut url = url::Url::parse(&url)
                .map_err(|e| fail(&req, None, ApiError::Internal(e.into()).into()))?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("connect_status", outcome.status().as_str())
                    .append_pair("platform", platform.key());
                if let Some(code) = outcome.code() {
                    q.append_pair("error_code", code.as_str());
                }
                if let Some(detail) = outcome.detail() {
                    q.append_pair("error_description", detail);
                }
            }
            Ok(see_other(url.to_string()))
        }
        _ if outcome == SignInOutcome::Connected => {
            let t = texts_for(&req, None);
            let page = DonePage {
                message: t.fill("done.message", &[("platform", platform.display_name())]),
                t,
                assets: state.assets.clone(),
            };
            page::html(&req, None, StatusCode::OK, &page)
        }
        _ => Err(fail(&req, None, Failure::SigninFailed(platform, outcome))),
    }
}

/// `GET /connect/signin?token=…&platform=bluesky`: the handle and app-password form.
#[utoipa::path(get, path = "/connect/signin", tag = "pages", params(("token" = String, Query, description = "The link token"), ("platform" = String, Query, description = "A platform that signs in with an app password")), responses((status = 200, description = "The form", content_type = "text/html"), (status = 400, description = "Not a platform that signs in with an app password", content_type = "text/html"), (status = 401, description = "Bad link", content_type = "text/html"), (status = 403, description = "READONLY_CALENDAR or PLATFORM_NOT_OFFERED", content_type = "text/html")))]
pub async fn signin_page(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<SigninQuery>,
) -> Result<HttpResponse, PageError> {
    let live = open(&req, &state, query.token.as_deref()).await?;
    let token = query.token.as_deref().unwrap_or_default().trim().to_owned();
    let platform = platform_named(&req, query.platform.as_deref().unwrap_or_default())?;
    live.allows(Act::SetUp(platform))
        .map_err(|e| fail(&req, Some(&live), e.into()))?;
    let app = configured(&req, &state, &live, platform)?;
    render_signin(&req, &state, &live, app, token, None)
}

fn render_signin(
    req: &HttpRequest,
    state: &AppState,
    live: &LiveLink,
    app: &App,
    token: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    if app.provider.sign_in() != SignIn::AppPassword {
        return Err(fail(req, Some(live), Failure::BadRequest));
    }
    let t = texts_for(req, Some(live));
    let name = [("platform", app.platform().display_name())];
    let page = SigninPage {
        title: t.fill("signin.title", &name),
        help: t.fill("signin.passwordHelp", &name),
        platform_key: app.platform().key(),
        logo: state.assets.logo(app.platform()).to_owned(),
        sandbox: app.sandbox,
        back_href: state.urls.connect_page(&token),
        action: state.urls.page_action("signin"),
        csrf: state.link_signer.csrf_token(&live.link.id),
        token,
        error,
        t,
        assets: state.assets.clone(),
    };
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page::html(req, Some(live), status, &page)
}

/// `POST /connect/signin`: signs in with the handle and app password, then back to the page.
#[utoipa::path(post, path = "/connect/signin", tag = "pages", request_body(content_type = "application/x-www-form-urlencoded", description = "token, csrf, platform, identifier, password"), responses((status = 303, description = "Connected; back to the page"), (status = 400, description = "Refused by the platform: the form again, with why", content_type = "text/html"), (status = 401, description = "Bad link", content_type = "text/html"), (status = 403, description = "READONLY_CALENDAR, PLATFORM_NOT_OFFERED (the link is restricted to other platforms) or CSRF_FAILED", content_type = "text/html")))]
pub async fn signin(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<SigninForm>,
) -> Result<HttpResponse, PageError> {
    let token = form.token.trim().to_owned();
    let platform = platform_named(&req, &form.platform)?;
    let live = open_form(&req, &state, &token, &form.csrf, Act::SetUp(platform)).await?;
    let app = configured(&req, &state, &live, platform)?;
    let (ip, now) = (client_ip(&req, state.trust_proxy_headers), unix_now());
    state
        .link_limits
        .signin_allowed(&live.link.id, ip, now)
        .map_err(|e| fail(&req, Some(&live), e.into()))?;
    let identifier = form.identifier.trim();
    let t = texts_for(&req, Some(&live));
    // A malformed form and a refused password read the same: nothing to tell a guesser.
    let failed = t.fill(
        "signin.failed",
        &[("platform", app.platform().display_name())],
    );
    if identifier.is_empty()
        || form.password.is_empty()
        || identifier.len() > 256
        || form.password.len() > 256
    {
        return render_signin(&req, &state, &live, app, token, Some(failed));
    }
    let signer = Signer {
        account_id: &live.account.id,
        profile_id: &live.profile.id,
        link_id: Some(&live.link.id),
    };
    let connected =
        flow::password_sign_in(&state.oauth, app, signer, identifier, &form.password).await;
    match connected {
        Ok(_) => Ok(see_other(format!(
            "{}&connected={}",
            state.urls.connect_page(&token),
            app.platform().key()
        ))),
        Err(ConnectError::Denied(_)) => {
            state.link_limits.signin_failed(&live.link.id, ip, now);
            render_signin(&req, &state, &live, app, token, Some(failed))
        }
        Err(e) => {
            let (message, hint) = super::failure::signin_notice(&t, app.platform(), &e.outcome());
            let text = hint.map_or(message.clone(), |h| format!("{message} {h}"));
            render_signin(&req, &state, &live, app, token, Some(text))
        }
    }
}

/// `POST /connect/disconnect`: revokes at the platform where it can, then forgets the account.
#[utoipa::path(post, path = "/connect/disconnect", tag = "pages", request_body(content_type = "application/x-www-form-urlencoded", description = "token, csrf, platform"), responses((status = 303, description = "Disconnected; back to the page"), (status = 400, description = "A platform name the page never sends", content_type = "text/html"), (status = 401, description = "Bad link", content_type = "text/html"), (status = 403, description = "READONLY_CALENDAR, PLATFORM_NOT_OFFERED (the link is restricted to other platforms) or CSRF_FAILED", content_type = "text/html")))]
pub async fn disconnect(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<DisconnectForm>,
) -> Result<HttpResponse, PageError> {
    let token = form.token.trim().to_owned();
    let platform = platform_named(&req, &form.platform)?;
    let live = open_form(&req, &state, &token, &form.csrf, Act::Remove(platform)).await?;
    let profile_id = live.profile.id.clone();
    let connection = page::load(&req, &state, &live, move |conn| {
        connections::find(conn, &profile_id, platform.key())
    })
    .await?;
    if let Some(connection) = connection {
        flow::disconnect(&state.oauth, connection, DisconnectReason::ManualDisconnect)
            .await
            .map_err(|e| fail(&req, Some(&live), e.into()))?;
    }
    Ok(see_other(format!(
        "{}&disconnected={}",
        state.urls.connect_page(&token),
        platform.key()
    )))
}

/// `POST /connect/pin`: chooses the Facebook Page or Google Business location to post to.
#[utoipa::path(post, path = "/connect/pin", tag = "pages", request_body(content_type = "application/x-www-form-urlencoded", description = "token, csrf, platform, target"), responses((status = 303, description = "Saved; back to the page"), (status = 400, description = "A platform name the page never sends", content_type = "text/html"), (status = 401, description = "Bad link", content_type = "text/html"), (status = 403, description = "READONLY_CALENDAR, PLATFORM_NOT_OFFERED (the link is restricted to other platforms) or CSRF_FAILED", content_type = "text/html"), (status = 404, description = "No such Page or location, or not connected", content_type = "text/html"), (status = 502, description = "The platform refused", content_type = "text/html")))]
pub async fn pin(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<PinForm>,
) -> Result<HttpResponse, PageError> {
    let token = form.token.trim().to_owned();
    let platform = platform_named(&req, &form.platform)?;
    let live = open_form(&req, &state, &token, &form.csrf, Act::SetUp(platform)).await?;
    let back = state.urls.connect_page(&token);
    let profile_id = live.profile.id.clone();
    let connection = page::load(&req, &state, &live, move |conn| {
        connections::find(conn, &profile_id, platform.key())
    })
    .await?
    .ok_or_else(|| {
        fail(&req, Some(&live), ApiError::NotConnected(platform).into()).with_back(back.clone())
    })?;
    crate::oauth::targets::pin(&state.oauth, &connection, &form.target)
        .await
        .map_err(|e| fail(&req, Some(&live), e.into()).with_back(back.clone()))?;
    Ok(see_other(format!("{back}&pinned={}", platform.key())))
}
