//! Connect links: one row per issued token, holding the page settings the token stands for.

use super::DbConn;
use super::profiles::Profile;
use super::schema::{accounts, connect_links, profiles};
use crate::db::accounts::Account;
use crate::domain::connect_settings::{Change, LinkSettings, PageUrl, UiLabels};
use crate::domain::language::Language;
use crate::domain::secrets::new_random_id;
use crate::domain::{Platform, time};
use chrono::NaiveDateTime;
use diesel::prelude::*;

const LINK_ID_CHARS: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = connect_links)]
pub struct Link {
    pub id: String,
    pub account_id: String,
    pub profile_id: String,
    pub redirect_url: Option<String>,
    pub logo_image: Option<String>,
    pub redirect_button_text: Option<String>,
    pub connect_title: Option<String>,
    pub connect_description: Option<String>,
    /// Comma-separated platform keys; `None` for every platform.
    pub platforms: Option<String>,
    pub show_calendar: bool,
    pub readonly_calendar: bool,
    pub language: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl Link {
    /// The settings as the request gave them. Stored values were validated on the way in;
    /// anything unreadable is dropped rather than trusted.
    pub fn settings(&self) -> LinkSettings {
        let url =
            |field, v: &Option<String>| v.as_deref().and_then(|s| PageUrl::parse(field, s).ok());
        LinkSettings {
            redirect_url: url("redirect_url", &self.redirect_url),
            logo_image: url("logo_image", &self.logo_image),
            redirect_button_text: self.redirect_button_text.clone(),
            connect_title: self.connect_title.clone(),
            connect_description: self.connect_description.clone(),
            platforms: self
                .platforms
                .as_deref()
                .map(|s| s.split(',').filter_map(Platform::parse).collect()),
            show_calendar: self.show_calendar,
            readonly_calendar: self.readonly_calendar,
            language: self.language.as_deref().and_then(Language::parse),
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = profiles)]
struct PageChanges {
    language: Option<Option<String>>,
    ui_labels: Option<Option<String>>,
    updated_at: NaiveDateTime,
}

fn column<T>(change: &Change<T>, text: impl Fn(&T) -> String) -> Option<Option<String>> {
    match change {
        Change::Keep => None,
        Change::Set(v) => Some(Some(text(v))),
        Change::Clear => Some(None),
    }
}

/// What `create` needs besides the profile.
pub struct NewLink<'a> {
    pub settings: &'a LinkSettings,
    pub profile_language: &'a Change<Language>,
    pub ui_labels: &'a Change<UiLabels>,
    pub lifetime_seconds: i64,
}

/// Stores a link and applies the profile-level changes (language, labels) that came with it,
/// together. Returns the link and the profile as it now is.
pub fn create(
    conn: &mut DbConn,
    mut profile: Profile,
    new: NewLink<'_>,
) -> QueryResult<(Link, Profile)> {
    conn.transaction(|conn| {
        let now = time::now();
        let changes = PageChanges {
            language: column(new.profile_language, |l| l.code().to_owned()),
            ui_labels: column(new.ui_labels, UiLabels::to_json_text),
            updated_at: now,
        };
        if changes.language.is_some() || changes.ui_labels.is_some() {
            diesel::update(profiles::table.find(&profile.id))
                .set(&changes)
                .execute(conn)?;
            if let Some(language) = changes.language {
                profile.language = language;
            }
            if let Some(labels) = changes.ui_labels {
                profile.ui_labels = labels;
            }
            profile.updated_at = now;
        }
        let s = new.settings;
        let link = Link {
            id: new_random_id(LINK_ID_CHARS),
            account_id: profile.account_id.clone(),
            profile_id: profile.id.clone(),
            redirect_url: s.redirect_url.as_ref().map(|u| u.as_str().to_owned()),
            logo_image: s.logo_image.as_ref().map(|u| u.as_str().to_owned()),
            redirect_button_text: s.redirect_button_text.clone(),
            connect_title: s.connect_title.clone(),
            connect_description: s.connect_description.clone(),
            platforms: s
                .platforms
                .as_ref()
                .map(|ps| ps.iter().map(|p| p.key()).collect::<Vec<_>>().join(",")),
            show_calendar: s.show_calendar,
            readonly_calendar: s.readonly_calendar,
            language: s.language.map(|l| l.code().to_owned()),
            created_at: now,
            expires_at: now + chrono::Duration::seconds(new.lifetime_seconds),
            revoked_at: None,
        };
        diesel::insert_into(connect_links::table)
            .values(&link)
            .execute(conn)?;
        Ok((link, profile))
    })
}

/// A link with its profile and account, if all three exist. Revocation and expiry are the
/// caller's to judge.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<(Link, Profile, Account)>> {
    connect_links::table
        .inner_join(profiles::table.inner_join(accounts::table))
        .filter(connect_links::id.eq(id))
        .select((
            Link::as_select(),
            Profile::as_select(),
            Account::as_select(),
        ))
        .first(conn)
        .optional()
}

/// Revokes one of the account's links: `None` if it has no such link, else how many live
/// links that revoked (0 when it already was).
pub fn revoke(conn: &mut DbConn, account_id: &str, link_id: &str) -> QueryResult<Option<usize>> {
    let mine = connect_links::table
        .filter(connect_links::account_id.eq(account_id))
        .filter(connect_links::id.eq(link_id));
    if mine.count().get_result::<i64>(conn)? == 0 {
        return Ok(None);
    }
    diesel::update(mine.filter(connect_links::revoked_at.is_null()))
        .set(connect_links::revoked_at.eq(time::now()))
        .execute(conn)
        .map(Some)
}

/// Revokes every live link of a profile; returns how many there were.
pub fn revoke_for_profile(conn: &mut DbConn, profile_id: &str) -> QueryResult<usize> {
    let now = time::now();
    diesel::update(
        connect_links::table
            .filter(connect_links::profile_id.eq(profile_id))
            .filter(connect_links::revoked_at.is_null())
            .filter(connect_links::expires_at.gt(now)),
    )
    .set(connect_links::revoked_at.eq(now))
    .execute(conn)
}
