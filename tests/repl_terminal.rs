//! The REPL of the real binary on a pseudo-terminal, as an operator uses it:
//! line editing, Tab completion (including live names read from a canned
//! datacenter), hints, multi-line input, colour, and Ctrl-C / Ctrl-D typed
//! as keys (Ctrl-C during an evaluation goes through the terminal driver as
//! SIGINT to the shell's process group).

mod dc_support;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dc_support::{Answer, Canned, vm_json};
use nix::pty::{Winsize, openpty};

const WAIT: Duration = Duration::from_secs(30);

struct Terminal {
    master: File,
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    /// Where the next `expect` starts looking.
    mark: usize,
    home: PathBuf,
}

impl Terminal {
    /// Starts `tritonsh` on a new pseudo-terminal, connected to `url`.
    fn start(name: &str, url: &str, color: bool) -> Terminal {
        let home = std::env::temp_dir().join(format!("tritonsh-tty-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let config = home.join("config/tritonsh");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.toml"),
            format!(
                "default = \"canned\"\n[profiles.canned]\n\
                 sapi_url = \"{url}\"\nvmapi_url = \"{url}\"\ncnapi_url = \"{url}\"\n"
            ),
        )
        .unwrap();

        let size = Winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None).unwrap();
        let slave = |pty: &OwnedFd| Stdio::from(pty.try_clone().unwrap());
        let mut command = Command::new(env!("CARGO_BIN_EXE_tritonsh"));
        command
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("TERM", "xterm")
            .env_remove("TRITONSH_LAB")
            .stdin(slave(&pty.slave))
            .stdout(slave(&pty.slave))
            .stderr(slave(&pty.slave));
        if color {
            command.env_remove("NO_COLOR");
        } else {
            command.env("NO_COLOR", "1");
        }
        // SAFETY: only async-signal-safe calls between fork and exec. The
        // pty becomes the child's controlling terminal, so a typed Ctrl-C
        // reaches it as SIGINT the way it does in a real terminal.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if nix::libc::ioctl(0, nix::libc::TIOCSCTTY as _, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().unwrap();
        drop(pty.slave);

        let master = File::from(pty.master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let mut answerer = master.try_clone().unwrap();
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut answered = 0;
            // Ends with EIO once the child has exited.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut output = sink.lock().unwrap();
                output.extend_from_slice(&buf[..n]);
                // rustyline asks where the cursor is before each prompt and
                // eats what is typed while it waits for the answer, so
                // answer like a terminal: row 1, column 1.
                let asked = output.windows(4).filter(|w| w == b"\x1b[6n").count();
                for _ in answered..asked {
                    let _ = answerer.write_all(b"\x1b[1;1R");
                }
                answered = asked;
            }
        });
        let mut terminal = Terminal {
            master,
            child,
            output,
            mark: 0,
            home,
        };
        terminal.prompt();
        terminal
    }

    /// Waits for a new prompt. rustyline redraws the prompt on every key,
    /// so the marker is the bracketed-paste switch each `readline` starts
    /// with; keys typed before it may be lost with the previous line's
    /// read-ahead, as in any terminal.
    fn prompt(&mut self) {
        self.expect("\x1b[?2004h");
        self.expect("tritonsh> ");
    }

    /// Waits until the session's engine is up, so its names are known.
    fn wait_engine(&mut self) {
        self.type_keys("60000+1\r");
        self.expect("60001");
        self.prompt();
    }

    fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Output since the mark, as text.
    fn since_mark(&self) -> String {
        let output = self.output.lock().unwrap();
        String::from_utf8_lossy(&output[self.mark.min(output.len())..]).into_owned()
    }

    /// Waits (bounded) until `text` appears after the mark, and moves the
    /// mark past it.
    fn expect(&mut self, text: &str) {
        let start = Instant::now();
        loop {
            let seen = self.since_mark();
            if let Some(at) = seen.find(text) {
                self.mark += seen[..at + text.len()].len();
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "{text:?} never appeared; the terminal shows:\n{seen:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Ignores what was printed so far.
    fn skip_output(&mut self) {
        self.mark = self.output.lock().unwrap().len();
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < WAIT, "the shell did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// A datacenter with two servers, three VMs and one service.
fn canned_datacenter(rt: &tokio::runtime::Runtime) -> Canned {
    let servers = include_str!("../../shared/triton/fixtures/cnapi-servers-list.json");
    let service = include_str!("../../shared/triton/fixtures/sapi-service-manatee.json");
    rt.block_on(Canned::start(move |req| match req.path() {
        "/servers" => Answer::json(200, servers),
        "/vms" => Answer::json(
            200,
            format!("[{},{},{}]", vm_json(0), vm_json(1), vm_json(2)),
        )
        .with_header("x-joyent-resource-count", "3"),
        "/services" => Answer::json(200, format!("[{service}]")),
        _ => Answer::json(
            404,
            r#"{"code":"ResourceNotFound","message":"no such thing"}"#,
        ),
    }))
}

/// Nothing listens there: the shell must work without its datacenter.
const NOWHERE: &str = "http://127.77.0.1:9";

#[test]
fn evaluates_and_exits_0_on_ctrl_d() {
    let mut t = Terminal::start("basic", NOWHERE, false);
    t.type_keys("70000+1\r");
    t.expect("70001");
    t.prompt();
    t.type_keys("\x04");
    assert!(t.wait_exit().success());
}

#[test]
fn ctrl_c_while_typing_clears_the_line_and_stays() {
    let mut t = Terminal::start("ctrlc-edit", NOWHERE, false);
    t.type_keys("junk_that_is_never_run");
    t.expect("junk_that_is_never_run");
    t.type_keys("\x03");
    t.prompt();
    t.type_keys("70000+2\r");
    t.expect("70002");
    assert!(t.child.try_wait().unwrap().is_none(), "still running");
    let shown = t.since_mark();
    assert!(
        !shown.contains("not found"),
        "the cleared line was run: {shown:?}"
    );
}

#[test]
fn ctrl_c_during_an_evaluation_interrupts_it() {
    let mut t = Terminal::start("ctrlc-eval", NOWHERE, false);
    t.type_keys("let kept = 70000;\r");
    t.prompt();
    t.type_keys("print(\"spin\" + \"ning\"); loop { }\r");
    t.expect("spinning");
    t.type_keys("\x03");
    t.expect("interrupted");
    t.prompt();
    t.type_keys("kept + 3\r");
    t.expect("70003");
    t.prompt();
    t.type_keys("\x04");
    assert!(t.wait_exit().success());
}

#[test]
fn a_function_typed_over_several_lines() {
    let mut t = Terminal::start("multiline", NOWHERE, false);
    // Each Enter inside the braces continues the input.
    for line in ["fn bump(x) {\r", "  x + 1\r", "}\r"] {
        t.type_keys(line);
        t.expect(line.trim_end());
    }
    t.prompt();
    t.skip_output();
    t.type_keys("bump(70003)\r");
    t.expect("70004");
}

#[test]
fn tab_completes_functions_variables_and_map_keys() {
    let mut t = Terminal::start("complete", NOWHERE, false);
    t.wait_engine();
    t.type_keys("vmapi::l\t");
    t.expect("vmapi::list");
    t.type_keys("\x03");
    t.prompt();

    t.type_keys("let server_count = 70005;\r");
    t.prompt();
    t.skip_output();
    t.type_keys("server_c\t\r");
    t.expect("server_count");
    t.expect("70005");
    t.prompt();

    t.type_keys("let vm = #{alias: \"a\", state: 70006};\r");
    t.prompt();
    t.skip_output();
    t.type_keys("vm.st\t\r");
    t.expect("vm.state");
    t.expect("70006");
}

/// Issue 11, item 21: inside a list function's map, Tab offers its filter
/// keys (not functions) and the values of an enumerated one (not live
/// names), with no datacenter to ask.
#[test]
fn tab_completes_filter_keys_and_values_inside_a_map() {
    let mut t = Terminal::start("filters", NOWHERE, false);
    t.wait_engine();
    t.type_keys("vmapi::list(#{st\t");
    t.expect("vmapi::list(#{state");
    t.type_keys(": \"r\t");
    t.expect("#{state: \"running\"");
    t.type_keys("\x03");
    t.prompt();
    t.skip_output();
    t.type_keys("cnapi::servers(#{set\t");
    t.expect("cnapi::servers(#{setup");
}

#[test]
fn tab_completes_live_names_from_the_datacenter() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dc = canned_datacenter(&rt);
    let mut t = Terminal::start("live", &dc.url(), false);
    t.wait_engine();

    // The names are fetched in the background: Tab again until they land.
    let complete = |t: &mut Terminal, typed: &str, wanted: &str| {
        t.type_keys(typed);
        t.expect(typed);
        let start = Instant::now();
        loop {
            t.type_keys("\t");
            std::thread::sleep(Duration::from_millis(100));
            if t.since_mark().contains(wanted) {
                break;
            }
            assert!(
                start.elapsed() < WAIT,
                "no {wanted:?}: {:?}",
                t.since_mark()
            );
        }
        t.type_keys("\x03");
        t.prompt();
        t.skip_output();
    };
    complete(&mut t, "cnapi::server(\"hea", "headnode\"");
    complete(&mut t, "vmapi::list(#{alias: \"vm1", "vm1\"");
    complete(&mut t, "sapi::service(\"mana", "manatee\"");

    let asked: Vec<String> = dc.requests().iter().map(|r| r.path().to_string()).collect();
    for path in ["/servers", "/vms", "/services"] {
        assert!(
            asked.iter().any(|p| p == path),
            "{path} not asked: {asked:?}"
        );
    }
}

#[test]
fn history_hints_and_colour() {
    let mut t = Terminal::start("colour", NOWHERE, true);
    t.type_keys("70000+7\r");
    t.expect("70007");
    t.prompt();
    t.skip_output();
    // The hint completes from history, dimmed.
    t.type_keys("7000");
    t.expect("\x1b[2m0+7");
    t.type_keys("\x03");
    t.prompt();
    t.skip_output();
    t.type_keys("let");
    t.expect("\x1b[1;35mlet");
}
