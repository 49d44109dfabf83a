//! The processes behind the lab's instances, kept in line with the world:
//! an instance that should run (its VM running, its server up) has its
//! process started, every other one stopped.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;

use crate::lab::error::LabError;
use crate::lab::instance_process::{ConfigSync, Health, InstanceProcess};
use crate::lab::zookeeper_process;

#[derive(Default)]
pub struct Processes {
    all: Vec<Box<dyn InstanceProcess>>,
    /// Set on the way down: nothing starts again after `stop_all`.
    closed: bool,
}

impl Processes {
    pub fn add(&mut self, process: Box<dyn InstanceProcess>) {
        self.all.push(process);
    }

    /// Whether a process of this role serves the instance.
    pub fn has(&self, alias: &str, role: &str) -> bool {
        self.all
            .iter()
            .any(|p| p.alias() == alias && p.role() == role)
    }

    /// Kills (a power loss, not an orderly stop) every process `lost` names,
    /// all at once, before any reconciliation.
    pub async fn power_off(&mut self, lost: impl Fn(&str) -> bool) {
        self.all_at_once(|p| lost(p.alias()), |p| p.kill()).await;
    }

    /// Starts and stops processes so each runs exactly when `should_run`
    /// says its instance runs. Returns one line per process that failed to
    /// start or stop; the others are still reconciled.
    pub async fn reconcile(&mut self, should_run: impl Fn(&str, &str) -> bool) -> Vec<String> {
        let mut failures = Vec::new();
        if self.closed {
            return failures;
        }
        for process in &mut self.all {
            let wanted = should_run(process.alias(), process.role());
            let outcome = if wanted {
                process.start().await
            } else {
                process.stop().await
            };
            if let Err(e) = outcome {
                let verb = if wanted { "start" } else { "stop" };
                failures.push(format!("cannot {verb} {}: {e}", process.alias()));
            }
        }
        failures
    }

    /// `svcadm restart`: SMF's stop method, then a start, for the
    /// instance's process of `role`.
    pub async fn restart(&mut self, alias: &str, role: &str) -> Result<(), LabError> {
        if self.closed {
            return Ok(());
        }
        for process in self.matching(alias, role) {
            process.svc_stop().await?;
            process.start().await?;
        }
        Ok(())
    }

    /// `svcadm disable`: SMF's stop method for the instance's process of
    /// `role` (the caller keeps it from starting again).
    pub async fn disable(&mut self, alias: &str, role: &str) -> Result<(), LabError> {
        for process in self.matching(alias, role) {
            process.svc_stop().await?;
        }
        Ok(())
    }

    /// Sets or lifts a stall on the instance's processes; false when none
    /// of them can stall.
    pub async fn stall(&mut self, alias: &str, on: bool) -> Result<bool, LabError> {
        if self.closed {
            return Err(stopping());
        }
        let mut any = false;
        for process in self.all.iter_mut().filter(|p| p.alias() == alias) {
            any |= process.stall(on).await?;
        }
        Ok(any)
    }

    fn matching<'a>(
        &'a mut self,
        alias: &'a str,
        role: &'a str,
    ) -> impl Iterator<Item = &'a mut Box<dyn InstanceProcess>> {
        self.all
            .iter_mut()
            .filter(move |p| p.alias() == alias && p.role() == role)
    }

    /// config-agent's sync in one instance: what it did, per role whose
    /// config changed.
    pub async fn sync_config(
        &mut self,
        alias: &str,
    ) -> Result<Vec<(&'static str, ConfigSync)>, LabError> {
        // A sync queued behind `lab down` would start a ZooKeeper again
        // after every process was stopped, and nothing would stop it.
        if self.closed {
            return Err(stopping());
        }
        let mut changed = Vec::new();
        for process in self.all.iter_mut().filter(|p| p.alias() == alias) {
            let outcome = process.sync_config().await?;
            if outcome != ConfigSync::Unchanged {
                changed.push((process.role(), outcome));
            }
        }
        Ok(changed)
    }

    /// Stops everything, in two waves of concurrent stops, and tells
    /// `report` what each wave stops. ZooKeeper goes last: a registrar
    /// removes its record only while the ensemble serves, and waits (3 s)
    /// for it otherwise.
    pub async fn stop_all(&mut self, report: impl Fn(&str)) {
        self.closed = true;
        for process in &mut self.all {
            process.quiesce().await;
        }
        let clients = |p: &dyn InstanceProcess| p.role() != zookeeper_process::ROLE;
        if let Some(roles) = self.roles(clients) {
            report(&format!("stopping every {roles} process"));
        }
        self.all_at_once(clients, |p| p.stop()).await;
        let ensemble = |p: &dyn InstanceProcess| p.role() == zookeeper_process::ROLE;
        if let Some(members) = self.aliases(ensemble) {
            report(&format!("stopping ZooKeeper ({members})"));
        }
        self.all_at_once(ensemble, |p| p.stop()).await;
    }

    /// Does `act` to every process `pick` chooses, all at once: their stops
    /// wait on different things (a JVM, a PostgreSQL checkpoint, a
    /// ZooKeeper reply), so one after another they would add up.
    async fn all_at_once(
        &mut self,
        pick: impl Fn(&dyn InstanceProcess) -> bool,
        act: fn(&mut dyn InstanceProcess) -> BoxFuture<'_, Result<(), LabError>>,
    ) {
        let acts = self
            .all
            .iter_mut()
            .filter(|p| pick(p.as_ref()))
            .map(|p| act(p.as_mut()));
        futures::future::join_all(acts).await;
    }

    /// The roles `pick` chooses, each once: "api, binder-dns and registrar";
    /// `None` when it chooses none.
    fn roles(&self, pick: impl Fn(&dyn InstanceProcess) -> bool) -> Option<String> {
        let roles: BTreeSet<&str> = self.picked(pick).map(|p| p.role()).collect();
        let roles: Vec<&str> = roles.into_iter().collect();
        let (last, rest) = roles.split_last()?;
        Some(match rest {
            [] => (*last).to_string(),
            _ => format!("{} and {last}", rest.join(", ")),
        })
    }

    /// The aliases `pick` chooses, or `None`.
    fn aliases(&self, pick: impl Fn(&dyn InstanceProcess) -> bool) -> Option<String> {
        let aliases: Vec<&str> = self.picked(pick).map(|p| p.alias()).collect();
        (!aliases.is_empty()).then(|| aliases.join(", "))
    }

    fn picked(
        &self,
        pick: impl Fn(&dyn InstanceProcess) -> bool,
    ) -> impl Iterator<Item = &dyn InstanceProcess> {
        self.all
            .iter()
            .map(|p| p.as_ref())
            .filter(move |p| pick(*p))
    }

    /// alias → port of every process that has chosen one.
    pub fn ports(&self) -> BTreeMap<String, u16> {
        self.all
            .iter()
            .filter_map(|p| p.port().map(|port| (p.alias().to_string(), port)))
            .collect()
    }

    pub fn port(&self, alias: &str) -> Option<u16> {
        self.all
            .iter()
            .filter(|p| p.alias() == alias)
            .find_map(|p| p.port())
    }

    /// Processes that should answer and do not: `lab up` is not ready until
    /// this is empty.
    pub async fn unhealthy(&self, should_run: impl Fn(&str, &str) -> bool) -> Vec<String> {
        let mut sick = Vec::new();
        for process in &self.all {
            if !should_run(process.alias(), process.role()) {
                continue;
            }
            match process.health().await {
                Health::Up => {}
                Health::Down => sick.push(format!(
                    "{} ({}) is not started",
                    process.alias(),
                    process.role()
                )),
                Health::Failing(why) => sick.push(format!("{}: {why}", process.alias())),
            }
        }
        sick
    }
}

/// Why nothing starts once `stop_all` has run.
fn stopping() -> LabError {
    LabError::Other("the lab is stopping".into())
}
