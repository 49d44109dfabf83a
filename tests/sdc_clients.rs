//! Joyent's own clients (sdc-clients 13.0.6, unchanged) against a lab: if
//! the twins answer what `sdc-clients` expects, the tools built on it
//! (sdcadm, sapiadm) would work against the lab too.

mod lab_support;

use std::path::Path;
use std::process::Command;

use lab_support::Lab;

const CHECKS: [&str; 17] = [
    "sapi.ping",
    "vmapi.ping",
    "cnapi.ping",
    "cnapi.listServers",
    "cnapi.getServer",
    "cnapi.getServer unknown is 404 ResourceNotFound",
    "vmapi.listVms by tag.smartdc_role",
    "vmapi.listVms by LDAP query",
    "vmapi.listVms limit/offset",
    "vmapi.getVm",
    "sapi.listApplications",
    "sapi.listServices",
    "sapi.listInstances",
    "sapi.createInstance moray on cn3",
    "sapi.deleteInstance",
    "vmapi.createVm and its job",
    "all 16 checks passed",
];

#[test]
fn sdc_clients_work_against_the_lab_unchanged() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdc-clients");
    assert!(
        package.join("node_modules/sdc-clients").is_dir(),
        "{} is missing: run scripts/install-deps.sh",
        package.join("node_modules").display()
    );
    let lab = Lab::up("sdc-clients", &["--provision-delay-ms", "200"]);
    let status = lab.status();
    let url = |api: &str| {
        status[format!("{api}_url")]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let out = Command::new("node")
        .arg("check.js")
        .current_dir(&package)
        .env("SAPI_URL", url("sapi"))
        .env("VMAPI_URL", url("vmapi"))
        .env("CNAPI_URL", url("cnapi"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): run scripts/install-deps.sh"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    for check in CHECKS {
        let expected = if check.starts_with("all ") {
            check.to_string()
        } else {
            format!("ok {check}")
        };
        assert!(
            lines.contains(&expected.as_str()),
            "missing `{expected}`:\n{stdout}{stderr}"
        );
    }
    assert!(out.status.success(), "{stdout}{stderr}");
}
