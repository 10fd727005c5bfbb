//! `GET /api/uploadposts/usage` (our extension; Upload-Post has no usage endpoint): the
//! plan's profiles and monthly posts, used and allowed. `/me` shows the same post usage.

use super::extract::Authenticated;
use crate::db::accounts::Account;
use crate::db::{profiles, usage};
use crate::domain::Plan;
use crate::domain::time;
use crate::domain::usage::{Period, Usage};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use serde::Serialize;
use utoipa::ToSchema;

/// What an account uses now.
pub(super) struct Current {
    pub plan: Plan,
    pub profiles: i64,
    pub period: Period,
    pub posts: Usage,
}

/// The account's profiles, and its posts in the period that contains now.
pub(super) async fn current(state: &AppState, account: &Account) -> Result<Current, ApiError> {
    let plan = state.plan_of(account)?.clone();
    let period = Period::containing(time::now());
    let account_id = account.id.clone();
    let (profiles, posts) = state
        .db
        .run(move |conn| {
            Ok::<_, ApiError>((
                profiles::count(conn, &account_id)?,
                usage::current(conn, &account_id, &period)?,
            ))
        })
        .await?;
    Ok(Current {
        posts: Usage::new(posts, plan.monthly_posts, &period),
        plan,
        profiles,
        period,
    })
}

/// `GET /usage`.
#[derive(Serialize, ToSchema)]
pub struct UsageResponse {
    pub success: bool,
    /// The plan's key, as `GET /users` reports it.
    pub plan: String,
    pub profiles: ProfilesUsed,
    pub posts: PostsUsed,
}

#[derive(Serialize, ToSchema)]
pub struct ProfilesUsed {
    pub used: i64,
    /// `null`: unlimited.
    pub limit: Option<u64>,
}

/// Posts (one per platform per upload) in the current usage period, a calendar month in UTC.
#[derive(Serialize, ToSchema)]
pub struct PostsUsed {
    pub used: i64,
    /// `null`: unlimited.
    pub allowance: Option<u64>,
    /// `2026-12`.
    pub period: String,
    /// The period's first instant, `2026-12-01T00:00:00.000Z`.
    pub last_reset: String,
    /// The next period's first instant.
    pub next_reset: String,
}

impl From<Current> for UsageResponse {
    fn from(c: Current) -> Self {
        Self {
            success: true,
            plan: c.plan.name,
            profiles: ProfilesUsed {
                used: c.profiles,
                limit: c.plan.profiles.max(),
            },
            posts: PostsUsed {
                used: c.posts.count,
                allowance: c.posts.limit.max(),
                period: c.period.key(),
                last_reset: time::rfc3339_millis(c.period.last_reset()),
                next_reset: time::rfc3339_millis(c.period.next_reset()),
            },
        }
    }
}

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(get, path = "/api/uploadposts/usage", tag = "account", security(("apikey" = [])), responses((status = 200, description = "Profiles and this month's posts, used and allowed", body = UsageResponse)))]
pub async fn get(state: Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let current = current(&state, &auth.0).await?;
    Ok(HttpResponse::Ok().json(UsageResponse::from(current)))
}
