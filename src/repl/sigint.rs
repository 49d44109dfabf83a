//! Ctrl-C while an evaluation runs.
//!
//! While rustyline reads a line the terminal is in raw mode and Ctrl-C is a
//! key it handles itself. During an evaluation the terminal is back in
//! normal mode, Ctrl-C becomes SIGINT, and this watcher turns it into the
//! session's interrupt instead of letting it kill the shell.
//!
//! The signal handler itself notes *which* evaluation was running when the
//! signal came; acting on it later could otherwise cancel the next line,
//! typed just after a Ctrl-C that arrived between two evaluations.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nix::sys::signal::Signal;

/// The session arms a fresh cancellation token when an evaluation starts;
/// a signal landing just before that would be lost, so the interrupt is
/// repeated until the evaluation ends.
const REPEAT_INTERRUPT: Duration = Duration::from_millis(50);

#[derive(Default)]
struct State {
    /// Which evaluation is running; 0 when none is.
    running: AtomicU64,
    /// The evaluation a SIGINT arrived during and that has not ended yet.
    hit: AtomicU64,
}

pub struct SigintWatch {
    state: Arc<State>,
    next: u64,
}

impl SigintWatch {
    /// Takes over SIGINT for the life of the process: from here on it never
    /// kills the shell. `interrupt` runs on a thread of its own.
    pub fn install(interrupt: impl Fn() + Send + 'static) -> std::io::Result<SigintWatch> {
        let state = Arc::new(State::default());
        let (wake, mut woken) = UnixStream::pair()?;
        // A handler must never block, even after many signals unread.
        wake.set_nonblocking(true)?;
        let in_handler = Arc::clone(&state);
        // SAFETY: the action only does atomic loads and stores and one
        // write(2) on a socket, all async-signal-safe; it allocates nothing
        // and takes no lock.
        unsafe {
            signal_hook_registry::register(Signal::SIGINT as i32, move || {
                let running = in_handler.running.load(Ordering::SeqCst);
                if running != 0 {
                    in_handler.hit.store(running, Ordering::SeqCst);
                    let _ = (&wake).write(&[1]);
                }
            })?;
        }
        let watched = Arc::clone(&state);
        std::thread::Builder::new()
            .name("sigint".into())
            .spawn(move || {
                let mut byte = [0u8; 1];
                while woken.read(&mut byte).is_ok_and(|n| n == 1) {
                    let hit = watched.hit.load(Ordering::SeqCst);
                    while hit != 0 && watched.running.load(Ordering::SeqCst) == hit {
                        interrupt();
                        std::thread::sleep(REPEAT_INTERRUPT);
                    }
                }
            })?;
        Ok(SigintWatch { state, next: 1 })
    }

    /// Runs `evaluate` with Ctrl-C routed to the session; the flag says
    /// whether a Ctrl-C came while it ran.
    pub fn during<T>(&mut self, evaluate: impl FnOnce() -> T) -> (T, bool) {
        let this = self.next;
        self.next += 1;
        self.state.running.store(this, Ordering::SeqCst);
        let out = evaluate();
        self.state.running.store(0, Ordering::SeqCst);
        let interrupted = self.state.hit.swap(0, Ordering::SeqCst) == this;
        (out, interrupted)
    }
}
