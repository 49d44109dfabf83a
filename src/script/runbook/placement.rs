//! Where new instances of a core service go, by the advice of Triton's docs
//! and operators, and why — the one choice every runbook that places makes.
//!
//! The order, most important first:
//! 1. never the headnode while a compute node is left (it is not a
//!    general-purpose compute node);
//! 2. fewest instances of the service itself (counting those placed by this
//!    call): one server lost should cost the service one instance;
//! 3. for moray, manatee and binder: not beside manatee or binder (one server
//!    lost should not cost the database and its clients, or ZooKeeper, at once);
//! 4. fewest core instances of any service;
//! 5. the hostname, so that the same datacenter always gets the same plan.
//!
//! Only running, set-up servers are candidates.

use rhai::{Array, Dynamic, Map};

use crate::script::register::func;

pub fn register(engine: &mut rhai::Engine) {
    func(
        "place",
        &[
            "service: String",
            "count: i64",
            "servers: Array",
            "vms: Array",
        ],
        "Array",
        PLACE,
    )
    .register_into_engine(engine, place_rhai);
}

const PLACE: &str = "Where `count` new instances of `service` go, in order, each with the reason in words:\n\
#{uuid, hostname, reason, breaks}. Running, set-up servers only; the headnode last; the fewest\n\
instances of the service first; moray, manatee and binder not beside manatee or binder where\n\
another choice exists; then the fewest core instances; ties by hostname. `breaks` lists the\n\
advice a choice had to break (empty when none). `servers` are CNAPI records; `vms` the active\n\
core VMs (their tags.smartdc_role and server_uuid say what runs where).\n\
Example: place(\"papi\", 2, cnapi::servers(), vmapi::list(#{\"tag.smartdc_type\": \"core\", state: \"active\"}))";

/// A candidate server and the core roles it runs (one entry per instance).
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub uuid: String,
    pub hostname: String,
    pub headnode: bool,
    pub roles: Vec<String>,
}

/// One new instance's server: an index into the candidates, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub index: usize,
    pub reason: String,
    pub breaks: Vec<String>,
}

/// The services a new instance of `service` should not sit beside.
fn kept_apart(service: &str) -> &'static [&'static str] {
    match service {
        "moray" => &["manatee", "binder"],
        "manatee" => &["binder"],
        "binder" => &["manatee"],
        _ => &[],
    }
}

impl Candidate {
    fn own(&self, service: &str) -> usize {
        self.roles.iter().filter(|r| *r == service).count()
    }

    fn beside<'a>(&self, service: &'a str) -> Vec<&'a str> {
        kept_apart(service)
            .iter()
            .copied()
            .filter(|other| self.roles.iter().any(|r| r == other))
            .collect()
    }

    /// The order of the module's doc: smaller is better.
    fn rank(&self, service: &str) -> (bool, usize, usize, usize, &str) {
        (
            self.headnode,
            self.own(service),
            self.beside(service).len(),
            self.roles.len(),
            &self.hostname,
        )
    }

    /// "3: binder, manatee, moray".
    fn core_list(&self) -> String {
        let mut roles = self.roles.clone();
        roles.sort();
        format!("{}: {}", roles.len(), roles.join(", "))
    }
}

/// Picks a server for each of `count` new instances of `service`; each
/// pick counts as an instance of it for the next one.
pub fn place(service: &str, mut candidates: Vec<Candidate>, count: usize) -> Vec<Choice> {
    let mut choices = Vec::with_capacity(count);
    for _ in 0..count {
        let Some(best) = (0..candidates.len()).min_by(|&a, &b| {
            candidates[a]
                .rank(service)
                .cmp(&candidates[b].rank(service))
        }) else {
            break;
        };
        choices.push(explain(service, &candidates, best));
        candidates[best].roles.push(service.to_string());
    }
    choices
}

/// "cn1: no papi; fewest core instances (3: binder, manatee, moray), tied
/// with cn2, first by hostname — breaks the advice: …".
fn explain(service: &str, candidates: &[Candidate], best: usize) -> Choice {
    let chosen = &candidates[best];
    let (headnode, own, beside, core, _) = chosen.rank(service);
    let peers: Vec<&Candidate> = candidates
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            let (h, o, b, _, _) = c.rank(service);
            *i != best && (h, o, b) == (headnode, own, beside)
        })
        .map(|(_, c)| c)
        .collect();
    let mut why = if chosen.roles.is_empty() {
        "no core instance".to_string()
    } else {
        let lead = if own == 0 {
            format!("no {service}; ")
        } else {
            String::new()
        };
        let core_text = if peers.is_empty() {
            format!("core instances ({})", chosen.core_list())
        } else {
            format!("fewest core instances ({})", chosen.core_list())
        };
        format!("{lead}{core_text}")
    };
    let tied: Vec<&str> = peers
        .iter()
        .filter(|c| c.roles.len() == core)
        .map(|c| c.hostname.as_str())
        .collect();
    if !tied.is_empty() {
        why.push_str(&format!(
            ", tied with {}: first by hostname",
            tied.join(", ")
        ));
    }
    let mut breaks = Vec::new();
    if headnode {
        breaks.push("it is the headnode".to_string());
    }
    if own > 0 {
        breaks.push(format!("it already runs {service}"));
    }
    let near = chosen.beside(service);
    if !near.is_empty() {
        breaks.push(format!("it runs {}", near.join(" and ")));
    }
    let mut reason = format!("{}: {why}", chosen.hostname);
    if !breaks.is_empty() {
        reason.push_str(&format!(
            " — breaks the advice: {} (no better server is left)",
            breaks.join(", ")
        ));
    }
    Choice {
        index: best,
        reason,
        breaks,
    }
}

/// A field of a record, whatever form the record takes (a map, or a
/// record the bindings keep in another form that serializes).
fn field(record: &Dynamic, path: &[&str]) -> Option<serde_json::Value> {
    let value: serde_json::Value = rhai::serde::from_dynamic(record).ok()?;
    path.iter().try_fold(&value, |v, key| v.get(key)).cloned()
}

fn text(record: &Dynamic, path: &[&str]) -> String {
    field(record, path)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn place_rhai(service: &str, count: i64, servers: Array, vms: Array) -> Array {
    let vms: Vec<(String, String)> = vms
        .iter()
        .map(|vm| {
            (
                text(vm, &["server_uuid"]),
                text(vm, &["tags", "smartdc_role"]),
            )
        })
        .filter(|(_, role)| !role.is_empty())
        .collect();
    let usable = servers.iter().filter(|s| {
        field(s, &["setup"]).and_then(|v| v.as_bool()) == Some(true)
            && text(s, &["status"]) == "running"
    });
    let candidates: Vec<Candidate> = usable
        .map(|s| {
            let uuid = text(s, &["uuid"]);
            Candidate {
                roles: vms
                    .iter()
                    .filter(|(server, _)| *server == uuid)
                    .map(|(_, role)| role.clone())
                    .collect(),
                hostname: text(s, &["hostname"]),
                headnode: field(s, &["headnode"]).and_then(|v| v.as_bool()) == Some(true),
                uuid,
            }
        })
        .collect();
    let count = usize::try_from(count).unwrap_or(0);
    place(service, candidates.clone(), count)
        .into_iter()
        .map(|choice| {
            let server = &candidates[choice.index];
            let mut out = Map::new();
            out.insert("uuid".into(), server.uuid.clone().into());
            out.insert("hostname".into(), server.hostname.clone().into());
            out.insert("reason".into(), choice.reason.into());
            let breaks: Array = choice.breaks.into_iter().map(Dynamic::from).collect();
            out.insert("breaks".into(), breaks.into());
            out.into()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str, headnode: bool, roles: &[&str]) -> Candidate {
        Candidate {
            uuid: host.into(),
            hostname: host.into(),
            headnode,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    /// The `ha` lab: binder, manatee and moray on headnode, cn1 and cn2;
    /// every other core service on the headnode; cn3 empty.
    fn ha_lab() -> Vec<Candidate> {
        let ha = ["binder", "manatee", "moray"];
        vec![
            server("cn2", false, &ha),
            server(
                "headnode",
                true,
                &["binder", "manatee", "moray", "papi", "sapi"],
            ),
            server("cn3", false, &[]),
            server("cn1", false, &ha),
        ]
    }

    fn hosts(candidates: &[Candidate], choices: &[Choice]) -> Vec<String> {
        choices
            .iter()
            .map(|c| candidates[c.index].hostname.clone())
            .collect()
    }

    #[test]
    fn papi_goes_to_the_empty_compute_node_first() {
        let lab = ha_lab();
        let choices = place("papi", lab.clone(), 2);
        assert_eq!(hosts(&lab, &choices), ["cn3", "cn1"]);
        assert_eq!(choices[0].reason, "cn3: no core instance");
        assert_eq!(
            choices[1].reason,
            "cn1: no papi; fewest core instances (3: binder, manatee, moray), tied with cn2: first by hostname"
        );
        assert!(choices.iter().all(|c| c.breaks.is_empty()));
        // The headnode comes last even with fewer instances.
        let choices = place("papi", lab.clone(), 4);
        assert_eq!(hosts(&lab, &choices), ["cn3", "cn1", "cn2", "cn3"]);
    }

    #[test]
    fn moray_keeps_away_from_manatee_and_binder() {
        let lab = ha_lab();
        let choices = place("moray", lab.clone(), 2);
        assert_eq!(hosts(&lab, &choices), ["cn3", "cn3"]);
        assert!(choices[0].breaks.is_empty());
        assert_eq!(
            choices[1].reason,
            "cn3: core instances (1: moray) — breaks the advice: it already runs moray (no better server is left)"
        );
        // With a choice between a server with manatee and one with binder
        // only, neither has moray: the fewer broken advice wins.
        let lab = vec![
            server("cn1", false, &["manatee", "binder"]),
            server("cn2", false, &["binder"]),
        ];
        let choices = place("moray", lab.clone(), 1);
        assert_eq!(hosts(&lab, &choices), ["cn2"]);
        assert_eq!(
            choices[0].reason,
            "cn2: no moray; core instances (1: binder) — breaks the advice: it runs binder (no better server is left)"
        );
    }

    #[test]
    fn the_headnode_only_when_nothing_else_is_left() {
        let lab = vec![server("headnode", true, &[])];
        let choices = place("papi", lab, 1);
        assert_eq!(choices[0].breaks, ["it is the headnode"]);
        assert!(place("papi", Vec::new(), 2).is_empty());
    }

    #[test]
    fn reads_records_and_skips_servers_that_cannot_take_a_zone() {
        let mut engine = rhai::Engine::new();
        register(&mut engine);
        let picked: Array = engine
            .eval(
                r#"place("papi", 1,
                    [#{uuid: "h", hostname: "headnode", headnode: true, setup: true, status: "running"},
                     #{uuid: "a", hostname: "cn1", headnode: false, setup: true, status: "running"},
                     #{uuid: "b", hostname: "cn2", headnode: false, setup: true, status: "unknown"},
                     #{uuid: "c", hostname: "cn4", headnode: false, setup: false, status: "running"}],
                    [#{server_uuid: "a", tags: #{smartdc_role: "moray"}}])"#,
            )
            .unwrap();
        let first = picked[0].read_lock::<Map>().unwrap().clone();
        assert_eq!(first["hostname"].to_string(), "cn1");
        assert_eq!(
            first["reason"].to_string(),
            "cn1: no papi; core instances (1: moray)"
        );
    }
}
