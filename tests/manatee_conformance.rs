//! `tritonsh manatee …` against manatee-adm's own recorded output: the
//! shared conformance suite (run.sh) compares stdout, stderr and exit status
//! byte for byte for every snapshot case and subcommand.

use std::process::Command;

const RUN_SH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/conformance/manatee-adm/run.sh"
);
const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/conformance/manatee-adm/cases"
);
const BIN: &str = env!("CARGO_BIN_EXE_tritonsh");

#[test]
fn every_case_matches_manatee_adm_byte_for_byte() {
    let out = Command::new("bash")
        .arg(RUN_SH)
        .env("TRITONSH", BIN)
        .output()
        .expect("bash runs run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        last.starts_with("conformance: ") && last.ends_with(" 0 failed"),
        "run.sh reported failures:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "run.sh failed:\n{stdout}");
}

/// Runs `tritonsh manatee ARGS` with the environment a manatee zone has.
fn manatee(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(BIN)
        .arg("manatee")
        .args(args)
        .env("ZK_IPS", "10.99.99.11")
        .env("SHARD", "sdc")
        .output()
        .expect("tritonsh runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn case(name: &str) -> String {
    format!("{CASES}/{name}.json")
}

#[test]
fn a_missing_snapshot_is_one_line_naming_the_file() {
    let (out, err, code) = manatee(&["show", "--snapshot", "/nonexistent/state.json"]);
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/state.json"), "{err}");
    assert_eq!(code, 1);
}

#[test]
fn a_snapshot_that_is_not_json_or_lacks_fields_is_refused() {
    let dir = std::env::temp_dir().join(format!("tritonsh-manatee-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    let partial = dir.join("partial.json");
    std::fs::write(&partial, r#"{"pgs_peers":{"a":{"pgp_label":"x"}}}"#).unwrap();
    for (file, says) in [(&garbage, "not valid JSON"), (&partial, "pgp_ident")] {
        let (out, err, code) = manatee(&["verify", "--snapshot", file.to_str().unwrap()]);
        assert_eq!(out, "");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(file.to_str().unwrap()) && err.contains(says),
            "{err}"
        );
        assert_eq!(code, 1);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_snapshot_it_asks_zookeeper_and_says_when_it_cannot() {
    let (out, err, code) = manatee(&["peers"]);
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ZooKeeper 10.99.99.11:2181"), "{err}");
    assert_eq!(code, 1);
}

#[test]
fn bad_columns_and_roles_are_usage_errors() {
    let normal = case("normalOk");
    for (args, says) in [
        (
            vec!["peers", "-o", "role,pg-sent"],
            "column not available with this subcommand: \"SENT\"",
        ),
        (
            vec!["pg-status", "-o", "bogus"],
            "unsupported column: \"bogus\"",
        ),
        (
            vec!["pg-status", "-r", "leader"],
            "unsupported value for --role: \"leader\"",
        ),
    ] {
        let mut args = args;
        args.extend(["--snapshot", &normal]);
        let (out, err, code) = manatee(&args);
        assert_eq!(out, "");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(code, 2, "{args:?}");
    }
}

#[test]
fn show_prints_where_the_state_came_from() {
    let (out, _, code) = manatee(&["show", "--snapshot", &case("normalOk")]);
    assert!(
        out.starts_with("zookeeper:   10.99.99.11\ncluster:     sdc\n"),
        "{out}"
    );
    assert_eq!(code, 0);
}

#[test]
fn wide_pg_status_shows_whole_zone_names() {
    let (out, _, _) = manatee(&[
        "pg-status",
        "-w",
        "-H",
        "-r",
        "primary",
        "--snapshot",
        &case("normalOk"),
    ]);
    assert!(
        out.starts_with("primary  301e2d2c-cd09-11e4-837d-13ea7132a060 ok   sync "),
        "{out}"
    );
}
