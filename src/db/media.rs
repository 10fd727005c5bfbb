//! Stored media: one row per object in the media store.

use super::DbConn;
use super::schema::media_objects;
use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// A staged upload created, its bytes not yet sent.
pub const STAGING: &str = "staging";
/// A staged upload whose bytes are stored, not yet completed (sniffed).
pub const UPLOADED: &str = "uploaded";
/// Usable media: sniffed and stored.
pub const READY: &str = "ready";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = media_objects)]
pub struct MediaObject {
    pub id: String,
    pub account_id: String,
    pub profile_id: Option<String>,
    /// `image`, `video` or `document` (`domain::upload::MediaKind`).
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub filename: Option<String>,
    pub object_key: String,
    pub state: String,
    pub source: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// JSON: what probing found in a video (`publish::publisher::VideoInfo`).
    pub video: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &MediaObject) -> QueryResult<()> {
    diesel::insert_into(media_objects::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Records what probing found in a stored video.
pub fn set_video(conn: &mut DbConn, id: &str, video: &str) -> QueryResult<()> {
    diesel::update(media_objects::table.find(id))
        .set(media_objects::video.eq(Some(video)))
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<MediaObject>> {
    media_objects::table
        .find(id)
        .select(MediaObject::as_select())
        .first(conn)
        .optional()
}

/// The item if it belongs to `account_id`.
pub fn find_owned(
    conn: &mut DbConn,
    account_id: &str,
    id: &str,
) -> QueryResult<Option<MediaObject>> {
    media_objects::table
        .find(id)
        .filter(media_objects::account_id.eq(account_id))
        .select(MediaObject::as_select())
        .first(conn)
        .optional()
}

/// Moves an item from state `from` to `to` with new contents facts; false when it was not
/// in `from` (a concurrent request moved it first).
pub fn advance(
    conn: &mut DbConn,
    id: &str,
    from: &str,
    to: &str,
    content_type: &str,
    size: i64,
) -> QueryResult<bool> {
    diesel::update(
        media_objects::table
            .find(id)
            .filter(media_objects::state.eq(from)),
    )
    .set((
        media_objects::state.eq(to),
        media_objects::content_type.eq(content_type),
        media_objects::size.eq(size),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Sets (or clears, with `None`) when the items expire.
pub fn set_expiry(
    conn: &mut DbConn,
    ids: &[String],
    at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(media_objects::table.filter(media_objects::id.eq_any(ids)))
        .set(media_objects::expires_at.eq(at))
        .execute(conn)
}

/// Deletes the rows and returns their object keys. One statement: a transaction that read
/// the keys first would fail at once on SQLite when another connection wrote in between.
pub fn delete(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    diesel::delete(media_objects::table.filter(media_objects::id.eq_any(ids)))
        .returning(media_objects::object_key)
        .get_results(conn)
}

/// Up to `limit` ids of items whose expiry has passed.
pub fn expired(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    media_objects::table
        .filter(media_objects::expires_at.le(now))
        .select(media_objects::id)
        .limit(limit)
        .load(conn)
}

/// Which of `keys` have a row.
pub fn known_keys(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<String>> {
    media_objects::table
        .filter(media_objects::object_key.eq_any(keys))
        .select(media_objects::object_key)
        .load(conn)
}

/// Bytes stored and reserved (staged uploads count their declared length), all accounts.
pub fn total_size(conn: &mut DbConn) -> QueryResult<i64> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast it back on both backends.
    media_objects::table
        .select(sql::<BigInt>("CAST(COALESCE(SUM(size), 0) AS BIGINT)"))
        .first(conn)
}

/// Inserts the row unless the total would then pass `budget` bytes; false when refused.
/// Writes first, so on SQLite concurrent inserts queue behind each other; on PostgreSQL two
/// racing inserts can each miss the other's row and pass the budget by one item.
pub fn insert_within_budget(
    conn: &mut DbConn,
    row: &MediaObject,
    budget: i64,
) -> QueryResult<bool> {
    let inserted = conn.transaction(|conn| {
        insert(conn, row)?;
        if total_size(conn)? > budget {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        Ok(())
    });
    match inserted {
        Ok(()) => Ok(true),
        Err(diesel::result::Error::RollbackTransaction) => Ok(false),
        Err(e) => Err(e),
    }
}
