//! API accounts: the operator's tenants, each with a plan, keys and profiles.

use super::schema::{accounts, api_keys, profiles};
use super::{DbConn, api_keys as keys, profiles as profile_rows};
use crate::domain::secrets::IssuedApiKey;
use crate::domain::time;
use diesel::dsl::count_star;
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub plan: String,
    pub week_start_day: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    /// A JSON array of origins (`RedirectOrigins`); `None` for none.
    pub allowed_redirect_origins: Option<String>,
}

/// A new account with its default profile and its first key, whose full text exists only here.
#[derive(Debug)]
pub struct CreatedAccount {
    pub account: Account,
    pub api_key: IssuedApiKey,
}

/// Creates the account, its default profile and its first API key, all or nothing.
pub fn create(
    conn: &mut DbConn,
    name: &str,
    email: Option<&str>,
    plan: &str,
) -> QueryResult<CreatedAccount> {
    conn.transaction(|conn| {
        let now = time::now();
        let account = Account {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_owned(),
            email: email.map(str::to_owned),
            plan: plan.to_owned(),
            week_start_day: 1,
            created_at: now,
            updated_at: now,
            allowed_redirect_origins: None,
        };
        diesel::insert_into(accounts::table)
            .values(&account)
            .execute(conn)?;
        profile_rows::insert_default(conn, &account.id, now)?;
        let api_key = keys::issue(conn, &account.id)?;
        Ok(CreatedAccount { account, api_key })
    })
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Account>> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
        .optional()
}

/// Takes the account's write lock for the rest of the transaction: every change that must
/// see a stable count of the account's rows starts here. A row lock on PostgreSQL; on SQLite,
/// the first write of a transaction takes the database write lock. Returns false if the
/// account does not exist.
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(accounts::table.find(id))
        .set(accounts::updated_at.eq(accounts::updated_at))
        .execute(conn)?;
    Ok(n == 1)
}

/// What a preferences change sets; `None` keeps the stored value.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct PreferenceChanges {
    /// 0 Sunday, 1 Monday.
    pub week_start_day: Option<i32>,
    /// `RedirectOrigins::to_stored`: `Some(None)` clears the list.
    pub allowed_redirect_origins: Option<Option<String>>,
}

/// Applies a preferences change in one statement.
pub fn set_preferences(
    conn: &mut DbConn,
    id: &str,
    changes: &PreferenceChanges,
) -> QueryResult<bool> {
    let n = diesel::update(accounts::table.find(id))
        .set((changes, accounts::updated_at.eq(time::now())))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn set_plan(conn: &mut DbConn, id: &str, plan: &str) -> QueryResult<bool> {
    let n = diesel::update(accounts::table.find(id))
        .set((
            accounts::plan.eq(plan),
            accounts::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    accounts::table.count().get_result(conn)
}

/// The plan names accounts use, to check them against the configured table.
pub fn plans_in_use(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    accounts::table
        .select(accounts::plan)
        .distinct()
        .order(accounts::plan)
        .load(conn)
}

#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub account: Account,
    pub profiles: i64,
    pub active_keys: i64,
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<AccountSummary>> {
    let all: Vec<Account> = accounts::table
        .select(Account::as_select())
        .order((accounts::created_at, accounts::id))
        .load(conn)?;
    let profile_counts: HashMap<String, i64> = profiles::table
        .group_by(profiles::account_id)
        .select((profiles::account_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let key_counts: HashMap<String, i64> = api_keys::table
        .filter(api_keys::revoked_at.is_null())
        .group_by(api_keys::account_id)
        .select((api_keys::account_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(all
        .into_iter()
        .map(|account| AccountSummary {
            profiles: profile_counts.get(&account.id).copied().unwrap_or(0),
            active_keys: key_counts.get(&account.id).copied().unwrap_or(0),
            account,
        })
        .collect())
}
