//! Which datacenter a command works on: a flag beats the environment, two
//! names are refused, and `--profile`/`--lab` work after the subcommands
//! that reach a datacenter. None of this needs a datacenter to answer.

mod runbook_support;

use runbook_support::{Home, text, write};

fn err_of(home: &Home, args: &[&str]) -> String {
    let out = home.run(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    text(&out.stderr).trim().to_string()
}

#[test]
fn an_explicit_profile_beats_the_lab_in_the_environment() {
    // The environment names a lab (Home sets TRITONSH_LAB); the flag wins.
    let home = Home::new("choice-flag");
    let lab = home.root.join("no-lab");
    for args in [
        &["--profile", "west", "-c", "sapi::ping()"][..],
        &["--profile", "west", "health"][..],
        &["health", "--profile", "west"][..],
        &["manatee", "verify", "--profile", "west"][..],
        &["run", "binder-cluster-test", "--profile", "west"][..],
    ] {
        let err = err_of(&home, args);
        assert!(
            err.contains("no profile named west"),
            "{args:?}: the lab in the environment was used: {err}"
        );
        assert!(!err.contains(&lab.display().to_string()), "{args:?}: {err}");
    }
}

#[test]
fn two_datacenters_named_at_once_are_refused() {
    let home = Home::new("choice-two");
    write(
        &home.root.join("config/tritonsh/config.toml"),
        "[profiles.west]\nsapi_url = \"http://127.0.0.1:1\"\nvmapi_url = \"http://127.0.0.1:1\"\ncnapi_url = \"http://127.0.0.1:1\"\n",
    );
    let err = err_of(&home, &["--lab", "/tmp/a", "--profile", "west", "-c", "1"]);
    assert_eq!(
        err,
        "tritonsh: --lab /tmp/a and --profile west name two datacenters: give one"
    );
    let err = err_of(&home, &["--profile", "east", "health", "--profile", "west"]);
    assert!(err.contains("name two datacenters: give one"), "{err}");
    let err = err_of(
        &home,
        &["--lab", "/tmp/a", "manatee", "show", "--lab", "/tmp/b"],
    );
    assert!(err.contains("name two datacenters: give one"), "{err}");
    // The same lab named before and after `manatee` is one datacenter.
    let err = err_of(
        &home,
        &["--lab", "/tmp/a", "manatee", "show", "--lab", "/tmp/a"],
    );
    assert!(!err.contains("two datacenters"), "{err}");
}
