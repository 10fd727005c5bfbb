//! Post credits per account and usage period, and the posts an account made in the last
//! 24 hours.
//!
//! A reservation is one conditional `UPDATE … SET count = count + n WHERE count + n <= limit
//! RETURNING count` after an insert-if-missing, on both backends. On PostgreSQL a concurrent
//! reservation waits for the row and re-checks the condition against the committed count; on
//! SQLite the insert takes the write lock first (see `db/mod.rs`). Either way concurrent
//! uploads, also from several processes, never take the count past the limit. Called inside
//! the caller's transaction, the row stays locked until it commits or rolls back.

use super::DbConn;
use super::schema::{post_usage, upload_targets};
use crate::domain::Limit;
use crate::domain::usage::{Exceeded, Period, Usage};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Text;

/// The same text on both backends: `$n` placeholders are numbered on SQLite too, and both
/// know `ON CONFLICT … DO NOTHING` (diesel's `MultiConnection` does not build it).
const INSERT_IF_MISSING: &str = "INSERT INTO post_usage (account_id, period, count) \
     VALUES ($1, $2, 0) ON CONFLICT (account_id, period) DO NOTHING";

fn ensure_row(conn: &mut DbConn, account_id: &str, period: &Period) -> QueryResult<()> {
    diesel::sql_query(INSERT_IF_MISSING)
        .bind::<Text, _>(account_id)
        .bind::<Text, _>(period.key())
        .execute(conn)
        .map(drop)
}

/// Takes `n` credits of the account's allowance in `period`, or none when they do not all
/// fit (`Exceeded`, with the usage as it stands). Unlimited plans are counted too, so that
/// their usage can be shown.
pub fn reserve(
    conn: &mut DbConn,
    account_id: &str,
    period: &Period,
    n: u32,
    limit: Limit,
) -> QueryResult<Result<Usage, Exceeded>> {
    use post_usage::dsl as u;
    ensure_row(conn, account_id, period)?;
    let n = i64::from(n);
    // An unlimited plan is counted like one whose limit is never reached.
    let max = limit
        .max()
        .map_or(i64::MAX, |max| i64::try_from(max).unwrap_or(i64::MAX));
    let reserved: Option<i64> = diesel::update(
        post_usage::table
            .filter(u::account_id.eq(account_id))
            .filter(u::period.eq(period.key()))
            .filter((u::count + n).le(max)),
    )
    .set(u::count.eq(u::count + n))
    .returning(u::count)
    .get_result(conn)
    .optional()?;
    Ok(match reserved {
        Some(count) => Ok(Usage::new(count, limit, period)),
        None => Err(Exceeded {
            usage: Usage::new(current(conn, account_id, period)?, limit, period),
        }),
    })
}

/// Gives `n` credits back to `period` (a cancelled job's: the period of its `created_at`),
/// never below zero. Returns the count after the refund.
pub fn refund(conn: &mut DbConn, account_id: &str, period: &Period, n: u32) -> QueryResult<i64> {
    use post_usage::dsl as u;
    let n = i64::from(n);
    let row = post_usage::table
        .filter(u::account_id.eq(account_id))
        .filter(u::period.eq(period.key()));
    // Two conditional updates rather than `GREATEST`/`MAX(a, b)`, which the backends spell
    // differently; only one of them matches.
    let refunded: Option<i64> = diesel::update(row.clone().filter(u::count.ge(n)))
        .set(u::count.eq(u::count - n))
        .returning(u::count)
        .get_result(conn)
        .optional()?;
    match refunded {
        Some(count) => Ok(count),
        None => diesel::update(row)
            .set(u::count.eq(0))
            .execute(conn)
            .map(|_| 0),
    }
}

/// Credits used in `period` (0 before the first reservation).
pub fn current(conn: &mut DbConn, account_id: &str, period: &Period) -> QueryResult<i64> {
    use post_usage::dsl as u;
    post_usage::table
        .filter(u::account_id.eq(account_id))
        .filter(u::period.eq(period.key()))
        .select(u::count)
        .first(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

/// The window of the networks' daily caps.
pub const CAP_WINDOW: Duration = Duration::hours(24);

/// Posts of one connected account (`connection_id`) that count toward its daily cap at
/// `now`: those that went out in the last 24 hours (`completed`, by `finished_at`), and those
/// on their way — started (`processing`, `retryable`, whenever they were last touched) or
/// due by now (`queued` with `due_at <= now`). A target queued for a later time (a
/// scheduled post) does not count yet: its job is checked again when it runs, and then it
/// counts itself. `failed` and `skipped` targets never count.
pub fn used_last_24h(
    conn: &mut DbConn,
    connection_id: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    use upload_targets::dsl as t;
    upload_targets::table
        .filter(t::connection_id.eq(connection_id))
        .filter(
            t::state
                .eq("completed")
                .and(t::finished_at.gt(now - CAP_WINDOW))
                .or(t::state.eq_any(["processing", "retryable"]))
                .or(t::state.eq("queued").and(t::due_at.le(now))),
        )
        .count()
        .get_result(conn)
}
