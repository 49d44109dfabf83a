//! Rust-side helpers for runbooks, general enough that runbooks stay short.
//!
//! - `next_instance_number(service, aliases)`: sdcadm's numbering rule.
//! - `place(service, count, servers, vms)`: where new instances go (`placement.rs`).
//! - `step(kind, name, args[, options])`: one step of a plan.

use rhai::{Array, Engine, Map};

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
    super::placement::register(engine);
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
}
