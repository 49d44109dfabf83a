//! What every host function needs: the runtime to block on, the
//! datacenter's clients, the Ctrl-C switch and how output is shown.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{EvalAltResult, Position};

use super::interrupt::{Interrupt, Interrupted};
use crate::dc::Datacenter;

/// How results are shown (runbooks print tables the same way the shell does).
#[derive(Clone, Copy, Debug)]
pub struct OutputOptions {
    pub json: bool,
    pub color: bool,
    pub width: usize,
}

pub struct ScriptCtx {
    pub rt: tokio::runtime::Handle,
    pub dc: Arc<Datacenter>,
    pub interrupt: Interrupt,
    pub output: OutputOptions,
    /// Set with the interrupt: `on_progress` reads it on every operation,
    /// which is too often for the interrupt's lock.
    stop: AtomicBool,
}

impl ScriptCtx {
    pub fn new(
        rt: tokio::runtime::Handle,
        dc: Arc<Datacenter>,
        output: OutputOptions,
    ) -> ScriptCtx {
        ScriptCtx {
            rt,
            dc,
            interrupt: Interrupt::default(),
            output,
            stop: AtomicBool::new(false),
        }
    }

    /// Runs a host call's future from the engine thread. A failure becomes
    /// a script error carrying its one-line message; an interrupt becomes
    /// `ErrorTerminated`, which scripts cannot catch.
    pub fn call<T, E: Display>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, Box<EvalAltResult>> {
        match self.interrupt.block_on(&self.rt, fut) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string().into()),
            Err(Interrupted) => Err(terminated()),
        }
    }

    /// Starts a new evaluation: nothing is interrupted.
    pub fn arm(&self) {
        self.stop.store(false, Ordering::SeqCst);
        self.interrupt.arm();
    }

    /// Interrupts the evaluation under way, both a host call waiting on the
    /// network and a pure-Rhai loop.
    pub fn trigger(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.interrupt.trigger();
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// The error that ends an interrupted evaluation.
pub fn terminated() -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated("interrupted".into(), Position::NONE).into()
}
