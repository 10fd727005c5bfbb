//! The storage settings the rest relies on.

use crate::cases;
use crate::support::{Backend, TestApp, send};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reqwest::StatusCode;

cases![foreign_keys_cascade, storage_modes_match_the_locking_design];

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Mode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

async fn foreign_keys_cascade(app: &TestApp) {
    app.create_profile("child").await;
    let db = app.db.clone();
    let account = app.account_id.clone();
    let remaining = tokio::task::spawn_blocking(move || {
        let mut conn = db.conn().unwrap();
        diesel::sql_query("DELETE FROM accounts WHERE id = $1")
            .bind::<Text, _>(&account)
            .execute(&mut *conn)
            .unwrap();
        let mut count = |table: &str| {
            diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE account_id = $1"
            ))
            .bind::<Text, _>(&account)
            .get_result::<Count>(&mut *conn)
            .unwrap()
            .n
        };
        (count("profiles"), count("api_keys"))
    })
    .await
    .unwrap();
    assert_eq!(remaining, (0, 0));
    assert_eq!(send(app.get("/me")).await.0, StatusCode::UNAUTHORIZED);
}

/// SQLite must be in WAL mode (readers beside one writer, CLI beside the server); the
/// PostgreSQL account lock relies on READ COMMITTED (each statement after the lock sees the
/// rows committed before it), even where the database's default is stricter.
async fn storage_modes_match_the_locking_design(app: &TestApp) {
    let backend = app.test_db.backend;
    let url = app.test_db.url.clone();
    if backend == Backend::Postgres {
        let mut admin = diesel::PgConnection::establish(&url).unwrap();
        let name = url.rsplit('/').next().unwrap().to_owned();
        diesel::sql_query(format!(
            "ALTER DATABASE {name} SET default_transaction_isolation TO 'serializable'"
        ))
        .execute(&mut admin)
        .unwrap();
    }
    // A new pool, so its sessions start after the change.
    let db = tokio::task::spawn_blocking(move || {
        postgate::db::Db::connect(
            &postgate::db::DatabaseUrl::parse(&url).unwrap(),
            1,
            std::time::Duration::from_secs(5),
        )
        .unwrap()
    })
    .await
    .unwrap();
    let mode = tokio::task::spawn_blocking(move || {
        let query = match backend {
            Backend::Sqlite => "PRAGMA journal_mode",
            Backend::Postgres => "SELECT current_setting('transaction_isolation') AS journal_mode",
        };
        diesel::sql_query(query)
            .get_result::<Mode>(&mut *db.conn().unwrap())
            .unwrap()
            .journal_mode
    })
    .await
    .unwrap();
    let expected = match backend {
        Backend::Sqlite => "wal",
        Backend::Postgres => "read committed",
    };
    assert_eq!(mode, expected);
}
