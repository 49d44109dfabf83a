//! Waiting for a workflow job is bounded and has three outcomes; a job that
//! is still running is never reported as a success.

mod dc_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dc_support::{Answer, Canned, fast_options};
use tritonsh::dc::Outcome;

const RUNNING: &str = include_str!("../../shared/triton/fixtures/vmapi-job-running.json");
const FAILED: &str = include_str!("../../shared/triton/fixtures/vmapi-job-failed.json");
const SUCCEEDED: &str = include_str!("../../shared/triton/fixtures/vmapi-job-succeeded.json");
const JOB: &str = "5bec140c-aa83-49d4-b759-8cf0c0f4f90e";

/// A job that is running for `polls` polls, then ends as `last`.
async fn job_server(polls: usize, last: &'static str) -> Canned {
    let count = AtomicUsize::new(0);
    Canned::start(move |_| {
        if count.fetch_add(1, Ordering::SeqCst) < polls {
            Answer::json(200, RUNNING)
        } else {
            Answer::json(200, last)
        }
    })
    .await
}

#[tokio::test]
async fn succeeded_after_a_few_polls() {
    let server = job_server(2, SUCCEEDED).await;
    let outcome = server
        .datacenter(fast_options())
        .jobs
        .wait(JOB, Duration::from_secs(10))
        .await
        .expect("wait");
    assert!(matches!(outcome, Outcome::Succeeded(_)), "{outcome:?}");
    assert_eq!(outcome.label(), "succeeded");
    assert_eq!(outcome.job().name, "provision-8.2.4");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.target == format!("/jobs/{JOB}")));
}

#[tokio::test]
async fn failed_reports_the_failing_task() {
    let server = job_server(1, FAILED).await;
    let outcome = server
        .datacenter(fast_options())
        .jobs
        .wait(JOB, Duration::from_secs(10))
        .await
        .expect("wait");
    match &outcome {
        Outcome::Failed { message, job } => {
            assert_eq!(message, "Cannot stop a VM from a 'stopped' state");
            assert_eq!(job.execution, "failed");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(outcome.label(), "failed");
}

#[tokio::test]
async fn still_running_at_the_deadline_is_not_success() {
    let server = job_server(usize::MAX, SUCCEEDED).await;
    let outcome = server
        .datacenter(fast_options())
        .jobs
        .wait(JOB, Duration::from_millis(500))
        .await
        .expect("wait");
    assert!(matches!(outcome, Outcome::StillRunning(_)), "{outcome:?}");
    assert_eq!(outcome.label(), "running");
    assert!(
        outcome
            .message()
            .contains("still running (last task common.ensure_vm_state)"),
        "{}",
        outcome.message()
    );
    assert!(server.requests().len() >= 2, "polled more than once");
}

#[tokio::test]
async fn unknown_job_is_an_error() {
    let server = Canned::start(|_| {
        Answer::json(
            404,
            r#"{"code":"ResourceNotFound","message":"Job does not exist"}"#,
        )
    })
    .await;
    let err = server
        .datacenter(fast_options())
        .jobs
        .wait(JOB, Duration::from_secs(10))
        .await
        .expect_err("404");
    assert_eq!(
        err.to_string(),
        format!("VMAPI GET /jobs/{JOB}: 404 ResourceNotFound: Job does not exist")
    );
}

#[tokio::test]
async fn a_job_that_is_not_a_job() {
    let server = Canned::start(|_| Answer::json(200, r#"{"uuid":"x","name":"stop-7.0.8"}"#)).await;
    let err = server
        .datacenter(fast_options())
        .jobs
        .get(JOB)
        .await
        .expect_err("no execution");
    assert_eq!(
        err.to_string(),
        format!("VMAPI GET /jobs/{JOB}: bad response: missing field `execution`")
    );
}
