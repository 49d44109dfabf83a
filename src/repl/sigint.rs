//! Ctrl-C while an evaluation runs.
//!
//! While rustyline reads a line the terminal is in raw mode and Ctrl-C is a
//! key it handles itself. During an evaluation the terminal is back in
//! normal mode, Ctrl-C becomes SIGINT, and this watcher turns it into
//! the session's interrupt instead of letting it kill the shell.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

/// The session arms a fresh cancellation token when an evaluation starts;
/// a signal landing just before that would be lost, so the interrupt is
/// repeated until the evaluation ends.
const REPEAT_INTERRUPT: Duration = Duration::from_millis(50);

#[derive(Default)]
struct State {
    /// Which evaluation is running; 0 when none is.
    running: AtomicU64,
    interrupted: AtomicBool,
}

pub struct SigintWatch {
    state: Arc<State>,
    next: u64,
}

impl SigintWatch {
    /// Takes over SIGINT for the life of the process: from here on it never
    /// kills the shell.
    pub fn install(
        rt: &tokio::runtime::Handle,
        interrupt: impl Fn() + Send + 'static,
    ) -> std::io::Result<SigintWatch> {
        // Registered here, not in the task, so no SIGINT falls between.
        let mut sigint = {
            let _in_runtime = rt.enter();
            signal(SignalKind::interrupt())?
        };
        let state = Arc::new(State::default());
        let watched = Arc::clone(&state);
        rt.spawn(async move {
            while sigint.recv().await.is_some() {
                let evaluation = watched.running.load(Ordering::SeqCst);
                if evaluation == 0 {
                    continue;
                }
                watched.interrupted.store(true, Ordering::SeqCst);
                while watched.running.load(Ordering::SeqCst) == evaluation {
                    interrupt();
                    tokio::time::sleep(REPEAT_INTERRUPT).await;
                }
            }
        });
        Ok(SigintWatch { state, next: 1 })
    }

    /// Runs `evaluate` with Ctrl-C routed to the evaluator; the flag says
    /// whether a Ctrl-C came while it ran.
    pub fn during<T>(&mut self, evaluate: impl FnOnce() -> T) -> (T, bool) {
        self.state.interrupted.store(false, Ordering::SeqCst);
        self.state.running.store(self.next, Ordering::SeqCst);
        self.next += 1;
        let out = evaluate();
        self.state.running.store(0, Ordering::SeqCst);
        (out, self.state.interrupted.swap(false, Ordering::SeqCst))
    }
}
