//! The subcommands that change the shard, with manatee-adm's refusals,
//! confirmations (skipped with `-y`) and messages.

use std::io::BufRead;

use super::{Failure, Live, USAGE};
use crate::dc::manatee::{self, Issues, Lag, Output, Postgres, state::StateDoc, writes};

fn said(message: &str) -> Output {
    Output {
        stdout: format!("{message}\n"),
        ..Output::default()
    }
}

fn failed(e: manatee::ManateeError) -> Failure {
    (1, e.to_string())
}

fn now_iso(plus_seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(plus_seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads the state, applies `change`, writes it back (test-and-set).
fn write(
    live: &Live,
    change: impl FnOnce(&mut StateDoc, &str) -> Result<(), manatee::ManateeError>,
) -> Result<(), Failure> {
    live.block_on(writes::apply(&live.shard, change))
        .map_err(failed)
}

pub(super) fn freeze(live: &Live, reason: Option<String>) -> Result<Output, Failure> {
    let reason = reason.ok_or_else(|| {
        (
            USAGE,
            "freeze needs -r REASON (shown by show and history, e.g. -r \"reboot of cn2\")".into(),
        )
    })?;
    write(live, |doc, shard| {
        writes::freeze(doc, shard, &reason, &now_iso(0))
    })?;
    Ok(said("Frozen."))
}

pub(super) fn unfreeze(live: &Live) -> Result<Output, Failure> {
    write(live, writes::unfreeze)?;
    Ok(said("Unfrozen."))
}

pub(super) fn reap(
    live: &Live,
    ip: Option<String>,
    zonename: Option<String>,
) -> Result<Output, Failure> {
    let which = match (&zonename, &ip) {
        (Some(z), _) => writes::Reap::ZoneName(z),
        (None, Some(ip)) => writes::Reap::Ip(ip),
        (None, None) => {
            return Err((
                USAGE,
                "reap needs -n ZONENAME or -i IP of the deposed peer (see `tritonsh manatee peers -r deposed`)".into(),
            ));
        }
    };
    write(live, |doc, shard| writes::reap(doc, shard, &which))?;
    Ok(said("Ok."))
}

pub(super) fn set_onwm(live: &Live, mode: Option<String>, yes: bool) -> Result<Output, Failure> {
    let mode = mode.map(|m| m.to_lowercase());
    let on = match mode.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => return Err((USAGE, "set-onwm needs -m on or -m off".into())),
    };
    if !yes {
        eprintln!(
            "!!! WARNING !!!\nEnabling or disable one node write mode requires cluster\ndowntime.  One node write mode in your configuration must\nmatch what is set in the cluster state object in zookeeper.\nPlease be very careful when enabling or disabling one node\nwrite mode.\n!!! WARNING !!!"
        );
        confirm("yes", "aborting set-onwm due to user command")?;
    }
    write(live, |doc, shard| writes::set_onwm(doc, shard, on))?;
    Ok(said(&format!(
        "One Node Write Mode set to: {}",
        if on { "on" } else { "off" }
    )))
}

pub(super) fn clear_promote(live: &Live) -> Result<Output, Failure> {
    write(live, writes::clear_promote)?;
    Ok(said("Cleared promote request."))
}

pub(super) fn promote(
    live: &Live,
    role: Option<String>,
    zonename: Option<String>,
    async_index: Option<usize>,
    lag_to_ignore: u64,
    yes: bool,
) -> Result<Output, Failure> {
    let (Some(role), Some(zonename)) = (role, zonename) else {
        return Err((USAGE, "promote needs -r sync|async and -n ZONENAME".into()));
    };
    let request = writes::Promote {
        role: &role,
        zonename: &zonename,
        async_index,
    };
    let (before, cluster) = live.block_on(manatee::load(&live.shard)).map_err(failed)?;
    // Validated before anything is asked, on the state the write will test.
    let mut trial = before.clone();
    writes::promote(&mut trial, &live.shard.name, &request, &now_iso(30)).map_err(failed)?;
    let issues = Issues::of(&cluster);
    let lagging: Vec<String> = cluster
        .peers
        .iter()
        .filter_map(|p| match p.postgres {
            Postgres::Online {
                lag: Some(Lag::Seconds(s)),
                ..
            } if s > lag_to_ignore => Some(format!(
                "\"{}\" has {s}s of lag behind its upstream peer",
                p.label
            )),
            _ => None,
        })
        .collect();
    if !yes && (!issues.is_empty() || !lagging.is_empty()) {
        eprintln!(
            "The cluster is currently experiencing a number of warnings and/or errors.  Review the following and determine if they can be ignored."
        );
        eprint!("{}", issues.lines());
        for l in &lagging {
            eprintln!("warning: cluster is exhibiting lag: {l}");
        }
        confirm("Ignore warning(s)?", "aborting promotion due to warnings")?;
    }
    if !yes {
        eprintln!(
            "You are about to make changes to this cluster's topology.  This operation could impact database service to multiple members of the cluster, details of which can be found in the manual."
        );
        confirm(
            &format!("Promote this peer (\"{role}\")?"),
            "aborting promotion due to user command",
        )?;
    }
    let mut after = before.clone();
    writes::promote(&mut after, &live.shard.name, &request, &now_iso(30)).map_err(failed)?;
    live.block_on(writes::commit(&live.shard, &before, &after))
        .map_err(failed)?;
    println!(
        "Promotion requested.  Watching until request has been acknowleged and topology has changed."
    );
    live.block_on(writes::watch_promotion(&live.shard, &zonename, &role))
        .map_err(failed)?;
    Ok(said("Successfully promoted peer."))
}

/// `rebuild -n ZONENAME`: manatee-adm's rebuild runs inside the peer's zone
/// (it stops that zone's sitter and replaces its data), so it is sent there
/// through CNAPI; its output and exit status are the zone's.
pub(super) fn rebuild(
    live: &mut Live,
    zonename: Option<String>,
    yes: bool,
) -> Result<Output, Failure> {
    let zonename = zonename.ok_or_else(|| {
        (
            USAGE,
            "rebuild needs -n ZONENAME, the peer to rebuild (see `tritonsh manatee peers -o role,peername`)".into(),
        )
    })?;
    let doc = live
        .block_on(manatee::state::read_state(&live.shard.zk, &live.shard.name))
        .map_err(failed)?;
    let deposed = doc.topology.deposed.iter().any(|d| d.zone_id == zonename);
    if !yes {
        eprintln!(
            "{}",
            if deposed {
                "This peer is a deposed former primary and may have state that needs to be removed before it can successfully rejoin the cluster.  This operation will remove all local data and then unmark this peer as deposed so that it can rejoin the cluster.  This operation is destructive, and you should only proceed after confirming that this peer's copy of the data is no longer required. (yes/no)?"
            } else {
                "This operation will remove all local data and rebuild this peer from another cluster peer.  This operation is destructive, and you should only proceed after confirming that this peer's copy of the data is no longer required.  (yes/no)?"
            }
        );
        confirm("no", "aborting rollback due to user command")?;
    }
    let dc = live.datacenter()?;
    let out = live
        .block_on(dc.zone_exec(&zonename, "manatee-adm rebuild -y"))
        .map_err(|e| (1, format!("rebuild of {zonename}: {e}")))?;
    Ok(Output {
        stdout: out.stdout,
        stderr: out.stderr,
        exit: u8::try_from(out.exit_code).unwrap_or(1),
    })
}

/// manatee-adm's prompt: `PROMPT: ` on stderr, `yes` or `y` to go on.
fn confirm(prompt: &str, refusal: &str) -> Result<(), Failure> {
    eprint!("{prompt}: ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| (1, format!("cannot read the answer: {e}")))?;
    match answer.trim() {
        "yes" | "y" => Ok(()),
        _ => Err((1, format!("{refusal} (answer yes to go on, or pass -y)"))),
    }
}
