//! The REPL of the real binary, driven through piped stdin (rustyline reads
//! plain lines when stdin is not a terminal).
//!
//! The shell is pointed at a datacenter profile on a loopback port where
//! nothing listens: these tests need no datacenter, and the background
//! fetch of live names must fail quietly.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The banner's lines, before the first result.
const BANNER_LINES: usize = 2;

/// A private XDG home, removed when dropped.
struct Home(PathBuf);

impl Home {
    fn new(name: &str) -> Home {
        // Port 9 (discard) on a loopback address nothing here binds.
        Home::at(name, "http://127.77.0.1:9")
    }

    /// A home whose default profile points all three APIs at `url`.
    fn at(name: &str, url: &str) -> Home {
        let dir = std::env::temp_dir().join(format!("tritonsh-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = dir.join("config/tritonsh");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.toml"),
            format!(
                "default = \"nowhere\"\n[profiles.nowhere]\n\
                 sapi_url = \"{url}\"\nvmapi_url = \"{url}\"\ncnapi_url = \"{url}\"\n"
            ),
        )
        .unwrap();
        Home(dir)
    }

    fn spawn(&self) -> Child {
        self.spawn_with(&[])
    }

    fn spawn_with(&self, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_tritonsh"))
            .args(args)
            .env("XDG_CONFIG_HOME", self.0.join("config"))
            .env("XDG_STATE_HOME", self.0.join("state"))
            .env("XDG_DATA_HOME", self.0.join("data"))
            .env_remove("TRITONSH_LAB")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Feeds `input`, closes stdin (EOF, like Ctrl-D) and collects the result.
fn session(name: &str, input: &str) -> (ExitStatus, String, String, Home) {
    session_with(name, &[], input)
}

fn session_with(name: &str, args: &[&str], input: &str) -> (ExitStatus, String, String, Home) {
    let home = Home::new(name);
    let mut child = home.spawn_with(args);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status, stdout, stderr, home)
}

/// What was printed after the banner (no prompt is shown when stdin is not
/// a terminal).
fn answers(stdout: &str) -> Vec<&str> {
    stdout.lines().skip(BANNER_LINES).collect()
}

#[test]
fn evaluates_lines_and_exits_0_at_eof() {
    let (status, stdout, stderr, _home) = session("basic", "1+1\n\nlet x = 40;\nx + 2\n");
    assert!(status.success(), "exit {status}; stderr: {stderr}");
    assert_eq!(answers(&stdout), ["2", "42"], "stdout: {stdout}");
    assert!(stderr.is_empty(), "nothing alarming at exit: {stderr}");
}

#[test]
fn exit_ends_the_repl_with_its_status() {
    let (status, stdout, stderr, _home) = session("exit", "1+1\nexit(7)\n40+2\n");
    assert_eq!(status.code(), Some(7), "stderr: {stderr}");
    assert_eq!(answers(&stdout), ["2"], "nothing after exit runs: {stdout}");
}

#[test]
fn banner_names_the_datacenter_and_how_to_get_help() {
    let (_, stdout, _, _home) = session("banner", "");
    let banner: Vec<&str> = stdout.lines().collect();
    assert_eq!(banner.len(), BANNER_LINES, "{stdout}");
    assert!(banner[0].contains("nowhere"), "the profile: {stdout}");
    assert!(banner[1].contains("help()"), "{stdout}");
    assert!(banner[1].contains("Ctrl-D"), "{stdout}");
}

#[test]
fn a_function_typed_over_several_lines() {
    let input = "fn double(x) {\n  let s = \"{ not a brace\";\n  x * 2\n}\ndouble(21)\n";
    let (status, stdout, stderr, _home) = session("multiline", input);
    assert!(status.success(), "stderr: {stderr}");
    assert_eq!(answers(&stdout), ["42"], "stdout: {stdout}");
}

#[test]
fn an_error_is_one_line_and_the_repl_goes_on() {
    let input = "no_such_function(1)\nlet = ;\n6 * 7\n";
    let (status, stdout, stderr, _home) = session("errors", input);
    assert!(status.success(), "stderr: {stderr}");
    assert_eq!(answers(&stdout), ["42"], "stdout: {stdout}");
    let errors: Vec<&str> = stderr.lines().collect();
    assert_eq!(errors.len(), 2, "one line per error: {stderr}");
    assert!(errors[0].contains("no_such_function"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "NO_COLOR: {stderr}");
}

#[test]
fn results_are_tables_or_json() {
    let input = "[#{name: \"moray\", n: 1}, #{name: \"binder\", n: 2}]\n";
    let (_, stdout, stderr, _home) = session("table", input);
    let table = answers(&stdout);
    assert!(table.len() >= 3, "a header and two rows: {stdout} {stderr}");
    assert!(table.iter().any(|l| l.contains("binder")), "{stdout}");

    let (status, stdout, stderr, _home) = session_with("json", &["--json"], "#{a: 1}\n");
    assert!(status.success(), "{stderr}");
    let json: String = answers(&stdout).join("\n");
    assert_eq!(json, "{\n  \"a\": 1\n}");
}

#[test]
fn history_is_saved_under_the_state_dir() {
    let (_, _, _, home) = session("history", "1+1\n  2+2\n");
    let history = std::fs::read_to_string(home.0.join("state/tritonsh/history")).unwrap();
    assert!(history.lines().any(|l| l == "1+1"), "{history}");
    assert!(
        !history.contains("2+2"),
        "lines starting with a space are not kept: {history}"
    );
}

#[test]
fn an_unwritable_history_is_a_warning_not_a_crash() {
    let home = Home::new("badhistory");
    // A file where the state directory should be.
    std::fs::write(home.0.join("state"), "not a directory").unwrap();
    let mut child = home.spawn();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"1+1\n2+2\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(answers(&stdout), ["2", "4"]);
    assert_eq!(
        stderr.matches("warning:").count(),
        1,
        "warned once: {stderr}"
    );
}

/// Sends lines one at a time and reads stdout as it comes.
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Live {
    fn start(home: &Home) -> Live {
        let mut child = home.spawn();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Live {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits (bounded, so a broken shell fails the test instead of hanging
    /// it) for a stdout line containing `text`.
    fn expect(&self, text: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.contains(text) => return,
                Ok(_) => {}
                Err(e) => panic!("no line with {text:?} on stdout: {e}"),
            }
        }
    }

    fn sigint(&self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    }

    fn finish(mut self) -> (ExitStatus, String) {
        drop(self.stdin.take());
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        (self.child.wait().unwrap(), stderr)
    }
}

#[test]
fn ctrl_c_stops_a_running_evaluation_and_the_repl_goes_on() {
    let home = Home::new("sigint");
    let mut repl = Live::start(&home);
    repl.send("let kept = 5;");
    repl.send("print(\"looping\"); loop { }");
    repl.expect("looping");
    repl.sigint();
    repl.send("kept * 2");
    repl.expect("10");
    // A second Ctrl-C works as well as the first.
    repl.send("print(\"again\"); while true { }");
    repl.expect("again");
    repl.sigint();
    repl.send("kept + 1");
    repl.expect("6");
    let (status, stderr) = repl.finish();
    assert!(
        status.success(),
        "the shell must survive Ctrl-C: {status}; {stderr}"
    );
    assert_eq!(stderr.matches("interrupted").count(), 2, "{stderr}");
}

#[test]
fn ctrl_c_while_waiting_for_input_does_not_kill_the_shell() {
    let home = Home::new("idle-sigint");
    let mut repl = Live::start(&home);
    repl.send("1 + 2");
    repl.expect("3");
    repl.sigint();
    repl.send("40 + 2");
    repl.expect("42");
    let (status, stderr) = repl.finish();
    assert!(status.success(), "{status}; {stderr}");
}

#[test]
fn ctrl_c_reaches_a_call_waiting_on_the_network() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let home = Home::at("sigint-network", &url);
    let mut repl = Live::start(&home);
    repl.send("print(\"calling\"); cnapi::servers()");
    repl.expect("calling");
    repl.sigint();
    repl.send("40 + 2");
    repl.expect("42");
    let (status, stderr) = repl.finish();
    assert!(status.success(), "{status}; {stderr}");
    let errors: Vec<&str> = stderr.lines().collect();
    assert_eq!(errors, ["interrupted"], "not a timeout: {stderr}");
}
