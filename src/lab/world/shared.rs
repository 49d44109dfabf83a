//! The world behind a lock, shared by the twins and the lab, broadcasting its changes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast;

use super::{Change, World};

/// A cheap-to-clone handle on the one world of a lab.
///
/// Every access first brings jobs up to date with the clock, so what a request sees is always
/// current; `drive_jobs` does the same in the background so changes (a binder VM becoming
/// running) are broadcast even when nobody is asking.
#[derive(Clone)]
pub struct SharedWorld {
    world: Arc<Mutex<World>>,
    changes: broadcast::Sender<Change>,
}

impl SharedWorld {
    pub fn new(world: World) -> SharedWorld {
        world.warm_caches();
        let (changes, _) = broadcast::channel(4096);
        SharedWorld {
            world: Arc::new(Mutex::new(world)),
            changes,
        }
    }

    /// Changes from now on, in order. A receiver that falls 4096 behind gets `Lagged`.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Runs `f` on the up-to-date world, then broadcasts what changed. Keep `f` short: it
    /// holds the lock (and must never await).
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let (r, changes) = {
            // A panic while holding the lock leaves the data usable: take it back.
            let mut w = self.world.lock().unwrap_or_else(|p| p.into_inner());
            w.advance(Utc::now());
            let r = f(&mut w);
            (r, w.take_changes())
        };
        for c in changes {
            // No subscriber is fine: nothing runs behind the instances yet.
            let _ = self.changes.send(c);
        }
        r
    }

    /// A copy of the world, e.g. to save it.
    pub fn snapshot(&self) -> World {
        self.with(|w| w.clone())
    }

    /// Advances jobs as they fall due, forever; spawn it once per lab (`tokio::spawn`).
    pub async fn drive_jobs(self) {
        loop {
            let due = self.with(|w| w.next_job_due());
            let wait = due
                .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_millis(200))
                .min(Duration::from_millis(200));
            tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
        }
    }
}
