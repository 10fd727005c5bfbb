//! `/api/uploadposts/users/preferences`: the calendar's first day of the week, under both
//! spellings clients use (`weekStartDay` in the docs, `week_start_day` in the SDKs), and
//! ours: the origins connect-link holders may return to (`allowed_redirect_origins`).

use super::extract::{Authenticated, JsonObject};
use crate::db::accounts::{self, Account, PreferenceChanges};
use crate::domain::connect_settings::RedirectOrigins;
use crate::domain::profile_fields::FieldError;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use serde_json::{Value, json};

/// The preferences object `/me` and this endpoint return, exactly Upload-Post's (the SDKs'
/// users compare it whole).
pub fn view(account: &Account) -> Value {
    json!({
        "weekStartDay": account.week_start_day,
        "week_start_day": account.week_start_day,
    })
}

/// Ours, beside `preferences` rather than inside it: the origins link holders may return to.
pub fn redirect_origins(account: &Account) -> Value {
    RedirectOrigins::from_stored(account.allowed_redirect_origins.as_deref()).to_json()
}

fn answer(account: &Account) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "success": true,
        "preferences": view(account),
        "allowed_redirect_origins": redirect_origins(account),
    }))
}

/// The requested week start, if the body names one. Both keys may be sent if they agree.
fn week_start(body: &JsonObject) -> Result<Option<i32>, FieldError> {
    let invalid = || {
        FieldError::worded(
            "weekStartDay",
            "weekStartDay must be 0 (Sunday) or 1 (Monday)".to_owned(),
        )
    };
    let mut chosen = None;
    for key in ["weekStartDay", "week_start_day"] {
        let day = match body.get(key) {
            None | Some(Value::Null) => continue,
            Some(v) => v
                .as_i64()
                .filter(|d| *d == 0 || *d == 1)
                .ok_or_else(invalid)? as i32,
        };
        if chosen.is_some_and(|c| c != day) {
            return Err(FieldError::worded(
                "weekStartDay",
                "weekStartDay and week_start_day disagree".to_owned(),
            ));
        }
        chosen = Some(day);
    }
    Ok(chosen)
}

#[utoipa::path(get, path = "/api/uploadposts/users/preferences", tag = "settings", security(("apikey" = [])), responses((status = 200, description = "`{success, preferences: {weekStartDay, week_start_day}, allowed_redirect_origins}`", body = serde_json::Value)))]
pub async fn get(auth: Authenticated) -> HttpResponse {
    answer(&auth.0)
}

/// An empty body changes nothing and answers the current preferences (the Python SDK).
/// `allowed_redirect_origins` replaces the account's list (`null` or `[]` clears it).
#[utoipa::path(post, path = "/api/uploadposts/users/preferences", tag = "settings", security(("apikey" = [])), request_body = Option<super::schemas::Preferences>, responses((status = 200, description = "The preferences after the change", body = serde_json::Value)))]
pub async fn update(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let mut account = auth.0;
    let changes = PreferenceChanges {
        week_start_day: week_start(&body)?,
        allowed_redirect_origins: RedirectOrigins::from_json(
            "allowed_redirect_origins",
            body.get("allowed_redirect_origins"),
        )?
        .map(|o| o.to_stored()),
    };
    if changes.week_start_day.is_some() || changes.allowed_redirect_origins.is_some() {
        let id = account.id.clone();
        let changes = state
            .db
            .run(move |conn| {
                accounts::set_preferences(conn, &id, &changes)
                    .map(|_| changes)
                    .map_err(ApiError::from)
            })
            .await?;
        if let Some(day) = changes.week_start_day {
            account.week_start_day = day;
        }
        if let Some(origins) = changes.allowed_redirect_origins {
            account.allowed_redirect_origins = origins;
        }
    }
    Ok(answer(&account))
}
