//! The real binary on a pseudo-terminal of its own, for what only happens
//! when stdin is a terminal: questions asked and answered, keys such as
//! Ctrl-C that the terminal driver turns into signals.

#![allow(dead_code)] // each test file uses a different part of this

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::pty::{Winsize, openpty};

/// How long anything awaited on the terminal may take.
pub const WAIT: Duration = Duration::from_secs(60);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `tritonsh` on a pseudo-terminal of its own: stdin is a terminal, so the
/// engine asks its questions there.
pub struct Tty {
    master: File,
    pub child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    /// Where the next `expect` starts looking.
    mark: usize,
}

impl Tty {
    pub fn spawn(command: Command) -> Tty {
        Self::spawn_with(command, true)
    }

    /// With `stdout_too` false, stdout stays where `command` put it.
    pub fn spawn_with(mut command: Command, stdout_too: bool) -> Tty {
        let size = Winsize {
            ws_row: 40,
            ws_col: 160,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None).expect("openpty");
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty"));
        command
            .env("TERM", "xterm")
            .stdin(slave(&pty.slave))
            .stderr(slave(&pty.slave));
        if stdout_too {
            command.stdout(slave(&pty.slave));
        }
        // SAFETY: only async-signal-safe calls between fork and exec. The
        // pty becomes the child's controlling terminal, as in a real one.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if nix::libc::ioctl(0, nix::libc::TIOCSCTTY as _, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("spawn tritonsh on a pty");
        drop(pty.slave);
        let master = File::from(pty.master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut from = master.try_clone().expect("dup the pty master");
        let sink = Arc::clone(&output);
        // Ends with EIO once the child (the last holder of the slave) exits.
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Tty {
            master,
            child,
            output,
            reader: Some(reader),
            mark: 0,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn shown(&self) -> String {
        text(&self.output.lock().unwrap())
    }

    /// Waits (bounded) until `wanted` appears after the mark, and moves the
    /// mark past it.
    pub fn expect(&mut self, wanted: &str) {
        let start = Instant::now();
        loop {
            let all = self.shown();
            let seen = &all[self.mark.min(all.len())..];
            if let Some(at) = seen.find(wanted) {
                self.mark += at + wanted.len();
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // One last read of what it printed before it went.
                std::thread::sleep(Duration::from_millis(200));
                let all = self.shown();
                assert!(
                    all[self.mark.min(all.len())..].contains(wanted),
                    "tritonsh exited ({status}) without showing {wanted:?}; the terminal shows:\n{all}"
                );
                continue;
            }
            assert!(
                start.elapsed() < WAIT,
                "{wanted:?} never appeared; the terminal shows:\n{seen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn type_keys(&mut self, keys: &str) {
        self.master
            .write_all(keys.as_bytes())
            .expect("type on the pty");
        self.master.flush().expect("flush the pty");
    }

    /// Types `line` and Enter.
    pub fn answer(&mut self, line: &str) {
        self.type_keys(&format!("{line}\r"));
    }

    /// Waits (bounded) for the exit; returns it with all the terminal showed.
    pub fn wait_exit(&mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for tritonsh") {
                break status;
            }
            assert!(
                start.elapsed() < WAIT,
                "tritonsh did not exit; the terminal shows:\n{}",
                self.shown()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            let start = Instant::now();
            while !reader.is_finished() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        (status, self.shown())
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
