//! The commands CNAPI's CommandExecute passes on to a zone
//! (`zone_command.rs` parses them): svcadm on the processes behind the
//! instance, config-agent's sync, and `manatee-adm rebuild` in a manatee
//! zone.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::LabCore;
use crate::lab::instance_process::ConfigSync;
use crate::lab::manatee::peer_process::{manatee_aliases, rebuild_target};
use crate::lab::manatee::rebuild::{self, SitterService};
use crate::lab::zone_command::{Outcome, SvcVerb, ZoneAction, ZoneCommand};

impl LabCore {
    /// Runs a command CNAPI's CommandExecute passed on.
    pub async fn zone_command(&self, command: ZoneCommand) -> Outcome {
        let alias = self
            .world
            .with(|w| w.vm(&command.vm_uuid).and_then(|vm| vm.alias.clone()));
        let Some(alias) = alias else {
            return Outcome::failed(1, format!("zlogin: zone '{}' unknown\n", command.vm_uuid));
        };
        match command.action {
            ZoneAction::ConfigSync => self.config_sync(&alias).await,
            ZoneAction::Svcadm { verb, service } => self.svcadm(&alias, verb, &service).await,
            ZoneAction::ManateeAdm { args } => self.manatee_adm(&alias, &args).await,
        }
    }

    async fn svcadm(&self, alias: &str, verb: SvcVerb, service: &str) -> Outcome {
        // config-agent has no process of its own here: starting it syncs.
        if service == "config-agent" {
            return match verb {
                SvcVerb::Disable => Outcome::ok(""),
                SvcVerb::Enable | SvcVerb::Restart => self.config_sync(alias).await,
            };
        }
        let role = match service {
            "binder" => "binder-dns",
            other => other,
        };
        if !self.processes.lock().await.has(alias, role) {
            return Outcome::failed(
                1,
                format!("svcadm: Pattern '{service}' doesn't match any instances\n"),
            );
        }
        let key = (alias.to_string(), role.to_string());
        let was_disabled = match self.disabled.lock() {
            Ok(mut disabled) => match verb {
                SvcVerb::Enable => disabled.remove(&key),
                SvcVerb::Disable => !disabled.insert(key),
                SvcVerb::Restart => disabled.contains(&key),
            },
            Err(_) => {
                return Outcome::failed(1, "svcadm: the lab's service states are unreadable\n");
            }
        };
        let failures = match verb {
            SvcVerb::Enable => self.reconcile().await,
            SvcVerb::Disable => {
                // SMF's stop method first (for the sitter, `:kill`), then
                // the rest of the lab follows.
                let stopped = self.processes.lock().await.disable(alias, role).await;
                let mut failures: Vec<String> =
                    stopped.err().map(|e| e.to_string()).into_iter().collect();
                failures.extend(self.reconcile().await);
                failures
            }
            // svcadm restart of a disabled service does nothing.
            SvcVerb::Restart if was_disabled => Vec::new(),
            SvcVerb::Restart => {
                let mut processes = self.processes.lock().await;
                match processes.restart(alias, role).await {
                    Ok(()) => Vec::new(),
                    Err(e) => vec![e.to_string()],
                }
            }
        };
        match failures.into_iter().next() {
            None => Outcome::ok(""),
            Some(why) => {
                Outcome::failed(1, format!("svcadm: {service} went to maintenance: {why}\n"))
            }
        }
    }

    async fn config_sync(&self, alias: &str) -> Outcome {
        let mut processes = self.processes.lock().await;
        let changed = match processes.sync_config(alias).await {
            Ok(changed) => changed,
            Err(e) => return Outcome::failed(1, format!("config-agent: {e}\n")),
        };
        if changed.is_empty() {
            return Outcome::ok("config-agent: nothing changed\n");
        }
        let lines: Vec<String> = changed
            .iter()
            .map(|(role, outcome)| match outcome {
                ConfigSync::Restarted => format!("config-agent: wrote new config for {role}; restarted it\n"),
                _ => format!(
                    "config-agent: wrote new config for {role}; it takes effect when {role} restarts\n"
                ),
            })
            .collect();
        Outcome::ok(lines.concat())
    }

    async fn manatee_adm(&self, alias: &str, args: &[String]) -> Outcome {
        let target = self.world.with(|w| {
            manatee_aliases(w)
                .iter()
                .any(|a| a == alias)
                .then(|| rebuild_target(w, alias, &self.dir))
        });
        let target = match target {
            None => {
                return Outcome::failed(
                    127,
                    "bash: /opt/smartdc/manatee/node_modules/.bin/manatee-adm: No such file or directory (not a manatee zone)\n",
                );
            }
            Some(Err(why)) => {
                return Outcome::failed(1, format!("manatee-adm: error: {why}\n"));
            }
            Some(Ok(target)) => target,
        };
        let sitter = ZoneSitter { core: self, alias };
        rebuild::manatee_adm(args, target, &sitter).await
    }
}

/// `svcadm … -s manatee-sitter` in one zone, for manatee-adm.
struct ZoneSitter<'a> {
    core: &'a LabCore,
    alias: &'a str,
}

impl ZoneSitter<'_> {
    async fn svcadm(&self, verb: SvcVerb) -> Result<(), String> {
        let outcome = self.core.svcadm(self.alias, verb, "manatee-sitter").await;
        if outcome.exit_code == 0 {
            Ok(())
        } else {
            Err(outcome.stderr.trim().to_string())
        }
    }
}

impl SitterService for ZoneSitter<'_> {
    fn disable(&self) -> BoxFuture<'_, Result<(), String>> {
        self.svcadm(SvcVerb::Disable).boxed()
    }

    fn enable(&self) -> BoxFuture<'_, Result<(), String>> {
        self.svcadm(SvcVerb::Enable).boxed()
    }
}
