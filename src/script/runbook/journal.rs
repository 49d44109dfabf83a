//! The run journal: which runbook (and version) ran with which parameters,
//! the plan computed once at the start, and how far each step got. It is
//! rewritten after every change, so a killed run can be resumed from it.
//!
//! Layout: `<state>/runs/<RUN_ID>/journal.json`, beside the transcript.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::Origin;
use super::error::RunbookError;
use super::preview::Preview;
use super::step::Step;
use super::verdict::Verdict;
use crate::dc::identity::DatacenterId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Not run yet.
    Pending,
    /// Started and not finished: the process died or is still at it.
    Started,
    Done,
    /// Done, and its verification warned of a problem.
    Warned,
    /// Its check showed it was already done, by this run before it was
    /// cut off: the action did not run again.
    Skipped,
    /// Its check passed for something this run did not do (another run,
    /// an operator by hand): the action did not run, and the run does not
    /// take the credit.
    Found,
    Failed,
    /// The verification's wait ran out while the change was in progress.
    Unknown,
    Interrupted,
}

impl StepStatus {
    /// Done, skipped or found done: a resume does not run it again.
    pub fn is_complete(self) -> bool {
        matches!(
            self,
            StepStatus::Done | StepStatus::Warned | StepStatus::Skipped | StepStatus::Found
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    /// A dry run: the plan was shown, nothing was sent.
    Planned,
    Ok,
    Failed,
    Unknown,
    Interrupted,
    /// The operator answered no.
    Declined,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepRecord {
    #[serde(flatten)]
    pub step: Step,
    pub status: StepStatus,
    pub reason: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// What a dry run found this step would do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckRecord {
    pub check: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Journal {
    pub id: String,
    pub runbook: String,
    pub version: String,
    pub origin: Origin,
    pub params: serde_json::Map<String, Value>,
    /// Where it ran: a resume anywhere else is refused. Absent in
    /// journals written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<DatacenterId>,
    pub dry_run: bool,
    pub status: RunStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub preflight: Vec<CheckRecord>,
    /// The facts the runbook's `context(p)` gathered once, beside the plan
    /// they shaped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub steps: Vec<StepRecord>,
    /// What the runbook's `report(p, c)` made of the run once its steps
    /// ended: records the shell prints as a table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Value>,
    /// Why the run stopped, when it did not end ok.
    pub stopped: Option<String>,
}

/// `<state>/runs`.
pub fn runs_dir() -> PathBuf {
    crate::paths::state_dir().join("runs")
}

/// A run id the operator can type: time of start plus four random hex
/// digits, e.g. `20260114-031502-7f3a`.
pub fn new_id(now: DateTime<Utc>) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", now.format("%Y%m%d-%H%M%S"), &random[..4])
}

impl Journal {
    pub fn new(
        id: String,
        runbook: &str,
        version: &str,
        origin: Origin,
        params: serde_json::Map<String, Value>,
        datacenter: DatacenterId,
        dry_run: bool,
    ) -> Journal {
        let now = Utc::now();
        Journal {
            id,
            runbook: runbook.to_string(),
            version: version.to_string(),
            origin,
            params,
            datacenter: Some(datacenter),
            dry_run,
            status: RunStatus::Running,
            created_at: now,
            updated_at: now,
            preflight: Vec::new(),
            context: None,
            steps: Vec::new(),
            report: None,
            stopped: None,
        }
    }

    pub fn set_plan(&mut self, steps: Vec<Step>) {
        self.steps = steps
            .into_iter()
            .map(|step| StepRecord {
                step,
                status: StepStatus::Pending,
                reason: None,
                started_at: None,
                ended_at: None,
                preview: None,
            })
            .collect();
    }

    /// The index of the first step a resume must run, if any is left.
    pub fn resume_point(&self) -> Option<usize> {
        self.steps.iter().position(|s| !s.status.is_complete())
    }

    pub fn mark(&mut self, index: usize, status: StepStatus, reason: Option<String>) {
        let now = Utc::now();
        if let Some(record) = self.steps.get_mut(index) {
            if status == StepStatus::Started {
                record.started_at = Some(now);
                record.ended_at = None;
            } else {
                record.ended_at = Some(now);
            }
            record.status = status;
            record.reason = reason;
        }
    }

    pub fn path(dir: &Path) -> PathBuf {
        dir.join("journal.json")
    }

    /// Writes the journal to a temporary file and renames it over the old
    /// one, so a crash leaves either the old or the new journal, whole.
    pub fn save(&mut self, dir: &Path) -> Result<(), RunbookError> {
        self.updated_at = Utc::now();
        let path = Journal::path(dir);
        let fail = |e: std::io::Error| RunbookError::Write {
            path: path.clone(),
            cause: e.to_string(),
        };
        crate::paths::private_dir(dir).map_err(fail)?;
        let text =
            serde_json::to_string_pretty(self).map_err(|e| RunbookError::Other(e.to_string()))?;
        let tmp = dir.join("journal.json.tmp");
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            // The journal keeps what a resume needs, secrets included: its
            // owner's alone.
            let mut file = std::fs::File::options()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(fail)?;
            file.write_all(text.as_bytes()).map_err(fail)?;
            file.sync_all().map_err(fail)?;
        }
        std::fs::rename(&tmp, &path).map_err(fail)
    }

    pub fn load(runs: &Path, id: &str) -> Result<Journal, RunbookError> {
        let unknown = || RunbookError::UnknownRun {
            id: id.to_string(),
            dir: runs.to_path_buf(),
        };
        if id.is_empty() || id.contains('/') || id.starts_with('.') {
            return Err(unknown());
        }
        let path = Journal::path(&runs.join(id));
        // Only a missing journal is an unknown run: one that is unreadable
        // (not UTF-8, a directory) is a damaged run, and must say so.
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(unknown()),
            Err(e) => {
                return Err(RunbookError::Read {
                    path,
                    cause: format!("{e}; restore it or start a new run"),
                });
            }
        };
        let journal: Journal = serde_json::from_str(&text).map_err(|e| RunbookError::Read {
            path: path.clone(),
            cause: format!("not a run journal: {e}"),
        })?;
        // The run is saved under its directory but named by its `id`: a
        // journal copied from another run would tell the operator to resume
        // a run that does not exist.
        if journal.id != id {
            return Err(RunbookError::Read {
                path,
                cause: format!(
                    "it is the journal of run '{}', not '{id}'; restore it or start a new run",
                    journal.id
                ),
            });
        }
        Ok(journal)
    }

    /// Every journal under `runs`, newest first; unreadable ones skipped.
    pub fn list(runs: &Path) -> Vec<Journal> {
        let Ok(entries) = std::fs::read_dir(runs) else {
            return Vec::new();
        };
        let mut journals: Vec<Journal> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| Journal::load(runs, &e.file_name().to_string_lossy()).ok())
            .collect();
        journals.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        journals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str) -> Step {
        Step {
            name: name.into(),
            args: serde_json::json!({}),
            done: None,
            require: None,
            action: Some("f".into()),
            verify: None,
            wait_secs: 1,
            mutates: true,
            destroys: None,
            manual: None,
        }
    }

    #[test]
    fn saves_loads_and_finds_where_to_resume() {
        let runs = std::env::temp_dir().join(format!("tritonsh-journal-{}", uuid::Uuid::new_v4()));
        let id = new_id(Utc::now());
        let mut j = Journal::new(
            id.clone(),
            "t",
            "1.0.0",
            Origin::Stdlib,
            Default::default(),
            DatacenterId::lab(std::path::Path::new("/tmp/lab-a")),
            false,
        );
        j.set_plan(vec![step("a"), step("b"), step("c")]);
        j.mark(0, StepStatus::Done, None);
        j.mark(1, StepStatus::Skipped, Some("already done".into()));
        j.mark(2, StepStatus::Started, None);
        j.save(&runs.join(&id)).unwrap();

        let back = Journal::load(&runs, &id).unwrap();
        assert_eq!(back.resume_point(), Some(2));
        assert_eq!(back.steps[1].reason.as_deref(), Some("already done"));
        assert_eq!(Journal::list(&runs).len(), 1);

        let err = Journal::load(&runs, "nope").unwrap_err().to_string();
        assert!(err.starts_with("no run 'nope' in "), "{err}");
        assert!(Journal::load(&runs, "../x").is_err());

        // A copied journal and a damaged one are not "no run".
        std::fs::create_dir_all(runs.join("copy")).unwrap();
        std::fs::copy(
            Journal::path(&runs.join(&id)),
            runs.join("copy/journal.json"),
        )
        .unwrap();
        let err = Journal::load(&runs, "copy").unwrap_err().to_string();
        assert!(
            err.contains(&format!("it is the journal of run '{id}', not 'copy'")),
            "{err}"
        );
        std::fs::create_dir_all(runs.join("binary")).unwrap();
        std::fs::write(runs.join("binary/journal.json"), b"\xff\xfe").unwrap();
        let err = Journal::load(&runs, "binary").unwrap_err().to_string();
        assert!(err.starts_with("cannot read "), "{err}");
        assert!(err.contains("start a new run"), "{err}");
    }
}
