//! The mutation gate: one switch, shared by every client of a datacenter,
//! that decides whether a request that changes something is sent.
//!
//! The runbook engine turns it to `Record` for a dry run (the request is
//! written down and not sent) and to `Deny` while checks run (a check that
//! tries to change the datacenter is a bug in the runbook, and must not
//! reach the datacenter). Reads always pass.
//!
//! Every client that writes (HTTP, ZooKeeper) asks the gate for a
//! [`Permit`] and hands it to the one function that puts the write on the
//! wire: only the gate makes permits, so a new write cannot skip it.

use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateMode {
    /// Mutating requests are sent.
    Send,
    /// Mutating requests are recorded and answered with `DcError::NotSent`.
    Record,
    /// Mutating requests are refused with `DcError::MutationDenied`.
    Deny,
}

/// A mutating request that the gate kept from the network.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RecordedRequest {
    /// `SAPI`, `VMAPI`, … or `ZooKeeper`.
    pub api: &'static str,
    pub method: String,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

/// Told of each mutating request the gate lets through, before it is sent:
/// a run's transcript must hold a request even when the process is killed
/// while it is on the wire.
pub type Witness = Arc<dyn Fn(&RecordedRequest) + Send + Sync>;

struct GateState {
    mode: GateMode,
    recorded: Vec<RecordedRequest>,
    /// The latest mutating requests let through, for a run's transcript.
    sent: Vec<RecordedRequest>,
    witness: Option<Witness>,
}

impl std::fmt::Debug for GateState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateState")
            .field("mode", &self.mode)
            .field("recorded", &self.recorded)
            .field("sent", &self.sent)
            .field("witness", &self.witness.is_some())
            .finish()
    }
}

/// How many sent requests the gate remembers when nobody takes them (the
/// REPL): enough for one runbook step, bounded for a long session.
const SENT_KEPT: usize = 64;

/// The gate's leave to send one write. Functions that put a write on the
/// wire take one by value; nothing outside this file can make one.
#[must_use = "a permit is for sending the write it was asked for"]
#[derive(Debug)]
pub struct Permit {
    _only_the_gate: (),
}

/// Why the gate gave no permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A dry run: the request was recorded for the plan.
    NotSent,
    /// Checks are running: nothing may change.
    Denied,
}

#[derive(Clone, Debug)]
pub struct MutationGate(Arc<Mutex<GateState>>);

impl Default for MutationGate {
    fn default() -> Self {
        MutationGate(Arc::new(Mutex::new(GateState {
            mode: GateMode::Send,
            recorded: Vec::new(),
            sent: Vec::new(),
            witness: None,
        })))
    }
}

impl MutationGate {
    pub fn mode(&self) -> GateMode {
        self.lock().mode
    }

    pub fn set(&self, mode: GateMode) {
        self.lock().mode = mode;
    }

    /// A permit to send `request`, or why not: in `Record` mode the
    /// request is written down instead.
    pub fn permit(&self, request: RecordedRequest) -> Result<Permit, Refusal> {
        let mut state = self.lock();
        match state.mode {
            GateMode::Record => {
                state.recorded.push(request);
                Err(Refusal::NotSent)
            }
            GateMode::Deny => Err(Refusal::Denied),
            GateMode::Send => {
                if let Some(witness) = &state.witness {
                    witness(&request);
                }
                if state.sent.len() == SENT_KEPT {
                    state.sent.remove(0);
                }
                state.sent.push(request);
                Ok(Permit { _only_the_gate: () })
            }
        }
    }

    /// Sets (or with `None` removes) the witness of requests let through.
    pub fn set_witness(&self, witness: Option<Witness>) {
        self.lock().witness = witness;
    }

    /// The mutating requests let through since the last call.
    pub fn take_sent(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut self.lock().sent)
    }

    /// The requests recorded since the last call.
    pub fn take_recorded(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut self.lock().recorded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // A panic while holding this lock cannot leave the state inconsistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RecordedRequest {
        RecordedRequest {
            api: "ZooKeeper",
            method: "setData".into(),
            path: "/manatee/sdc/state".into(),
            body: None,
        }
    }

    #[test]
    fn only_send_mode_gives_a_permit_and_record_mode_keeps_the_request() {
        let gate = MutationGate::default();
        gate.set(GateMode::Record);
        assert_eq!(gate.permit(request()).unwrap_err(), Refusal::NotSent);
        assert_eq!(gate.take_recorded(), vec![request()]);
        gate.set(GateMode::Deny);
        assert_eq!(gate.permit(request()).unwrap_err(), Refusal::Denied);
        assert!(gate.take_recorded().is_empty() && gate.take_sent().is_empty());
        gate.set(GateMode::Send);
        assert!(gate.permit(request()).is_ok());
        assert_eq!(gate.take_sent(), vec![request()]);
    }
}
