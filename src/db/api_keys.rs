//! API keys: stored as SHA-256 hashes, named in listings by a short clear prefix.

use super::DbConn;
use super::accounts::Account;
use super::schema::{accounts, api_keys};
use crate::domain::secrets::{IssuedApiKey, hash_api_key};
use crate::domain::time;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

/// `last_used_at` is refreshed at most this often, so authentication stays a read.
const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub account_id: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Generates and stores a new key for the account; the returned full text is never stored.
pub fn issue(conn: &mut DbConn, account_id: &str) -> QueryResult<IssuedApiKey> {
    let key = IssuedApiKey::generate();
    let row = ApiKeyRow {
        id: uuid::Uuid::now_v7().to_string(),
        account_id: account_id.to_owned(),
        prefix: key.prefix.clone(),
        key_hash: key.hash.clone(),
        created_at: time::now(),
        last_used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(api_keys::table)
        .values(&row)
        .execute(conn)?;
    Ok(key)
}

/// The account a presented key belongs to, if the key exists and is not revoked.
pub fn authenticate(conn: &mut DbConn, presented: &str) -> QueryResult<Option<Account>> {
    let found = api_keys::table
        .inner_join(accounts::table)
        .filter(api_keys::key_hash.eq(hash_api_key(presented)))
        .filter(api_keys::revoked_at.is_null())
        .select((ApiKeyRow::as_select(), Account::as_select()))
        .first::<(ApiKeyRow, Account)>(conn)
        .optional()?;
    let Some((key, account)) = found else {
        return Ok(None);
    };
    let now = time::now();
    if key
        .last_used_at
        .is_none_or(|t| now - t > LAST_USED_RESOLUTION)
    {
        diesel::update(api_keys::table.find(&key.id))
            .set(api_keys::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(account))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked { account_id: String },
    AlreadyRevoked,
    NotFound,
}

pub fn revoke(conn: &mut DbConn, prefix: &str) -> QueryResult<RevokeOutcome> {
    let Some(key) = api_keys::table
        .filter(api_keys::prefix.eq(prefix))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(RevokeOutcome::NotFound);
    };
    if key.revoked_at.is_some() {
        return Ok(RevokeOutcome::AlreadyRevoked);
    }
    diesel::update(api_keys::table.find(&key.id))
        .set(api_keys::revoked_at.eq(time::now()))
        .execute(conn)?;
    Ok(RevokeOutcome::Revoked {
        account_id: key.account_id,
    })
}

pub fn list(conn: &mut DbConn, account_id: Option<&str>) -> QueryResult<Vec<ApiKeyRow>> {
    let mut query = api_keys::table.select(ApiKeyRow::as_select()).into_boxed();
    if let Some(id) = account_id {
        query = query.filter(api_keys::account_id.eq(id.to_owned()));
    }
    query
        .order((api_keys::account_id, api_keys::created_at))
        .load(conn)
}
