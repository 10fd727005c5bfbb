//! Migrations, one folder per backend with identical names, embedded in the binary.

use super::DbConn;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationVersion;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// An arbitrary constant naming our migration lock among PostgreSQL advisory locks.
const PG_MIGRATION_LOCK: i64 = 0x706f_7374_6761_7465; // "postgate"

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies pending migrations, once even when several processes start together. Returns the
/// versions applied.
pub fn run(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let result = c.run_pending_migrations(POSTGRES).map(versions);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            result
        }
        DbConn::Sqlite(c) => c
            .immediate_transaction(|c| {
                c.run_pending_migrations(SQLITE)
                    .map(versions)
                    .map_err(diesel::result::Error::QueryBuilderError)
            })
            .map_err(BoxError::from),
    };
    applied.map_err(|e| anyhow::anyhow!("migrations failed: {e}"))
}

/// Reverts every migration (used by the test that checks each `down.sql`).
pub fn revert_all(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let reverted = match conn {
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES).map(versions),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(versions),
    };
    reverted.map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))
}

fn versions(v: Vec<MigrationVersion<'_>>) -> Vec<String> {
    v.into_iter().map(|m| m.to_string()).collect()
}
