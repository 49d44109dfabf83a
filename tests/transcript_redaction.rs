//! Transcripts safe to hand to support (issue 10 §3, issue 15 §12): a
//! runbook that reads the sdc application's secrets (UFDS passwords,
//! rabbitmq credentials) and says them every way it can — a check's
//! verdict, a step's arguments, the request it sends, its output, what it
//! prints (in upper case too, and by halves), the report — leaves none of
//! them on the terminal or in any file of the run or the `-v` log, except
//! the journal (0600, in a 0700 directory), which a resume needs; what it
//! printed is in the transcript, redacted. `--no-redact` keeps them. The
//! lab's own copy of the secrets (`world.json`) is 0600.

mod runbook_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use runbook_support::{Home, text, write};
use serde_json::Value;

const RUNBOOK: &str = r#"//! Says the secrets.
//!
//! Example:
//!   tritonsh run ./secrets.rhai

const RUNBOOK = #{ form: 2, version: "1.0.0", params: [] };

fn context(p) {
    let sdc = sapi::application("sdc");
    let sapi0 = sapi::instance_named("sapi0");
    #{ app: sdc.uuid, metadata: sdc.metadata, config: sapi::config(sapi0.uuid) }
}

/// the secrets are there
fn check_secrets(p, c) {
    pass(`root ${c.metadata.ufds_ldap_root_pw}, rabbit ${c.metadata.rabbitmq.split(":")[1]}`)
}

fn plan(p, c) {
    [step("tell", "tell the secrets", #{ rabbitmq: c.metadata.rabbitmq, admin: c.metadata.ufds_admin_pw })]
}

fn tell(a) {
    let sdc = sapi::application("sdc");
    let pw = sdc.metadata.ufds_admin_pw;
    let half = pw.len() / 2;
    print(`admin ${pw}`);
    print(`upper ${pw.to_upper()}`);
    print(`halves ${pw.sub_string(0, half)} ${pw.sub_string(half)}`);
    debug(`rabbit ${a.rabbitmq}`);
    sapi::update_application("sdc", #{ metadata: #{ copy_of_admin_pw: sdc.metadata.ufds_admin_pw } });
    #{ said: `admin is ${a.admin}`, metadata: sdc.metadata }
}

fn tell_ok(a) { pass(`told ${a.admin}`) }

fn report(p, c) { [#{ key: "root", value: c.metadata.ufds_ldap_root_pw }] }
"#;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn no_secret_leaves_the_journal() {
    let home = Home::with_lab("redact", &[]);
    let metadata: Value =
        serde_json::from_str(&home.must(&["--json", "-c", r#"sapi::application("sdc").metadata"#]))
            .unwrap();
    let rabbitmq = metadata["rabbitmq"].as_str().expect("rabbitmq credentials");
    let parts: Vec<&str> = rabbitmq.split(':').collect();
    assert_eq!(parts.len(), 4, "login:password:host:port: {rabbitmq}");
    let secrets = [
        metadata["ufds_ldap_root_pw"]
            .as_str()
            .expect("ufds_ldap_root_pw"),
        metadata["ufds_admin_pw"].as_str().expect("ufds_admin_pw"),
        parts[1],
    ];

    // What a script may make of a secret and print: the secret, in upper
    // case, and each of its halves.
    let said: Vec<String> = secrets
        .iter()
        .flat_map(|s| {
            let (first, second) = s.split_at(s.len() / 2);
            [s.to_string(), s.to_uppercase(), first.into(), second.into()]
        })
        .collect();

    let file = home.root.join("secrets.rhai");
    write(&file, RUNBOOK);
    let script = file.to_str().unwrap();
    let out = home.run(&["-vv", "run", script, "--yes"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    // The terminal says it in a few words, once; the transcript's header
    // says it in full.
    assert_eq!(
        stdout.matches("(transcript redacted)").count(),
        1,
        "{stdout}"
    );
    assert!(!stdout.contains("Transcript redacted: "), "{stdout}");

    let state = home.root.join("state");
    let all = files(&state);
    let log = all
        .iter()
        .find(|p| p.ends_with("tritonsh.log"))
        .expect("a -v log");
    assert_eq!(mode(log), 0o600);
    let id = home.run_ids().pop().expect("a run");
    let run = home.runs_dir().join(&id);
    assert_eq!(mode(&run), 0o700, "the run directory");
    let mut journal_has = false;
    for path in &all {
        let body = std::fs::read_to_string(path).unwrap_or_default();
        let leaked: Vec<&String> = said.iter().filter(|s| body.contains(s.as_str())).collect();
        if path.ends_with("journal.json") {
            journal_has = !leaked.is_empty();
            continue;
        }
        assert!(
            leaked.is_empty(),
            "{} holds {leaked:?}:\n{body}",
            path.display()
        );
    }
    assert!(journal_has, "the journal keeps what resume needs");
    for name in ["journal.json", "transcript.jsonl", "transcript.txt"] {
        assert_eq!(mode(&run.join(name)), 0o600, "{name}");
    }
    let transcript = std::fs::read_to_string(run.join("transcript.jsonl")).unwrap();
    assert!(transcript.contains("[redacted]"), "{transcript}");
    assert!(transcript.contains(r#""redacted":true"#), "{transcript}");
    let text_file = std::fs::read_to_string(run.join("transcript.txt")).unwrap();
    assert!(
        text_file.contains("root [redacted], rabbit [redacted]"),
        "{text_file}"
    );
    assert!(
        text_file.contains("  Transcript redacted: secrets"),
        "the header says it: {text_file}"
    );
    // The report the terminal showed is in the transcript too, redacted,
    // before the run's end.
    let lines: Vec<&str> = text_file.lines().collect();
    let report = lines
        .iter()
        .position(|l| l.ends_with("  Report:"))
        .unwrap_or_else(|| panic!("no report: {text_file}"));
    assert!(
        lines[report + 1..]
            .iter()
            .any(|l| l.contains("root") && l.contains("[redacted]")),
        "{text_file}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains(&format!("Run {id}: ok, 1 of 1 steps done."))),
        "{text_file}"
    );
    // What the script printed is in the transcript, redacted, and shown so.
    for line in [
        "admin [redacted]",
        "upper [redacted]",
        "halves [redacted] [redacted]",
        "rabbit rabbit:[redacted]:",
    ] {
        assert!(text_file.contains(line), "{line}: {text_file}");
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(
        transcript.contains(r#""event":"printed""#) && transcript.contains("admin [redacted]"),
        "{transcript}"
    );
    // Nothing the operator saw of the run holds a secret.
    let shown = format!("{stdout}{}", text(&out.stderr));
    let leaked: Vec<&String> = said.iter().filter(|s| shown.contains(s.as_str())).collect();
    assert!(leaked.is_empty(), "{leaked:?}: {shown}");
    let lab = home.lab.as_ref().expect("a lab");
    assert_eq!(mode(&lab.join("world.json")), 0o600, "the lab's world");

    // For the operator's own use, the transcript keeps them and says so.
    let out = home.run(&["run", script, "--yes", "--no-redact"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = home.run_ids().pop().expect("a run");
    let kept = std::fs::read_to_string(home.runs_dir().join(&id).join("transcript.txt")).unwrap();
    assert!(kept.contains(secrets[0]), "{kept}");
    assert!(kept.contains("NOT redacted"), "{kept}");
}
