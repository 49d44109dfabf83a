//! Names that live in the datacenter (server hostnames, VM aliases, SAPI
//! service names) for completion, cached for a short while.
//!
//! A keystroke never waits on the network: asking for the names returns what
//! is cached at once and, when that is stale, starts a refresh on the
//! runtime that the next Tab will see.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::script::LazyDatacenter;
use crate::script::names::{self, FetchedNames};

/// How long fetched names are used before they are fetched again.
pub const FRESH_FOR: Duration = Duration::from_secs(30);

/// A refresh that has not finished by then is abandoned, so a datacenter
/// that stopped answering does not stop later refreshes.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveNames {
    pub hostnames: Vec<String>,
    pub vm_aliases: Vec<String>,
    pub services: Vec<String>,
}

pub type Fetch = Arc<dyn Fn() -> BoxFuture<'static, FetchedNames> + Send + Sync>;

pub struct LiveCache {
    rt: tokio::runtime::Handle,
    fetch: Fetch,
    fresh_for: Duration,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    names: LiveNames,
    fetched_at: Option<Instant>,
    refreshing: bool,
}

impl LiveCache {
    pub fn new(rt: tokio::runtime::Handle, fetch: Fetch, fresh_for: Duration) -> LiveCache {
        LiveCache {
            rt,
            fetch,
            fresh_for,
            state: Arc::default(),
        }
    }

    /// The cached names, at once; starts a background refresh when they are
    /// older than `fresh_for` (or were never fetched).
    pub fn names(&self) -> LiveNames {
        let mut state = lock(&self.state);
        let stale = state
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.fresh_for);
        if stale && !state.refreshing {
            state.refreshing = true;
            self.spawn_refresh();
        }
        state.names.clone()
    }

    fn spawn_refresh(&self) {
        let fetch = (self.fetch)();
        let state = Arc::clone(&self.state);
        self.rt.spawn(async move {
            let fetched = tokio::time::timeout(FETCH_TIMEOUT, fetch)
                .await
                .unwrap_or_default();
            let mut state = lock(&state);
            let names = &mut state.names;
            if let Some(hostnames) = fetched.hostnames {
                names.hostnames = hostnames;
            }
            if let Some(aliases) = fetched.vm_aliases {
                names.vm_aliases = aliases;
            }
            if let Some(services) = fetched.services {
                names.services = services;
            }
            state.fetched_at = Some(Instant::now());
            state.refreshing = false;
        });
    }
}

/// Reads the names through the script layer; none until a call has found
/// the datacenter (Tab never starts a lab).
pub fn from_datacenter(dc: LazyDatacenter) -> Fetch {
    Arc::new(move || Box::pin(names::fetch(&dc)))
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting_fetch(calls: Arc<AtomicUsize>, fail: bool) -> Fetch {
        Arc::new(move || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if fail {
                    return FetchedNames::default();
                }
                FetchedNames {
                    hostnames: Some(vec![format!("cn{n}")]),
                    vm_aliases: Some(vec!["moray0".into()]),
                    services: Some(vec!["moray".into()]),
                }
            })
        })
    }

    /// Polls until the background refresh has landed (bounded, no timing
    /// assertion).
    fn wait_for(cache: &LiveCache, pred: impl Fn(&LiveNames) -> bool) -> LiveNames {
        for _ in 0..500 {
            let names = lock(&cache.state).names.clone();
            if pred(&names) {
                return names;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the background refresh never landed");
    }

    #[test]
    fn first_ask_is_empty_and_the_refresh_lands_later() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = LiveCache::new(
            rt.handle().clone(),
            counting_fetch(calls.clone(), false),
            Duration::from_secs(3600),
        );
        assert_eq!(cache.names(), LiveNames::default());
        let names = wait_for(&cache, |n| !n.hostnames.is_empty());
        assert_eq!(names.hostnames, vec!["cn0"]);
        assert_eq!(cache.names().hostnames, vec!["cn0"]);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "fresh names are reused");
    }

    #[test]
    fn stale_names_are_refetched_and_failures_keep_the_old_ones() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = LiveCache::new(
            rt.handle().clone(),
            counting_fetch(calls.clone(), false),
            Duration::ZERO,
        );
        cache.names();
        wait_for(&cache, |n| n.hostnames == ["cn0"]);
        // Wait for the flag too, or the next ask would not start a refresh.
        while lock(&cache.state).refreshing {
            std::thread::sleep(Duration::from_millis(5));
        }
        cache.names();
        wait_for(&cache, |n| n.hostnames == ["cn1"]);

        let failing = LiveCache {
            fetch: counting_fetch(Arc::new(AtomicUsize::new(0)), true),
            ..cache
        };
        while lock(&failing.state).refreshing {
            std::thread::sleep(Duration::from_millis(5));
        }
        failing.names();
        while lock(&failing.state).refreshing {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(failing.names().services, vec!["moray"]);
    }
}
