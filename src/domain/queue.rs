//! The posting queue of a profile: recurring wall-clock slots in a time zone, how many posts
//! each takes, and which slot a queued post gets.
//!
//! Slot times are wall times in the queue's zone, turned into instants by the same rule as
//! naive scheduled dates (`TimeZoneName::resolve`): a slot in a DST gap moves forward by the
//! gap, a slot in a repeated hour is its first occurrence; two slots that land on one instant
//! are one slot. Queue timestamps use `+00:00`, as Upload-Post writes them.
//!
//! Manually full slots are kept apart from the settings (a table of their own), so marking
//! one never rewrites the settings; `view` shows them in `full_slots`.

use super::profile_fields::FieldError;
use super::schedule::{MAX_DAYS_AHEAD, TimeZoneName, parse_instant};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

pub const MAX_SLOTS: usize = 24;
pub const MAX_POSTS_PER_SLOT: u32 = 100;

/// One daily posting time, on the queue zone's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SlotTime {
    hour: u32,
    minute: u32,
}

impl SlotTime {
    pub fn new(hour: u32, minute: u32) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(Self { hour, minute })
    }

    fn time(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour, self.minute, 0).unwrap_or(NaiveTime::MIN)
    }
}

/// A profile's queue: Upload-Post's defaults until changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    timezone: TimeZoneName,
    /// Sorted, unique, 1 to `MAX_SLOTS`.
    slots: Vec<SlotTime>,
    /// 0 = Monday … 6 = Sunday; sorted, unique, at least one.
    days_of_week: Vec<u32>,
    /// 1 to `MAX_POSTS_PER_SLOT`.
    max_posts_per_slot: u32,
}

impl Default for QueueSettings {
    /// 9:00, 12:00 and 17:00 in New York, every day, one post per slot.
    fn default() -> Self {
        Self {
            timezone: TimeZoneName::parse("America/New_York").unwrap_or(TimeZoneName::UTC),
            slots: [9, 12, 17]
                .into_iter()
                .filter_map(|h| SlotTime::new(h, 0))
                .collect(),
            days_of_week: (0..7).collect(),
            max_posts_per_slot: 1,
        }
    }
}

/// The stored form: the settings object without `full_slots`.
#[derive(Serialize)]
struct Stored<'a> {
    timezone: &'a str,
    slots: &'a [SlotTime],
    days_of_week: &'a [u32],
    max_posts_per_slot: u32,
}

impl QueueSettings {
    pub fn timezone(&self) -> TimeZoneName {
        self.timezone
    }

    pub fn max_posts_per_slot(&self) -> u32 {
        self.max_posts_per_slot
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(&Stored {
            timezone: self.timezone.as_str(),
            slots: &self.slots,
            days_of_week: &self.days_of_week,
            max_posts_per_slot: self.max_posts_per_slot,
        })
        .unwrap_or_default()
    }

    /// Stored settings, checked again as a change to the defaults.
    pub fn from_stored(text: &str) -> Result<Self, FieldError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(SettingsChange::from_json(&map)?.apply(&Self::default())),
            _ => Err(FieldError::new("queue_settings", "is not a JSON object")),
        }
    }

    /// `queue_settings` on the wire, with the manually full slots to come.
    pub fn view(&self, full_slots: &[DateTime<Utc>]) -> Value {
        json!({
            "timezone": self.timezone.as_str(),
            "slots": self.slots,
            "days_of_week": self.days_of_week,
            "max_posts_per_slot": self.max_posts_per_slot,
            "full_slots": full_slots.iter().copied().map(utc_offset).collect::<Vec<_>>(),
        })
    }

    /// Every slot after `from` and before `to`, in time order.
    pub fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let zone = self.timezone;
        let first = zone.local(from).date_naive();
        let last = zone.local(to).date_naive();
        let mut out: Vec<DateTime<Utc>> = first
            .iter_days()
            .take_while(|day| *day <= last)
            .filter(|day| {
                self.days_of_week
                    .contains(&day.weekday().num_days_from_monday())
            })
            .flat_map(|day| {
                self.slots
                    .iter()
                    .filter_map(move |s| zone.resolve(day.and_time(s.time())))
            })
            .filter(|t| *t > from && *t < to)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether `at` is one of this queue's slots.
    pub fn is_slot(&self, at: DateTime<Utc>) -> bool {
        let second = Duration::seconds(1);
        match (at.checked_sub_signed(second), at.checked_add_signed(second)) {
            (Some(from), Some(to)) => self.slots_between(from, to) == [at],
            _ => false,
        }
    }

    /// The first slot after `now` (within the scheduling horizon) with room for one more
    /// post, `max_per_slot` overriding the setting for this one request.
    pub fn next_available(
        &self,
        now: DateTime<Utc>,
        occupancy: &Occupancy,
        max_per_slot: Option<u32>,
    ) -> Option<DateTime<Utc>> {
        let max = max_per_slot.unwrap_or(self.max_posts_per_slot);
        self.slots_between(now, horizon(now))
            .into_iter()
            .find(|t| occupancy.has_room(*t, max))
    }

    /// The preview's row for one slot.
    pub fn preview_row(&self, at: DateTime<Utc>, occupancy: &Occupancy, posts: &[Value]) -> Value {
        let count = occupancy.count(at);
        let is_full = count >= self.max_posts_per_slot;
        let manually_full = occupancy.is_manually_full(at);
        json!({
            "datetime_utc": utc_offset(at),
            "datetime_local": self.local_text(at),
            "available": !is_full && !manually_full,
            "post_count": count,
            "max_posts_per_slot": self.max_posts_per_slot,
            "is_full": is_full,
            "manually_full": manually_full,
            "scheduled_posts": posts,
        })
    }

    /// `{datetime_utc, datetime_local, timezone}`, as next-slot answers.
    pub fn slot_view(&self, at: DateTime<Utc>) -> Value {
        json!({
            "datetime_utc": utc_offset(at),
            "datetime_local": self.local_text(at),
            "timezone": self.timezone.as_str(),
        })
    }

    fn local_text(&self, at: DateTime<Utc>) -> String {
        self.timezone
            .local(at)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }
}

/// The latest instant a queued post may get: as far as a post may be scheduled.
pub fn horizon(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(MAX_DAYS_AHEAD)
}

/// `2025-01-30T14:00:00+00:00`: how the queue writes instants.
pub fn utc_offset(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// How full the slots are: queued posts per slot, and the slots marked full by hand.
#[derive(Debug, Clone, Default)]
pub struct Occupancy {
    counts: HashMap<DateTime<Utc>, u32>,
    manually_full: HashSet<DateTime<Utc>>,
}

impl Occupancy {
    pub fn new(
        counts: HashMap<DateTime<Utc>, u32>,
        manually_full: impl IntoIterator<Item = DateTime<Utc>>,
    ) -> Self {
        Self {
            counts,
            manually_full: manually_full.into_iter().collect(),
        }
    }

    pub fn count(&self, at: DateTime<Utc>) -> u32 {
        self.counts.get(&at).copied().unwrap_or(0)
    }

    pub fn is_manually_full(&self, at: DateTime<Utc>) -> bool {
        self.manually_full.contains(&at)
    }

    fn has_room(&self, at: DateTime<Utc>, max: u32) -> bool {
        !self.is_manually_full(at) && self.count(at) < max
    }
}

/// A partial update of the settings: only the fields the body has (non-null) change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    timezone: Option<TimeZoneName>,
    slots: Option<Vec<SlotTime>>,
    days_of_week: Option<Vec<u32>>,
    max_posts_per_slot: Option<u32>,
}

impl SettingsChange {
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, FieldError> {
        let present = |key: &str| body.get(key).filter(|v| !v.is_null());
        Ok(Self {
            timezone: present("timezone").map(timezone).transpose()?,
            slots: present("slots").map(slots).transpose()?,
            days_of_week: present("days_of_week").map(days_of_week).transpose()?,
            max_posts_per_slot: present("max_posts_per_slot")
                .map(|v| max_posts_per_slot("max_posts_per_slot", v))
                .transpose()?,
        })
    }

    pub fn apply(&self, current: &QueueSettings) -> QueueSettings {
        QueueSettings {
            timezone: self.timezone.unwrap_or(current.timezone),
            slots: self.slots.clone().unwrap_or_else(|| current.slots.clone()),
            days_of_week: self
                .days_of_week
                .clone()
                .unwrap_or_else(|| current.days_of_week.clone()),
            max_posts_per_slot: self
                .max_posts_per_slot
                .unwrap_or(current.max_posts_per_slot),
        }
    }
}

/// The `max_posts_per_slot` of a settings body or an upload's override: 1 to 100.
pub fn max_posts_per_slot(field: &'static str, value: &Value) -> Result<u32, FieldError> {
    integer(value)
        .filter(|n| (1..=i64::from(MAX_POSTS_PER_SLOT)).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| FieldError::new(field, "must be an integer from 1 to 100"))
}

/// A slot time as a client names it, in queue preview's format (`datetime_utc`); naive
/// times are UTC.
pub fn slot_instant(field: &'static str, text: &str) -> Result<DateTime<Utc>, FieldError> {
    parse_instant(text, TimeZoneName::UTC)
        .map_err(|_| FieldError::new(field, "must be an ISO 8601 date and time"))
}

/// A yes/no field, as JSON or as text (`true`/`false`, `1`/`0`, `yes`/`no`, any case).
pub fn flag(field: &'static str, value: &Value) -> Result<bool, FieldError> {
    let invalid = || FieldError::new(field, "must be true or false");
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Ok(true),
            Some(0) => Ok(false),
            _ => Err(invalid()),
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

fn timezone(value: &Value) -> Result<TimeZoneName, FieldError> {
    let name = value
        .as_str()
        .ok_or_else(|| FieldError::new("timezone", "must be a string"))?;
    TimeZoneName::parse(name).map_err(FieldError::from)
}

fn slots(value: &Value) -> Result<Vec<SlotTime>, FieldError> {
    let invalid = || {
        FieldError::new(
            "slots",
            "must be a list of 1 to 24 times such as {\"hour\": 9, \"minute\": 30}, hour 0-23, minute 0-59",
        )
    };
    let items = value.as_array().ok_or_else(invalid)?;
    if items.is_empty() || items.len() > MAX_SLOTS {
        return Err(invalid());
    }
    let mut out = items
        .iter()
        .map(|item| slot(item).ok_or_else(invalid))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    let before = out.len();
    out.dedup();
    if out.len() != before {
        return Err(FieldError::new("slots", "must not repeat a time"));
    }
    Ok(out)
}

/// `{"hour": 9, "minute": 30}` (minute defaults to 0) or `"09:30"`.
fn slot(item: &Value) -> Option<SlotTime> {
    match item {
        Value::Object(o) => {
            let hour = integer(o.get("hour")?)?;
            let minute = match o.get("minute") {
                None | Some(Value::Null) => 0,
                Some(m) => integer(m)?,
            };
            SlotTime::new(u32::try_from(hour).ok()?, u32::try_from(minute).ok()?)
        }
        Value::String(s) => {
            let (h, m) = s.trim().split_once(':')?;
            SlotTime::new(h.parse().ok()?, m.parse().ok()?)
        }
        _ => None,
    }
}

fn days_of_week(value: &Value) -> Result<Vec<u32>, FieldError> {
    let invalid = || {
        FieldError::new(
            "days_of_week",
            "must be a list of days, 0 (Monday) to 6 (Sunday)",
        )
    };
    let items = value.as_array().ok_or_else(invalid)?;
    let mut days = items
        .iter()
        .map(|d| {
            integer(d)
                .filter(|d| (0..7).contains(d))
                .map(|d| d as u32)
                .ok_or_else(invalid)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if days.is_empty() {
        return Err(invalid());
    }
    days.sort_unstable();
    let before = days.len();
    days.dedup();
    if days.len() != before {
        return Err(FieldError::new("days_of_week", "must not repeat a day"));
    }
    Ok(days)
}

/// An integer sent as a JSON number or as text (form-minded clients send "5").
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn settings(body: Value) -> QueueSettings {
        SettingsChange::from_json(body.as_object().unwrap())
            .unwrap()
            .apply(&QueueSettings::default())
    }

    fn invalid(body: Value) -> FieldError {
        SettingsChange::from_json(body.as_object().unwrap()).unwrap_err()
    }

    fn utc_list(slots: &[DateTime<Utc>]) -> Vec<String> {
        slots.iter().copied().map(utc_offset).collect()
    }

    #[test]
    fn defaults_are_upload_posts() {
        let d = QueueSettings::default();
        assert_eq!(
            d.view(&[]),
            json!({
                "timezone": "America/New_York",
                "slots": [{"hour": 9, "minute": 0}, {"hour": 12, "minute": 0}, {"hour": 17, "minute": 0}],
                "days_of_week": [0, 1, 2, 3, 4, 5, 6],
                "max_posts_per_slot": 1,
                "full_slots": [],
            })
        );
        assert_eq!(QueueSettings::from_stored(&d.to_stored()).unwrap(), d);
    }

    #[test]
    fn partial_updates_keep_the_rest() {
        let s = settings(json!({"max_posts_per_slot": 3, "timezone": null}));
        assert_eq!(s.max_posts_per_slot(), 3);
        assert_eq!(s.timezone().as_str(), "America/New_York");
        let s = settings(json!({
            "timezone": "europe/berlin",
            "slots": [{"hour": 17}, "08:05", {"hour": "9", "minute": 30}],
            "days_of_week": [4, 0],
            "max_posts_per_slot": "2",
            "unknown": true,
        }));
        assert_eq!(
            s.view(&[t("2025-01-06T08:05:00Z")]),
            json!({
                "timezone": "Europe/Berlin",
                "slots": [{"hour": 8, "minute": 5}, {"hour": 9, "minute": 30}, {"hour": 17, "minute": 0}],
                "days_of_week": [0, 4],
                "max_posts_per_slot": 2,
                "full_slots": ["2025-01-06T08:05:00+00:00"],
            })
        );
        assert_eq!(QueueSettings::from_stored(&s.to_stored()).unwrap(), s);
        assert!(QueueSettings::from_stored("[]").is_err());
    }

    #[test]
    fn invalid_settings() {
        for (body, field) in [
            (json!({"timezone": "Nowhere/Else"}), "timezone"),
            (json!({"timezone": 5}), "timezone"),
            (json!({"slots": []}), "slots"),
            (json!({"slots": "9:00"}), "slots"),
            (json!({"slots": [{"hour": 24}]}), "slots"),
            (json!({"slots": [{"hour": 9, "minute": 60}]}), "slots"),
            (json!({"slots": [{"hour": -1}]}), "slots"),
            (json!({"slots": [{"minute": 5}]}), "slots"),
            (json!({"slots": ["9"]}), "slots"),
            (
                json!({"slots": [{"hour": 9}, {"hour": 9, "minute": 0}]}),
                "slots",
            ),
            (
                json!({"slots": (0..25).map(|h| json!({"hour": h % 24, "minute": h})).collect::<Vec<_>>()}),
                "slots",
            ),
            (json!({"days_of_week": []}), "days_of_week"),
            (json!({"days_of_week": [7]}), "days_of_week"),
            (json!({"days_of_week": [1, 1]}), "days_of_week"),
            (json!({"days_of_week": "mon"}), "days_of_week"),
            (json!({"max_posts_per_slot": 0}), "max_posts_per_slot"),
            (json!({"max_posts_per_slot": 101}), "max_posts_per_slot"),
            (json!({"max_posts_per_slot": 1.5}), "max_posts_per_slot"),
            (json!({"max_posts_per_slot": true}), "max_posts_per_slot"),
        ] {
            assert_eq!(invalid(body.clone()).field, field, "{body}");
        }
        // 24 distinct slots are fine.
        let s = settings(json!({"slots": (0..24).map(|h| json!({"hour": h})).collect::<Vec<_>>()}));
        assert_eq!(s.slots.len(), 24);
    }

    #[test]
    fn slots_in_new_york_across_spring_forward() {
        let s = settings(
            json!({"slots": [{"hour": 2, "minute": 30}, {"hour": 3, "minute": 30}, {"hour": 9}]}),
        );
        // 9 March 2025: 02:30 does not exist and moves to 03:30 EDT, where the 03:30 slot is.
        let day = s.slots_between(t("2025-03-09T05:00:00Z"), t("2025-03-10T05:00:00Z"));
        assert_eq!(
            utc_list(&day),
            ["2025-03-09T07:30:00+00:00", "2025-03-09T13:00:00+00:00"]
        );
        // The day before is still EST.
        let before = s.slots_between(t("2025-03-08T05:00:00Z"), t("2025-03-09T05:00:00Z"));
        assert_eq!(
            utc_list(&before),
            [
                "2025-03-08T07:30:00+00:00",
                "2025-03-08T08:30:00+00:00",
                "2025-03-08T14:00:00+00:00"
            ]
        );
        assert_eq!(
            s.preview_row(day[1], &Occupancy::default(), &[])["datetime_local"],
            "2025-03-09T09:00:00-04:00"
        );
    }

    #[test]
    fn slots_in_berlin_across_fall_back_and_weekdays() {
        // Mondays and Sundays only; 26 October 2025 is a Sunday, when 02:30 happens twice.
        let s = settings(json!({
            "timezone": "Europe/Berlin",
            "slots": [{"hour": 2, "minute": 30}, {"hour": 12}],
            "days_of_week": [0, 6],
        }));
        let week = s.slots_between(t("2025-10-22T00:00:00Z"), t("2025-10-28T00:00:00Z"));
        assert_eq!(
            utc_list(&week),
            [
                "2025-10-26T00:30:00+00:00",
                "2025-10-26T11:00:00+00:00",
                "2025-10-27T01:30:00+00:00",
                "2025-10-27T11:00:00+00:00",
            ]
        );
        assert!(s.is_slot(t("2025-10-26T11:00:00Z")));
        assert!(!s.is_slot(t("2025-10-26T11:00:01Z")));
        assert!(!s.is_slot(t("2025-10-25T11:00:00Z")));
        // Bounds are exclusive.
        assert!(
            s.slots_between(t("2025-10-26T11:00:00Z"), t("2025-10-27T01:30:00Z"))
                .is_empty()
        );
    }

    #[test]
    fn next_available_skips_full_and_manually_full_slots() {
        let s = settings(json!({"timezone": "UTC", "max_posts_per_slot": 2}));
        let now = t("2025-05-01T10:00:00Z");
        let noon = t("2025-05-01T12:00:00Z");
        let five = t("2025-05-01T17:00:00Z");
        let nine = t("2025-05-02T09:00:00Z");
        assert_eq!(
            s.next_available(now, &Occupancy::default(), None),
            Some(noon)
        );
        let occupancy = Occupancy::new(HashMap::from([(noon, 1)]), []);
        assert_eq!(s.next_available(now, &occupancy, None), Some(noon));
        // The request's own limit wins over the setting.
        assert_eq!(s.next_available(now, &occupancy, Some(1)), Some(five));
        let occupancy = Occupancy::new(HashMap::from([(noon, 2)]), [five]);
        assert_eq!(s.next_available(now, &occupancy, None), Some(nine));
        // A slot exactly now is gone.
        assert_eq!(
            s.next_available(noon, &Occupancy::default(), None),
            Some(five)
        );
        // Every slot of the horizon full: none.
        let all = s.slots_between(now, horizon(now));
        assert_eq!(all.len(), 365 * 3);
        let full = Occupancy::new(HashMap::new(), all);
        assert_eq!(s.next_available(now, &full, None), None);
    }

    #[test]
    fn preview_rows() {
        let s = settings(json!({"timezone": "America/New_York", "max_posts_per_slot": 1}));
        let at = t("2025-01-30T14:00:00Z");
        let posts = [json!({"job_id": "j1", "title": "Hi", "platforms": ["x"]})];
        let row = s.preview_row(at, &Occupancy::new(HashMap::from([(at, 1)]), []), &posts);
        assert_eq!(
            row,
            json!({
                "datetime_utc": "2025-01-30T14:00:00+00:00",
                "datetime_local": "2025-01-30T09:00:00-05:00",
                "available": false,
                "post_count": 1,
                "max_posts_per_slot": 1,
                "is_full": true,
                "manually_full": false,
                "scheduled_posts": posts,
            })
        );
        let row = s.preview_row(at, &Occupancy::new(HashMap::new(), [at]), &[]);
        assert_eq!(row["available"], false);
        assert_eq!(row["is_full"], false);
        assert_eq!(row["manually_full"], true);
        assert_eq!(
            s.slot_view(at),
            json!({
                "datetime_utc": "2025-01-30T14:00:00+00:00",
                "datetime_local": "2025-01-30T09:00:00-05:00",
                "timezone": "America/New_York",
            })
        );
    }

    #[test]
    fn slot_instants_and_overrides() {
        assert_eq!(
            slot_instant("slot_datetime", "2025-01-30T14:00:00+00:00").unwrap(),
            t("2025-01-30T14:00:00Z")
        );
        assert_eq!(
            slot_instant("slot_datetime", "2025-01-30T14:00:00").unwrap(),
            t("2025-01-30T14:00:00Z")
        );
        assert_eq!(
            slot_instant("slot_datetime", "soon").unwrap_err().field,
            "slot_datetime"
        );
        assert_eq!(max_posts_per_slot("m", &json!("100")).unwrap(), 100);
        for (v, want) in [
            (json!(true), true),
            (json!("False"), false),
            (json!(1), true),
            (json!(" no "), false),
        ] {
            assert_eq!(flag("full", &v).unwrap(), want, "{v}");
        }
        for v in [json!(2), json!("maybe"), json!(null), json!([])] {
            assert_eq!(flag("full", &v).unwrap_err().field, "full", "{v}");
        }
        assert!(max_posts_per_slot("m", &json!(-3)).is_err());
    }
}
