//! Posts of a profile, scheduled or published; the calendar reads them.

use super::DbConn;
use super::schema::posts;
use crate::domain::time;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub const STATUS_SCHEDULED: &str = "scheduled";
pub const STATUS_PUBLISHED: &str = "published";
pub const STATUS_FAILED: &str = "failed";
pub const STATUS_CANCELLED: &str = "cancelled";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: String,
    pub account_id: String,
    pub profile_id: String,
    pub platform: String,
    /// One of the `STATUS_*` values.
    pub status: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub media_url: Option<String>,
    /// When the post goes (or went) out.
    pub scheduled_for: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, post: &Post) -> QueryResult<()> {
    diesel::insert_into(posts::table)
        .values(post)
        .execute(conn)
        .map(drop)
}

/// The profile's posts due in `[from, to)`, cancelled ones left out, in time order.
pub fn in_range(
    conn: &mut DbConn,
    profile_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Post>> {
    posts::table
        .filter(posts::profile_id.eq(profile_id))
        .filter(posts::scheduled_for.ge(from))
        .filter(posts::scheduled_for.lt(to))
        .filter(posts::status.ne(STATUS_CANCELLED))
        .select(Post::as_select())
        .order((posts::scheduled_for, posts::id))
        .load(conn)
}

/// Cancels one of the profile's scheduled posts; false if there is no such scheduled post.
pub fn cancel(conn: &mut DbConn, profile_id: &str, post_id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        posts::table
            .filter(posts::id.eq(post_id))
            .filter(posts::profile_id.eq(profile_id))
            .filter(posts::status.eq(STATUS_SCHEDULED)),
    )
    .set((
        posts::status.eq(STATUS_CANCELLED),
        posts::updated_at.eq(time::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
