//! The commands the lab runs inside a zone when CNAPI's CommandExecute is
//! asked for them: `svcadm enable|disable|restart [-s] FMRI` for the
//! services the lab really runs in a zone, config-agent's one-off sync, and
//! `manatee-adm` in a manatee zone (its `rebuild`). The command may be
//! quoted and start with `source ~/.bashrc;`, as sdcadm sends it. Anything
//! else is refused with exit 127 and says so: the lab never fakes a
//! success.

use tokio::sync::{mpsc, oneshot};

/// What a CommandExecute script asks of one zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneCommand {
    pub vm_uuid: String,
    pub action: ZoneAction,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZoneAction {
    /// `svcadm VERB SERVICE`, the service reduced from its FMRI.
    Svcadm { verb: SvcVerb, service: String },
    /// `node /opt/smartdc/config-agent/agent.js -s`.
    ConfigSync,
    /// `/opt/smartdc/manatee/node_modules/.bin/manatee-adm ARGS…`.
    ManateeAdm { args: Vec<String> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvcVerb {
    Enable,
    Disable,
    Restart,
}

/// What the script printed and its exit code, as CNAPI answers with `json`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    #[serde(rename = "exitCode")]
    pub exit_code: i32,
}

impl Outcome {
    pub fn ok(stdout: impl Into<String>) -> Outcome {
        Outcome {
            stdout: stdout.into(),
            stderr: String::new(),
            exit_code: 0,
        }
    }

    pub fn failed(exit_code: i32, stderr: impl Into<String>) -> Outcome {
        Outcome {
            stdout: String::new(),
            stderr: stderr.into(),
            exit_code,
        }
    }
}

/// How the CNAPI twin hands a command to the lab, and gets its outcome.
pub type ZoneRequest = (ZoneCommand, oneshot::Sender<Outcome>);
pub type ZoneCommands = mpsc::Sender<ZoneRequest>;

const MANATEE_ADM: &str = "/opt/smartdc/manatee/node_modules/.bin/manatee-adm";

const CONFIG_AGENT_SYNC: &[&str] = &[
    "/opt/smartdc/config-agent/build/node/bin/node",
    "/opt/smartdc/config-agent/agent.js",
    "-s",
];

/// Reads a CommandExecute script: a shebang, then one `zlogin UUID …` line.
/// `Err` is the outcome to answer with: what the lab does not imitate.
pub fn parse(script: &str) -> Result<ZoneCommand, Outcome> {
    let unsupported = |what: &str| {
        Outcome::failed(
            127,
            format!(
                "the lab does not imitate {what}: it runs only `zlogin VM svcadm enable|disable|restart [-s] FMRI`, config-agent's sync (`zlogin VM {} -s`) and `zlogin VM {MANATEE_ADM} rebuild -y`\n",
                &CONFIG_AGENT_SYNC[..2].join(" ")
            ),
        )
    };
    let mut lines = script.lines().map(str::trim).filter(|l| !l.is_empty());
    match lines.next() {
        Some(shebang) if shebang.starts_with("#!") => {}
        _ => return Err(unsupported("a script without a shebang")),
    }
    let Some(line) = lines.next() else {
        return Err(unsupported("an empty script"));
    };
    if lines.next().is_some() {
        return Err(unsupported("a script of several commands"));
    }
    let mut words = line.splitn(3, char::is_whitespace);
    let (Some("zlogin"), Some(vm_uuid)) = (words.next(), words.next()) else {
        return Err(unsupported(&format!("`{line}` (commands outside a zone)")));
    };
    let command: Vec<&str> = in_zone(words.next().unwrap_or_default())
        .split_whitespace()
        .collect();
    let command = command.as_slice();
    let action = match command {
        [svcadm, verb, rest @ ..] if svcadm.ends_with("svcadm") => {
            let verb = match *verb {
                "enable" => SvcVerb::Enable,
                "disable" => SvcVerb::Disable,
                "restart" => SvcVerb::Restart,
                _ => return Err(unsupported(&format!("`svcadm {verb}`"))),
            };
            let fmris: Vec<&str> = rest.iter().copied().filter(|w| *w != "-s").collect();
            let [fmri] = fmris.as_slice() else {
                return Err(unsupported(&format!("`{}`", command.join(" "))));
            };
            ZoneAction::Svcadm {
                verb,
                service: service_of(fmri).to_string(),
            }
        }
        sync if sync == CONFIG_AGENT_SYNC => ZoneAction::ConfigSync,
        [adm, args @ ..] if *adm == MANATEE_ADM || *adm == "manatee-adm" => {
            ZoneAction::ManateeAdm {
                args: args.iter().map(|a| a.to_string()).collect(),
            }
        }
        _ => return Err(unsupported(&format!("`{}`", command.join(" ")))),
    };
    Ok(ZoneCommand {
        vm_uuid: vm_uuid.to_string(),
        action,
    })
}

/// What `zlogin VM` runs: the command as given, or, quoted as one word the
/// way sdcadm sends it, its contents after an optional `source ~/.bashrc;`
/// (which puts manatee-adm on the PATH and sets ZK_IPS and SHARD).
fn in_zone(command: &str) -> &str {
    let command = command.trim();
    let unquoted = ['"', '\''].iter().find_map(|q| {
        command
            .strip_prefix(*q)
            .and_then(|rest| rest.strip_suffix(*q))
    });
    let Some(inner) = unquoted else {
        return command;
    };
    let inner = inner.trim();
    inner
        .strip_prefix("source ~/.bashrc;")
        .map(str::trim)
        .unwrap_or(inner)
}

/// `svc:/smartdc/application/zookeeper:default` → `zookeeper`.
fn service_of(fmri: &str) -> &str {
    let path = fmri.strip_prefix("svc:").unwrap_or(fmri);
    let path = path.split(':').next().unwrap_or(path);
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VM: &str = "4770e9ef-ee71-4788-8d37-e65068283d04";

    #[test]
    fn reads_what_sdcadm_sends() {
        let c = parse(&format!("#!/bin/bash\nzlogin {VM} /usr/sbin/svcadm restart -s svc:/smartdc/application/zookeeper:default\n")).unwrap();
        assert_eq!(c.vm_uuid, VM);
        assert_eq!(
            c.action,
            ZoneAction::Svcadm {
                verb: SvcVerb::Restart,
                service: "zookeeper".into()
            }
        );
        let c = parse(&format!(
            "#!/bin/bash\nzlogin {VM} /opt/smartdc/config-agent/build/node/bin/node /opt/smartdc/config-agent/agent.js -s"
        ))
        .unwrap();
        assert_eq!(c.action, ZoneAction::ConfigSync);
    }

    #[test]
    fn reads_manatee_adm_bare_and_as_sdcadm_quotes_it() {
        let want = ZoneAction::ManateeAdm {
            args: vec!["rebuild".into(), "-y".into()],
        };
        for line in [
            format!("zlogin {VM} {MANATEE_ADM} rebuild -y"),
            format!("zlogin {VM} \"source ~/.bashrc; {MANATEE_ADM} rebuild -y\""),
            format!("zlogin {VM} 'source ~/.bashrc; manatee-adm rebuild -y'"),
        ] {
            let c = parse(&format!("#!/bin/bash\n{line}\n")).unwrap();
            assert_eq!(c.action, want, "{line}");
        }
        let c = parse(&format!(
            "#!/bin/bash\nzlogin {VM} \"svcadm disable -s manatee-sitter\""
        ))
        .unwrap();
        assert_eq!(
            c.action,
            ZoneAction::Svcadm {
                verb: SvcVerb::Disable,
                service: "manatee-sitter".into()
            }
        );
    }

    #[test]
    fn anything_else_is_127_and_says_why() {
        for script in [
            "zlogin x svcadm restart zookeeper".to_string(),
            "#!/bin/bash\nuptime".to_string(),
            format!("#!/bin/bash\nzlogin {VM} tar czf /tmp/x.tgz version-2"),
            format!("#!/bin/bash\nzlogin {VM} svcadm mark maintenance zookeeper"),
            format!("#!/bin/bash\nzlogin {VM} svcadm restart a b"),
            format!("#!/bin/bash\nzlogin {VM} svcadm restart a\nuptime"),
            format!("#!/bin/bash\nzlogin {VM} \"source ~/.bashrc; uptime\""),
            format!("#!/bin/bash\nzlogin {VM}"),
        ] {
            let out = parse(&script).unwrap_err();
            assert_eq!(out.exit_code, 127, "{script}");
            assert!(
                out.stderr.starts_with("the lab does not imitate"),
                "{}",
                out.stderr
            );
        }
    }
}
