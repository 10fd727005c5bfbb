//! Migrations: every `down.sql` really reverts its `up.sql`, and the two backends' folders
//! stay twins — same migration names, and after applying them the same tables and columns
//! (type and nullability) as `src/db/schema.rs` declares. Each backend's trial compares its
//! own schema to `schema.rs`, so with both trials passing the backends match each other.

use crate::cases;
use crate::support::TestApp;
use diesel::RunQueryDsl;
use diesel::sql_types::{Bool, Text};
use postgate::db::DbConn;
use std::collections::BTreeSet;
use std::path::Path;

cases![
    down_migrations_revert_and_reapply,
    both_backends_have_the_same_migrations,
    the_applied_schema_is_the_declared_one,
];

async fn down_migrations_revert_and_reapply(app: &TestApp) {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.conn().unwrap();
        let reverted = postgate::db::migrations::revert_all(&mut conn).unwrap();
        assert!(!reverted.is_empty());
        // Nothing of ours is left behind.
        assert!(
            diesel::sql_query("SELECT id FROM accounts")
                .execute(&mut *conn)
                .is_err()
        );
        let applied = postgate::db::migrations::run(&mut conn).unwrap();
        assert_eq!(applied.len(), reverted.len());
        assert!(postgate::db::migrations::run(&mut conn).unwrap().is_empty());
    })
    .await
    .unwrap();
}

/// The migration folders of one backend: name -> (has up.sql, has down.sql).
fn migration_folders(backend: &str) -> Vec<(String, bool, bool)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut found: Vec<(String, bool, bool)> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let has = |file: &str| {
                std::fs::read_to_string(path.join(file)).is_ok_and(|sql| !sql.trim().is_empty())
            };
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                has("up.sql"),
                has("down.sql"),
            )
        })
        .collect();
    found.sort();
    found
}

async fn both_backends_have_the_same_migrations(_app: &TestApp) {
    let sqlite = migration_folders("sqlite");
    let postgres = migration_folders("postgres");
    assert!(!sqlite.is_empty());
    for (name, up, down) in sqlite.iter().chain(&postgres) {
        assert!(
            *up && *down,
            "{name}: needs a non-empty up.sql and down.sql"
        );
    }
    let names = |folders: &[(String, bool, bool)]| -> Vec<String> {
        folders.iter().map(|(name, _, _)| name.clone()).collect()
    };
    assert_eq!(names(&sqlite), names(&postgres), "sqlite vs postgres");
}

/// One column as `schema.rs` spells it: table, column, diesel type, nullable.
pub type Column = (String, String, String, bool);

/// The columns `src/db/schema.rs` declares, read from its `diesel::table!` blocks.
fn declared_columns() -> BTreeSet<Column> {
    let schema = include_str!("../../src/db/schema.rs");
    let mut columns = BTreeSet::new();
    for block in schema.split("diesel::table! {").skip(1) {
        let mut lines = block.lines().map(str::trim).filter(|l| !l.is_empty());
        let header = lines.next().expect("table header");
        let table = header.split_whitespace().next().expect("table name");
        for line in lines.take_while(|l| *l != "}") {
            let Some((name, kind)) = line.trim_end_matches(',').split_once(" -> ") else {
                continue;
            };
            let (kind, nullable) = match kind.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (kind, false),
            };
            columns.insert((table.to_owned(), name.to_owned(), kind.to_owned(), nullable));
        }
    }
    columns
}

#[derive(diesel::QueryableByName)]
struct AppliedColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    /// SQLite's `INTEGER PRIMARY KEY`: the 64-bit rowid, never null whatever PRAGMA says.
    #[diesel(sql_type = Bool)]
    rowid: bool,
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, \
     p.type AS data_type, p.\"notnull\" <> 0 AS not_null, \
     (p.pk = 1 AND p.type = 'INTEGER') AS rowid \
     FROM sqlite_master m, pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
     AND m.name <> '__diesel_schema_migrations'";

const POSTGRES_COLUMNS: &str = "SELECT table_name::text AS table_name, \
     column_name::text AS column_name, data_type::text AS data_type, \
     is_nullable = 'NO' AS not_null, FALSE AS rowid \
     FROM information_schema.columns WHERE table_schema = 'public' \
     AND table_name <> '__diesel_schema_migrations'";

/// The columns the applied migrations created, with each backend's type named as
/// `schema.rs` names it (an unknown type keeps its SQL name, so the comparison shows it).
pub fn applied_columns(conn: &mut DbConn) -> BTreeSet<Column> {
    let query = match conn {
        DbConn::Sqlite(_) => SQLITE_COLUMNS,
        DbConn::Pg(_) => POSTGRES_COLUMNS,
    };
    let rows: Vec<AppliedColumn> = diesel::sql_query(query).load(conn).expect("columns");
    rows.into_iter()
        .map(|c| {
            let kind = match (c.data_type.to_lowercase().as_str(), c.rowid) {
                ("integer", true) | ("bigint", _) => "BigInt",
                ("integer", false) => "Integer",
                ("text", _) => "Text",
                ("timestamp" | "timestamp without time zone", _) => "Timestamp",
                ("boolean", _) => "Bool",
                (other, _) => other,
            }
            .to_owned();
            (c.table_name, c.column_name, kind, !(c.not_null || c.rowid))
        })
        .collect()
}

async fn the_applied_schema_is_the_declared_one(app: &TestApp) {
    let applied = app.with_db(applied_columns).await;
    let declared = declared_columns();
    assert!(declared.len() > 50, "schema.rs was read: {declared:?}");
    let missing: Vec<_> = declared.difference(&applied).collect();
    let extra: Vec<_> = applied.difference(&declared).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{:?}: declared in schema.rs but not created: {missing:#?}\ncreated but not declared: {extra:#?}",
        app.test_db.backend
    );
}
