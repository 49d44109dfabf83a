//! Asking every binder member of a lab for a service, over DNS, as a
//! client does: once, or again and again in the background while a test
//! changes the lab.

#![allow(dead_code)] // each test file uses a different part of this

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tritonsh::dc::binder_dns::{MemberAddresses, lookup_a_each};

/// Every binder member's DNS address, and the full name of `service`,
/// from `lab status --json`.
pub fn binders_and_name(status: &Value, service: &str) -> (Vec<SocketAddr>, String) {
    let binders: Vec<SocketAddr> = status["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter(|i| i["service"] == "binder")
        .filter_map(|i| i["dns"].as_str()?.parse().ok())
        .collect();
    assert!(!binders.is_empty(), "no binder: {status}");
    let name = format!(
        "{service}.{}.{}",
        status["datacenter_name"].as_str().unwrap_or_default(),
        status["dns_domain"].as_str().unwrap_or_default()
    );
    (binders, name)
}

/// What every member answers for `name`, once.
pub fn ask(binders: &[SocketAddr], name: &str) -> Vec<MemberAddresses> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(lookup_a_each(binders, name))
}

/// Asks every member again and again until stopped: the fewest addresses
/// any member gave, at each sample.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<usize>>,
}

impl Sampler {
    pub fn start(binders: Vec<SocketAddr>, name: String) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stopped.load(Ordering::SeqCst) {
                let answers = ask(&binders, &name);
                let fewest = answers.iter().map(|a| a.addresses.len()).min();
                samples.push(fewest.unwrap_or(0));
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        });
        Sampler { stop, thread }
    }

    pub fn finish(self) -> Vec<usize> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("the sampler")
    }
}
