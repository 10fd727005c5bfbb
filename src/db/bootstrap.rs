//! The first run: one API account on an empty database, created once even when several
//! processes start together.

use super::DbConn;
use super::accounts::{self, CreatedAccount};
use super::schema::bootstrap_markers;
use crate::domain::time;
use diesel::prelude::*;

const FIRST_ACCOUNT: &str = "first_account";

#[derive(Debug, thiserror::Error)]
enum Outcome {
    #[error("another process bootstrapped first")]
    Taken,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Creates the first account if this database has never had one. `None` when there is
/// nothing to do.
pub fn first_account(conn: &mut DbConn, plan: &str) -> QueryResult<Option<CreatedAccount>> {
    let result = conn.transaction::<_, Outcome, _>(|conn| {
        // Writing the marker first takes the write lock and makes this once-only.
        diesel::insert_into(bootstrap_markers::table)
            .values((
                bootstrap_markers::name.eq(FIRST_ACCOUNT),
                bootstrap_markers::created_at.eq(time::now()),
            ))
            .execute(conn)
            .map_err(|e| {
                if super::is_unique_violation(&e) {
                    Outcome::Taken
                } else {
                    e.into()
                }
            })?;
        if accounts::count(conn)? > 0 {
            return Ok(None);
        }
        Ok(Some(accounts::create(conn, "default", None, plan)?))
    });
    match result {
        Ok(created) => Ok(created),
        Err(Outcome::Taken) => Ok(None),
        Err(Outcome::Db(e)) => Err(e),
    }
}
