//! `GET /connect/calendar`: the month's posts of the link's profile, and cancelling one.

use super::failure::{Failure, PageError};
use super::i18n::Texts;
use super::page::{
    PageQuery, fail, frame, image_url, load, open_form, open_page, render, texts_for,
};
use super::templates::{CalendarPage, Chip, DayCell, PostRow};
use crate::assets::AssetUrls;
use crate::db::posts::{self, Post};
use crate::domain::Platform;
use crate::domain::calendar::{Month, weekday_columns};
use crate::domain::time;
use crate::links::scope::Act;
use crate::state::AppState;
use crate::web::see_other;
use actix_web::web::{Data, Form, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDateTime};
use serde::Deserialize;

/// Longest post text the calendar shows.
const POST_TEXT_CHARS: usize = 160;

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    token: String,
    csrf: String,
    post_id: String,
    month: Option<String>,
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
        .filter_map(|p| post_row(p, &t, &state.assets, now, readonly))
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
        assets: state.assets.clone(),
    };
    let media = page.agenda.iter().filter_map(|p| p.media.as_ref());
    render(&req, &live, &page, &page.frame, media, &[])
}

fn post_row(
    post: &Post,
    t: &Texts,
    assets: &AssetUrls,
    now: NaiveDateTime,
    readonly: bool,
) -> Option<PostRow> {
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
        platform_name: platform.display_name(),
        logo: assets.logo(platform).to_owned(),
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
        media: image_url(None),
        can_cancel: !readonly && post.status == posts::STATUS_SCHEDULED && at > now,
    })
}

/// `POST /connect/calendar/cancel`: cancels one of the profile's scheduled posts.
#[utoipa::path(post, path = "/connect/calendar/cancel", tag = "pages", request_body(content_type = "application/x-www-form-urlencoded", description = "token, csrf, post_id, month"), responses((status = 303, description = "Cancelled; back to the calendar"), (status = 400, description = "A form the page never sends", content_type = "text/html"), (status = 401, description = "Bad link", content_type = "text/html"), (status = 403, description = "READONLY_CALENDAR or CSRF_FAILED", content_type = "text/html"), (status = 404, description = "POST_NOT_FOUND", content_type = "text/html")))]
pub async fn cancel(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<CancelForm>,
) -> Result<HttpResponse, PageError> {
    let live = open_form(&req, &state, &form.token, &form.csrf, Act::Edit).await?;
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
    let Some(media) = cancelled else {
        return Err(fail(&req, Some(&live), Failure::PostGone).with_back(back));
    };
    state.media.discard(&media).await;
    Ok(see_other(back))
}
