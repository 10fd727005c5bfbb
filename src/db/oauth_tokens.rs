//! A connection's tokens, encrypted, and the refresh engine's bookkeeping: when the next
//! refresh is due, who holds the lease on it, and how it went last time.

use super::DbConn;
use super::schema::oauth_tokens;
use chrono::NaiveDateTime;
use diesel::Connection as _;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_tokens)]
pub struct StoredTokens {
    pub connection_id: String,
    /// Encrypted (`TokenCipher`, bound to `<connection_id>:access`).
    pub access_token: String,
    /// Encrypted, bound to `<connection_id>:refresh`.
    pub refresh_token: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub refresh_expires_at: Option<NaiveDateTime>,
    /// The granted scopes, space-separated.
    pub scopes: Option<String>,
    /// When the engine should refresh; `None`: never (no expiry, or nothing to refresh with).
    pub refresh_due_at: Option<NaiveDateTime>,
    /// A process is refreshing these tokens until then.
    pub refresh_lease_until: Option<NaiveDateTime>,
    /// Transient failures in a row.
    pub refresh_failures: i32,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Replaces the connection's tokens: a portable upsert (delete, then insert) in one
/// transaction (a savepoint inside the caller's), so that nobody ever finds the connection
/// without tokens, and a crash between the two loses nothing.
pub fn put(conn: &mut DbConn, tokens: &StoredTokens) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(oauth_tokens::table.find(&tokens.connection_id)).execute(conn)?;
        diesel::insert_into(oauth_tokens::table)
            .values(tokens)
            .execute(conn)
            .map(drop)
    })
}

pub fn get(conn: &mut DbConn, connection_id: &str) -> QueryResult<Option<StoredTokens>> {
    oauth_tokens::table
        .find(connection_id)
        .select(StoredTokens::as_select())
        .first(conn)
        .optional()
}

/// Connections whose refresh is due and not leased, oldest due first.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    oauth_tokens::table
        .filter(oauth_tokens::refresh_due_at.le(now))
        .filter(
            oauth_tokens::refresh_lease_until
                .is_null()
                .or(oauth_tokens::refresh_lease_until.lt(now)),
        )
        .order(oauth_tokens::refresh_due_at)
        .select(oauth_tokens::connection_id)
        .limit(limit)
        .load(conn)
}

/// Takes the refresh lease on a connection's tokens if nobody holds it: one atomic update,
/// so among several processes exactly one wins.
pub fn lease(
    conn: &mut DbConn,
    connection_id: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        oauth_tokens::table
            .find(connection_id)
            .filter(oauth_tokens::refresh_due_at.le(now))
            .filter(
                oauth_tokens::refresh_lease_until
                    .is_null()
                    .or(oauth_tokens::refresh_lease_until.lt(now)),
            ),
    )
    .set(oauth_tokens::refresh_lease_until.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// A transient failure: try again at `retry_at`.
pub fn postpone(
    conn: &mut DbConn,
    connection_id: &str,
    retry_at: NaiveDateTime,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(oauth_tokens::table.find(connection_id))
        .set((
            oauth_tokens::refresh_due_at.eq(retry_at),
            oauth_tokens::refresh_lease_until.eq(None::<NaiveDateTime>),
            oauth_tokens::refresh_failures.eq(oauth_tokens::refresh_failures + 1),
            oauth_tokens::last_error.eq(error),
            oauth_tokens::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// A final failure: no more refreshes until the account reconnects.
pub fn stop(
    conn: &mut DbConn,
    connection_id: &str,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(oauth_tokens::table.find(connection_id))
        .set((
            oauth_tokens::refresh_due_at.eq(None::<NaiveDateTime>),
            oauth_tokens::refresh_lease_until.eq(None::<NaiveDateTime>),
            oauth_tokens::last_error.eq(error),
            oauth_tokens::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
