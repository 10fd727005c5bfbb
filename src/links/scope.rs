//! What a live link may do, and what nobody may do for a profile its plan blocks: the rules
//! every surface asks — the connect pages, every API that takes a link as
//! `Authorization: Bearer`, and the API key — so that they mean the same everywhere.

use super::LiveLink;
use crate::db::DbConn;
use crate::db::profiles::{self, Profile};
use crate::domain::connect_settings::{PageUrl, RedirectOrigins};
use crate::domain::profile_fields::FieldError;
use crate::domain::{Plan, Platform};
use crate::error::ApiError;
use crate::state::AppState;

/// What a caller does with a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Look at its posts, queue or settings.
    Read,
    /// Change its posts or queue.
    Edit,
    /// Look at a platform's connection: its Pages or locations.
    See(Platform),
    /// Connect a platform, or pin its Page or location.
    SetUp(Platform),
    /// Disconnect a platform, or clear its pin.
    Remove(Platform),
}

impl Act {
    pub fn platform(self) -> Option<Platform> {
        match self {
            Act::Read | Act::Edit => None,
            Act::See(p) | Act::SetUp(p) | Act::Remove(p) => Some(p),
        }
    }

    pub fn writes(self) -> bool {
        !matches!(self, Act::Read | Act::See(_))
    }
}

impl LiveLink {
    /// Whether the link lists `platform` (no list: every platform).
    pub fn offers(&self, platform: Platform) -> bool {
        self.link
            .settings()
            .platforms
            .is_none_or(|list| list.contains(&platform))
    }

    /// Whether the link's holder may do `act`: a read-only calendar link changes nothing,
    /// and a link restricted to some platforms touches no other.
    pub fn allows(&self, act: Act) -> Result<(), ApiError> {
        if act.writes() && self.link.readonly_calendar {
            return Err(ApiError::ReadonlyCalendar);
        }
        match act.platform() {
            Some(p) if !self.offers(p) => Err(ApiError::PlatformNotOffered(p)),
            _ => Ok(()),
        }
    }

    /// Whether the link's holder may send the browser to `url` after a sign-in: only to an
    /// origin the account allows — this server's, the link's own `redirect_url`'s, the
    /// configured `allowed_redirect_origins` and the account's preference of that name.
    pub fn may_return_to(&self, state: &AppState, url: &PageUrl) -> Result<(), ApiError> {
        let origin = url.origin();
        let own = [
            Some(state.urls.base().origin().ascii_serialization()),
            self.link.settings().redirect_url.map(|u| u.origin()),
        ];
        if own.iter().flatten().any(|o| *o == origin)
            || state.oauth.settings.allowed_redirect_origins.contains(url)
            || RedirectOrigins::from_stored(self.account.allowed_redirect_origins.as_deref())
                .contains(url)
        {
            return Ok(());
        }
        Err(FieldError::worded(
            "redirect_url",
            format!(
                "redirect_url: {origin} is not an origin this account allows for connect links \
                 (see allowed_redirect_origins)"
            ),
        )
        .into())
    }
}

/// Whether the plan blocks the profile (it is past the plan's profile limit).
pub fn blocks(conn: &mut DbConn, plan: &Plan, profile: &Profile) -> diesel::QueryResult<bool> {
    Ok(plan
        .profiles
        .blocks_position(profiles::position(conn, profile)?))
}

/// Refuses to set anything up — a link, a connection, a pin, a webhook — for a profile its
/// plan blocks, until the limit allows it again.
pub fn unblocked(conn: &mut DbConn, plan: &Plan, profile: &Profile) -> Result<(), ApiError> {
    if blocks(conn, plan, profile)? {
        return Err(ApiError::ProfileBlocked {
            plan: plan.name.clone(),
            limit: plan.profiles,
        });
    }
    Ok(())
}

/// What the API key may do with a profile: anything, but set up nothing for one its plan
/// blocks.
pub fn key_allows(
    conn: &mut DbConn,
    plan: &Plan,
    profile: &Profile,
    act: Act,
) -> Result<(), ApiError> {
    match act {
        Act::SetUp(_) => unblocked(conn, plan, profile),
        _ => Ok(()),
    }
}
