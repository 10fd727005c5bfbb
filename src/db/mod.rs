//! Storage on SQLite and PostgreSQL through one diesel `MultiConnection`.
//!
//! Every query is written once against `DbConn`. The few places that need backend-specific
//! SQL match on the connection, and are all listed here:
//! - `migrations::run`: a PostgreSQL advisory lock / a SQLite `BEGIN IMMEDIATE` around
//!   migrations, so that several processes starting together migrate once.
//! - `pool::SessionSetup`: WAL, `busy_timeout` and foreign keys on SQLite; READ COMMITTED on
//!   PostgreSQL.
//! - `outbox::claim`: `FOR UPDATE OF d SKIP LOCKED` on PostgreSQL, so that several processes
//!   never claim the same webhook delivery.
//!
//! On SQLite (WAL), a transaction that reads and then writes fails at once if another
//! connection wrote in between; every read-then-write transaction therefore writes first
//! (`accounts::lock`, or a single `UPDATE … RETURNING`).

pub mod accounts;
pub mod api_keys;
pub mod bootstrap;
pub mod connections;
pub mod links;
pub mod media;
pub mod migrations;
pub mod notifications;
pub mod oauth_states;
pub mod oauth_tokens;
pub mod outbox;
pub mod pool;
pub mod posts;
pub mod profiles;
pub mod queue;
pub mod sandbox;
pub mod schema;
pub mod uploads;
pub mod usage;

pub use crate::domain::database_url::{Backend, DatabaseUrl};
pub use pool::{Db, DbError, PoolState};

/// One connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Whether an error is the violation of a unique index.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
