//! Pending OAuth authorizations started from a connect link.

use super::DbConn;
use super::schema::{connect_links, oauth_states};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_states)]
pub struct OAuthState {
    /// Opaque and unguessable; the mobile bounce page is addressed by it.
    pub id: String,
    pub link_id: String,
    pub profile_id: String,
    pub platform: String,
    /// The platform's authorize URL with every parameter, built by us.
    pub authorize_url: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, state: &OAuthState) -> QueryResult<()> {
    diesel::insert_into(oauth_states::table)
        .values(state)
        .execute(conn)
        .map(drop)
}

/// A state that is unused, unexpired, and whose link is still live.
pub fn find_pending(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<OAuthState>> {
    oauth_states::table
        .inner_join(connect_links::table)
        .filter(oauth_states::id.eq(id))
        .filter(oauth_states::used_at.is_null())
        .filter(oauth_states::expires_at.gt(now))
        .filter(connect_links::revoked_at.is_null())
        .filter(connect_links::expires_at.gt(now))
        .select(OAuthState::as_select())
        .first(conn)
        .optional()
}
