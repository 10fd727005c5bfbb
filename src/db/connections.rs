//! Social accounts connected to profiles, as far as pages and API responses show them.

use super::DbConn;
use super::schema::social_connections;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = social_connections)]
pub struct Connection {
    pub id: String,
    pub account_id: String,
    pub profile_id: String,
    /// A platform key (`Platform::key`).
    pub platform: String,
    /// The platform's stable id for the account (Upload-Post's `username`).
    pub platform_user_id: String,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    /// A JSON array of capability names, for the platforms that have them.
    pub capabilities: Option<String>,
    pub reauth_required: bool,
    pub reauth_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, connection: &Connection) -> QueryResult<()> {
    diesel::insert_into(social_connections::table)
        .values(connection)
        .execute(conn)
        .map(drop)
}

/// The connections of these profiles.
pub fn for_profiles(conn: &mut DbConn, profile_ids: &[&str]) -> QueryResult<Vec<Connection>> {
    social_connections::table
        .filter(social_connections::profile_id.eq_any(profile_ids))
        .select(Connection::as_select())
        .order((social_connections::profile_id, social_connections::platform))
        .load(conn)
}
