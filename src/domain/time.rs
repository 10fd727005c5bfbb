//! Timestamps: stored as UTC `TIMESTAMP` on both backends, shown as Upload-Post shows them.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Now, truncated to microseconds: PostgreSQL keeps micros and SQLite keeps more, so values
/// read back must compare equal on both.
pub fn now() -> NaiveDateTime {
    let micros = Utc::now().timestamp_micros();
    DateTime::from_timestamp_micros(micros)
        .unwrap_or_else(Utc::now)
        .naive_utc()
}

/// RFC 1123 in GMT (`Fri, 02 May 2025 21:43:14 GMT`), the form Upload-Post's create
/// response uses.
pub fn rfc1123(t: NaiveDateTime) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// RFC 3339 with a `Z`, for our own extensions and the CLI.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// RFC 3339 in UTC with milliseconds and a `Z` (`2025-09-01T10:00:00.000Z`), as
/// Upload-Post's usage and history show instants.
pub fn rfc3339_millis(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn formats() {
        let t = NaiveDate::from_ymd_opt(2025, 5, 2)
            .unwrap()
            .and_hms_micro_opt(21, 43, 14, 229_755)
            .unwrap();
        assert_eq!(rfc1123(t), "Fri, 02 May 2025 21:43:14 GMT");
        assert_eq!(rfc3339(t), "2025-05-02T21:43:14Z");
        assert_eq!(rfc3339_millis(t), "2025-05-02T21:43:14.229Z");
        assert_eq!(now().and_utc().timestamp_subsec_nanos() % 1000, 0);
    }
}
