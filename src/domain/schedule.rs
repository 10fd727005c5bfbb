//! When a post goes out: `scheduled_date` (+ `timezone`) as clients send it, read into one UTC
//! instant.
//!
//! Accepted: `Z`, numeric offsets (`+02:00`, `+0200`, `+02`), fractional seconds (Luxon's
//! `.000+02:00` from n8n), `T` or a space between date and time, seconds optional; and naive
//! times, read in `timezone` (IANA, default UTC). An offset in the text wins over `timezone`.
//!
//! Wall times a zone skips or repeats are read as Python's `zoneinfo` reads them by default
//! (`fold=0`), which is what Upload-Post itself runs on:
//! - a time in a gap (02:30 on the night clocks spring forward) takes the offset in force
//!   before the change, so it lands as far after the change as it is after the gap's start
//!   (02:30 EST = 03:30 EDT);
//! - a time that happens twice (01:30 on the night clocks fall back) is the first of the two.

use super::profile_fields::FieldError;
use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDateTime, Offset, SecondsFormat, TimeZone,
    Utc,
};
use chrono_tz::Tz;

/// How far ahead a post may be scheduled.
pub const MAX_DAYS_AHEAD: i64 = 365;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "Invalid scheduled_date format: use ISO 8601, e.g. 2025-09-22T10:00:00Z or 2025-09-22T12:00:00+02:00"
    )]
    Unreadable,
    #[error("Unknown timezone '{0}': use an IANA name such as Europe/Berlin")]
    UnknownTimeZone(String),
    #[error("scheduled_date must be in the future")]
    InPast,
    #[error("scheduled_date cannot be more than {MAX_DAYS_AHEAD} days in the future")]
    TooFarAhead,
}

impl From<ScheduleError> for FieldError {
    fn from(e: ScheduleError) -> Self {
        let field = match e {
            ScheduleError::UnknownTimeZone(_) => "timezone",
            _ => "scheduled_date",
        };
        FieldError::worded(field, e.to_string())
    }
}

/// An IANA time zone name, in its canonical spelling (`europe/berlin` reads as
/// `Europe/Berlin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneName(Tz);

impl TimeZoneName {
    pub const UTC: Self = Self(Tz::UTC);

    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let trimmed = text.trim();
        Tz::from_str_insensitive(trimmed)
            .map(Self)
            .map_err(|_| ScheduleError::UnknownTimeZone(trimmed.chars().take(64).collect()))
    }

    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    /// The instant a wall time in this zone names, by the rule in the module's comment;
    /// `None` only at the very ends of chrono's range.
    pub fn resolve(self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
            LocalResult::None => {
                // A day before, read as UTC, is before the change whatever the zone's offset
                // (offsets stay within ±14 h): its offset is the one in force before the gap.
                let day_before = local.checked_sub_signed(Duration::days(1))?;
                let before = self.0.offset_from_utc_datetime(&day_before).fix();
                let seconds = Duration::seconds(i64::from(before.local_minus_utc()));
                Some(local.checked_sub_signed(seconds)?.and_utc())
            }
        }
    }

    /// `instant` on this zone's wall clock.
    pub fn local(self, instant: DateTime<Utc>) -> DateTime<Tz> {
        instant.with_timezone(&self.0)
    }
}

impl std::fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A valid `scheduled_date`: in the future, at most `MAX_DAYS_AHEAD` days ahead, with how the
/// client wrote it (the schedule list shows `original_scheduled_str` and
/// `original_timezone`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledDate {
    utc: DateTime<Utc>,
    original: String,
    zone: TimeZoneName,
}

impl ScheduledDate {
    /// `timezone` empty or absent means UTC. A `timezone` that is not a zone is refused even
    /// when the date carries an offset, so what is stored as the original zone is one.
    pub fn parse(
        raw: &str,
        timezone: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, ScheduleError> {
        let zone = match timezone.map(str::trim).filter(|t| !t.is_empty()) {
            Some(name) => TimeZoneName::parse(name)?,
            None => TimeZoneName::UTC,
        };
        let original = raw.trim().to_owned();
        let utc = parse_instant(&original, zone)?;
        if utc <= now {
            return Err(ScheduleError::InPast);
        }
        if utc > now + Duration::days(MAX_DAYS_AHEAD) {
            return Err(ScheduleError::TooFarAhead);
        }
        Ok(Self {
            utc,
            original,
            zone,
        })
    }

    pub fn utc(&self) -> DateTime<Utc> {
        self.utc
    }

    /// For `TIMESTAMP` columns, which hold UTC.
    pub fn naive_utc(&self) -> NaiveDateTime {
        self.utc.naive_utc()
    }

    /// The date exactly as sent (trimmed): `original_scheduled_str`.
    pub fn original_scheduled_str(&self) -> &str {
        &self.original
    }

    /// The zone naive times were read in: `original_timezone`.
    pub fn original_timezone(&self) -> TimeZoneName {
        self.zone
    }

    /// `scheduled_date` on the wire: UTC with a `Z` (`2025-09-22T10:00:00Z`).
    pub fn wire(&self) -> String {
        utc_z(self.utc)
    }
}

/// `2025-09-22T10:00:00Z`: how scheduled posts show their date.
pub fn utc_z(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One instant from ISO 8601 text: its own offset if it has one, else a wall time in `zone`.
/// Sub-second parts are dropped: posts are scheduled to the second.
pub fn parse_instant(text: &str, zone: TimeZoneName) -> Result<DateTime<Utc>, ScheduleError> {
    let text = text.trim();
    let (wall, offset) = split_offset(text).ok_or(ScheduleError::Unreadable)?;
    let local = parse_wall(wall).ok_or(ScheduleError::Unreadable)?;
    let utc = match offset {
        Some(offset) => offset
            .from_local_datetime(&local)
            .single()
            .ok_or(ScheduleError::Unreadable)?
            .with_timezone(&Utc),
        None => zone.resolve(local).ok_or(ScheduleError::Unreadable)?,
    };
    Ok(utc - Duration::nanoseconds(i64::from(utc.timestamp_subsec_nanos())))
}

/// The wall-time part and the offset, if the text ends with one (`Z`, `±HH`, `±HHMM`,
/// `±HH:MM`). `None` for an offset that does not read as one.
fn split_offset(text: &str) -> Option<(&str, Option<FixedOffset>)> {
    if let Some(wall) = text.strip_suffix(['Z', 'z']) {
        return Some((wall, Some(FixedOffset::east_opt(0)?)));
    }
    // The offset's sign comes after the time; the date has dashes of its own.
    let time_start = text.find(['T', 't', ' '])?;
    let Some(at) = text[time_start..].rfind(['+', '-']).map(|i| i + time_start) else {
        return Some((text, None));
    };
    let (wall, offset) = text.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    let colons = offset[1..].matches(':').count();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || colons > 1 {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 if colons == 0 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((
        wall,
        Some(FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?),
    ))
}

fn parse_wall(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ];
    let text = text.replacen('t', "T", 1);
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2025-03-01T12:00:00Z".parse().unwrap()
    }

    fn utc(raw: &str, tz: Option<&str>) -> String {
        ScheduledDate::parse(raw, tz, now()).unwrap().wire()
    }

    fn err(raw: &str, tz: Option<&str>) -> ScheduleError {
        ScheduledDate::parse(raw, tz, now()).unwrap_err()
    }

    #[test]
    fn every_format_clients_send() {
        let want = "2025-09-22T10:00:00Z";
        for raw in [
            "2025-09-22T10:00:00Z",
            "2025-09-22T10:00:00z",
            "2025-09-22t10:00:00Z",
            " 2025-09-22T10:00:00Z ",
            "2025-09-22T10:00Z",
            "2025-09-22T10:00:00.000Z",
            "2025-09-22T10:00:00.123456Z",
            // Luxon's toISO(), as n8n sends it.
            "2025-09-22T12:00:00.000+02:00",
            "2025-09-22T12:00:00+02:00",
            "2025-09-22T12:00:00+0200",
            "2025-09-22T12:00:00+02",
            "2025-09-22T05:30:00-04:30",
            "2025-09-22 10:00:00",
            "2025-09-22T10:00:00",
            "2025-09-22T10:00",
            "2025-09-22 10:00",
        ] {
            assert_eq!(utc(raw, None), want, "{raw:?}");
        }
    }

    #[test]
    fn unreadable_dates() {
        for raw in [
            "",
            "tomorrow",
            "2025-09-22",
            "22/09/2025 10:00",
            "2025-09-22T25:00:00Z",
            "2025-02-30T10:00:00Z",
            "2025-09-22T10:00:00+24:00",
            "2025-09-22T10:00:00+2",
            "2025-09-22T10:00:00+02:00:00",
            "2025-09-22T10:00:00+0a:00",
            "2025-09-22T10:00:00 UTC",
            "2025-09-22T10:00:00ZZ",
            "1758535200",
        ] {
            assert_eq!(err(raw, None), ScheduleError::Unreadable, "{raw:?}");
        }
    }

    #[test]
    fn naive_times_are_read_in_the_timezone() {
        assert_eq!(
            utc("2025-09-22T10:00:00", Some("Europe/Berlin")),
            "2025-09-22T08:00:00Z"
        );
        assert_eq!(
            utc("2025-12-22T10:00:00", Some("europe/berlin")),
            "2025-12-22T09:00:00Z"
        );
        assert_eq!(
            utc("2025-09-22T10:00:00", Some("America/New_York")),
            "2025-09-22T14:00:00Z"
        );
        assert_eq!(utc("2025-09-22T10:00:00", Some("")), "2025-09-22T10:00:00Z");
        let d = ScheduledDate::parse("2025-09-22T10:00", Some(" asia/tokyo "), now()).unwrap();
        assert_eq!(d.original_timezone().as_str(), "Asia/Tokyo");
        assert_eq!(d.original_scheduled_str(), "2025-09-22T10:00");
        assert_eq!(d.naive_utc(), d.utc().naive_utc());
        assert_eq!(d.wire(), "2025-09-22T01:00:00Z");
        let plain = ScheduledDate::parse("2025-09-22T10:00Z", None, now()).unwrap();
        assert_eq!(plain.original_timezone(), TimeZoneName::UTC);
    }

    #[test]
    fn an_offset_wins_over_the_timezone() {
        assert_eq!(
            utc("2025-09-22T12:00:00+02:00", Some("America/New_York")),
            "2025-09-22T10:00:00Z"
        );
        assert_eq!(
            utc("2025-09-22T10:00:00Z", Some("Asia/Tokyo")),
            "2025-09-22T10:00:00Z"
        );
        // The zone is still checked, and kept as the original one.
        assert_eq!(
            err("2025-09-22T10:00:00Z", Some("Mars/Olympus")),
            ScheduleError::UnknownTimeZone("Mars/Olympus".into())
        );
        let d = ScheduledDate::parse("2025-09-22T10:00:00Z", Some("Asia/Tokyo"), now()).unwrap();
        assert_eq!(d.original_timezone().as_str(), "Asia/Tokyo");
    }

    #[test]
    fn new_york_dst() {
        let ny = Some("America/New_York");
        // 9 March 2025: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist: read with EST.
        assert_eq!(utc("2025-03-09T02:30:00", ny), "2025-03-09T07:30:00Z");
        assert_eq!(utc("2025-03-09T01:59:00", ny), "2025-03-09T06:59:00Z");
        assert_eq!(utc("2025-03-09T03:00:00", ny), "2025-03-09T07:00:00Z");
        // 2 November 2025: 02:00 EDT falls back to 01:00 EST. 01:30 happens twice: the first.
        assert_eq!(utc("2025-11-02T01:30:00", ny), "2025-11-02T05:30:00Z");
        assert_eq!(utc("2025-11-02T02:30:00", ny), "2025-11-02T07:30:00Z");
        // An explicit offset picks the second 01:30.
        assert_eq!(utc("2025-11-02T01:30:00-05:00", ny), "2025-11-02T06:30:00Z");
    }

    #[test]
    fn berlin_dst() {
        let berlin = Some("Europe/Berlin");
        // 30 March 2025: 02:00 CET jumps to 03:00 CEST.
        assert_eq!(utc("2025-03-30T02:30:00", berlin), "2025-03-30T01:30:00Z");
        assert_eq!(utc("2025-03-30T03:30:00", berlin), "2025-03-30T01:30:00Z");
        // 26 October 2025: 03:00 CEST falls back to 02:00 CET. 02:30 is the first (CEST).
        assert_eq!(utc("2025-10-26T02:30:00", berlin), "2025-10-26T00:30:00Z");
        assert_eq!(utc("2025-10-26T03:30:00", berlin), "2025-10-26T02:30:00Z");
    }

    #[test]
    fn past_and_365_day_edges() {
        assert_eq!(err("2025-03-01T12:00:00Z", None), ScheduleError::InPast);
        assert_eq!(err("2025-03-01T11:59:59Z", None), ScheduleError::InPast);
        assert_eq!(err("2020-01-01T00:00:00Z", None), ScheduleError::InPast);
        assert_eq!(utc("2025-03-01T12:00:01Z", None), "2025-03-01T12:00:01Z");
        // 365 days after 2025-03-01 12:00 is 2026-03-01 12:00.
        assert_eq!(utc("2026-03-01T12:00:00Z", None), "2026-03-01T12:00:00Z");
        assert_eq!(
            err("2026-03-01T12:00:01Z", None),
            ScheduleError::TooFarAhead
        );
        // In a zone: 13:00 Berlin is 12:00Z, exactly now.
        assert_eq!(
            err("2025-03-01T13:00:00", Some("Europe/Berlin")),
            ScheduleError::InPast
        );
    }

    #[test]
    fn errors_name_their_field() {
        let e: FieldError = ScheduleError::UnknownTimeZone("x".into()).into();
        assert_eq!(e.field, "timezone");
        let e: FieldError = ScheduleError::InPast.into();
        assert_eq!(e.field, "scheduled_date");
        assert_eq!(e.message, "scheduled_date must be in the future");
    }

    #[test]
    fn time_zone_names() {
        assert_eq!(TimeZoneName::parse("UTC").unwrap(), TimeZoneName::UTC);
        assert_eq!(TimeZoneName::parse("utc").unwrap().as_str(), "UTC");
        assert_eq!(
            TimeZoneName::parse("america/new_york").unwrap().to_string(),
            "America/New_York"
        );
        for bad in ["", "EST+5", "Europe/", "Mars/Olympus"] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad:?}");
        }
        let long = "x".repeat(1000);
        assert!(
            matches!(TimeZoneName::parse(&long), Err(ScheduleError::UnknownTimeZone(n)) if n.len() == 64)
        );
    }
}
