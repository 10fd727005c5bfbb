//! Where an account's notifications go: its notification settings (one row, created on first
//! save) and per-profile webhooks.

use super::schema::{notification_configs, profile_webhooks};
use super::{DbConn, accounts};
use crate::domain::time;
use crate::domain::webhooks::{SECRET_PREFIX, Switches};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = notification_configs, treat_none_as_null = true)]
pub struct NotificationConfig {
    pub account_id: String,
    /// JSON map of channel name to boolean.
    pub channels: String,
    pub webhook_url: Option<String>,
    /// JSON map of event name to boolean; `None` for every event.
    pub webhook_events: Option<String>,
    /// Sealed (`webhooks::secrets`); once set, never cleared.
    pub sealed_webhook_secret: Option<String>,
    pub telegram_chat_id: Option<String>,
    pub slack_webhook_url: Option<String>,
    pub whatsapp_to_phone: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl NotificationConfig {
    /// What an account that never saved its settings has: no channel, every event.
    pub fn empty(account_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            channels: "{}".to_owned(),
            webhook_url: None,
            webhook_events: None,
            sealed_webhook_secret: None,
            telegram_chat_id: None,
            slack_webhook_url: None,
            whatsapp_to_phone: None,
            updated_at: time::now(),
        }
    }

    pub fn channels(&self) -> Switches {
        // Stored maps are never `None`: an empty map means every channel off.
        Switches::from_stored(Some(&self.channels))
    }

    pub fn events(&self) -> Switches {
        Switches::from_stored(self.webhook_events.as_deref())
    }

    /// Where account events go, if webhooks are on.
    pub fn webhook_target(&self) -> Option<&str> {
        self.webhook_url
            .as_deref()
            .filter(|_| self.channels().is_on("webhook"))
    }
}

pub fn get(conn: &mut DbConn, account_id: &str) -> QueryResult<NotificationConfig> {
    Ok(notification_configs::table
        .find(account_id)
        .select(NotificationConfig::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_else(|| NotificationConfig::empty(account_id)))
}

/// Reads, changes and stores the account's settings under the account's lock, so two
/// concurrent first saves cannot both insert. `None` if the account does not exist.
pub fn update(
    conn: &mut DbConn,
    account_id: &str,
    apply: impl FnOnce(&mut NotificationConfig),
) -> QueryResult<Option<NotificationConfig>> {
    conn.transaction(|conn| {
        if !accounts::lock(conn, account_id)? {
            return Ok(None);
        }
        let mut config = get(conn, account_id)?;
        apply(&mut config);
        config.updated_at = time::now();
        save(conn, &config)?;
        Ok(Some(config))
    })
}

/// Gives the account a signing secret made by `new` (sealed) unless it has one.
pub fn keep_a_secret(
    conn: &mut DbConn,
    account_id: &str,
    new: impl FnOnce() -> String,
) -> QueryResult<()> {
    if get(conn, account_id)?.sealed_webhook_secret.is_some() {
        return Ok(());
    }
    update(conn, account_id, |config| {
        // Checked again under the lock: another request may have been first.
        if config.sealed_webhook_secret.is_none() {
            config.sealed_webhook_secret = Some(new());
        }
    })
    .map(drop)
}

/// Secrets stored in clear by earlier versions: `(account_id, secret)`.
pub fn secrets_in_clear(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    notification_configs::table
        .filter(notification_configs::sealed_webhook_secret.like(format!("{SECRET_PREFIX}%")))
        .select((
            notification_configs::account_id,
            notification_configs::sealed_webhook_secret.assume_not_null(),
        ))
        .load(conn)
}

/// Replaces the account's secret if it still is `old`; whether it was.
pub fn replace_secret(
    conn: &mut DbConn,
    account_id: &str,
    old: &str,
    new: &str,
) -> QueryResult<bool> {
    let n = diesel::update(
        notification_configs::table
            .find(account_id)
            .filter(notification_configs::sealed_webhook_secret.eq(old)),
    )
    .set(notification_configs::sealed_webhook_secret.eq(new))
    .execute(conn)?;
    Ok(n == 1)
}

/// Accounts with a webhook (their own or a profile's) but no signing secret.
pub fn hooked_without_secret(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let with_secret = notification_configs::table
        .filter(notification_configs::sealed_webhook_secret.is_not_null())
        .select(notification_configs::account_id);
    let mut ids: Vec<String> = profile_webhooks::table
        .filter(diesel::dsl::not(
            profile_webhooks::account_id.eq_any(with_secret),
        ))
        .select(profile_webhooks::account_id)
        .distinct()
        .load(conn)?;
    ids.extend(
        notification_configs::table
            .filter(notification_configs::webhook_url.is_not_null())
            .filter(notification_configs::sealed_webhook_secret.is_null())
            .select(notification_configs::account_id)
            .load::<String>(conn)?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

fn save(conn: &mut DbConn, config: &NotificationConfig) -> QueryResult<()> {
    let updated = diesel::update(notification_configs::table.find(&config.account_id))
        .set(config)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(notification_configs::table)
            .values(config)
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = profile_webhooks, treat_none_as_null = true)]
pub struct ProfileWebhook {
    pub profile_id: String,
    pub account_id: String,
    pub webhook_url: String,
    pub webhook_events: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ProfileWebhook {
    pub fn events(&self) -> Switches {
        Switches::from_stored(self.webhook_events.as_deref())
    }
}

pub fn profile_webhook(conn: &mut DbConn, profile_id: &str) -> QueryResult<Option<ProfileWebhook>> {
    profile_webhooks::table
        .find(profile_id)
        .select(ProfileWebhook::as_select())
        .first(conn)
        .optional()
}

/// Creates or replaces a profile's webhook, under the account's lock, and gives the account
/// a signing secret made by `new_secret` if it has none.
pub fn save_profile_webhook(
    conn: &mut DbConn,
    hook: &ProfileWebhook,
    new_secret: impl FnOnce() -> String,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        accounts::lock(conn, &hook.account_id)?;
        upsert_profile_webhook(conn, hook)?;
        keep_a_secret(conn, &hook.account_id, new_secret)
    })
}

fn upsert_profile_webhook(conn: &mut DbConn, hook: &ProfileWebhook) -> QueryResult<()> {
    let updated = diesel::update(profile_webhooks::table.find(&hook.profile_id))
        .set((
            profile_webhooks::webhook_url.eq(&hook.webhook_url),
            profile_webhooks::webhook_events.eq(&hook.webhook_events),
            profile_webhooks::updated_at.eq(hook.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(profile_webhooks::table)
            .values(hook)
            .execute(conn)?;
    }
    Ok(())
}

/// Removes a profile's webhook; whether there was one.
pub fn delete_profile_webhook(conn: &mut DbConn, profile_id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(profile_webhooks::table.find(profile_id)).execute(conn)? > 0)
}
