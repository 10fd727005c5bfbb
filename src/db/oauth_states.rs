//! Pending OAuth authorizations: single-use, short-lived, found by the hash of their `state`.

use super::DbConn;
use super::schema::{connect_links, oauth_states};
use crate::domain::sign_in::{SignInCode, SignInOutcome};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_states)]
pub struct OAuthState {
    /// Opaque and unguessable; the mobile bounce page is addressed by it.
    pub id: String,
    /// SHA-256 of the `state` parameter, which itself is never stored.
    pub state_hash: String,
    pub account_id: String,
    pub profile_id: String,
    /// The connect link it was started with (the page, or the Connect API under the link's
    /// token); `None` when started with the API key.
    pub link_id: Option<String>,
    pub platform: String,
    /// Encrypted (`TokenCipher`, bound to this row).
    pub pkce_verifier: String,
    /// Where the browser goes afterwards; encrypted, as it may carry a link token.
    pub return_url: Option<String>,
    /// The platform's authorize URL with every parameter, built by us; encrypted, as it
    /// carries the state.
    pub authorize_url: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    /// A `SignInStatus`, once the platform sent the browser back.
    pub outcome_status: Option<String>,
    /// A `SignInCode`.
    pub outcome_code: Option<String>,
    /// The platform's own words, at most 200 characters.
    pub outcome_detail: Option<String>,
    /// Back to the connect page (`return_url` is its address), rather than to a Connect
    /// API caller.
    pub returns_to_page: bool,
}

impl OAuthState {
    /// How the sign-in ended, once it has.
    pub fn outcome(&self) -> Option<SignInOutcome> {
        SignInOutcome::from_stored(
            self.outcome_status.as_deref(),
            self.outcome_code.as_deref(),
            self.outcome_detail.as_deref(),
        )
    }
}

pub fn insert(conn: &mut DbConn, state: &OAuthState) -> QueryResult<()> {
    // Expired states are of no use to anyone: each start clears them out.
    diesel::delete(oauth_states::table.filter(oauth_states::expires_at.lt(state.created_at)))
        .execute(conn)?;
    diesel::insert_into(oauth_states::table)
        .values(state)
        .execute(conn)
        .map(drop)
}

/// Makes room for one more pending sign-in of the profile: drops its oldest unused,
/// unexpired states past the newest `keep - 1`, so that no link holder or API caller can grow
/// the table without bound. One statement: nothing to lose between a read and a write.
pub fn make_room(
    conn: &mut DbConn,
    profile_id: &str,
    keep: u32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let pending = diesel::alias!(oauth_states as pending);
    let oldest = pending
        .filter(pending.field(oauth_states::profile_id).eq(profile_id))
        .filter(pending.field(oauth_states::used_at).is_null())
        .filter(pending.field(oauth_states::expires_at).gt(now))
        .order((
            pending.field(oauth_states::created_at).desc(),
            pending.field(oauth_states::id).desc(),
        ))
        .offset(i64::from(keep.saturating_sub(1)))
        .select(pending.field(oauth_states::id));
    diesel::delete(oauth_states::table.filter(oauth_states::id.eq_any(oldest))).execute(conn)
}

/// A state that is unused, unexpired, and whose link (if any) is still live.
pub fn find_pending(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<OAuthState>> {
    let state = oauth_states::table
        .filter(oauth_states::id.eq(id))
        .filter(oauth_states::used_at.is_null())
        .filter(oauth_states::expires_at.gt(now))
        .select(OAuthState::as_select())
        .first(conn)
        .optional()?;
    match state {
        Some(s) if link_is_live(conn, s.link_id.as_deref(), now)? => Ok(Some(s)),
        _ => Ok(None),
    }
}

/// Marks the state with this hash used and returns it, if it was unused: a state works
/// once, whatever happens next. Expiry and the link are for the caller to judge.
pub fn consume(
    conn: &mut DbConn,
    state_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<OAuthState>> {
    conn.transaction(|conn| {
        let n = diesel::update(
            oauth_states::table
                .filter(oauth_states::state_hash.eq(state_hash))
                .filter(oauth_states::used_at.is_null()),
        )
        .set(oauth_states::used_at.eq(now))
        .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        oauth_states::table
            .filter(oauth_states::state_hash.eq(state_hash))
            .select(OAuthState::as_select())
            .first(conn)
            .optional()
    })
}

/// Whether the link a state was started from may still be used (no link: yes).
pub fn link_is_live(
    conn: &mut DbConn,
    link_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(link_id) = link_id else {
        return Ok(true);
    };
    let n: i64 = connect_links::table
        .filter(connect_links::id.eq(link_id))
        .filter(connect_links::revoked_at.is_null())
        .filter(connect_links::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n == 1)
}

pub fn record_outcome(conn: &mut DbConn, id: &str, outcome: &SignInOutcome) -> QueryResult<()> {
    diesel::update(oauth_states::table.find(id))
        .set((
            oauth_states::outcome_status.eq(outcome.status().as_str()),
            oauth_states::outcome_code.eq(outcome.code().map(SignInCode::as_str)),
            oauth_states::outcome_detail.eq(outcome.detail()),
        ))
        .execute(conn)
        .map(drop)
}

/// The finished sign-in `id` of this link, for the page to report.
pub fn finished_for_link(
    conn: &mut DbConn,
    id: &str,
    link_id: &str,
) -> QueryResult<Option<OAuthState>> {
    oauth_states::table
        .filter(oauth_states::id.eq(id))
        .filter(oauth_states::link_id.eq(link_id))
        .filter(oauth_states::outcome_status.is_not_null())
        .select(OAuthState::as_select())
        .first(conn)
        .optional()
}
