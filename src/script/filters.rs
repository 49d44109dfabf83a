//! The filter maps the list functions take: which keys each one knows
//! (the API refuses, or SAPI silently ignores, any other), and the values
//! of the keys that have only a few. The REPL completes from them inside
//! `vmapi::list(#{…})`; apis.md §3.3 (ListVms), §4.2 (ListServers) and
//! SAPI's list filters are the source.

/// One key of a filter map.
#[derive(Debug, PartialEq, Eq)]
pub struct FilterKey {
    pub name: &'static str,
    /// Every value it may have, when they are few; empty otherwise.
    pub values: &'static [&'static str],
    /// Its values are names that live in the datacenter.
    pub live: Option<LiveValues>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveValues {
    Hostnames,
    VmAliases,
    Services,
}

const fn key(name: &'static str) -> FilterKey {
    FilterKey {
        name,
        values: &[],
        live: None,
    }
}

const fn one_of(name: &'static str, values: &'static [&'static str]) -> FilterKey {
    FilterKey {
        name,
        values,
        live: None,
    }
}

const fn live(name: &'static str, live: LiveValues) -> FilterKey {
    FilterKey {
        name,
        values: &[],
        live: Some(live),
    }
}

const BOOL: &[&str] = &["true", "false"];

/// ListVms: strictly validated, so these are all there are (`tag.KEY` and
/// `internal_metadata.KEY` stand for any key; the role tag is the one
/// operators filter on).
const VMS: &[FilterKey] = &[
    live("alias", LiveValues::VmAliases),
    one_of("brand", &["bhyve", "joyent", "joyent-minimal", "kvm", "lx"]),
    key("billing_id"),
    key("create_timestamp"),
    one_of("docker", BOOL),
    key("fields"),
    key("image_uuid"),
    key("limit"),
    key("offset"),
    key("owner_uuid"),
    key("predicate"),
    key("query"),
    key("ram"),
    key("server_uuid"),
    one_of("state", &["running", "stopped", "active", "destroyed"]),
    live("tag.smartdc_role", LiveValues::Services),
    key("uuid"),
    key("uuids"),
];

/// ListServers: CNAPI refuses any other key.
const SERVERS: &[FilterKey] = &[
    one_of(
        "extras",
        &[
            "agents", "vms", "memory", "disk", "sysinfo", "capacity", "all",
        ],
    ),
    key("fields"),
    one_of("headnode", BOOL),
    live("hostname", LiveValues::Hostnames),
    key("limit"),
    key("offset"),
    one_of("reserved", BOOL),
    one_of("reservoir", BOOL),
    one_of("setup", BOOL),
    key("uuids"),
];

const APPLICATIONS: &[FilterKey] = &[
    one_of("include_master", BOOL),
    live("name", LiveValues::Services),
    key("owner_uuid"),
];

const SERVICES: &[FilterKey] = &[
    key("application_uuid"),
    one_of("include_master", BOOL),
    live("name", LiveValues::Services),
    one_of("type", &["vm", "agent"]),
];

/// `service` (a name or UUID) is the shell's own, turned into
/// `service_uuid` before SAPI is asked.
const INSTANCES: &[FilterKey] = &[
    one_of("include_master", BOOL),
    live("service", LiveValues::Services),
    key("service_uuid"),
    one_of("type", &["vm", "agent"]),
];

/// IMGAPI's ListImages filters (`state` is `active` unless given).
const IMAGES: &[FilterKey] = &[
    key("name"),
    key("os"),
    key("owner"),
    one_of("state", &["active", "disabled", "unactivated", "all"]),
    key("type"),
    key("version"),
];

/// The keys the filter map of `function` (`vmapi::list`) takes; empty for
/// a function that takes no filter map.
pub fn filter_keys(function: &str) -> &'static [FilterKey] {
    match function {
        "vmapi::list" | "vmapi::count" => VMS,
        "cnapi::servers" => SERVERS,
        "sapi::applications" => APPLICATIONS,
        "sapi::services" => SERVICES,
        "sapi::instances" => INSTANCES,
        "imgapi::list" => IMAGES,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_functions_know_their_keys_and_values() {
        let state = filter_keys("vmapi::list")
            .iter()
            .find(|k| k.name == "state")
            .unwrap();
        assert_eq!(state.values, &["running", "stopped", "active", "destroyed"]);
        assert!(
            filter_keys("cnapi::servers")
                .iter()
                .any(|k| k.name == "setup")
        );
        assert!(filter_keys("print").is_empty());
    }
}
