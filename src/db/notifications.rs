//! Where an account's notifications go: its notification settings (one row, created on first
//! save) and per-profile webhooks.

use super::schema::{notification_configs, profile_webhooks};
use super::{DbConn, accounts};
use crate::domain::time;
use crate::domain::webhooks::Switches;
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
    pub webhook_secret: Option<String>,
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
            webhook_secret: None,
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

/// Creates or replaces a profile's webhook, under the account's lock.
pub fn save_profile_webhook(conn: &mut DbConn, hook: &ProfileWebhook) -> QueryResult<()> {
    conn.transaction(|conn| {
        accounts::lock(conn, &hook.account_id)?;
        upsert_profile_webhook(conn, hook)
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
