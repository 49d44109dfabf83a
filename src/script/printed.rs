//! Where a script's `print()` and `debug()` lines go: to the terminal, or,
//! while a runbook runs, to the run's transcript. What a step prints is
//! part of what it did, and it may print what it read from SAPI, secrets
//! included: the transcript keeps it and shows it, redacted.

use std::sync::{Arc, Mutex};

/// What takes a printed line during a run.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// The run's sink, while there is one; shared by the engine's print hooks
/// and the runbook engine.
#[derive(Clone, Default)]
pub struct Printed(Arc<Mutex<Option<Sink>>>);

impl Printed {
    /// Gives `text` to the run's sink, or, outside a run, to `terminal`.
    pub fn line(&self, text: &str, terminal: impl FnOnce(&str)) {
        // Taken out of the lock first: the sink may take its time.
        let sink = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match sink {
            Some(sink) => sink(text),
            None => terminal(text),
        }
    }

    /// Sends lines to `sink` until the guard is dropped, then back where
    /// they went before (a run started from a step of another run gives
    /// them back to that run).
    pub fn route(&self, sink: Sink) -> Routed {
        let previous = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(sink);
        Routed {
            printed: self.clone(),
            previous,
        }
    }
}

/// Held while lines go to a run's sink.
pub struct Routed {
    printed: Printed,
    previous: Option<Sink>,
}

impl Drop for Routed {
    fn drop(&mut self) {
        *self.printed.0.lock().unwrap_or_else(|e| e.into_inner()) = self.previous.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_go_to_the_run_while_it_holds_the_route() {
        let printed = Printed::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = |tag: &'static str| -> Sink {
            let seen = seen.clone();
            Arc::new(move |text: &str| seen.lock().unwrap().push(format!("{tag} {text}")))
        };
        let terminal = |text: &str| seen.lock().unwrap().push(format!("terminal {text}"));
        printed.line("a", terminal);
        let outer = printed.route(sink("run"));
        printed.line("b", terminal);
        let inner = printed.route(sink("inner"));
        printed.line("c", terminal);
        drop(inner);
        printed.line("d", terminal);
        drop(outer);
        printed.line("e", terminal);
        assert_eq!(
            *seen.lock().unwrap(),
            ["terminal a", "run b", "inner c", "run d", "terminal e"]
        );
    }
}
