//! Profiles: one per end user of an API account.

use super::DbConn;
use super::oauth_tokens::StoredTokens;
use super::outbox::Queued;
use super::schema::profiles;
use super::{accounts, connections, oauth_tokens};
use crate::domain::profile_fields::{ExternalId, Metadata, ProfileName};
use crate::domain::secrets::new_public_id;
use crate::domain::webhooks::{ConnectionChange, DisconnectReason};
use crate::domain::{Limit, Username, time};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The username of the profile every account is created with.
pub const DEFAULT_PROFILE_USERNAME: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = profiles)]
pub struct Profile {
    pub id: String,
    pub account_id: String,
    pub username: String,
    pub public_id: String,
    pub name: String,
    pub external_id: Option<String>,
    pub metadata: Option<String>,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The connect page's language for this profile, when forced.
    pub language: Option<String>,
    /// The connect page's text overrides, a JSON object of strings.
    pub ui_labels: Option<String>,
}

impl Profile {
    fn new(account_id: &str, username: String, name: String, now: NaiveDateTime) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: account_id.to_owned(),
            username,
            public_id: new_public_id(),
            name,
            external_id: None,
            metadata: None,
            is_default: false,
            created_at: now,
            updated_at: now,
            language: None,
            ui_labels: None,
        }
    }
}

/// What a caller may set when creating a profile.
#[derive(Debug, Clone)]
pub struct NewProfile {
    pub username: Username,
    pub name: Option<ProfileName>,
    pub external_id: Option<ExternalId>,
    pub metadata: Option<Metadata>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the plan allows {limit} profiles")]
    LimitReached { limit: Limit },
    #[error("username taken")]
    UsernameTaken,
    #[error("external_id taken")]
    ExternalIdTaken,
    #[error("account not found")]
    AccountMissing,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

pub(super) fn insert_default(
    conn: &mut DbConn,
    account_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let mut profile = Profile::new(
        account_id,
        DEFAULT_PROFILE_USERNAME.to_owned(),
        "Default".to_owned(),
        now,
    );
    profile.is_default = true;
    diesel::insert_into(profiles::table)
        .values(&profile)
        .execute(conn)?;
    Ok(())
}

/// Creates a profile if the plan's limit allows one more. The limit check and the insert
/// happen under the account's lock, so concurrent requests, from any number of processes,
/// can neither exceed the limit nor create a duplicate.
pub fn create_within_limit(
    conn: &mut DbConn,
    account_id: &str,
    limit: Limit,
    new: NewProfile,
) -> Result<Profile, CreateError> {
    conn.transaction(|conn| {
        if !accounts::lock(conn, account_id)? {
            return Err(CreateError::AccountMissing);
        }
        if find(conn, account_id, &new.username)?.is_some() {
            return Err(CreateError::UsernameTaken);
        }
        if let Some(ext) = &new.external_id {
            let ext = ext.clone().into_inner();
            let taken = profiles::table
                .filter(profiles::account_id.eq(account_id))
                .filter(profiles::external_id.eq(ext))
                .count()
                .get_result::<i64>(conn)?;
            if taken > 0 {
                return Err(CreateError::ExternalIdTaken);
            }
        }
        let used = count(conn, account_id)?;
        if !limit.allows_another(used) {
            return Err(CreateError::LimitReached { limit });
        }
        let name = new
            .name
            .map(ProfileName::into_inner)
            .unwrap_or_else(|| new.username.to_string());
        let mut profile = Profile::new(account_id, new.username.into_inner(), name, time::now());
        profile.external_id = new.external_id.map(ExternalId::into_inner);
        profile.metadata = new.metadata.as_ref().map(Metadata::to_json_text);
        diesel::insert_into(profiles::table)
            .values(&profile)
            .execute(conn)?;
        Ok(profile)
    })
}

pub fn count(conn: &mut DbConn, account_id: &str) -> QueryResult<i64> {
    profiles::table
        .filter(profiles::account_id.eq(account_id))
        .count()
        .get_result(conn)
}

/// A slice of the account's profiles in creation order (oldest first).
pub fn list(
    conn: &mut DbConn,
    account_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<Profile>> {
    profiles::table
        .filter(profiles::account_id.eq(account_id))
        .select(Profile::as_select())
        .order((profiles::created_at, profiles::id))
        .offset(offset)
        .limit(limit)
        .load(conn)
}

/// A profile by its id.
pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Profile>> {
    profiles::table
        .find(id)
        .select(Profile::as_select())
        .first(conn)
        .optional()
}

/// Takes a parsed `Username`: names are stored in NFC, so a raw string could miss its profile.
pub fn find(
    conn: &mut DbConn,
    account_id: &str,
    username: &Username,
) -> QueryResult<Option<Profile>> {
    profiles::table
        .filter(profiles::account_id.eq(account_id))
        .filter(profiles::username.eq(username.as_str()))
        .select(Profile::as_select())
        .first(conn)
        .optional()
}

/// How many of the account's profiles were created before this one (0 = the oldest).
pub fn position(conn: &mut DbConn, profile: &Profile) -> QueryResult<i64> {
    profiles::table
        .filter(profiles::account_id.eq(&profile.account_id))
        .filter(
            profiles::created_at
                .lt(profile.created_at)
                .or(profiles::created_at
                    .eq(profile.created_at)
                    .and(profiles::id.lt(&profile.id))),
        )
        .count()
        .get_result(conn)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// With the connections it had and their (encrypted) tokens, for revoking at the
    /// platforms.
    Deleted(Vec<(connections::Connection, Option<StoredTokens>)>),
    NotFound,
    IsDefault,
}

/// Deletes a profile with its links and connections (and their tokens). Each connected
/// account is reported as
/// `social_account_disconnected` (reason `profile_deleted`) in the same transaction, so the
/// events exist exactly when the deletion does.
pub fn delete(
    conn: &mut DbConn,
    account_id: &str,
    username: &Username,
) -> QueryResult<Queued<DeleteOutcome>> {
    conn.transaction(|conn| {
        // Write first: SQLite then holds the write lock for the whole transaction.
        if !accounts::lock(conn, account_id)? {
            return Ok(Queued::nothing(DeleteOutcome::NotFound));
        }
        let Some(profile) = find(conn, account_id, username)? else {
            return Ok(Queued::nothing(DeleteOutcome::NotFound));
        };
        if profile.is_default {
            return Ok(Queued::nothing(DeleteOutcome::IsDefault));
        }
        let mut removed = Vec::new();
        let mut queued = 0;
        let change = ConnectionChange::Disconnected(DisconnectReason::ProfileDeleted);
        for c in connections::for_profiles(conn, &[&profile.id])? {
            removed.push((c.clone(), oauth_tokens::get(conn, &c.id)?));
            queued += connections::emit(conn, &profile, &c, change)?;
        }
        let n = diesel::delete(profiles::table.find(&profile.id)).execute(conn)?;
        let outcome = if n == 1 {
            DeleteOutcome::Deleted(removed)
        } else {
            DeleteOutcome::NotFound
        };
        Ok(Queued::new(outcome, queued))
    })
}
