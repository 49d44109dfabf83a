//! What every host function needs: the runtime to block on, the
//! datacenter's clients, the Ctrl-C switch and how output is shown.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{EvalAltResult, Position};

use super::interrupt::{Interrupt, Interrupted};
use super::lazy_dc::LazyDatacenter;
use super::printed::Printed;
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
    /// Found on first use: see [`ScriptCtx::dc`].
    pub dc: LazyDatacenter,
    pub interrupt: Interrupt,
    pub output: OutputOptions,
    /// Where the script's `print()` and `debug()` lines go.
    pub printed: Printed,
    /// Set with the interrupt: `on_progress` reads it on every operation,
    /// which is too often for the interrupt's lock.
    stop: AtomicBool,
    /// The status a script asked to exit with (`exit(n)`), for the front end.
    exit: std::sync::Mutex<Option<u8>>,
}

impl ScriptCtx {
    pub fn new(rt: tokio::runtime::Handle, dc: LazyDatacenter, output: OutputOptions) -> ScriptCtx {
        ScriptCtx {
            rt,
            dc,
            interrupt: Interrupt::default(),
            output,
            printed: Printed::default(),
            stop: AtomicBool::new(false),
            exit: std::sync::Mutex::new(None),
        }
    }

    /// Records that the script called `exit(status)`.
    pub fn request_exit(&self, status: u8) {
        *self.exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
    }

    /// The status of an `exit(…)` since the last call, if the script made one.
    pub fn take_exit(&self) -> Option<u8> {
        self.exit.lock().unwrap_or_else(|e| e.into_inner()).take()
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

    /// The datacenter, found now if this is the first call that needs it.
    /// Failing to find it is a script error (tried again on the next call);
    /// Ctrl-C stops the wait, as for any host call.
    pub fn dc(&self) -> Result<&Arc<Datacenter>, Box<EvalAltResult>> {
        if let Some(dc) = self.dc.get() {
            return Ok(dc);
        }
        let lazy = self.dc.clone();
        // Off the engine thread's block_on, so Ctrl-C is seen while a lab
        // starts; an interrupted attempt still finishes and is kept.
        let finding = self.rt.spawn_blocking(move || lazy.find(true));
        self.call(async move {
            finding
                .await
                .unwrap_or_else(|e| Err(format!("no datacenter: finding it failed: {e}")))
        })?;
        self.dc
            .get()
            .ok_or_else(|| "no datacenter: finding it left none".into())
    }

    /// `call` on a request to the datacenter: `c.call_dc(|dc| dc.vmapi.get(&uuid))`.
    pub fn call_dc<'s, T, E: Display, F: Future<Output = Result<T, E>>>(
        &'s self,
        request: impl FnOnce(&'s Datacenter) -> F,
    ) -> Result<T, Box<EvalAltResult>> {
        let dc = self.dc()?;
        self.call(request(dc))
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
