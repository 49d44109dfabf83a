//! Ctrl-C for a running evaluation.
//!
//! Rhai's `on_progress` runs only between operations, so a host function
//! blocked on the network would never see it. Every host call therefore
//! waits through [`Interrupt::block_on`], which races the call against the
//! current cancellation token; dropping the losing future is what cancels
//! an in-flight HTTP request.

use std::future::Future;
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

/// The evaluation was interrupted (Ctrl-C or SIGTERM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

/// One token per evaluation: `trigger` cancels the evaluation under way,
/// `arm` starts a new one that is not cancelled.
#[derive(Debug, Default)]
pub struct Interrupt {
    token: Mutex<CancellationToken>,
}

impl Interrupt {
    /// A fresh, untriggered token for the next evaluation.
    pub fn arm(&self) {
        *self.lock() = CancellationToken::new();
    }

    /// Cancels the evaluation under way (called from the signal handler).
    pub fn trigger(&self) {
        self.lock().cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.lock().is_cancelled()
    }

    /// Runs `fut` to completion on `rt` from a non-runtime thread (the
    /// engine's), unless the current evaluation is interrupted first.
    pub fn block_on<F: Future>(
        &self,
        rt: &tokio::runtime::Handle,
        fut: F,
    ) -> Result<F::Output, Interrupted> {
        let token = self.lock().clone();
        rt.block_on(async move {
            tokio::select! {
                biased;
                _ = token.cancelled() => Err(Interrupted),
                out = fut => Ok(out),
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CancellationToken> {
        self.token.lock().unwrap_or_else(|e| e.into_inner())
    }
}
