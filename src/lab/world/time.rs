//! Timestamps as the Triton APIs print them: ISO-8601 with milliseconds and `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
