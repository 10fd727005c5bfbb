//! Social accounts connected to profiles: what pages and API responses show, and the
//! transactions that connect, disconnect and flag them, each writing its webhook event in
//! the same transaction.

use super::outbox::{self, Queued};
use super::schema::{profiles, social_connections};
use super::{DbConn, accounts, oauth_states, oauth_tokens};
use crate::db::oauth_tokens::StoredTokens;
use crate::db::profiles::Profile;
use crate::domain::time;
use crate::domain::webhooks::{ConnectionChange, ConnectionEvent, DisconnectReason};
use chrono::NaiveDateTime;
use diesel::Connection as _;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = social_connections, treat_none_as_null = true)]
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
    /// The pinned Facebook Page / LinkedIn Page / Google Business location.
    pub selected_target_id: Option<String>,
    pub selected_target_name: Option<String>,
}

impl Connection {
    /// How events and pages name the account: the handle, else the platform's id.
    pub fn account_name(&self) -> &str {
        self.handle.as_deref().unwrap_or(&self.platform_user_id)
    }
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

/// The account's connections on a platform, with their profiles, optionally of one profile.
pub fn of_account(
    conn: &mut DbConn,
    account_id: &str,
    platform: &str,
    profile_id: Option<&str>,
) -> QueryResult<Vec<(Connection, Profile)>> {
    let mut query = social_connections::table
        .inner_join(profiles::table)
        .filter(social_connections::account_id.eq(account_id))
        .filter(social_connections::platform.eq(platform))
        .select((Connection::as_select(), Profile::as_select()))
        .order(social_connections::created_at)
        .into_boxed();
    if let Some(p) = profile_id {
        query = query.filter(social_connections::profile_id.eq(p));
    }
    query.load(conn)
}

pub fn find(
    conn: &mut DbConn,
    profile_id: &str,
    platform: &str,
) -> QueryResult<Option<Connection>> {
    social_connections::table
        .filter(social_connections::profile_id.eq(profile_id))
        .filter(social_connections::platform.eq(platform))
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Connection>> {
    social_connections::table
        .find(id)
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

/// The account an OAuth sign-in came back with.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account_id: String,
    pub profile_id: String,
    pub platform: String,
    pub platform_user_id: String,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub capabilities: Option<String>,
    /// The connect link the sign-in was started with: it must still be live when the
    /// connection is stored.
    pub link_id: Option<String>,
}

#[derive(Debug)]
pub struct Connected {
    pub connection: Connection,
    /// A different identity this one replaced, whose tokens the caller may revoke.
    pub replaced: Option<(Connection, Option<StoredTokens>)>,
}

#[derive(Debug)]
pub enum ConnectOutcome {
    Connected(Box<Connected>),
    /// The identity is connected under another API account.
    AlreadyLinked,
    /// The profile was deleted, or the link the sign-in was started with revoked or
    /// expired, meanwhile.
    Gone,
}

/// Stores a sign-in. The same identity again updates the connection in place (keeping its
/// pin and clearing `reauth_required`); another identity on the same platform replaces it.
/// `seal` encrypts the tokens for the connection id it is given.
pub fn connect(
    conn: &mut DbConn,
    signed_in: &SignedIn,
    seal: &dyn Fn(&str) -> StoredTokens,
) -> QueryResult<Queued<ConnectOutcome>> {
    conn.transaction(|conn| {
        // Write first: SQLite then holds the write lock for the whole transaction.
        if !accounts::lock(conn, &signed_in.account_id)?
            || !oauth_states::link_is_live(conn, signed_in.link_id.as_deref(), time::now())?
        {
            return Ok(Queued::nothing(ConnectOutcome::Gone));
        }
        let Some(profile) = profile_by_id(conn, &signed_in.profile_id)? else {
            return Ok(Queued::nothing(ConnectOutcome::Gone));
        };
        let elsewhere: i64 = social_connections::table
            .filter(social_connections::platform.eq(&signed_in.platform))
            .filter(social_connections::platform_user_id.eq(&signed_in.platform_user_id))
            .filter(social_connections::account_id.ne(&signed_in.account_id))
            .count()
            .get_result(conn)?;
        if elsewhere > 0 {
            return Ok(Queued::nothing(ConnectOutcome::AlreadyLinked));
        }
        let now = time::now();
        let mut connection = Connection {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: signed_in.account_id.clone(),
            profile_id: profile.id.clone(),
            platform: signed_in.platform.clone(),
            platform_user_id: signed_in.platform_user_id.clone(),
            handle: signed_in.handle.clone(),
            display_name: signed_in.display_name.clone(),
            avatar_url: signed_in.avatar_url.clone(),
            capabilities: signed_in.capabilities.clone(),
            reauth_required: false,
            reauth_reason: None,
            created_at: now,
            updated_at: now,
            selected_target_id: None,
            selected_target_name: None,
        };
        let mut replaced = None;
        let mut queued = 0;
        match find(conn, &profile.id, &signed_in.platform)? {
            Some(old) => {
                // The row stays; the same identity also keeps its age and its pin.
                connection.id.clone_from(&old.id);
                if old.platform_user_id == signed_in.platform_user_id {
                    connection.created_at = old.created_at;
                    connection.selected_target_id = old.selected_target_id;
                    connection.selected_target_name = old.selected_target_name;
                } else {
                    let tokens = oauth_tokens::get(conn, &old.id)?;
                    queued += emit(
                        conn,
                        &profile,
                        &old,
                        ConnectionChange::Disconnected(DisconnectReason::Replaced),
                    )?;
                    replaced = Some((old, tokens));
                }
                diesel::update(social_connections::table.find(&connection.id))
                    .set(&connection)
                    .execute(conn)?;
            }
            None => insert(conn, &connection)?,
        }
        oauth_tokens::put(conn, &seal(&connection.id))?;
        queued += emit(conn, &profile, &connection, ConnectionChange::Connected)?;
        let connected = Connected {
            connection,
            replaced,
        };
        Ok(Queued::new(
            ConnectOutcome::Connected(Box::new(connected)),
            queued,
        ))
    })
}

/// Removes a connection with its tokens, reporting `social_account_disconnected` with
/// `reason`. `false` if it was already gone.
pub fn disconnect(
    conn: &mut DbConn,
    connection: &Connection,
    reason: DisconnectReason,
) -> QueryResult<Queued<bool>> {
    conn.transaction(|conn| {
        if !accounts::lock(conn, &connection.account_id)? {
            return Ok(Queued::nothing(false));
        }
        let Some(profile) = profile_by_id(conn, &connection.profile_id)? else {
            return Ok(Queued::nothing(false));
        };
        let n = diesel::delete(
            social_connections::table
                .find(&connection.id)
                .filter(social_connections::platform_user_id.eq(&connection.platform_user_id)),
        )
        .execute(conn)?;
        if n == 0 {
            return Ok(Queued::nothing(false));
        }
        let change = ConnectionChange::Disconnected(reason);
        let queued = emit(conn, &profile, connection, change)?;
        Ok(Queued::new(true, queued))
    })
}

/// Flags a connection whose grant the platform ended for good, once: reports
/// `social_account_reauth_required` and stops refreshing. `false` if already flagged or gone.
pub fn require_reauth(
    conn: &mut DbConn,
    connection_id: &str,
    reason: &str,
) -> QueryResult<Queued<bool>> {
    conn.transaction(|conn| {
        let now = time::now();
        let n = diesel::update(
            social_connections::table
                .find(connection_id)
                .filter(social_connections::reauth_required.eq(false)),
        )
        .set((
            social_connections::reauth_required.eq(true),
            social_connections::reauth_reason.eq(reason),
            social_connections::updated_at.eq(now),
        ))
        .execute(conn)?;
        oauth_tokens::stop(conn, connection_id, reason, now)?;
        if n == 0 {
            return Ok(Queued::nothing(false));
        }
        let Some(connection) = find_by_id(conn, connection_id)? else {
            return Ok(Queued::nothing(false));
        };
        let Some(profile) = profile_by_id(conn, &connection.profile_id)? else {
            return Ok(Queued::nothing(false));
        };
        let change = ConnectionChange::ReauthRequired { reason };
        let queued = emit(conn, &profile, &connection, change)?;
        Ok(Queued::new(true, queued))
    })
}

/// Pins (or with `None`, unpins) a Page or location on a connection.
pub fn pin(
    conn: &mut DbConn,
    connection_id: &str,
    target: Option<(&str, &str)>,
) -> QueryResult<bool> {
    let n = diesel::update(social_connections::table.find(connection_id))
        .set((
            social_connections::selected_target_id.eq(target.map(|t| t.0)),
            social_connections::selected_target_name.eq(target.map(|t| t.1)),
            social_connections::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

fn profile_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Profile>> {
    profiles::table
        .find(id)
        .select(Profile::as_select())
        .first(conn)
        .optional()
}

/// Queues the `social_account_*` event of `change` to `connection` (inside the caller's
/// transaction). Returns how many deliveries it queued.
pub(super) fn emit(
    conn: &mut DbConn,
    profile: &Profile,
    connection: &Connection,
    change: ConnectionChange,
) -> QueryResult<usize> {
    let email = accounts::find(conn, &profile.account_id)?.and_then(|a| a.email);
    let body = ConnectionEvent {
        change,
        user_email: email.as_deref(),
        platform: &connection.platform,
        account_name: connection.account_name(),
        profile_username: &profile.username,
    }
    .body(time::now());
    let queued = outbox::emit(
        conn,
        &profile.account_id,
        Some(profile),
        change.event(),
        &body,
    )?;
    Ok(queued.deliveries())
}
