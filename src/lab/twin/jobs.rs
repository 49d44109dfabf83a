//! Workflow jobs through VMAPI: `GET /jobs/:uuid`, `/jobs/:uuid/wait`, `/jobs?…`,
//! `/vms/:uuid/jobs`, and waiting on a job from inside another request (SAPI does this).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::lab::world::{Execution, Job, SharedWorld};

use super::Twin;
use super::http::{ApiError, Req, json_response};

/// Waits until the job is terminal or `limit` passes; returns the job as it then is.
pub async fn wait_for(world: &SharedWorld, job_uuid: &str, limit: Duration) -> Option<Job> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let (job, due) = world.with(|w| (w.job(job_uuid).cloned(), w.next_job_due()));
        let job = job?;
        if job.execution.is_terminal() || tokio::time::Instant::now() >= deadline {
            return Some(job);
        }
        let wait = due
            .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_millis(50))
            .clamp(Duration::from_millis(2), Duration::from_millis(100));
        tokio::time::sleep(wait).await;
    }
}

fn job_not_found(uuid: &str) -> ApiError {
    ApiError::not_found(format!("Job {uuid} not found"))
}

pub async fn get_job(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    match t.world.with(|w| w.job(&uuid).map(Job::render)) {
        Some(j) => json_response(StatusCode::OK, &j),
        None => job_not_found(&uuid).into_response(),
    }
}

/// Blocks until the job ends (≤ 1 h); a failed job answers with an error built from its last
/// chain result, as VMAPI does.
pub async fn wait_job(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    let Some(job) = wait_for(&t.world, &uuid, Duration::from_secs(3600)).await else {
        return job_not_found(&uuid).into_response();
    };
    match job.execution {
        Execution::Failed => ApiError::rest(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            job.error_message().unwrap_or("job failed"),
        )
        .into_response(),
        _ => json_response(StatusCode::OK, &job.render()),
    }
}

fn list(t: &Twin, req: &Req, vm_uuid: Option<&str>) -> Response {
    let vm = vm_uuid.or(req.str("vm_uuid")).map(str::to_string);
    let execution = req.str("execution").map(str::to_string);
    let task = req.str("task").map(str::to_string);
    let jobs: Vec<_> = t.world.with(|w| {
        w.jobs()
            .iter()
            .rev()
            .filter(|j| {
                vm.as_deref()
                    .is_none_or(|v| j.vm_uuid.as_deref() == Some(v))
            })
            .filter(|j| {
                execution
                    .as_deref()
                    .is_none_or(|e| j.execution.as_str() == e)
            })
            .filter(|j| task.as_deref().is_none_or(|k| j.kind.task() == k))
            .map(Job::render)
            .collect()
    });
    json_response(StatusCode::OK, &jobs)
}

pub async fn list_jobs(State(t): State<Twin>, req: Req) -> Response {
    list(&t, &req, None)
}

pub async fn list_vm_jobs(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    list(&t, &req, Some(&uuid))
}
