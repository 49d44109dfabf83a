//! `manatee::` — the shard `sdc` on the session's ZooKeeper, as manatee-adm
//! sees it, and manatee-adm's writes. Records are maps; a refusal throws
//! one line in manatee-adm's words, naming the shard.

use std::sync::Arc;

use rhai::{Array, Dynamic, ImmutableString, Map, Module, NativeCallContext};

use super::convert::{Result, at, to_map};
use super::ctx::ScriptCtx;
use super::register::func;
use crate::dc::manatee::{
    self, Cluster, Column, Freeze, Issues, Lag, ManateeError, Peer, Postgres, Shard, writes,
};

/// Triton's shard.
const SHARD: &str = "sdc";

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc(
        "/// Manatee (HA PostgreSQL): the `sdc` shard as manatee-adm shows it, and its writes.",
    );
    reads(ctx, &mut m);
    state_writes(ctx, &mut m);
    m
}

/// Runs `f` on the shard with the session's datacenter.
fn on_shard<T, F>(c: &ScriptCtx, f: impl FnOnce(Shard) -> F) -> Result<T>
where
    F: std::future::Future<Output = std::result::Result<T, ManateeError>>,
{
    let shard = Shard::on(&c.dc()?.zk, SHARD);
    c.call(f(shard))
}

fn reads(ctx: &Arc<ScriptCtx>, m: &mut Module) {
    let c = ctx.clone();
    func("show", &[], "Map", SHOW).set_into_module(m, move |cx: NativeCallContext| {
        at(
            &cx,
            on_shard(&c, |s| async move {
                let (_, cluster) = manatee::load(&s).await?;
                Ok((s, cluster))
            })
            .map(|(s, cluster)| show_map(&s, &cluster)),
        )
    });

    let c = ctx.clone();
    func(
        "peers",
        &[],
        "Array",
        "The assigned peers (primary, sync, asyncs, deposed) as PEER maps: see manatee::show.",
    )
    .set_into_module(m, move |cx: NativeCallContext| {
        at(&cx, load(&c).map(|cl| peers(&cl)))
    });

    let c = ctx.clone();
    func("pg_status", &[], "Array", "The same PEER maps as manatee::peers, each with what its PostgreSQL says (pg, repl, sent … lag).")
        .set_into_module(m, move |cx: NativeCallContext| {
            at(&cx, load(&c).map(|cl| peers(&cl)))
        });

    let c = ctx.clone();
    func("verify", &[], "Array", "manatee-adm verify: the problems as #{level: \"error\"|\"warning\", message}; empty when healthy.")
        .set_into_module(m, move |cx: NativeCallContext| {
            at(&cx, load(&c).map(|cl| issues(&cl)))
        });

    let c = ctx.clone();
    func("history", &[], "Array", HISTORY).set_into_module(m, move |cx: NativeCallContext| {
        at(
            &cx,
            on_shard(&c, |s| async move {
                manatee::history::read_history(&s.zk, &s.name, false).await
            })
            .map(|entries| entries.iter().map(history_map).collect::<Array>()),
        )
    });

    let c = ctx.clone();
    func("state", &[], "Map", "manatee-adm zk-state: the raw state map from /manatee/sdc/state; throws `No state exists for shard sdc …` without one.")
        .set_into_module(m, move |cx: NativeCallContext| {
            at(&cx, on_shard(&c, |s| async move {
                manatee::state::read_state(&s.zk, &s.name).await
            }).and_then(|doc| to_map(&doc.to_value())))
        });

    let c = ctx.clone();
    func(
        "active",
        &[],
        "Map",
        "manatee-adm zk-active: election node name → its data, one per live sitter session.",
    )
    .set_into_module(m, move |cx: NativeCallContext| {
        at(
            &cx,
            on_shard(&c, |s| async move {
                manatee::active::read_active(&s.zk, &s.name).await
            })
            .and_then(|active| {
                let value: serde_json::Value =
                    serde_json::from_str(&serde_json::to_string(&active).unwrap_or_default())
                        .unwrap_or_default();
                to_map(&value)
            }),
        )
    });

    let c = ctx.clone();
    func("check", &[], "Array", CHECK).set_into_module(m, move |cx: NativeCallContext| {
        let result = c.dc().map(Arc::clone).and_then(|dc| {
            let shard = Shard::on(&dc.zk, SHARD);
            c.call(async move { manatee::check::check(&shard, Some(&dc)).await })
        });
        at(&cx, result.and_then(|findings| to_map(&findings)))
    });
}

fn state_writes(ctx: &Arc<ScriptCtx>, m: &mut Module) {
    let c = ctx.clone();
    func("freeze", &["reason: String"], "String", "manatee-adm freeze -r REASON: no takeover until unfreeze. Returns \"Frozen.\"; throws if already frozen.")
        .set_into_module(m, move |cx: NativeCallContext, reason: ImmutableString| {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            at(&cx, apply(&c, move |d, s| writes::freeze(d, s, &reason, &now)).map(|()| "Frozen."))
        });

    let c = ctx.clone();
    func(
        "unfreeze",
        &[],
        "String",
        "manatee-adm unfreeze. Returns \"Unfrozen.\"; throws `shard is not frozen …`.",
    )
    .set_into_module(m, move |cx: NativeCallContext| {
        at(&cx, apply(&c, writes::unfreeze).map(|()| "Unfrozen."))
    });

    let c = ctx.clone();
    func(
        "reap",
        &["zonename: String"],
        "String",
        "manatee-adm reap -n ZONENAME: forgets a deposed peer gone for good. Returns \"Ok.\".",
    )
    .set_into_module(m, move |cx: NativeCallContext, zone: ImmutableString| {
        at(
            &cx,
            apply(&c, move |d, s| {
                writes::reap(d, s, &writes::Reap::ZoneName(&zone))
            })
            .map(|()| "Ok."),
        )
    });

    let c = ctx.clone();
    func(
        "set_onwm",
        &["on: bool"],
        "String",
        "manatee-adm set-onwm -m on|off -y (the state only; the sitters' config must match).",
    )
    .set_into_module(m, move |cx: NativeCallContext, on: bool| {
        let said = format!(
            "One Node Write Mode set to: {}",
            if on { "on" } else { "off" }
        );
        at(
            &cx,
            apply(&c, move |d, s| writes::set_onwm(d, s, on)).map(|()| said),
        )
    });

    let c = ctx.clone();
    func(
        "clear_promote",
        &[],
        "String",
        "manatee-adm clear-promote. Returns \"Cleared promote request.\".",
    )
    .set_into_module(m, move |cx: NativeCallContext| {
        at(
            &cx,
            apply(&c, writes::clear_promote).map(|()| "Cleared promote request."),
        )
    });

    let c = ctx.clone();
    func(
        "promote",
        &["role: String", "zonename: String"],
        "String",
        PROMOTE,
    )
    .set_into_module(
        m,
        move |cx: NativeCallContext, role: ImmutableString, zone: ImmutableString| {
            let result = on_shard(&c, |s| async move {
                let expire = (chrono::Utc::now() + chrono::Duration::seconds(30))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let request = writes::Promote {
                    role: &role,
                    zonename: &zone,
                    async_index: None,
                };
                writes::apply(&s, |d, name| writes::promote(d, name, &request, &expire)).await?;
                writes::watch_promotion(&s, &zone, &role).await
            });
            at(&cx, result.map(|()| "Successfully promoted peer."))
        },
    );

    let c = ctx.clone();
    func("rebuild", &["zonename: String"], "String", REBUILD).set_into_module(
        m,
        move |cx: NativeCallContext, zone: ImmutableString| {
            let out = c.call_dc(|dc| dc.zone_exec(&zone, "manatee-adm rebuild -y"));
            let result = out.and_then(|o| {
                if o.exit_code == 0 {
                    Ok(o.stdout.trim().to_string())
                } else {
                    let said = o.stderr.trim().lines().last().unwrap_or("").to_string();
                    Err(format!(
                        "rebuild of {zone} (shard {SHARD}): manatee-adm exited {}: {said}",
                        o.exit_code
                    )
                    .into())
                }
            });
            at(&cx, result)
        },
    );
}

fn apply(
    c: &ScriptCtx,
    change: impl FnOnce(&mut manatee::state::StateDoc, &str) -> std::result::Result<(), ManateeError>,
) -> Result<()> {
    on_shard(c, |s| async move { writes::apply(&s, change).await })
}

fn load(c: &ScriptCtx) -> Result<Cluster> {
    on_shard(
        c,
        |s| async move { manatee::load(&s).await.map(|(_, cl)| cl) },
    )
}

fn show_map(shard: &Shard, cl: &Cluster) -> Dynamic {
    let mut m = Map::new();
    m.insert("zookeeper".into(), shard.zk_shown.clone().into());
    m.insert("shard".into(), shard.name.clone().into());
    m.insert("generation".into(), (cl.generation as i64).into());
    m.insert("init_wal".into(), cl.init_wal.clone().into());
    m.insert(
        "mode".into(),
        if cl.singleton { "singleton" } else { "normal" }.into(),
    );
    let (frozen, since, reason) = match &cl.freeze {
        Freeze::Thawed => (false, None, None),
        Freeze::Frozen { since, reason } => (true, since.clone(), reason.clone()),
    };
    m.insert("frozen".into(), frozen.into());
    m.insert(
        "freeze_since".into(),
        since.map_or(Dynamic::UNIT, Dynamic::from),
    );
    m.insert(
        "freeze_reason".into(),
        reason.map_or(Dynamic::UNIT, Dynamic::from),
    );
    m.insert("peers".into(), peers(cl).into());
    m.insert("issues".into(), issues(cl).into());
    m.into()
}

fn peers(cl: &Cluster) -> Array {
    cl.peers.iter().map(peer_map).collect()
}

fn peer_map(p: &Peer) -> Dynamic {
    let cell = |c: Column| {
        let text = c.cell(p);
        if text == "-" {
            Dynamic::UNIT
        } else {
            text.into()
        }
    };
    let mut m = Map::new();
    m.insert("role".into(), p.role.name().into());
    m.insert("peername".into(), p.zone_id.clone().into());
    m.insert("peerabbr".into(), p.label.clone().into());
    m.insert("ip".into(), p.ip.clone().into());
    m.insert("id".into(), p.id.clone().into());
    m.insert("pg".into(), Column::PgOnline.cell(p).into());
    m.insert("repl".into(), cell(Column::PgRepl));
    m.insert("sent".into(), cell(Column::PgSent));
    m.insert("write".into(), cell(Column::PgWrite));
    m.insert("flush".into(), cell(Column::PgFlush));
    m.insert("replay".into(), cell(Column::PgReplay));
    let lag = match p.postgres {
        Postgres::Online {
            lag: Some(Lag::Seconds(s)),
            ..
        } if p.role != manatee::Role::Primary => Dynamic::from(s as i64),
        _ => Dynamic::UNIT,
    };
    m.insert("lag".into(), lag);
    m.into()
}

fn issues(cl: &Cluster) -> Array {
    let found = Issues::of(cl);
    let issue = |level: &str, message: &String| {
        let mut m = Map::new();
        m.insert("level".into(), level.into());
        m.insert("message".into(), message.clone().into());
        Dynamic::from(m)
    };
    found
        .errors
        .iter()
        .map(|e| issue("error", e))
        .chain(found.warnings.iter().map(|w| issue("warning", w)))
        .collect()
}

fn history_map(e: &manatee::history::Entry) -> Dynamic {
    let s = &e.state;
    let truthy = |v: &serde_json::Value| {
        !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false))
    };
    let abbr = |p: &serde_json::Value| -> Dynamic {
        match p["zoneId"].as_str() {
            Some(z) => z.chars().take(8).collect::<String>().into(),
            None => Dynamic::UNIT,
        }
    };
    let list = |v: &serde_json::Value| -> Array {
        v.as_array()
            .map(|a| a.iter().map(abbr).collect())
            .unwrap_or_default()
    };
    let mut m = Map::new();
    m.insert("zk_seq".into(), e.zk_seq.clone().into());
    m.insert("time".into(), manatee::history::iso_time(e.time_ms).into());
    m.insert(
        "generation".into(),
        s["generation"].as_i64().unwrap_or(0).into(),
    );
    m.insert(
        "mode".into(),
        if truthy(&s["oneNodeWriteMode"]) {
            "singleton"
        } else {
            "normal"
        }
        .into(),
    );
    m.insert("frozen".into(), truthy(&s["freeze"]).into());
    m.insert("primary".into(), abbr(&s["primary"]));
    m.insert("sync".into(), abbr(&s["sync"]));
    m.insert("async".into(), list(&s["async"]).into());
    m.insert("deposed".into(), list(&s["deposed"]).into());
    m.insert("summary".into(), e.summary.clone().into());
    m.into()
}

const SHOW: &str = "manatee-adm show: the shard `sdc` on the session's ZooKeeper.
#{zookeeper, shard, generation, init_wal, mode: \"normal\"|\"singleton\", frozen, freeze_since, freeze_reason, peers, issues}
PEER = #{role, peername, peerabbr, ip, id, pg: \"ok\"|\"fail\", repl, sent, write, flush, replay, lag}
(repl … replay are strings or (), lag whole seconds or ()); ISSUE = #{level, message}.
Example: manatee::show().peers.len()";

const HISTORY: &str = "manatee-adm history: every state written, oldest first.
#{zk_seq, time, generation, mode, frozen, primary, sync, async: [..], deposed: [..], summary}
(peers as their 8-character abbreviations, as the table shows them).";

const CHECK: &str = "Everything manatee-adm verify finds, and what it cannot see: replication
stalled (sampled over 2 s) or the primary's link to the sync stuck (found on an
idle shard too), two peers on one server, a freeze older than a day, a deposed
peer waiting. Array of #{level, what, means, todo}; empty when none.";

const PROMOTE: &str =
    "manatee-adm promote -r ROLE -n ZONENAME (sync, or the only async): writes the
request and waits until the topology changed. Returns \"Successfully promoted peer.\".";

const REBUILD: &str =
    "manatee-adm rebuild -y, run in ZONENAME's zone through CNAPI: the peer's data
is replaced from its upstream. Returns what it printed; throws on a non-zero exit.";
