//! Notification settings on both paths clients use (`/users/notifications` and
//! `/notification-config`), the test event, secret rotation and per-profile webhooks.

use super::extract::{Authenticated, JsonObject};
use crate::db::notifications::{self, NotificationConfig, ProfileWebhook};
use crate::db::{DbConn, outbox, profiles};
use crate::domain::Plan;
use crate::domain::profile_fields::{FieldError, text_field};
use crate::domain::webhooks::{CHANNELS, Event, Switches, WebhookUrl, new_secret, test_body};
use crate::domain::{Username, time};
use crate::error::ApiError;
use crate::links::scope;
use crate::state::AppState;
use crate::webhooks::secrets;
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use serde::Deserialize;
use serde_json::{Value, json};

const MAX_TEXT_CHARS: usize = 200;

fn view(config: &NotificationConfig, secret: Option<String>) -> Value {
    json!({
        "channels": config.channels().to_json(CHANNELS),
        "webhook_url": config.webhook_url,
        "webhook_secret": secret,
        "webhook_events": config.events().to_json(Event::subscribable()),
        "telegram_chat_id": config.telegram_chat_id,
        "slack_webhook_url": config.slack_webhook_url,
        "whatsapp_to_phone": config.whatsapp_to_phone,
    })
}

/// The settings under both keys clients read: `notifications` (docs) and `config` (npm),
/// with the secret in clear for its owner.
fn respond(state: &AppState, config: &NotificationConfig) -> Result<HttpResponse, ApiError> {
    let secret = config
        .sealed_webhook_secret
        .as_deref()
        .map(|sealed| secrets::open(&state.oauth.cipher, &config.account_id, sealed))
        .transpose()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("webhook secret: {e}")))?;
    let view = view(config, secret);
    Ok(HttpResponse::Ok().json(json!({"success": true, "notifications": view, "config": view})))
}

/// Changes the account's settings under its lock, then stores them.
async fn change(
    state: &Data<AppState>,
    account_id: String,
    apply: impl FnOnce(&mut NotificationConfig) + Send + 'static,
) -> Result<NotificationConfig, ApiError> {
    state
        .db
        .run(move |conn| {
            notifications::update(conn, &account_id, apply)?.ok_or(ApiError::InvalidApiKey)
        })
        .await
}

#[utoipa::path(get, path = "/api/uploadposts/users/notifications", tag = "webhooks", security(("apikey" = [])), responses((status = 200, description = "`{success, notifications, config}`", body = serde_json::Value)))]
pub async fn get(state: Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let id = auth.0.id;
    let config = state
        .db
        .run(move |conn| notifications::get(conn, &id).map_err(ApiError::from))
        .await?;
    respond(&state, &config)
}

/// `GET /notification-config`: the same settings on the Python SDK's path.
#[utoipa::path(get, path = "/api/uploadposts/notification-config", tag = "webhooks", security(("apikey" = [])), responses((status = 200, description = "`{success, notifications, config}`", body = serde_json::Value)))]
pub async fn get_config(
    state: Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    get(state, auth).await
}

/// `POST /notification-config`: the same upsert on the Python SDK's path.
#[utoipa::path(post, path = "/api/uploadposts/notification-config", tag = "webhooks", security(("apikey" = [])), request_body = Option<super::schemas::NotificationSettings>, responses((status = 200, description = "The settings after the change", body = serde_json::Value)))]
pub async fn update_config(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    update(state, auth, body).await
}

/// A string field that `null` or `""` clears; `Ok(None)` when absent.
fn optional_string(
    body: &JsonObject,
    field: &'static str,
) -> Result<Option<Option<String>>, FieldError> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.is_empty() => Ok(Some(None)),
        value => text_field(field, value, MAX_TEXT_CHARS).map(Some),
    }
}

/// A URL field that `null` or `""` clears; `Ok(None)` when absent.
fn optional_url(
    body: &JsonObject,
    field: &'static str,
    allow_private: bool,
) -> Result<Option<Option<String>>, FieldError> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.is_empty() => Ok(Some(None)),
        Some(Value::String(s)) => {
            WebhookUrl::parse(field, s, allow_private).map(|u| Some(Some(u.as_str().to_owned())))
        }
        Some(_) => Err(FieldError::new(field, "must be a string")),
    }
}

/// An upsert: what the body names changes, the rest stays. An empty body (the Python SDK's
/// call without arguments) changes nothing. Setting a webhook URL turns the webhook channel
/// on unless `channels` says otherwise, and creates the signing secret if there is none.
#[utoipa::path(post, path = "/api/uploadposts/users/notifications", tag = "webhooks", security(("apikey" = [])), request_body = Option<super::schemas::NotificationSettings>, responses((status = 200, description = "The settings after the change", body = serde_json::Value)))]
pub async fn update(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let allow_private = state.webhooks.allow_private_targets;
    let url = optional_url(&body, "webhook_url", allow_private)?;
    let slack = optional_url(&body, "slack_webhook_url", allow_private)?;
    let telegram = optional_string(&body, "telegram_chat_id")?;
    let whatsapp = optional_string(&body, "whatsapp_to_phone")?;
    let channels = Switches::from_json("channels", body.get("channels"))?;
    let events = Switches::from_json("webhook_events", body.get("webhook_events"))?;
    let cipher = state.oauth.cipher.clone();
    let config = change(&state, auth.0.id, move |config| {
        if let Some(url) = url {
            config.webhook_url = url;
            if channels.is_none() {
                let mut on = config.channels();
                on.set("webhook", config.webhook_url.is_some());
                config.channels = on.to_stored().unwrap_or_default();
            }
        }
        if let Some(channels) = channels {
            // `null` switches every channel off rather than on: channels are opt-in.
            config.channels = channels.to_stored().unwrap_or_else(|| "{}".to_owned());
        }
        if let Some(events) = events {
            config.webhook_events = events.to_stored();
        }
        if let Some(slack) = slack {
            config.slack_webhook_url = slack;
        }
        if let Some(telegram) = telegram {
            config.telegram_chat_id = telegram;
        }
        if let Some(whatsapp) = whatsapp {
            config.whatsapp_to_phone = whatsapp;
        }
        if config.webhook_url.is_some() && config.sealed_webhook_secret.is_none() {
            config.sealed_webhook_secret = Some(secrets::new_sealed(&cipher, &config.account_id));
        }
    })
    .await?;
    respond(&state, &config)
}

/// Removes the account webhook: its URL and events; other channels stay. The signing secret
/// stays too: profile webhooks still sign with it, and a webhook set again reuses it.
#[utoipa::path(delete, path = "/api/uploadposts/users/notifications", tag = "webhooks", security(("apikey" = [])), responses((status = 200, description = "The settings without the webhook", body = serde_json::Value)))]
pub async fn delete(state: Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let config = change(&state, auth.0.id, |config| {
        config.webhook_url = None;
        config.webhook_events = None;
        let mut channels = config.channels();
        channels.set("webhook", false);
        config.channels = channels.to_stored().unwrap_or_default();
    })
    .await?;
    respond(&state, &config)
}

/// A new signing secret, effective for every delivery from now on.
#[utoipa::path(post, path = "/api/uploadposts/users/webhook-secret", tag = "webhooks", security(("apikey" = [])), responses((status = 200, description = "`{success, webhook_secret}`", body = serde_json::Value)))]
pub async fn rotate_secret(
    state: Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let secret = new_secret();
    let sealed = secrets::seal(&state.oauth.cipher, &auth.0.id, &secret);
    change(&state, auth.0.id, |config| {
        config.sealed_webhook_secret = Some(sealed);
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "webhook_secret": secret})))
}

/// Queues a `webhook_test` event to the account webhook.
#[utoipa::path(post, path = "/api/uploadposts/users/notifications/test", tag = "webhooks", security(("apikey" = [])), responses((status = 200, description = "`{success, message, delivery_id}`", body = serde_json::Value)))]
pub async fn test(state: Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let account = auth.0;
    let ids = state
        .db
        .run_queueing(move |conn| {
            let body = test_body(account.email.as_deref(), time::now());
            outbox::emit(conn, &account.id, None, Event::WebhookTest, &body).map_err(ApiError::from)
        })
        .await?;
    let Some(id) = ids.first() else {
        return Err(FieldError::worded(
            "webhook_url",
            "No webhook_url is configured: set one first".to_owned(),
        )
        .into());
    };
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Test notification queued",
        "delivery_id": id,
    })))
}

#[derive(Debug, Deserialize)]
pub struct ProfileQuery {
    profile_username: Option<String>,
}

/// Runs `f` on the account's profile named `username`, or answers 404. With the account's
/// `plan`, for a change that sets something up: refused for a profile the plan blocks.
async fn on_profile<T: Send + 'static>(
    state: &AppState,
    account_id: String,
    username: &Username,
    plan: Option<Plan>,
    f: impl FnOnce(&mut DbConn, profiles::Profile) -> diesel::QueryResult<T> + Send + 'static,
) -> Result<T, ApiError> {
    let username = username.clone();
    state
        .db
        .run(move |conn| {
            let profile =
                profiles::find(conn, &account_id, &username)?.ok_or(ApiError::ProfileNotFound)?;
            if let Some(plan) = plan {
                scope::unblocked(conn, &plan, &profile)?;
            }
            Ok(f(conn, profile)?)
        })
        .await
}

fn profile_webhook_view(username: &str, hook: Option<&ProfileWebhook>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "success": true,
        "profile_username": username,
        "webhook_url": hook.map(|h| h.webhook_url.as_str()),
        "webhook_events": hook.map(|h| h.events().to_json(Event::subscribable())),
    }))
}

#[utoipa::path(get, path = "/api/uploadposts/users/profile-webhook", tag = "webhooks", security(("apikey" = [])), params(("profile_username" = String, Query, description = "The profile")), responses((status = 200, description = "`{success, profile_username, webhook_url, webhook_events}`", body = serde_json::Value)))]
pub async fn get_profile_webhook(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<ProfileQuery>,
) -> Result<HttpResponse, ApiError> {
    let username = profile_username(query.profile_username.clone().map(Value::from).as_ref())?;
    let hook = on_profile(&state, auth.0.id, &username, None, |conn, profile| {
        notifications::profile_webhook(conn, &profile.id)
    })
    .await?;
    Ok(profile_webhook_view(username.as_str(), hook.as_ref()))
}

fn profile_username(value: Option<&Value>) -> Result<Username, ApiError> {
    match value {
        None | Some(Value::Null) => Err(FieldError::new("profile_username", "is required").into()),
        Some(v) => Ok(Username::from_json(Some(v))?),
    }
}

/// Sets a profile's own webhook; `webhook_events` omitted or `null` means every event.
#[utoipa::path(post, path = "/api/uploadposts/users/profile-webhook", tag = "webhooks", security(("apikey" = [])), request_body = super::schemas::ProfileWebhook, responses((status = 200, description = "The profile's webhook", body = serde_json::Value), (status = 403, description = "PROFILE_BLOCKED: the plan blocks the profile", body = crate::error::ErrorBody)))]
pub async fn set_profile_webhook(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let username = profile_username(body.get("profile_username"))?;
    let url = match body.get("webhook_url") {
        Some(Value::String(s)) if !s.is_empty() => {
            WebhookUrl::parse("webhook_url", s, state.webhooks.allow_private_targets)?
        }
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(FieldError::new("webhook_url", "is required").into());
        }
        Some(_) => return Err(FieldError::new("webhook_url", "must be a string").into()),
    };
    let events = Switches::from_json("webhook_events", body.get("webhook_events"))?
        .unwrap_or_else(Switches::all);
    let cipher = state.oauth.cipher.clone();
    let plan = state.plan_of(&auth.0)?.clone();
    let hook = on_profile(
        &state,
        auth.0.id,
        &username,
        Some(plan),
        move |conn, profile| {
            let now = time::now();
            let hook = ProfileWebhook {
                profile_id: profile.id,
                account_id: profile.account_id,
                webhook_url: url.as_str().to_owned(),
                webhook_events: events.to_stored(),
                created_at: now,
                updated_at: now,
            };
            notifications::save_profile_webhook(conn, &hook, || {
                secrets::new_sealed(&cipher, &hook.account_id)
            })?;
            Ok(hook)
        },
    )
    .await?;
    Ok(profile_webhook_view(username.as_str(), Some(&hook)))
}

#[utoipa::path(delete, path = "/api/uploadposts/users/profile-webhook", tag = "webhooks", security(("apikey" = [])), request_body = super::schemas::ProfileWebhookTarget, responses((status = 200, description = "`{success, profile_username, deleted}`", body = serde_json::Value)))]
pub async fn delete_profile_webhook(
    state: Data<AppState>,
    auth: Authenticated,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let username = profile_username(body.get("profile_username"))?;
    let deleted = on_profile(&state, auth.0.id, &username, None, |conn, profile| {
        notifications::delete_profile_webhook(conn, &profile.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "profile_username": username.as_str(),
        "deleted": deleted,
    })))
}
