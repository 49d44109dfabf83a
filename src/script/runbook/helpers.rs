//! Rust-side helpers for runbooks, general enough that runbooks stay short.
//!
//! - `next_instance_number(service, aliases)`: sdcadm's numbering rule.
//! - `spread(servers, instances, count)`: where new instances go.
//! - `step(kind, name, args[, options])`: one step of a plan.

use rhai::{Array, Dynamic, Engine, Map};

use crate::script::register::func;

pub fn register(engine: &mut Engine) {
    func(
        "next_instance_number",
        &["service: String", "aliases: Array"],
        "i64",
        "The N of the next `$service$N` alias: the highest in use plus one (sdcadm's rule).\n\
         Example: next_instance_number(\"papi\", [\"papi0\", \"papi3\"]) is 4",
    )
    .register_into_engine(engine, next_instance_number_rhai);
    func(
        "spread",
        &["servers: Array", "instances: Array", "count: i64"],
        "Array",
        "A server for each of `count` new instances: the fewest `instances` first, the headnode on ties last.\n\
         `servers` are CNAPI records; `instances` are records with a server_uuid (VMs, SAPI instances).",
    )
    .register_into_engine(engine, spread_rhai);
    func(
        "step",
        &["kind: String", "name: String", "args: Map"],
        "Map",
        STEP,
    )
    .register_into_engine(engine, |kind: &str, name: &str, args: Map| {
        step(kind, name, args, Map::new())
    });
    func(
        "step",
        &["kind: String", "name: String", "args: Map", "options: Map"],
        "Map",
        STEP,
    )
    .register_into_engine(engine, step);
}

const STEP: &str = "One step of a plan: the engine runs KIND_done (already done?), KIND_ready (may it run?),\n\
KIND (the change) and KIND_ok (did it work?), each when the runbook defines it, with `args`.\n\
options: wait (seconds KIND_ok may take, default 60), manual (the command it replaces, printed),\n\
destroys (what the operator must type to confirm), mutates (false for a read-only KIND).\n\
Example: step(\"provision\", \"provision papi1 on cn1\", #{alias: \"papi1\"}, #{wait: 300, manual: \"sdcadm create papi -s cn1\"})";

/// The map `plan(p)` returns for a step; the engine checks it, so a
/// misspelt option is named there, with the step's number.
fn step(kind: &str, name: &str, args: Map, options: Map) -> Map {
    let mut step = options;
    step.insert("kind".into(), kind.into());
    step.insert("name".into(), name.into());
    step.insert("args".into(), args.into());
    step
}

/// sdcadm's rule for `$service$N` aliases: strip the service name from
/// each existing alias, take the largest number, add one (0 when there is
/// none). Aliases that are not the service name plus a number are ignored.
pub fn next_instance_number(service: &str, aliases: &[String]) -> i64 {
    aliases
        .iter()
        .filter_map(|a| a.strip_prefix(service))
        .filter_map(|n| n.parse::<i64>().ok())
        .max()
        .map_or(0, |max| max + 1)
}

fn next_instance_number_rhai(service: &str, aliases: Array) -> i64 {
    let aliases: Vec<String> = aliases
        .into_iter()
        .filter_map(|a| a.into_string().ok())
        .collect();
    next_instance_number(service, &aliases)
}

/// One entry of `spread`'s input: a server and how many instances of the
/// service it already has.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub uuid: String,
    pub hostname: String,
    pub headnode: bool,
    pub instances: usize,
}

/// Picks a server for each of `count` new instances: the one with the
/// fewest instances of the service so far (counting the ones just placed),
/// the headnode losing ties, then by hostname. Returns indexes into `slots`.
pub fn spread(mut slots: Vec<Slot>, count: usize) -> Vec<usize> {
    let mut picks = Vec::with_capacity(count);
    if slots.is_empty() {
        return picks;
    }
    for _ in 0..count {
        let best = (0..slots.len())
            .min_by(|&a, &b| {
                let key = |s: &Slot| (s.instances, s.headnode, s.hostname.clone());
                key(&slots[a]).cmp(&key(&slots[b]))
            })
            .unwrap_or(0);
        slots[best].instances += 1;
        picks.push(best);
    }
    picks
}

/// `spread(servers, instances, count)`: `servers` are CNAPI server records,
/// `instances` are records with a `server_uuid` (VMs or SAPI instances of
/// the service); returns `count` server records, one per new instance.
fn spread_rhai(servers: Array, instances: Array, count: i64) -> Array {
    let field = |d: &Dynamic, key: &str| -> Option<Dynamic> {
        let map = d.read_lock::<Map>()?;
        map.get(key).cloned().or_else(|| {
            // SAPI instances keep server_uuid under params.
            map.get("params")?.read_lock::<Map>()?.get(key).cloned()
        })
    };
    let text = |d: &Dynamic, key: &str| {
        field(d, key)
            .and_then(|v| v.into_string().ok())
            .unwrap_or_default()
    };
    let slots: Vec<Slot> = servers
        .iter()
        .map(|s| {
            let uuid = text(s, "uuid");
            Slot {
                instances: instances
                    .iter()
                    .filter(|i| text(i, "server_uuid") == uuid)
                    .count(),
                hostname: text(s, "hostname"),
                headnode: field(s, "headnode")
                    .and_then(|h| h.as_bool().ok())
                    .unwrap_or(false),
                uuid,
            }
        })
        .collect();
    let count = usize::try_from(count).unwrap_or(0);
    spread(slots, count)
        .into_iter()
        .map(|i| servers[i].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbering_follows_sdcadm() {
        assert_eq!(next_instance_number("papi", &[]), 0);
        assert_eq!(next_instance_number("papi", &names(&["papi0"])), 1);
        assert_eq!(
            next_instance_number("moray", &names(&["moray0", "moray10", "moray2"])),
            11
        );
        assert_eq!(
            next_instance_number("papi", &names(&["papi0", "papi-test", "other3"])),
            1
        );
    }

    fn slot(host: &str, headnode: bool, instances: usize) -> Slot {
        Slot {
            uuid: host.into(),
            hostname: host.into(),
            headnode,
            instances,
        }
    }

    #[test]
    fn fewest_instances_first_and_the_headnode_last() {
        let slots = vec![
            slot("headnode", true, 1),
            slot("cn1", false, 0),
            slot("cn2", false, 0),
        ];
        assert_eq!(spread(slots.clone(), 2), vec![1, 2]);
        assert_eq!(spread(slots.clone(), 3), vec![1, 2, 1]);
        let slots = vec![slot("headnode", true, 0), slot("cn1", false, 0)];
        assert_eq!(spread(slots, 2), vec![1, 0]);
        assert!(spread(Vec::new(), 2).is_empty());
    }

    #[test]
    fn step_makes_the_map_the_engine_reads() {
        let mut engine = Engine::new();
        register(&mut engine);
        let s: Map = engine
            .eval(r#"step("provision", "provision papi1", #{ alias: "papi1" }, #{ wait: 300 })"#)
            .unwrap();
        assert_eq!(s["kind"].to_string(), "provision");
        assert_eq!(s["wait"].as_int().unwrap(), 300);
        let s: Map = engine.eval(r#"step("look", "look", #{})"#).unwrap();
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn spread_reads_records() {
        let mut engine = Engine::new();
        register(&mut engine);
        let picked: Array = engine
            .eval(
                r#"spread(
                    [#{uuid: "h", hostname: "headnode", headnode: true}, #{uuid: "a", hostname: "cn1", headnode: false},
                     #{uuid: "b", hostname: "cn2", headnode: false}],
                    [#{params: #{server_uuid: "h"}}, #{server_uuid: "a"}],
                    1)"#,
            )
            .unwrap();
        assert_eq!(
            picked[0].read_lock::<Map>().unwrap()["hostname"].to_string(),
            "cn2"
        );
    }
}
