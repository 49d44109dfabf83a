//! `zk::` — reading the datacenter's ZooKeeper (binder's ensemble): znodes,
//! and each member's four-letter-word answers.

use std::sync::Arc;

use rhai::{Array, Dynamic, ImmutableString, Map, Module, NativeCallContext};

use super::convert::{Result, at, to_map};
use super::ctx::ScriptCtx;
use super::register::func;
use crate::dc::zk_admin;

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// ZooKeeper: znodes of the ensemble binder runs, and its members' health.");

    let c = ctx.clone();
    func("get", &["path: String"], "Dynamic", GET).set_into_module(
        &mut m,
        move |cx: NativeCallContext, path: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.zk.get(&path))
                    .and_then(|(data, _)| data_value(&data)),
            )
        },
    );

    let c = ctx.clone();
    func(
        "children",
        &["path: String"],
        "Array",
        "The names of a znode's children, sorted.\nExample: zk::children(\"/manatee/sdc/election\")",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, path: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.zk.children(&path))
                    .map(|names| names.into_iter().map(Dynamic::from).collect::<Array>()),
            )
        },
    );

    let c = ctx.clone();
    func("stat", &["path: String"], "Map", STAT).set_into_module(
        &mut m,
        move |cx: NativeCallContext, path: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.zk.stat(&path)).and_then(|s| to_map(&s)),
            )
        },
    );

    let c = ctx.clone();
    func(
        "exists",
        &["path: String"],
        "bool",
        "Whether the znode exists.\nExample: zk::exists(\"/manatee/sdc/state\")",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, path: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.zk.exists(&path)).map(|s| s.is_some()),
            )
        },
    );

    let c = ctx.clone();
    func("members", &[], "Array", MEMBERS).set_into_module(&mut m, move |cx: NativeCallContext| {
        at(
            &cx,
            c.dc().and_then(|dc| {
                let members = dc.zk.members().to_vec();
                let reports =
                    c.call(async move { Ok::<_, String>(zk_admin::report(&members).await) })?;
                to_map(&reports)
            }),
        )
    });

    let c = ctx.clone();
    func("members", &["addresses: Array"], "Array", MEMBERS_OF).set_into_module(
        &mut m,
        move |cx: NativeCallContext, addresses: Array| {
            let addresses: Vec<String> = addresses
                .into_iter()
                .map(|a| zk_admin::with_port(&a.to_string()))
                .collect();
            at(
                &cx,
                c.call(async move { Ok::<_, String>(zk_admin::report(&addresses).await) })
                    .and_then(|reports| to_map(&reports)),
            )
        },
    );

    let c = ctx.clone();
    func("tree", &["path: String"], "Array", TREE).set_into_module(
        &mut m,
        move |cx: NativeCallContext, path: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.zk.tree(&path))
                    .map(|paths| paths.into_iter().map(Dynamic::from).collect::<Array>()),
            )
        },
    );

    let c = ctx.clone();
    func("admin", &["address: String", "word: String"], "Map", ADMIN).set_into_module(
        &mut m,
        move |cx: NativeCallContext, address: ImmutableString, word: ImmutableString| {
            at(&cx, admin(&c, &address, &word))
        },
    );
    m
}

const GET: &str = "A znode's data: JSON parsed (an object becomes a map), anything else as a string.\n\
Example: zk::get(\"/manatee/sdc/state\").primary.zoneId";

const STAT: &str = "A znode's stat: its zxids, times, versions, owner and sizes.\n\
#{czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion,\n\
ephemeral_owner (hex, () for a persistent node), data_length, num_children}.";

const MEMBERS: &str = "Every ZooKeeper member's health, as `echo ruok|nc` and `echo srvr|nc` see it.\n\
#{address, ruok, mode, zxid, latency_min, latency_avg, latency_max, outstanding,\n\
node_count, followers (leader), problem}. mode is leader, follower, standalone,\n\
\"not serving\" (no quorum) or \"down\". Members are asked at once.";

const MEMBERS_OF: &str = "The same health record for the members at these addresses (\"ip\" or \"ip:port\"),\n\
for an ensemble other than the session's (one being reconfigured).\n\
Example: zk::members([\"10.99.99.11\", \"10.99.99.12\"]).filter(|m| m.mode == \"leader\")";
const TREE: &str = "Every znode path under a path (itself included), sorted.\n\
Example: zk::tree(\"/us/joyent\").len()";
const ADMIN: &str = "One four-letter word (ruok, srvr, stat, mntr, isro) to one member, parsed.\n\
address is \"ip\" or \"ip:port\". ruok → #{imok}; srvr, stat → #{mode, zxid, latency_*, outstanding, node_count, clients, …};\n\
mntr → #{server_state, followers, …, all}; isro → #{access: \"rw\"|\"ro\"}.\n\
Example: zk::admin(\"10.99.99.11\", \"stat\").mode";

/// JSON (what Triton writes: manatee state, registrar records) as Rhai
/// values; anything else as text.
fn data_value(data: &[u8]) -> Result<Dynamic> {
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(value) => to_map(&value),
        Err(_) => Ok(String::from_utf8_lossy(data).into_owned().into()),
    }
}

fn admin(c: &ScriptCtx, address: &str, word: &str) -> Result<Dynamic> {
    let address = address.to_string();
    match word {
        "ruok" => {
            let imok = c.call(zk_admin::ruok(&address))?;
            let mut m = Map::new();
            m.insert("imok".into(), imok.into());
            Ok(m.into())
        }
        "srvr" => to_map(&c.call(zk_admin::srvr(&address))?),
        "stat" => to_map(&c.call(zk_admin::stat(&address))?),
        "mntr" => to_map(&c.call(zk_admin::mntr(&address))?),
        "isro" => {
            let access = c.call(zk_admin::isro(&address))?;
            let mut m = Map::new();
            m.insert("access".into(), to_map(&access)?);
            Ok(m.into())
        }
        other => Err(format!(
            "zk::admin: {other:?} is not one of ruok, srvr, stat, mntr, isro (the words the checks use)"
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_data_becomes_a_map_and_text_stays_text() {
        let map = data_value(br#"{"primary":{"zoneId":"z1"},"generation":2}"#).expect("json");
        let map = map.try_cast::<Map>().expect("a map");
        assert_eq!(map["generation"].as_int(), Ok(2));
        let text = data_value(b"not json").expect("text");
        assert_eq!(text.into_string().as_deref(), Ok("not json"));
    }
}
