//! The first lines of a transcript, so that whoever it is handed to can
//! read it alone: when (with the date and the zone its times are in),
//! which tritonsh, which runbook, where, with what parameters, and whether
//! its secrets were replaced. A resume adds a short form of it.

use chrono::{DateTime, Local, Offset, TimeZone};
use serde_json::{Map, Value};

use super::journal::Journal;
use super::transcript::redacted_json;

/// The header of a new run's transcript.
pub(super) fn started(journal: &Journal, redacted: bool, now: DateTime<Local>) -> Vec<String> {
    let run = if journal.dry_run { "dry run" } else { "run" };
    let mut lines = vec![
        format!(
            "tritonsh {} — {run} {}, started {}",
            env!("CARGO_PKG_VERSION"),
            journal.id,
            moment(now)
        ),
        format!(
            "runbook: {} {} ({})",
            journal.runbook, journal.version, journal.origin
        ),
        format!("datacenter: {}", datacenter(journal)),
        format!("parameters: {}", parameters(&journal.params, redacted)),
    ];
    if journal.dry_run {
        lines.push("dry run: nothing will be sent".into());
    }
    lines.push(redaction_note(redacted).into());
    lines
}

/// The short header of a resume: another process, maybe another day, maybe
/// another tritonsh.
pub(super) fn resumed(
    journal: &Journal,
    version: &str,
    redacted: bool,
    now: DateTime<Local>,
) -> Vec<String> {
    vec![
        format!(
            "tritonsh {} — run {} of {} {} ({}) resumed {} on {}",
            env!("CARGO_PKG_VERSION"),
            journal.id,
            journal.runbook,
            version,
            journal.origin,
            moment(now),
            datacenter(journal)
        ),
        redaction_note(redacted).into(),
    ]
}

/// Whether the transcript can be handed on as it is.
fn redaction_note(redacted: bool) -> &'static str {
    if redacted {
        "Transcript redacted: secrets (passwords, tokens, keys, credentials) are shown as [redacted]; the journal keeps them, readable only by you."
    } else {
        "Transcript NOT redacted (--no-redact): it holds the datacenter's secrets; do not hand it on."
    }
}

/// The same, in a few words for the terminal: the header has the rest.
pub(super) fn redaction_mark(redacted: bool) -> &'static str {
    if redacted {
        " (transcript redacted)"
    } else {
        " (transcript NOT redacted: do not hand it on)"
    }
}

/// `2026-12-07 23:41:02 UTC`, or with the offset where the zone is not UTC:
/// the zone the transcript's times are in.
pub(super) fn moment<Tz: TimeZone>(now: DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    format!("{} {}", now.format("%Y-%m-%d %H:%M:%S"), zone(&now))
}

/// `UTC`, or the offset (`+01:00`): chrono knows no zone names.
pub(super) fn zone<Tz: TimeZone>(now: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    if now.offset().fix().local_minus_utc() == 0 {
        "UTC".into()
    } else {
        now.format("%:z").to_string()
    }
}

fn datacenter(journal: &Journal) -> String {
    journal
        .datacenter
        .as_ref()
        .map_or_else(|| "not recorded".into(), ToString::to_string)
}

/// `count=1, service=papi`, redacted as the transcript is: by key here,
/// since the line alone no longer shows which value was a password.
fn parameters(params: &Map<String, Value>, redacted: bool) -> String {
    if params.is_empty() {
        return "none".into();
    }
    let Value::Object(params) = redacted_json(redacted, Value::Object(params.clone())) else {
        return "none".into();
    };
    params
        .iter()
        .map(|(name, value)| match value {
            Value::String(s) => format!("{name}={s}"),
            other => format!("{name}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dc::identity::DatacenterId;
    use crate::script::runbook::catalog::Origin;
    use chrono::FixedOffset;
    use serde_json::json;

    fn journal(dry_run: bool) -> Journal {
        let params = json!({"service": "papi", "count": 2, "ufds_admin_pw": "Header-Secret-1"});
        Journal::new(
            "20261207-234102-ab12".into(),
            "scale-service",
            "1.2.0",
            Origin::Stdlib,
            params.as_object().cloned().unwrap_or_default(),
            DatacenterId::Lab {
                dir: "/tmp/lab".into(),
            },
            dry_run,
        )
    }

    fn at(offset_secs: i32) -> DateTime<Local> {
        let zone = FixedOffset::east_opt(offset_secs).unwrap();
        let when = zone.with_ymd_and_hms(2026, 12, 7, 23, 41, 2).unwrap();
        when.with_timezone(&Local)
    }

    #[test]
    fn a_moment_has_its_date_and_zone() {
        let utc = chrono::Utc
            .with_ymd_and_hms(2026, 12, 7, 23, 41, 2)
            .unwrap();
        assert_eq!(moment(utc), "2026-12-07 23:41:02 UTC");
        let paris = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            moment(utc.with_timezone(&paris)),
            "2026-12-08 00:41:02 +01:00"
        );
    }

    #[test]
    fn a_run_starts_with_all_a_reader_needs() {
        let now = at(0);
        let lines = started(&journal(false), true, now);
        assert_eq!(
            lines[0],
            format!(
                "tritonsh {} — run 20261207-234102-ab12, started {}",
                env!("CARGO_PKG_VERSION"),
                moment(now)
            )
        );
        assert_eq!(lines[1], "runbook: scale-service 1.2.0 (stdlib)");
        assert_eq!(lines[2], "datacenter: the lab in /tmp/lab");
        assert_eq!(
            lines[3],
            "parameters: count=2, service=papi, ufds_admin_pw=[redacted]"
        );
        assert!(lines[4].starts_with("Transcript redacted: "), "{lines:?}");
        assert_eq!(lines.len(), 5);
        let dry = started(&journal(true), false, now);
        assert!(dry[0].contains("— dry run 2026"), "{dry:?}");
        assert!(dry.contains(&"dry run: nothing will be sent".to_string()));
        assert!(dry[3].ends_with("ufds_admin_pw=Header-Secret-1"), "{dry:?}");
        assert!(dry[5].starts_with("Transcript NOT redacted"), "{dry:?}");
    }

    #[test]
    fn a_resume_says_when_and_with_which_tritonsh() {
        let lines = resumed(&journal(false), "1.3.0", true, at(0));
        assert!(
            lines[0].starts_with(&format!("tritonsh {} — run ", env!("CARGO_PKG_VERSION")))
                && lines[0].contains("of scale-service 1.3.0 (stdlib) resumed 20")
                && lines[0].ends_with(" on the lab in /tmp/lab"),
            "{lines:?}"
        );
        assert!(lines[1].starts_with("Transcript redacted"), "{lines:?}");
    }
}
