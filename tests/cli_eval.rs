//! `tritonsh -c EXPR` and `tritonsh FILE.rhai ARGS`: results, JSON, errors,
//! config and profiles — everything that needs no running lab.

mod dc_support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use dc_support::{Answer, Canned, vm_json};

/// A private config/state/data home, so no test sees the user's files or
/// another test's.
struct Home(PathBuf);

impl Home {
    fn new(name: &str) -> Home {
        let dir =
            std::env::temp_dir().join(format!("tritonsh-cli-eval-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("config/tritonsh")).unwrap_or_else(|e| panic!("{e}"));
        Home(dir)
    }

    /// A home whose default profile points at a port nothing listens on.
    fn with_dead_profile(name: &str) -> Home {
        let home = Home::new(name);
        let url = format!("http://127.0.0.1:{}", refused_port());
        home.config(&format!(
            "default = \"dead\"\n[profiles.dead]\nsapi_url = \"{url}\"\nvmapi_url = \"{url}\"\ncnapi_url = \"{url}\"\n"
        ));
        home
    }

    fn config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap_or_else(|e| panic!("{e}"));
    }

    fn config_path(&self) -> PathBuf {
        self.0.join("config/tritonsh/config.toml")
    }

    /// tritonsh with `args` in this home, stdout and stderr piped.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tritonsh"));
        command
            .args(args)
            .env("XDG_CONFIG_HOME", self.0.join("config"))
            .env("XDG_STATE_HOME", self.0.join("state"))
            .env("XDG_DATA_HOME", self.0.join("data"))
            .env("NO_COLOR", "1")
            .env("COLUMNS", "120")
            .env_remove("TRITONSH_LAB")
            .env_remove("TRITONSH_PROFILE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run tritonsh: {e}"))
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port that refuses connections: bound, then released.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_one_line_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {} stderr: {}",
        stdout(out),
        stderr(out)
    );
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    err.trim_end().to_string()
}

#[test]
fn an_expression_prints_its_value() {
    let home = Home::with_dead_profile("value");
    let out = home.run(&["-c", "1+1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "2\n");
}

#[test]
fn unit_prints_nothing() {
    let home = Home::with_dead_profile("unit");
    let out = home.run(&["-c", "let x = 1;"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn json_output_is_json() {
    let home = Home::with_dead_profile("json");
    let out = home.run(&["--json", "-c", "#{a: 1, b: [\"x\", true]}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value, serde_json::json!({"a": 1, "b": ["x", true]}));
}

#[test]
fn with_json_stdout_carries_only_json() {
    let home = Home::with_dead_profile("json-only");
    let out = home.run(&["--json", "-c", r#"print("checking"); [1]"#]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(value, serde_json::json!([1]));
    assert_eq!(stderr(&out), "checking\n", "print goes to stderr");

    let out = home.run(&["--json", "-c", "()"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "null", "() is null, not nothing");
}

#[test]
fn piped_tables_cut_no_cell() {
    let home = Home::with_dead_profile("piped");
    let long = "x".repeat(300);
    let code = format!(
        r#"[#{{uuid: "3f0b2c1e-8a5d-4e7f-9b6a-1c2d3e4f5a6b", note: "{long}", alias: "binder0"}}]"#
    );
    // COLUMNS says 120, but stdout is a pipe: nothing is cut.
    let out = home.run(&["-c", &code]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("3f0b2c1e-8a5d-4e7f-9b6a-1c2d3e4f5a6b"),
        "{text}"
    );
    assert!(text.contains(&long), "{text}");
    assert!(!text.contains('…'), "{text}");
}

#[test]
fn a_string_result_writes_escape_sequences_out() {
    let home = Home::with_dead_profile("escapes");
    let out = home.run(&["-c", r#""a\x1b[31mred\nline two""#]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "a\\u{1b}[31mred\nline two\n");
}

#[test]
fn exit_refuses_a_status_that_is_not_an_integer() {
    let home = Home::with_dead_profile("exit-string");
    let out = home.run(&["-c", r#"exit("1")"#]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("an exit status is an integer 0 to 255, not a string"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["--json", "-c", "exit(3, #{problem: \"x\"})"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).ok(),
        Some(serde_json::json!({"problem": "x"})),
        "exit(status, result) prints its result"
    );
}

#[test]
fn arrays_of_maps_print_as_tables() {
    let home = Home::with_dead_profile("table");
    let code = r#"[#{uuid: "3f0b2c1e-8a5d-4e7f-9b6a-1c2d3e4f5a6b", state: "running", alias: "binder0"},
                   #{uuid: "4f0b2c1e-8a5d-4e7f-9b6a-1c2d3e4f5a6b", state: "stopped", alias: "binder1"}]"#;
    let out = home.run(&["-c", code]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["alias", "state", "uuid"]
    );
    assert!(lines[1].starts_with("binder0  running  3f0b2c1e"), "{text}");
    assert!(!text.contains('\u{1b}'), "colour with NO_COLOR: {text:?}");
}

#[test]
fn script_errors_are_one_line_with_line_and_column() {
    let home = Home::with_dead_profile("error");
    let out = home.run(&["-c", "let a = 1;\nlet b = a + nope;"]);
    assert_eq!(
        assert_one_line_error(&out),
        "line 2, col 13: Variable not found: nope"
    );
    assert_eq!(stdout(&out), "");

    let out = home.run(&["-c", "let = 3"]);
    let err = assert_one_line_error(&out);
    assert!(err.starts_with("line 1, col 5: syntax error"), "{err}");

    let out = home.run(&[
        "-c",
        "fn check(x) { if x > 1 { throw \"too many binders\" } }\ncheck(3)",
    ]);
    assert_eq!(
        assert_one_line_error(&out),
        "line 2, col 1: too many binders (in check(), at line 1, col 26)"
    );
}

#[test]
fn a_script_file_gets_its_args() {
    let home = Home::with_dead_profile("file");
    let script = home.0.join("args.rhai");
    std::fs::write(
        &script,
        "#!/usr/bin/env tritonsh\nprint(ARGS[1]);\nARGS.len()\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let script_arg = script.display().to_string();
    let out = home.run(&[&script_arg, "binder0", "--dry-run", "x y"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "--dry-run\n3\n");
}

#[test]
fn errors_in_a_script_file_name_the_file() {
    let home = Home::with_dead_profile("file-error");
    let script = home.0.join("bad.rhai");
    std::fs::write(&script, "let x = 1;\nx.nope()\n").unwrap_or_else(|e| panic!("{e}"));
    let script_arg = script.display().to_string();
    let err = assert_one_line_error(&home.run(&[&script_arg]));
    assert!(
        err.starts_with(&format!(
            "{script_arg} line 2, col 3: Function not found: nope"
        )),
        "{err}"
    );

    let missing = home.0.join("missing.rhai").display().to_string();
    let err = assert_one_line_error(&home.run(&[&missing]));
    assert!(err.contains(&format!("cannot read {missing}")), "{err}");

    // A mistyped option lands in the script slot: it is named as an option.
    let err = assert_one_line_error(&home.run(&["--jsno", "-c", "1"]));
    assert!(
        err.starts_with("tritonsh: unknown option --jsno (tritonsh --help lists them"),
        "{err}"
    );
}

#[test]
fn a_bad_config_file_names_the_file_and_line() {
    let home = Home::new("bad-config");
    home.config("default = \"a\"\n[profiles.a]\nsapi_url = http://nope\n");
    let err = assert_one_line_error(&home.run(&["-c", "1"]));
    let expected = format!("tritonsh: config {} line 3: ", home.config_path().display());
    assert!(err.starts_with(&expected), "{err}");
}

#[test]
fn an_unknown_profile_lists_the_known_ones() {
    let home = Home::with_dead_profile("unknown-profile");
    let err = assert_one_line_error(&home.run(&["--profile", "east", "-c", "1"]));
    assert!(err.contains("no profile named east"), "{err}");
    assert!(err.contains("(profiles: dead)"), "{err}");
}

#[test]
fn a_half_written_profile_says_what_is_missing() {
    let home = Home::new("half-profile");
    home.config("[profiles.p]\nsapi_url = \"http://127.0.0.1:1\"\n");
    let err = assert_one_line_error(&home.run(&["--profile", "p", "-c", "1"]));
    assert!(err.contains("profile p in"), "{err}");
    assert!(err.contains("missing vmapi_url, cnapi_url"), "{err}");
}

#[test]
fn an_unreachable_api_is_one_line_naming_the_api() {
    let home = Home::with_dead_profile("refused");
    let err = assert_one_line_error(&home.run(&["-c", "vmapi::list()"]));
    assert!(err.starts_with("line 1, col 8: VMAPI GET /vms"), "{err}");
    assert!(err.contains("cannot connect"), "{err}");
    let err = assert_one_line_error(&home.run(&["-c", "let s = sapi::service(\"papi\");"]));
    assert!(
        err.starts_with("line 1, col 15: SAPI GET /services"),
        "{err}"
    );
}

/// `vmapi::list()` decodes pages straight into script maps; a record the
/// typed client would refuse is refused there too, naming the record.
#[test]
fn a_listed_vm_without_uuid_is_a_bad_response() {
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let body = format!(
        "[{},{{\"alias\":\"nouuid\",\"state\":\"running\",\"owner_uuid\":\"o\"}}]",
        vm_json(0)
    );
    let server = rt.block_on(Canned::start(move |_| Answer::json(200, body.clone())));
    let home = Home::new("vm-without-uuid");
    let url = server.url();
    home.config(&format!(
        "default = \"c\"\n[profiles.c]\nsapi_url = \"{url}\"\nvmapi_url = \"{url}\"\ncnapi_url = \"{url}\"\n"
    ));
    let err = assert_one_line_error(&home.run(&["-c", "vmapi::list()"]));
    assert!(
        err.ends_with("VMAPI GET /vms?limit=1000: bad response: missing field `uuid` at [1]"),
        "{err}"
    );
}

#[test]
fn a_lab_that_is_not_running_is_said_plainly_by_the_call_that_needs_it() {
    let home = Home::new("no-lab");
    let dir = home.0.join("lab").display().to_string();
    let out = home.run(&["--lab", &dir, "-c", "1 + 1"]);
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("2\n", ""));
    let err = assert_one_line_error(&home.run(&["--lab", &dir, "-c", "1;\nvmapi::list()"]));
    assert!(
        err.starts_with(&format!(
            "line 2, col 8: no datacenter: no lab is running in {dir}"
        )),
        "{err}"
    );
    assert!(err.contains("tritonsh lab up --dir"), "{err}");
    // A script can catch it and carry on.
    let out = home.run(&[
        "--lab",
        &dir,
        "-c",
        "let n = -1; try { n = cnapi::servers().count(); } catch { } n",
    ]);
    assert_eq!(stdout(&out), "-1\n", "{}", stderr(&out));
}

#[test]
fn a_run_without_its_datacenter_fails_before_it_starts() {
    let home = Home::new("run-no-lab");
    let dir = home.0.join("lab").display().to_string();
    let out = home.run(&["run", "scale-service", "--lab", &dir, "-p", "service=papi"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("no lab is running in {dir}")),
        "{err}"
    );
    assert!(
        !home.0.join("state/tritonsh/runs").exists(),
        "a run that never started left a journal"
    );
}

#[test]
fn nothing_configured_and_no_datacenter_call_starts_no_lab() {
    let home = Home::new("no-config");
    std::fs::remove_dir_all(home.0.join("config")).unwrap_or_else(|e| panic!("{e}"));
    let out = home.run(&["-c", "[1, 2].count()"]);
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("2\n", ""));
    let file = home.0.join("plain.rhai");
    std::fs::write(&file, "40 + 2").unwrap_or_else(|e| panic!("{e}"));
    let out = home.run(&[file.to_str().unwrap_or_default()]);
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("42\n", ""));
    assert!(!home.0.join("data/tritonsh/lab").exists());
}

fn eval(home: &Home, code: &str) -> String {
    let out = home.run(&["--json", "-c", code]);
    assert!(out.status.success(), "{code}: {}", stderr(&out));
    let value: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{code}: {e}"));
    value.to_string()
}

const VMS: &str = r#"let vms = [
    #{alias: "binder1", state: "running", ram: 512, tags: #{smartdc_role: "binder"}},
    #{alias: "moray0", state: "stopped", ram: 1024, tags: #{smartdc_role: "moray"}},
    #{alias: "binder0", state: "running", ram: 256, "tag.smartdc_role": "binder", tags: #{smartdc_role: "binder"}},
];"#;

#[test]
fn helpers_shape_records() {
    let home = Home::with_dead_profile("helpers");
    let run = |code: &str| eval(&home, &format!("{VMS}\n{code}"));
    assert_eq!(
        run("vms.where(|v| v.state == \"running\").get(\"alias\")"),
        r#"["binder1","binder0"]"#
    );
    assert_eq!(
        run("vms.where(\"tags.smartdc_role\", \"moray\").get(\"alias\")"),
        r#"["moray0"]"#
    );
    assert_eq!(run("vms.where(\"ram\", 256).count()"), "1");
    assert_eq!(run("vms.where(\"ram\", \"256\").count()"), "0");
    assert_eq!(
        run("vms.sort_by(\"alias\").get(\"alias\")"),
        r#"["binder0","binder1","moray0"]"#
    );
    assert_eq!(run("vms.sort_by(\"ram\").first().alias"), r#""binder0""#);
    assert_eq!(
        run("vms.select([\"alias\", \"tags.smartdc_role\"]).first()"),
        r#"{"alias":"binder1","tags.smartdc_role":"binder"}"#
    );
    assert_eq!(run("vms.count(|v| v.ram > 300)"), "2");
    assert_eq!(run("vms[2].get(\"tag.smartdc_role\")"), r#""binder""#);
    assert_eq!(run("vms[0].get(\"tags.nope.deeper\") == ()"), "true");
    assert_eq!(run("[].first() == ()"), "true");
    assert_eq!(
        run("vms[1].select([\"ram\"]).to_json()"),
        r#""{\"ram\":1024}""#
    );
    assert_eq!(run("[1, \"a\"].to_json()"), r#""[1,\"a\"]""#);
}

#[test]
fn helpers_refuse_bad_arguments_in_one_line() {
    let home = Home::with_dead_profile("helpers-bad");
    let err = assert_one_line_error(&home.run(&["-c", &format!("{VMS}\nvms.where(|v| 1)")]));
    assert!(
        err.contains("where: the function must return true or false"),
        "{err}"
    );
    let err = assert_one_line_error(&home.run(&["-c", &format!("{VMS}\nvms.count(|v| 1)")]));
    assert!(
        err.contains("count: the function must return true or false"),
        "{err}"
    );
    let err = assert_one_line_error(&home.run(&["-c", &format!("{VMS}\nvms.select([1])")]));
    assert!(err.contains("select: field names must be strings"), "{err}");
    let err = assert_one_line_error(&home.run(&["-c", "vmapi::list(#{tags: #{a: 1}})"]));
    assert!(
        err.contains("vmapi::list: filter tags must be a string"),
        "{err}"
    );
}

#[test]
fn help_documents_functions() {
    let home = Home::with_dead_profile("help");
    let out = home.run(&["-c", "help(\"vmapi::list\")"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("vmapi::list() -> Array\nvmapi::list(filters: Map) -> Array"),
        "{text}"
    );
    assert!(text.contains("tag.smartdc_role"), "{text}");
    let text = stdout(&home.run(&["-c", "help()"]));
    for listed in [
        "run(runbook, params, [options])",
        "resume_run(run_id, [options])",
        "pass(why)",
        "needs_force(why)",
        "place(service, count, servers, vms)",
    ] {
        let line = text.lines().find(|l| l.trim_start().starts_with(listed));
        assert!(
            line.is_some_and(|l| l.len() > listed.len() + 10),
            "help() lists {listed} with a summary: {text}"
        );
    }
    let err = assert_one_line_error(&home.run(&["-c", "help(\"vmapi::lst\")"]));
    assert!(
        err.ends_with("no function named vmapi::lst (help() lists them)"),
        "{err}"
    );
}

#[test]
fn verbose_logs_to_a_file_and_keeps_the_terminal_quiet() {
    let home = Home::with_dead_profile("verbose");
    let out = home.run(&["-v", "-c", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let path = home.0.join("state/tritonsh/tritonsh.log");
    let log = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(log.contains("datacenter chosen"), "{log:?}");
    // The next run adds to it: the log of the run before is what an
    // operator reaches for.
    assert!(home.run(&["-v", "-c", "2"]).status.success());
    let both = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(both.starts_with(&log) && both.len() > log.len(), "{both:?}");
    let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(
        mode.ok(),
        Some(0o600),
        "the log holds what the datacenter said"
    );
    let quiet = Home::with_dead_profile("quiet");
    assert!(quiet.run(&["-c", "1"]).status.success());
    assert!(!quiet.0.join("state/tritonsh/tritonsh.log").exists());
}

#[test]
fn a_lab_that_is_not_running_is_not_connected_and_a_file_is_not_a_lab() {
    let home = Home::with_dead_profile("lab-not-running");
    let dir = home.0.join("no-lab");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut child = home
        .command(&["--lab", dir.to_str().unwrap_or_default()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write as _;
        let _ = stdin.write_all(b"exit()\n");
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!said.contains("connected to the lab"), "{said}");
    assert_eq!(said.matches("no lab is running").count(), 1, "{said}");

    let file = home.0.join("a-file");
    std::fs::write(&file, "").unwrap_or_else(|e| panic!("{e}"));
    let out = home.run(&["lab", "up", "--dir", file.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is a file, not a directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_script_that_grows_without_bound_ends_with_one_line() {
    let home = Home::with_dead_profile("grows");
    let out = home.run(&["-c", r#"let s = "a"; for i in 0..40 { s += s; } s.len()"#]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("too large"), "{err}");
}

#[test]
fn ctrl_c_ends_a_sleep() {
    let home = Home::with_dead_profile("ctrl-c-sleep");
    let child = home
        .command(&["-c", "sleep(20); 1"])
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let asked = std::time::Instant::now();
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "the sleep went on after Ctrl-C"
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).trim_end().ends_with("interrupted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn ctrl_c_stops_a_running_script() {
    let home = Home::with_dead_profile("ctrl-c");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tritonsh"))
        .args(["-c", "let n = 0; loop { n += 1; }"])
        .env("XDG_CONFIG_HOME", home.0.join("config"))
        .env("XDG_STATE_HOME", home.0.join("state"))
        .env_remove("TRITONSH_LAB")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    // Give the shell time to install its handler, then keep asking until it stops.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut status = None;
    for _ in 0..50 {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        std::thread::sleep(std::time::Duration::from_millis(200));
        if let Ok(Some(exited)) = child.try_wait() {
            status = Some(exited);
            break;
        }
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("Ctrl-C did not stop the script");
    };
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), Some(130));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.trim_end().ends_with("interrupted"), "{err:?}");
}

#[test]
fn global_flags_may_come_before_the_subcommand() {
    let home = Home::new("flag-order");
    let dir = home.0.join("lab").display().to_string();
    // The same refusal as with `run … --lab DIR`: `run` is the subcommand, not a script file.
    let out = home.run(&["--lab", &dir, "run", "scale-service", "-p", "service=papi"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("no lab is running in {dir}")),
        "{err}"
    );
}

#[test]
fn words_after_a_script_file_are_its_args_even_subcommand_names() {
    let home = Home::new("args-not-subcommands");
    let script = home.0.join("echo.rhai");
    std::fs::write(&script, "ARGS").unwrap_or_else(|e| panic!("{e}"));
    let script_arg = script.display().to_string();
    let out = home.run(&["--json", &script_arg, "lab", "run", "-c"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let args: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(args, serde_json::json!(["lab", "run", "-c"]));
}

#[test]
fn dash_c_with_a_subcommand_is_refused() {
    let home = Home::new("c-and-subcommand");
    let out = home.run(&["-c", "1", "runbook", "list"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("-c EXPR cannot be combined with a subcommand"),
        "{err}"
    );
    assert_eq!(stdout(&out), "", "the runbook list must not run");
}

#[test]
fn a_reader_that_goes_away_ends_the_shell_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let home = Home::new("broken-pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tritonsh"))
        .args(["-c", "for i in 0..1000000 { print(i) }"])
        .env("XDG_STATE_HOME", home.0.join("state"))
        .env("XDG_CONFIG_HOME", home.0.join("config"))
        .env("XDG_DATA_HOME", home.0.join("data"))
        .env_remove("TRITONSH_LAB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut first = String::new();
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, "0\n");
    // `| head -1`: the reader is gone now.
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.status.signal(),
        Some(13),
        "ended by SIGPIPE: {:?}",
        out.status
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn deeply_nested_values_do_not_overflow_the_stack() {
    let home = Home::with_dead_profile("deep-values");
    let out = home.run(&["-c", "let a = 1; for i in 0..5000 { a = [a]; } a == a"]);
    assert_eq!(stdout(&out), "true\n", "{}", stderr(&out));
}

#[test]
fn exit_sets_the_exit_status_and_prints_nothing() {
    let home = Home::new("exit");
    let out = home.run(&["-c", "print(\"checked\"); exit(3); print(\"not reached\")"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "checked\n");
    // Not catchable, and it ends the script from inside a function too.
    let out = home.run(&[
        "-c",
        "fn check() { exit(4) } try { check() } catch { print(\"caught\") } 1",
    ]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(4), ""));
    let out = home.run(&["-c", "exit()"]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), ""));
    let err = assert_one_line_error(&home.run(&["-c", "exit(256)"]));
    assert!(err.contains("an exit status is 0 to 255"), "{err}");
}
