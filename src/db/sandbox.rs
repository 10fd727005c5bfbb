//! The sandbox emulator's state: authorization codes, issued tokens, per-platform settings,
//! scripted faults and the call log. Kept here rather than in a process's memory so that a
//! restarted server still honours what its emulator issued, and several processes on one
//! database act as one platform. Publishing state is kept the same way: one `sandbox_`
//! table per kind of thing (posts, media), rows keyed by what the wire names.
//!
//! Codes and tokens are stored as their SHA-256 (`digest`), as a platform would keep them:
//! nothing in these tables works at the emulator.
//!
//! What is kept stays bounded: expired codes and tokens are deleted whenever new ones are
//! written, and the call log keeps its newest `CALL_LOG_CAP` rows.

use super::schema::{
    sandbox_calls, sandbox_codes, sandbox_faults, sandbox_media, sandbox_platforms, sandbox_posts,
    sandbox_tokens,
};
use super::{DbConn, is_unique_violation};
use crate::domain::Platform;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

/// How many calls the log keeps; older ones are deleted as new ones come in.
pub const CALL_LOG_CAP: i64 = 10_000;

/// An authorization code and the grant it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sandbox_codes)]
pub struct Code {
    /// `digest` of the code.
    pub code_hash: String,
    pub platform: String,
    /// Index of the fake account that signed in.
    pub person: i64,
    /// JSON array of the granted scopes.
    pub scopes: String,
    pub redirect_uri: String,
    /// The PKCE S256 challenge, when the authorization sent one.
    pub challenge: Option<String>,
    pub expires_at: NaiveDateTime,
}

impl Code {
    pub fn new(
        code: &str,
        platform: Platform,
        person: i64,
        scopes: String,
        redirect_uri: String,
        challenge: Option<String>,
        expires_at: NaiveDateTime,
    ) -> Self {
        Self {
            code_hash: digest(code),
            platform: platform.key().to_owned(),
            person,
            scopes,
            redirect_uri,
            challenge,
            expires_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    /// A Facebook Page's token: its `scopes` column holds `[<page id>]`, the Page it speaks
    /// for.
    Page,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Page => "page",
        }
    }
}

/// An issued token and the grant it carries.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sandbox_tokens)]
pub struct Token {
    /// `digest` of the token.
    pub token_hash: String,
    /// A `TokenKind`.
    pub kind: String,
    pub platform: String,
    pub person: i64,
    /// JSON array of the granted scopes.
    pub scopes: String,
    pub expires_at: NaiveDateTime,
}

impl Token {
    pub fn new(
        kind: TokenKind,
        token: &str,
        platform: Platform,
        person: i64,
        scopes: String,
        expires_at: NaiveDateTime,
    ) -> Self {
        Self {
            token_hash: digest(token),
            kind: kind.as_str().to_owned(),
            platform: platform.key().to_owned(),
            person,
            scopes,
            expires_at,
        }
    }

    /// Whether it is a token of this kind that has not lapsed at `now`.
    pub fn is_live(&self, kind: TokenKind, now: NaiveDateTime) -> bool {
        self.kind == kind.as_str() && self.expires_at > now
    }
}

/// What a test set for a platform; a platform without a row has the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sandbox_platforms)]
pub struct PlatformSettings {
    pub platform: String,
    /// Lifetime of access tokens issued from now on, in seconds.
    pub expires_in: Option<i64>,
    /// `false`: grants come without a refresh token.
    pub refresh_tokens: bool,
    /// How long uploads take to process, in milliseconds; `None` for the default.
    pub processing_ms: Option<i64>,
}

/// A change to a platform's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = sandbox_platforms)]
pub struct SettingsChange {
    pub expires_in: Option<i64>,
    pub refresh_tokens: Option<bool>,
    pub processing_ms: Option<i64>,
}

/// One logged call to an emulated endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sandbox_calls)]
pub struct Call {
    pub platform: String,
    pub endpoint: String,
    pub method: String,
}

/// Codes and tokens carry 190+ random bits: a fast hash is enough, and a deterministic
/// one finds them by index.
fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Stores a code, clearing out the ones that lapsed unused.
pub fn insert_code(conn: &mut DbConn, code: &Code, now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(sandbox_codes::table.filter(sandbox_codes::expires_at.le(now))).execute(conn)?;
    diesel::insert_into(sandbox_codes::table)
        .values(code)
        .execute(conn)
        .map(drop)
}

/// Takes an unexpired code: codes work once. Of two processes redeeming the same code at
/// once, only the one whose DELETE removed the row gets it.
pub fn redeem_code(conn: &mut DbConn, code: &str, now: NaiveDateTime) -> QueryResult<Option<Code>> {
    let Some(found) = sandbox_codes::table
        .find(digest(code))
        .filter(sandbox_codes::expires_at.gt(now))
        .select(Code::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let deleted = diesel::delete(sandbox_codes::table.find(&found.code_hash)).execute(conn)?;
    Ok((deleted == 1).then_some(found))
}

/// Stores issued tokens, clearing out the ones that lapsed.
pub fn insert_tokens(conn: &mut DbConn, tokens: &[Token], now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(sandbox_tokens::table.filter(sandbox_tokens::expires_at.le(now)))
        .execute(conn)?;
    conn.transaction(|conn| {
        // One row at a time: multi-row inserts are not portable across the two backends.
        for token in tokens {
            diesel::insert_into(sandbox_tokens::table)
                .values(token)
                .execute(conn)?;
        }
        Ok(())
    })
}

/// A token of `platform`, live or not.
pub fn find_token(
    conn: &mut DbConn,
    token: &str,
    platform: Platform,
) -> QueryResult<Option<Token>> {
    sandbox_tokens::table
        .find(digest(token))
        .filter(sandbox_tokens::platform.eq(platform.key()))
        .select(Token::as_select())
        .first(conn)
        .optional()
}

/// Takes a live refresh token of `platform` (a rotation): of two processes presenting the
/// same token at once, only the one whose DELETE removed the row gets it.
pub fn take_refresh_token(
    conn: &mut DbConn,
    token: &str,
    platform: Platform,
    now: NaiveDateTime,
) -> QueryResult<Option<Token>> {
    let Some(found) =
        find_token(conn, token, platform)?.filter(|t| t.is_live(TokenKind::Refresh, now))
    else {
        return Ok(None);
    };
    let deleted = diesel::delete(sandbox_tokens::table.find(&found.token_hash)).execute(conn)?;
    Ok((deleted == 1).then_some(found))
}

/// Ends every token of one person's grant on `platform`.
pub fn revoke_grant(conn: &mut DbConn, platform: Platform, person: i64) -> QueryResult<()> {
    diesel::delete(
        sandbox_tokens::table
            .filter(sandbox_tokens::platform.eq(platform.key()))
            .filter(sandbox_tokens::person.eq(person)),
    )
    .execute(conn)
    .map(drop)
}

pub fn settings(conn: &mut DbConn, platform: Platform) -> QueryResult<Option<PlatformSettings>> {
    sandbox_platforms::table
        .find(platform.key())
        .select(PlatformSettings::as_select())
        .first(conn)
        .optional()
}

/// Applies `change` to the platform's settings, creating its row with the defaults first.
pub fn change_settings(
    conn: &mut DbConn,
    platform: Platform,
    change: SettingsChange,
) -> QueryResult<()> {
    if change == SettingsChange::default() {
        return Ok(());
    }
    let defaults = PlatformSettings {
        platform: platform.key().to_owned(),
        expires_in: None,
        refresh_tokens: true,
        processing_ms: None,
    };
    // Not in a transaction: a PostgreSQL transaction would be aborted by the duplicate,
    // which only means another process created the row first.
    match diesel::insert_into(sandbox_platforms::table)
        .values(&defaults)
        .execute(conn)
    {
        Err(e) if !is_unique_violation(&e) => return Err(e),
        _ => {}
    }
    diesel::update(sandbox_platforms::table.find(platform.key()))
        .set(change)
        .execute(conn)
        .map(drop)
}

/// Queues failures for the next calls of `endpoint`, in order.
pub fn push_faults(
    conn: &mut DbConn,
    platform: Platform,
    endpoint: &str,
    faults: &[&str],
) -> QueryResult<()> {
    conn.transaction(|conn| {
        // One row at a time, so that each gets a larger `seq` than the one before.
        for fault in faults {
            diesel::insert_into(sandbox_faults::table)
                .values((
                    sandbox_faults::platform.eq(platform.key()),
                    sandbox_faults::endpoint.eq(endpoint),
                    sandbox_faults::fault.eq(fault),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Takes the oldest queued failure of `endpoint`. A process that loses the race for the
/// oldest row (its DELETE removes nothing) tries the next one, so every failure is
/// consumed exactly once.
pub fn pop_fault(
    conn: &mut DbConn,
    platform: Platform,
    endpoint: &str,
) -> QueryResult<Option<String>> {
    loop {
        let Some((seq, fault)) = sandbox_faults::table
            .filter(sandbox_faults::platform.eq(platform.key()))
            .filter(sandbox_faults::endpoint.eq(endpoint))
            .order(sandbox_faults::seq)
            .select((sandbox_faults::seq, sandbox_faults::fault))
            .first::<(i64, String)>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        if diesel::delete(sandbox_faults::table.find(seq)).execute(conn)? == 1 {
            return Ok(Some(fault));
        }
    }
}

/// Logs a call, and drops the entries beyond the newest `CALL_LOG_CAP`.
pub fn record_call(
    conn: &mut DbConn,
    platform: Platform,
    endpoint: &str,
    method: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sandbox_calls::table)
        .values((
            sandbox_calls::platform.eq(platform.key()),
            sandbox_calls::endpoint.eq(endpoint),
            sandbox_calls::method.eq(method),
            sandbox_calls::created_at.eq(now),
        ))
        .execute(conn)?;
    let newest: Option<i64> = sandbox_calls::table
        .select(diesel::dsl::max(sandbox_calls::seq))
        .first(conn)?;
    if let Some(newest) = newest {
        diesel::delete(sandbox_calls::table.filter(sandbox_calls::seq.le(newest - CALL_LOG_CAP)))
            .execute(conn)?;
    }
    Ok(())
}

/// The logged calls, oldest first.
pub fn calls(conn: &mut DbConn) -> QueryResult<Vec<Call>> {
    sandbox_calls::table
        .order(sandbox_calls::seq)
        .select(Call::as_select())
        .load(conn)
}

/// A post (or reply) a publish emulator stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sandbox_posts)]
pub struct Post {
    pub seq: i64,
    pub platform: String,
    pub person: i64,
    /// The platform's id of the post.
    pub post_id: String,
    pub text: String,
    /// The id of the post this one answers.
    pub reply_to: Option<String>,
    /// The id of the post this one quotes.
    pub quote_of: Option<String>,
    /// JSON array of media ids, in order.
    pub media_ids: String,
    /// A key the client chose (Bluesky's record key).
    pub client_key: Option<String>,
    /// JSON object: what else the platform keeps.
    pub extra: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl Post {
    pub fn media_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.media_ids).unwrap_or_default()
    }

    pub fn extra(&self) -> serde_json::Value {
        serde_json::from_str(&self.extra).unwrap_or_default()
    }
}

/// A post to store.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = sandbox_posts)]
pub struct NewPost {
    pub platform: String,
    pub person: i64,
    pub post_id: String,
    pub text: String,
    pub reply_to: Option<String>,
    pub quote_of: Option<String>,
    pub media_ids: String,
    pub client_key: Option<String>,
    pub extra: String,
    pub created_at: NaiveDateTime,
}

/// Stores a post. `false`: the account already has a post with that id or client key
/// (a repeated create), and nothing was stored.
pub fn insert_post(conn: &mut DbConn, post: &NewPost) -> QueryResult<bool> {
    match diesel::insert_into(sandbox_posts::table)
        .values(post)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

fn live_posts(
    platform: Platform,
) -> sandbox_posts::BoxedQuery<'static, <DbConn as Connection>::Backend> {
    sandbox_posts::table
        .filter(sandbox_posts::platform.eq(platform.key()))
        .filter(sandbox_posts::deleted_at.is_null())
        .into_boxed()
}

/// A post that was not deleted, by its id (the newest, should two accounts share an id).
pub fn find_post(
    conn: &mut DbConn,
    platform: Platform,
    post_id: &str,
) -> QueryResult<Option<Post>> {
    live_posts(platform)
        .filter(sandbox_posts::post_id.eq(post_id.to_owned()))
        .order(sandbox_posts::seq.desc())
        .select(Post::as_select())
        .first(conn)
        .optional()
}

/// An account's post that was not deleted, by the key its client chose.
pub fn find_post_by_key(
    conn: &mut DbConn,
    platform: Platform,
    person: i64,
    client_key: &str,
) -> QueryResult<Option<Post>> {
    live_posts(platform)
        .filter(sandbox_posts::person.eq(person))
        .filter(sandbox_posts::client_key.eq(client_key.to_owned()))
        .select(Post::as_select())
        .first(conn)
        .optional()
}

/// An account's posts made at or after `since` and not deleted, newest first, at most
/// `limit`.
pub fn posts_since(
    conn: &mut DbConn,
    platform: Platform,
    person: i64,
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Post>> {
    live_posts(platform)
        .filter(sandbox_posts::person.eq(person))
        .filter(sandbox_posts::created_at.ge(since))
        .order(sandbox_posts::seq.desc())
        .limit(limit)
        .select(Post::as_select())
        .load(conn)
}

/// The posts that answer any of `post_ids` and were not deleted, oldest first.
pub fn replies(
    conn: &mut DbConn,
    platform: Platform,
    post_ids: &[String],
) -> QueryResult<Vec<Post>> {
    live_posts(platform)
        .filter(sandbox_posts::reply_to.eq_any(post_ids.to_vec()))
        .order(sandbox_posts::seq)
        .select(Post::as_select())
        .load(conn)
}

/// Marks an account's post deleted. `false`: it has no such post (or it was deleted).
pub fn delete_post(
    conn: &mut DbConn,
    platform: Platform,
    person: i64,
    post_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        sandbox_posts::table
            .filter(sandbox_posts::platform.eq(platform.key()))
            .filter(sandbox_posts::person.eq(person))
            .filter(sandbox_posts::post_id.eq(post_id))
            .filter(sandbox_posts::deleted_at.is_null()),
    )
    .set(sandbox_posts::deleted_at.eq(now))
    .execute(conn)?;
    Ok(updated > 0)
}

/// What is known of an uploaded media item (its bytes are a file, see `sandbox::publish`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sandbox_media)]
pub struct Media {
    pub platform: String,
    pub person: i64,
    /// The platform's id of it (X's media id, Bluesky's blob CID).
    pub id: String,
    pub content_type: String,
    pub size: i64,
    pub alt_text: Option<String>,
    pub created_at: NaiveDateTime,
    /// `ready`, or a step of a multi-step upload.
    pub state: String,
    /// JSON object: the progress of a multi-step upload.
    pub upload: String,
}

/// The state of media that can be attached.
pub const MEDIA_READY: &str = "ready";

/// Stores an uploaded item. A second upload of the same id by the same account (Bluesky's
/// ids are content hashes) keeps the first row.
pub fn insert_media(conn: &mut DbConn, media: &Media) -> QueryResult<()> {
    match diesel::insert_into(sandbox_media::table)
        .values(media)
        .execute(conn)
    {
        Err(e) if !is_unique_violation(&e) => Err(e),
        _ => Ok(()),
    }
}

/// An uploaded item by id: the account's own when `person` is given, else anyone's.
pub fn find_media(
    conn: &mut DbConn,
    platform: Platform,
    person: Option<i64>,
    id: &str,
) -> QueryResult<Option<Media>> {
    let mut query = sandbox_media::table
        .filter(sandbox_media::platform.eq(platform.key()))
        .filter(sandbox_media::id.eq(id.to_owned()))
        .into_boxed();
    if let Some(person) = person {
        query = query.filter(sandbox_media::person.eq(person));
    }
    query.select(Media::as_select()).first(conn).optional()
}

/// Records how far an account's multi-step upload went: its `state`, `upload` progress
/// (JSON) and the bytes received. `false`: it has no such item.
pub fn update_media_upload(
    conn: &mut DbConn,
    platform: Platform,
    person: i64,
    id: &str,
    state: &str,
    upload: &str,
    size: i64,
) -> QueryResult<bool> {
    let updated = diesel::update(sandbox_media::table.find((platform.key(), person, id)))
        .set((
            sandbox_media::state.eq(state),
            sandbox_media::upload.eq(upload),
            sandbox_media::size.eq(size),
        ))
        .execute(conn)?;
    Ok(updated > 0)
}

/// Sets the alt text of an account's uploaded item. `false`: it has no such item.
pub fn set_media_alt_text(
    conn: &mut DbConn,
    platform: Platform,
    person: i64,
    id: &str,
    alt_text: &str,
) -> QueryResult<bool> {
    let updated = diesel::update(sandbox_media::table.find((platform.key(), person, id)))
        .set(sandbox_media::alt_text.eq(alt_text))
        .execute(conn)?;
    Ok(updated > 0)
}
