//! `tritonsh completions bash|zsh|fish` (issue 11, item 22): the script,
//! sourced in a real bash, completes runbook names and the `-p NAME=`
//! parameters of the runbook on the line by asking tritonsh at each Tab,
//! local runbooks included; fish gets each parameter's help too.

mod runbook_support;

use runbook_support::{Home, text, write};

/// What bash's Tab would offer for `line` (words split on spaces; the last
/// one is being completed), with the script `tritonsh completions bash`
/// printed, sourced.
fn bash_completes(home: &Home, line: &str) -> Vec<String> {
    let script = home.must(&["completions", "bash"]);
    let file = home.root.join("tritonsh.bash");
    write(&file, &script);
    let words: Vec<&str> = line.split(' ').collect();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _clap_complete_tritonsh tritonsh '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words
            .get(words.len().wrapping_sub(2))
            .copied()
            .unwrap_or(""),
    );
    let mut bash = std::process::Command::new("bash");
    bash.args(["--norc", "-c", &program]);
    for (key, value) in home.command(&[]).get_envs() {
        match value {
            Some(value) => bash.env(key, value),
            None => bash.env_remove(key),
        };
    }
    let out = bash.output().expect("run bash");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_runbooks_and_their_parameters() {
    let home = Home::new("completions-bash");
    assert_eq!(bash_completes(&home, "tritonsh run sca"), ["scale-service"]);
    assert_eq!(
        bash_completes(&home, "tritonsh run scale-service -p s"),
        ["service=", "servers="]
    );
    assert_eq!(
        bash_completes(&home, "tritonsh run -y scale-service --param c"),
        ["count="]
    );
    assert!(bash_completes(&home, "tritonsh comp").contains(&"completions".to_string()));

    // A local runbook is offered as soon as it is there, with its params.
    write(
        &home.runbook_dir().join("drain-cn.rhai"),
        r#"//! Drain a compute node.
const RUNBOOK = #{ form: 2, version: "1.0.0",
    params: [ #{ name: "server", help: "the server to drain" } ] };
fn plan(p) { [] }
"#,
    );
    assert_eq!(bash_completes(&home, "tritonsh run dra"), ["drain-cn"]);
    assert_eq!(
        bash_completes(&home, "tritonsh run drain-cn -p "),
        ["server="]
    );
    // No runbook of that name: nothing to offer, and no error.
    assert!(bash_completes(&home, "tritonsh run nosuch -p ").is_empty());
}

#[test]
fn fish_and_zsh_scripts_and_bad_shells() {
    let home = Home::new("completions-other");
    for shell in ["zsh", "fish"] {
        let script = home.must(&["completions", shell]);
        assert!(
            script.contains("TRITONSH_COMPLETE") && script.contains(runbook_support::BIN),
            "{shell}: {script}"
        );
    }
    // What fish's script asks for: candidates with their help.
    let out = home
        .command(&["--", "tritonsh", "run", "scale-service", "-p", "co"])
        .env("TRITONSH_COMPLETE", "fish")
        .output()
        .expect("run tritonsh");
    assert_eq!(
        text(&out.stdout).trim(),
        "count=\tcount (int 1..10, default 1): how many instances to add"
    );

    let out = home.run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("invalid value 'tcsh'") && err.contains("[possible values: bash, zsh, fish]"),
        "{err}"
    );
}
