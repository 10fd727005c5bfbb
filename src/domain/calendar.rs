//! The calendar's month: which days the grid shows, given the week's first day.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime};

/// A month, as the page's `?month=YYYY-MM` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    pub fn containing(day: NaiveDate) -> Self {
        Self {
            first: day.with_day(1).expect("every month has a first day"),
        }
    }

    /// `2026-11`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let (y, m) = text.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
        Some(Self { first })
    }

    pub fn param(self) -> String {
        self.first.format("%Y-%m").to_string()
    }

    pub fn year(self) -> i32 {
        self.first.year()
    }

    /// 1 to 12.
    pub fn number(self) -> u32 {
        self.first.month()
    }

    pub fn previous(self) -> Self {
        Self {
            first: self
                .first
                .checked_sub_months(Months::new(1))
                .unwrap_or(self.first),
        }
    }

    pub fn next(self) -> Self {
        Self {
            first: self
                .first
                .checked_add_months(Months::new(1))
                .unwrap_or(self.first),
        }
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        day.year() == self.first.year() && day.month() == self.first.month()
    }

    /// The whole weeks that cover the month, each starting on `week_start` (0 = Sunday,
    /// 1 = Monday, as Upload-Post's `weekStartDay`).
    pub fn weeks(self, week_start: u32) -> Vec<[NaiveDate; 7]> {
        let offset = (self.first.weekday().num_days_from_sunday() + 7 - week_start % 7) % 7;
        let mut day = self.first - Days::new(u64::from(offset));
        let mut weeks = Vec::with_capacity(6);
        loop {
            let week: [NaiveDate; 7] = std::array::from_fn(|i| day + Days::new(i as u64));
            day = week[6] + Days::new(1);
            weeks.push(week);
            if !self.contains(day) {
                return weeks;
            }
        }
    }

    /// `[start, end)` of the grid in UTC, for loading posts.
    pub fn grid_range(self, week_start: u32) -> (NaiveDateTime, NaiveDateTime) {
        let weeks = self.weeks(week_start);
        let start = weeks[0][0];
        let end = weeks[weeks.len() - 1][6] + Days::new(1);
        (
            start.and_hms_opt(0, 0, 0).unwrap_or_default(),
            end.and_hms_opt(0, 0, 0).unwrap_or_default(),
        )
    }
}

/// The weekday numbers (0 = Sunday) of the grid's columns, in order.
pub fn weekday_columns(week_start: u32) -> [u32; 7] {
    std::array::from_fn(|i| (week_start + i as u32) % 7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn november_2026() {
        let m = Month::parse("2026-11").unwrap();
        // 1 Nov 2026 is a Sunday.
        let monday = m.weeks(1);
        assert_eq!(monday[0][0], d(2026, 10, 26));
        assert_eq!(monday.last().unwrap()[6], d(2026, 12, 6));
        assert_eq!(monday.len(), 6);
        let sunday = m.weeks(0);
        assert_eq!(sunday[0][0], d(2026, 11, 1));
        assert_eq!(sunday.len(), 5);
        assert_eq!(sunday.last().unwrap()[6], d(2026, 12, 5));
        let (from, to) = m.grid_range(0);
        assert_eq!(from.date(), d(2026, 11, 1));
        assert_eq!(to.date(), d(2026, 12, 6));
    }

    #[test]
    fn february_that_fits_four_weeks() {
        // 1 Feb 2026 is a Sunday and February 2026 has 28 days.
        assert_eq!(Month::parse("2026-02").unwrap().weeks(0).len(), 4);
    }

    #[test]
    fn parsing_and_stepping() {
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("26-01"), None);
        assert_eq!(Month::parse("x"), None);
        let dec = Month::parse("2026-12").unwrap();
        assert_eq!(dec.next().param(), "2027-01");
        assert_eq!(dec.next().previous(), dec);
        assert_eq!(Month::containing(d(2026, 11, 24)).param(), "2026-11");
        assert_eq!(weekday_columns(1), [1, 2, 3, 4, 5, 6, 0]);
    }
}
