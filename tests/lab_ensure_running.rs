//! `lab::ensure_running` and `lab::status`, the library calls the shell uses
//! to find (or start) its default lab. One test in this file: it sets an
//! environment variable, which is only safe with no other test threads.

mod lab_support;

use lab_support::{Lab, scratch_dir};
use tritonsh::api::Api;

#[test]
fn ensure_running_starts_a_lab_once_and_status_finds_it() {
    let dir = scratch_dir("ensure");
    // The test harness is not tritonsh: name the binary to start.
    // SAFETY: this file has one test, so no other thread reads the environment.
    unsafe { std::env::set_var("TRITONSH_BIN", lab_support::BIN) };
    let _guard = Lab { dir: dir.clone() };
    assert!(matches!(
        tritonsh::lab::status(&dir),
        Err(tritonsh::lab::LabError::NotRunning { .. })
    ));
    let first = tritonsh::lab::ensure_running(&dir).expect("a lab starts");
    let pid = std::fs::read_to_string(dir.join("daemon.pid")).expect("daemon.pid");
    let second = tritonsh::lab::ensure_running(&dir).expect("the same lab");
    assert_eq!(first.urls.get(Api::Sapi), second.urls.get(Api::Sapi));
    assert_eq!(
        std::fs::read_to_string(dir.join("daemon.pid")).expect("daemon.pid"),
        pid,
        "a second lab was started"
    );
    let published: tritonsh::lab::status::LabStatus = serde_json::from_str(
        &std::fs::read_to_string(dir.join("status.json")).expect("status.json"),
    )
    .expect("status.json is a LabStatus");
    assert_eq!(published.urls.get(Api::Vmapi), first.urls.get(Api::Vmapi));
    assert_eq!(tritonsh::lab::status(&dir).expect("status"), first);
}
