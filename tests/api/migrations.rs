//! Every migration's `down.sql` really reverts it.

use crate::cases;
use crate::support::TestApp;

cases![down_migrations_revert_and_reapply];

async fn down_migrations_revert_and_reapply(app: &TestApp) {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.conn().unwrap();
        let reverted = postgate::db::migrations::revert_all(&mut conn).unwrap();
        assert!(!reverted.is_empty());
        // Nothing of ours is left behind.
        use diesel::RunQueryDsl;
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
