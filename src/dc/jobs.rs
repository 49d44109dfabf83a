//! Workflow jobs, read through VMAPI's `GET /jobs/:uuid`.
//!
//! A 202 from VMAPI only means "queued": whether the change happened is the
//! job's `execution`. Waiting is bounded and has three outcomes, so a job
//! that is still running is never mistaken for one that succeeded.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;
use uuid::Uuid;

use super::error::DcError;
use super::http::ApiClient;

/// Longer than any job runs (a year): a cap, so the deadline never overflows.
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub uuid: String,
    /// `<workflow>-<version>`, e.g. `provision-8.2.4`: match on the prefix.
    pub name: String,
    /// `queued`, `running`, `succeeded`, `failed`, `canceled` (and the
    /// transient `retried`, `waiting`).
    pub execution: String,
    /// One entry per executed task: `{result, error, name, started_at, finished_at}`.
    #[serde(default)]
    pub chain_results: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        matches!(self.execution.as_str(), "succeeded" | "failed" | "canceled")
    }

    /// Why the job failed: the error of the last task that ran, which is
    /// where workflow puts it (`error.message`, or a plain string).
    pub fn failure_message(&self) -> String {
        let last_error = self.chain_results.iter().rev().find_map(|entry| {
            let task = entry.get("name").and_then(Value::as_str).unwrap_or("?");
            match entry.get("error") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some((task, s.clone())),
                Some(Value::Object(map)) => Some((
                    task,
                    map.get("message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| Value::Object(map.clone()).to_string()),
                )),
                Some(other) => Some((task, other.to_string())),
            }
        });
        match (last_error, self.execution.as_str()) {
            (Some((_, message)), _) => message,
            (None, "canceled") => "the job was canceled".to_string(),
            (None, _) => format!(
                "job {} {} with no error recorded in chain_results",
                self.name, self.execution
            ),
        }
    }
}

/// The end of a bounded wait.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded(Job),
    /// `failed` or `canceled`, with the failing task's message.
    Failed {
        job: Job,
        message: String,
    },
    /// The wait ended before the job did: not a success, not a failure.
    StillRunning(Job),
}

impl Outcome {
    pub fn job(&self) -> &Job {
        match self {
            Outcome::Succeeded(job) | Outcome::StillRunning(job) | Outcome::Failed { job, .. } => {
                job
            }
        }
    }

    /// `succeeded`, `failed` or `running`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Succeeded(_) => "succeeded",
            Outcome::Failed { .. } => "failed",
            Outcome::StillRunning(_) => "running",
        }
    }

    /// The failure message, or what the job is doing when still running.
    pub fn message(&self) -> String {
        match self {
            Outcome::Succeeded(job) => format!("job {} succeeded", job.uuid),
            Outcome::Failed { message, .. } => message.clone(),
            Outcome::StillRunning(job) => {
                let task = job
                    .chain_results
                    .last()
                    .and_then(|e| e.get("name"))
                    .and_then(Value::as_str);
                match task {
                    Some(task) => format!(
                        "job {} still {} (last task {task})",
                        job.uuid, job.execution
                    ),
                    None => format!("job {} still {}", job.uuid, job.execution),
                }
            }
        }
    }
}

/// First pause between polls, growth factor and cap: quick jobs (start,
/// stop) are seen finished quickly, long ones (provision) are not hammered.
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(5);
/// Consecutive transient poll failures tolerated before giving up.
const POLL_FAILURES: u32 = 3;

#[derive(Clone, Debug)]
pub struct Jobs {
    vmapi: ApiClient,
}

impl Jobs {
    pub(crate) fn new(vmapi: ApiClient) -> Jobs {
        Jobs { vmapi }
    }

    pub async fn get(&self, uuid: &str) -> Result<Job, DcError> {
        self.vmapi
            .get_json(&["jobs", uuid], &[], Uuid::new_v4())
            .await
    }

    /// `GET /jobs` with VMAPI's filters (`vm_uuid`, `task`, `execution`),
    /// newest first.
    pub async fn list(&self, filters: &super::Query) -> Result<Vec<Job>, DcError> {
        self.vmapi
            .get_json(&["jobs"], filters, Uuid::new_v4())
            .await
    }

    /// Polls the job until it finishes or `max` has passed.
    pub async fn wait(&self, uuid: &str, max: Duration) -> Result<Outcome, DcError> {
        // `Instant + Duration` panics on overflow, and a script may ask for
        // i64::MAX seconds: a wait past the longest one is simply that long.
        let deadline = Instant::now() + max.min(LONGEST_WAIT);
        let mut pause = FIRST_POLL;
        let mut failures = 0;
        loop {
            match self.get(uuid).await {
                Ok(job) => {
                    failures = 0;
                    if job.is_finished() {
                        return Ok(match job.execution.as_str() {
                            "succeeded" => Outcome::Succeeded(job),
                            _ => {
                                let message = job.failure_message();
                                Outcome::Failed { job, message }
                            }
                        });
                    }
                    if Instant::now() >= deadline {
                        return Ok(Outcome::StillRunning(job));
                    }
                }
                Err(err)
                    if err.is_transient()
                        && failures + 1 < POLL_FAILURES
                        && Instant::now() < deadline =>
                {
                    tracing::debug!(%err, "job poll failed; polling again");
                    failures += 1;
                }
                Err(err) => return Err(err),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 3 / 2).min(MAX_POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str) -> Job {
        serde_json::from_str(&crate::fixtures::text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn failed_job_reports_the_last_task_error() {
        let failed = job("vmapi-job-failed.json");
        assert!(failed.is_finished());
        assert_eq!(
            failed.failure_message(),
            "Cannot stop a VM from a 'stopped' state"
        );
    }

    #[test]
    fn running_and_succeeded() {
        assert!(!job("vmapi-job-running.json").is_finished());
        let ok = job("vmapi-job-succeeded.json");
        assert!(ok.is_finished());
        assert_eq!(ok.chain_results.len(), 12);
        assert!(ok.extra.contains_key("params"));
    }

    #[test]
    fn string_errors_and_missing_errors() {
        let mut j = job("vmapi-job-failed.json");
        j.chain_results = vec![
            serde_json::json!({"name": "t1", "error": "boom"}),
            serde_json::json!({"name": "t2", "error": ""}),
        ];
        assert_eq!(j.failure_message(), "boom");
        j.chain_results.clear();
        assert!(j.failure_message().contains("no error recorded"));
        j.execution = "canceled".into();
        assert_eq!(j.failure_message(), "the job was canceled");
    }
}
