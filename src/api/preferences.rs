//! `/api/uploadposts/users/preferences`: the calendar's first day of the week, under both
//! spellings clients use (`weekStartDay` in the docs, `week_start_day` in the SDKs).

use super::extract::{Authenticated, JsonObject};
use crate::db::accounts::{self, Account};
use crate::domain::profile_fields::FieldError;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use serde_json::{Value, json};

/// The preferences object `/me` and this endpoint return.
pub fn view(account: &Account) -> Value {
    json!({
        "weekStartDay": account.week_start_day,
        "week_start_day": account.week_start_day,
    })
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

#[utoipa::path(get, path = "/api/uploadposts/users/preferences", tag = "settings", security(("apikey" = [])), responses((status = 200, description = "`{success, preferences: {weekStartDay, week_start_day}}`", body = serde_json::Value)))]
pub async fn get(auth: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "preferences": view(&auth.0)}))
}

/// An empty body changes nothing and answers the current preferences (the Python SDK).
#[utoipa::path(post, path = "/api/uploadposts/users/preferences", tag = "settings", security(("apikey" = [])), request_body = Option<super::schemas::Preferences>, responses((status = 200, description = "The preferences after the change", body = serde_json::Value)))]
pub async fn update(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let mut account = auth.0;
    if let Some(day) = week_start(&body)? {
        let id = account.id.clone();
        state
            .db
            .run(move |conn| accounts::set_week_start(conn, &id, day).map_err(ApiError::from))
            .await?;
        account.week_start_day = day;
    }
    Ok(HttpResponse::Ok().json(json!({"success": true, "preferences": view(&account)})))
}
