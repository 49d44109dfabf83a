//! The session's datacenter, found on first use.
//!
//! Finding it can mean asking a lab whether it runs, or starting one; a
//! script that never calls a datacenter function (`tritonsh -c 1+1`) must
//! not pay for that. A failed attempt is not kept: the next call tries
//! again, so `tritonsh lab up` in another terminal fixes a shell that
//! started before its lab.

use std::sync::{Arc, Mutex, OnceLock};

use crate::dc::identity::DatacenterId;
use crate::dc::{Datacenter, MutationGate};

/// Finds the datacenter; the error is one line saying what to do.
pub type Resolve = Box<dyn Fn(MutationGate) -> Result<Datacenter, String> + Send + Sync>;

/// Cheap to clone: every clone shares the one datacenter.
#[derive(Clone)]
pub struct LazyDatacenter(Arc<Shared>);

struct Shared {
    /// Exists before the datacenter does: runbooks set its mode before
    /// their first call.
    gate: MutationGate,
    /// Which datacenter, known before it is found.
    id: DatacenterId,
    resolve: Resolve,
    /// Printed on stderr the first time a script's call finds the
    /// datacenter (the REPL prints its banner instead).
    note: Option<String>,
    found: OnceLock<Arc<Datacenter>>,
    /// One attempt at a time: two callers must not start two labs.
    finding: Mutex<()>,
}

impl LazyDatacenter {
    pub fn new(
        gate: MutationGate,
        id: DatacenterId,
        note: Option<String>,
        resolve: Resolve,
    ) -> LazyDatacenter {
        LazyDatacenter(Arc::new(Shared {
            gate,
            id,
            resolve,
            note,
            found: OnceLock::new(),
            finding: Mutex::new(()),
        }))
    }

    pub fn gate(&self) -> &MutationGate {
        &self.0.gate
    }

    pub fn id(&self) -> &DatacenterId {
        &self.0.id
    }

    /// The datacenter if it has been found; never blocks.
    pub fn get(&self) -> Option<&Arc<Datacenter>> {
        self.0.found.get()
    }

    /// Finds the datacenter now if need be (blocking: run it off the
    /// runtime's worker threads). `announce` prints the note on stderr.
    pub fn find(&self, announce: bool) -> Result<Arc<Datacenter>, String> {
        if let Some(dc) = self.get() {
            return Ok(dc.clone());
        }
        // A panic in another attempt leaves nothing half-done here.
        let _one_at_a_time = self.0.finding.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dc) = self.get() {
            return Ok(dc.clone());
        }
        let dc = Arc::new((self.0.resolve)(self.0.gate.clone())?);
        let dc = self.0.found.get_or_init(|| dc).clone();
        if let (true, Some(note)) = (announce, &self.0.note) {
            eprintln!("{note}");
        }
        Ok(dc)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::dc::Endpoints;

    fn endpoints() -> Result<Endpoints, String> {
        let url = "http://127.0.0.1:9";
        Endpoints::all_at(url).map_err(|e| e.to_string())
    }

    /// Fails the first `failures` times, then finds a datacenter.
    fn flaky(failures: usize, calls: Arc<AtomicUsize>) -> LazyDatacenter {
        LazyDatacenter::new(
            MutationGate::default(),
            DatacenterId::lab(std::path::Path::new("/nowhere")),
            None,
            Box::new(move |gate| {
                if calls.fetch_add(1, Ordering::SeqCst) < failures {
                    return Err("no lab is running in /nowhere".to_string());
                }
                Datacenter::new(endpoints()?, gate).map_err(|e| e.to_string())
            }),
        )
    }

    #[test]
    fn nothing_is_resolved_until_asked() {
        let calls = Arc::new(AtomicUsize::new(0));
        let lazy = flaky(0, calls.clone());
        assert!(lazy.get().is_none());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_failure_is_retried_and_a_success_kept() {
        let calls = Arc::new(AtomicUsize::new(0));
        let lazy = flaky(1, calls.clone());
        assert_eq!(
            lazy.find(false).err().as_deref(),
            Some("no lab is running in /nowhere")
        );
        assert!(lazy.find(false).is_ok());
        assert!(lazy.find(false).is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(lazy.get().is_some());
    }

    #[test]
    fn the_datacenter_uses_the_gate_set_before_it_was_found() {
        let lazy = flaky(0, Arc::new(AtomicUsize::new(0)));
        lazy.gate().set(crate::dc::GateMode::Record);
        let dc = lazy.find(false);
        assert_eq!(
            dc.map(|dc| dc.gate().mode()).ok(),
            Some(crate::dc::GateMode::Record)
        );
    }
}
