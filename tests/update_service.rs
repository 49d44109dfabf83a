//! update-service on an `ha` lab with papi in three instances (issue 9 §2):
//! bad inputs refused before any change; a rolling update during which at
//! least two papi instances answer in binder at every sample; a second run
//! that does nothing; force=true reprovisioning again; and a run killed
//! while SAPI reprovisions, resumed, with no instance reprovisioned twice
//! and none skipped. One lab, in phases, as each phase starts from the
//! last one's state.

mod dns_support;
mod runbook_support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use dns_support::{Sampler, binders_and_name};
use runbook_support::{Home, text};
use serde_json::Value;

/// `tritonsh --json -c SCRIPT`, decoded.
fn update(home: &Home, params: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "update-service", "--param", "service=papi"];
    for p in params {
        args.extend(["--param", p]);
    }
    args.push("--yes");
    home.run(&args)
}

/// Each papi VM's image, by uuid.
fn papi_images(home: &Home) -> Vec<(String, String)> {
    let vms = home.json(r#"let uuids = sapi::instances(#{service: "papi"}).map(|i| i.uuid);
           vmapi::list(#{state: "active"}).filter(|vm| vm.uuid in uuids).map(|vm| [vm.uuid, vm.image_uuid])"#,
    );
    let mut pairs: Vec<(String, String)> = vms
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap_or_default().to_string(),
                p[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// How many reprovision jobs to `image` each VM has had.
fn reprovisions(home: &Home, image: &str) -> Vec<(String, usize)> {
    let jobs = home.json(r#"jobs::list(#{task: "reprovision"})"#);
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for job in jobs.as_array().expect("jobs") {
        if job["params"]["image_uuid"] == image {
            let vm = job["params"]["vm_uuid"].as_str().unwrap_or_default();
            *counts.entry(vm.to_string()).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

fn mutations(home: &Home) -> usize {
    home.mutating_requests().len()
}

fn spawn(home: &Home, args: &[&str]) -> Child {
    home.command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tritonsh")
}

#[test]
fn rolling_update_of_papi() {
    // Reprovisions take 1.5 s: long enough to kill a run in the middle of one.
    let home = Home::with_lab("update", &["--provision-delay-ms", "1500"]);
    home.must(&[
        "run",
        "scale-service",
        "--param",
        "service=papi",
        "--param",
        "count=2",
        "--param",
        "servers=cn1,cn2",
        "--yes",
    ]);
    let before = papi_images(&home);
    assert_eq!(before.len(), 3, "{before:?}");
    let old = before[0].1.clone();
    let latest = home.json(r#"imgapi::latest("papi").uuid"#);
    let latest = latest.as_str().expect("a uuid").to_string();
    assert_ne!(latest, old, "the lab's IMGAPI has a newer papi");

    // Bad inputs: one line each, before anything is sent.
    let sent = mutations(&home);
    let refused = |params: &[&str], service: &str, expected: &str| {
        let mut args = vec!["run", "update-service", "--param"];
        let service = format!("service={service}");
        args.push(&service);
        for p in params {
            args.extend(["--param", p]);
        }
        args.push("--yes");
        let out = home.run(&args);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} ran: {}", text(&out.stdout));
        assert!(err.contains(expected), "{args:?}: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(last.contains(expected), "the error is its last line: {err}");
    };
    refused(
        &["image=00000000-0000-4000-8000-000000000001"],
        "papi",
        "IMGAPI has no image 00000000-0000-4000-8000-000000000001",
    );
    let moray = home.json(r#"imgapi::latest("moray").uuid"#);
    let moray = format!("image={}", moray.as_str().unwrap_or_default());
    refused(&[&moray], "papi", "not a papi image");
    refused(
        &["image=nonsense"],
        "papi",
        "neither an image UUID nor latest",
    );
    refused(&[], "vmapi", "vmapi0 is vmapi's only instance");
    refused(&[], "binder", "use sdcadm up binder");
    refused(&[], "manatee", "use sdcadm up manatee");
    refused(&[], "rabbitmq", "use sdcadm up rabbitmq");
    home.must(&["lab", "fault", "stop", "imgapi0"]);
    refused(&[], "papi", "IMGAPI did not answer");
    home.must(&["lab", "fault", "start", "imgapi0"]);
    assert_eq!(mutations(&home), sent, "a refused run changed something");

    // The rolling update, sampled.
    let status: Value =
        serde_json::from_str(&home.must(&["lab", "status", "--json"])).expect("lab status JSON");
    let (binders, name) = binders_and_name(&status, "papi");
    let sampler = Sampler::start(binders, name);
    let out = update(&home, &["image=latest"]);
    let samples = sampler.finish();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(samples.len() >= 20, "only {} samples", samples.len());
    assert!(
        samples.iter().all(|n| *n >= 2),
        "fewer than two papi answers at some sample: {samples:?}"
    );
    assert!(
        samples.contains(&2),
        "no sample saw an instance out: {samples:?}"
    );
    let after = papi_images(&home);
    assert!(after.iter().all(|(_, i)| *i == latest), "{after:?}");
    let service = home.json(r#"sapi::service_named("papi").params.image_uuid"#);
    assert_eq!(service, latest.as_str());
    let once: Vec<usize> = reprovisions(&home, &latest)
        .iter()
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(once, vec![1, 1, 1]);

    // Again: nothing to do.
    let sent = mutations(&home);
    let out = update(&home, &["image=latest"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mutations(&home), sent, "{}", text(&out.stdout));

    // force=true: each one once more.
    let out = update(&home, &["image=latest", "force=true"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let twice: Vec<usize> = reprovisions(&home, &latest)
        .iter()
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(twice, vec![2, 2, 2]);

    // Back to the old image, killed while SAPI reprovisions the second
    // instance, then resumed.
    let back = format!("image={old}");
    let mut child = spawn(
        &home,
        &[
            "run",
            "update-service",
            "--param",
            "service=papi",
            "--param",
            &back,
            "--yes",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while reprovisions(&home, &old).len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the second reprovision never came"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let ids = home.run_ids();
    let id = ids.last().expect("a run");
    assert_eq!(home.journal(id)["status"], "running");
    let out = home.run(&["run", "--resume", id, "--yes"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let counts: Vec<usize> = reprovisions(&home, &old).iter().map(|(_, n)| *n).collect();
    assert_eq!(counts, vec![1, 1, 1], "reprovisioned twice or skipped");
    let after = papi_images(&home);
    assert!(after.iter().all(|(_, i)| *i == old), "{after:?}");
    let answers = home.json(r#"binder::lookup_each("papi").map(|m| m.addresses.len())"#);
    assert_eq!(answers, serde_json::json!([3, 3, 3]), "all back in DNS");
}

/// A single moray gets sdcadm's `<alias>tmp` instead of an outage: the
/// temporary instance answers before moray0 leaves DNS, and is gone at the
/// end.
#[test]
fn a_single_moray_is_updated_without_an_outage() {
    let home = Home::with_lab("update-moray", &["--profile", "fresh"]);
    let status: Value =
        serde_json::from_str(&home.must(&["lab", "status", "--json"])).expect("lab status JSON");
    let (binders, name) = binders_and_name(&status, "moray");
    let sampler = Sampler::start(binders, name);
    let out = home.run(&["run", "update-service", "--param", "service=moray", "--yes"]);
    let samples = sampler.finish();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("provision moray0tmp on headnode"),
        "{stdout}"
    );
    assert!(stdout.contains("remove moray0tmp"), "{stdout}");
    assert!(samples.len() >= 20, "only {} samples", samples.len());
    assert!(
        samples.iter().all(|n| *n >= 1),
        "moray had no answer at some sample: {samples:?}"
    );
    assert!(
        samples.contains(&2),
        "moray0tmp never answered: {samples:?}"
    );
    let aliases = home.json(r#"sapi::instances(#{service: "moray"}).map(|i| i.params.alias)"#);
    assert_eq!(aliases, serde_json::json!(["moray0"]));
    let latest = home.json(r#"imgapi::latest("moray").uuid"#);
    let image = home.json(r#"vmapi::by_alias("moray0").image_uuid"#);
    assert_eq!(image, latest);
}
