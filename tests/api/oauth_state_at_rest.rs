//! The raw OAuth `state` is stored nowhere: only its hash finds the pending sign-in, and
//! the authorize URL that carries it is sealed.

use crate::cases;
use crate::migrations::applied_columns;
use crate::support::sandbox::Consent;
use crate::support::{TestApp, send};
use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};
use postgate::db::DbConn;
use reqwest::StatusCode;
use serde_json::json;

cases![the_raw_state_is_in_no_table];

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every `table.column` of the database with a value that contains `needle`.
fn columns_containing(conn: &mut DbConn, needle: &str) -> Vec<String> {
    applied_columns(conn)
        .into_iter()
        .filter(|(table, column, _, _)| {
            let found: Count = diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1"
            ))
            .bind::<Text, _>(format!("%{needle}%"))
            .get_result(conn)
            .expect("search");
            found.n > 0
        })
        .map(|(table, column, _, _)| format!("{table}.{column}"))
        .collect()
}

async fn the_raw_state_is_in_no_table(app: &TestApp) {
    app.create_profile("stateful").await;
    let (status, started) =
        send(app.post("/oauth/linkedin/start", &json!({"profile": "stateful"}))).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let state = started["state"].as_str().expect("state").to_owned();
    let authorize_url = started["authorize_url"].as_str().unwrap().to_owned();
    assert!(authorize_url.contains(&state), "{authorize_url}");
    let needle = state.clone();
    let found = app.with_db(move |c| columns_containing(c, &needle)).await;
    assert!(found.is_empty(), "the state is stored in {found:?}");
    // Nor once the platform sent it back and the sign-in is done.
    let callback = app
        .consent(&authorize_url, Consent::Allow { person: 0 })
        .await;
    assert!(callback.contains(&state), "{callback}");
    assert_eq!(app.hop(&callback).await.status, StatusCode::OK);
    let found = app.with_db(move |c| columns_containing(c, &state)).await;
    assert!(found.is_empty(), "the state is stored in {found:?}");
}
