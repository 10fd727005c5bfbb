//! Post quotas: the plan's monthly post allowance, counted per calendar month in UTC, and the
//! per-account rolling 24 h caps of each network.
//!
//! One credit is one post to one platform. A job reserves its credits in the period of its
//! `created_at` (also when it is scheduled for a later month), and a cancel refunds them to
//! that same period.

use super::Platform;
use super::plan::Limit;
use super::time;
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::fmt;

/// A usage period: one calendar month in UTC. Stored as its key, `2026-12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    /// The first day of the month.
    first: NaiveDate,
}

impl Period {
    /// The period `t` (UTC) falls in.
    pub fn containing(t: NaiveDateTime) -> Self {
        let first = t.date().with_day(1).unwrap_or(t.date());
        Self { first }
    }

    /// `2026-12`: the key `post_usage` rows are stored under.
    pub fn key(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }

    /// The first instant of the period: when its count started from zero.
    pub fn last_reset(&self) -> NaiveDateTime {
        self.first.and_time(chrono::NaiveTime::MIN)
    }

    /// The first instant of the next period.
    pub fn next_reset(&self) -> NaiveDateTime {
        self.next().last_reset()
    }

    /// The period after this one.
    pub fn next(&self) -> Self {
        // Only the last representable month has no successor; it stays put rather than panic.
        let first = self
            .first
            .checked_add_months(Months::new(1))
            .unwrap_or(self.first);
        Self { first }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Posts used in a period against the plan's allowance: `usage` in upload responses, in the
/// monthly 429, and `api_usage` in `/me`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub count: i64,
    pub limit: Limit,
    pub last_reset: NaiveDateTime,
}

impl Usage {
    pub fn new(count: i64, limit: Limit, period: &Period) -> Self {
        Self {
            count,
            limit,
            last_reset: period.last_reset(),
        }
    }
}

/// `{"count": 12, "limit": 100, "last_reset": "2025-09-01T00:00:00.000Z"}`; `limit` is
/// `null` on an unlimited plan.
impl Serialize for Usage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Usage", 3)?;
        out.serialize_field("count", &self.count)?;
        out.serialize_field("limit", &self.limit.max())?;
        out.serialize_field("last_reset", &time::rfc3339_millis(self.last_reset))?;
        out.end()
    }
}

/// A reservation that does not fit in what is left of the allowance; nothing was reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("This upload would exceed your monthly limit.")]
pub struct Exceeded {
    /// The usage as it stands, without the refused credits.
    pub usage: Usage,
}

/// How many posts one connected account of `platform` may publish in any 24 hours, as
/// Upload-Post enforces it; `None` where it sets no cap.
pub fn daily_cap(platform: Platform) -> Option<u32> {
    match platform {
        Platform::Instagram | Platform::X | Platform::Threads => Some(50),
        Platform::Tiktok => Some(15),
        Platform::Linkedin => Some(150),
        // The cap table says 10; the FAQ says 30. The stricter one cannot get a post refused
        // by YouTube itself.
        Platform::Youtube => Some(10),
        Platform::Facebook => Some(25),
        Platform::Pinterest => Some(20),
        Platform::Reddit => Some(40),
        Platform::GoogleBusiness | Platform::Bluesky => None,
    }
}

/// One more post would break the account's daily cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapViolation {
    pub platform: Platform,
    pub used_last_24h: i64,
    pub cap: u32,
}

impl CapViolation {
    /// The violation of posting once more to an account of `platform` that has
    /// `used_last_24h` posts in the window (`db::usage::used_last_24h`), if it is one.
    pub fn check(platform: Platform, used_last_24h: i64) -> Option<Self> {
        let cap = daily_cap(platform)?;
        (used_last_24h >= i64::from(cap)).then_some(Self {
            platform,
            used_last_24h,
            cap,
        })
    }

    /// `Daily cap reached for instagram: 50/50 in last 24h`.
    pub fn message(&self) -> String {
        format!(
            "Daily cap reached for {}: {}/{} in last 24h",
            self.platform.key(),
            self.used_last_24h,
            self.cap
        )
    }
}

/// An entry of the 429's `violations`:
/// `{platform, type: "hard_cap", message, used_last_24h, cap}`.
impl Serialize for CapViolation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("CapViolation", 5)?;
        out.serialize_field("platform", self.platform.key())?;
        out.serialize_field("type", "hard_cap")?;
        out.serialize_field("message", &self.message())?;
        out.serialize_field("used_last_24h", &self.used_last_24h)?;
        out.serialize_field("cap", &self.cap)?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_micro_opt(h, 59, 59, 999_999)
            .unwrap()
    }

    #[test]
    fn periods_are_utc_calendar_months() {
        let p = Period::containing(at(2026, 12, 31, 23));
        assert_eq!(p.key(), "2026-12");
        assert_eq!(p.to_string(), "2026-12");
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(p.last_reset(), first.and_hms_opt(0, 0, 0).unwrap());
        assert_eq!(
            time::rfc3339_millis(p.last_reset()),
            "2026-12-01T00:00:00.000Z"
        );
        assert_eq!(
            time::rfc3339_millis(p.next_reset()),
            "2027-01-01T00:00:00.000Z"
        );
        assert_eq!(p.next().key(), "2027-01");
        assert_eq!(Period::containing(p.next_reset()), p.next());
        assert_eq!(Period::containing(p.last_reset()), p);
        // The last instant of a month is still in it; the next one is not.
        let last = p.next_reset() - chrono::Duration::microseconds(1);
        assert_eq!(Period::containing(last), p);
        assert_eq!(Period::containing(at(2028, 2, 29, 12)).key(), "2028-02");
        assert_eq!(Period::containing(at(2026, 1, 1, 0)).key(), "2026-01");
    }

    #[test]
    fn usage_wire_form() {
        let period = Period::containing(at(2025, 9, 14, 10));
        let limited = Usage::new(12, Limit::Max(100), &period);
        assert_eq!(
            serde_json::to_value(limited).unwrap(),
            json!({"count": 12, "limit": 100, "last_reset": "2025-09-01T00:00:00.000Z"})
        );
        let unlimited = Usage::new(3, Limit::Unlimited, &period);
        assert_eq!(
            serde_json::to_value(unlimited).unwrap(),
            json!({"count": 3, "limit": null, "last_reset": "2025-09-01T00:00:00.000Z"})
        );
        assert_eq!(
            Exceeded { usage: limited }.to_string(),
            "This upload would exceed your monthly limit."
        );
    }

    #[test]
    fn daily_caps_of_the_reference() {
        let caps: Vec<(&str, Option<u32>)> = Platform::ALL
            .iter()
            .map(|p| (p.key(), daily_cap(*p)))
            .collect();
        assert_eq!(
            caps,
            [
                ("tiktok", Some(15)),
                ("instagram", Some(50)),
                ("facebook", Some(25)),
                ("linkedin", Some(150)),
                ("youtube", Some(10)),
                ("x", Some(50)),
                ("threads", Some(50)),
                ("google_business", None),
                ("pinterest", Some(20)),
                ("bluesky", None),
                ("reddit", Some(40)),
            ]
        );
    }

    #[test]
    fn a_cap_is_reached_when_no_post_is_left() {
        assert_eq!(CapViolation::check(Platform::Instagram, 49), None);
        let v = CapViolation::check(Platform::Instagram, 50).unwrap();
        assert_eq!(
            serde_json::to_value(v).unwrap(),
            json!({"platform": "instagram", "type": "hard_cap",
                   "message": "Daily cap reached for instagram: 50/50 in last 24h",
                   "used_last_24h": 50, "cap": 50})
        );
        assert_eq!(
            CapViolation::check(Platform::Tiktok, 16).unwrap().message(),
            "Daily cap reached for tiktok: 16/15 in last 24h"
        );
        assert_eq!(CapViolation::check(Platform::Bluesky, 10_000), None);
    }
}
