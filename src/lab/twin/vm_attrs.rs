//! A VM seen as moray sees a `vmapi_vms` row: the attribute values LDAP filters and sorting use.

use std::borrow::Cow;

use crate::lab::world::{Vm, World, iso};

use super::ldap::Attributes;

pub struct VmAttrs<'a> {
    pub vm: &'a Vm,
    /// Where the VM's cached tag string (`-k=v-`) comes from, only when a filter asks.
    pub world: &'a World,
}

impl Attributes for VmAttrs<'_> {
    fn values(&self, attr: &str) -> Vec<Cow<'_, str>> {
        let vm = self.vm;
        let one = |s: Option<&str>| {
            s.map(|s| vec![Cow::Owned(s.to_string())])
                .unwrap_or_default()
        };
        let num = |n: Option<u64>| {
            n.map(|n| vec![Cow::Owned(n.to_string())])
                .unwrap_or_default()
        };
        match attr {
            "uuid" => vec![Cow::Borrowed(vm.uuid.as_str())],
            "alias" => one(vm.alias.as_deref()),
            "owner_uuid" => vec![Cow::Borrowed(vm.owner_uuid.as_str())],
            "server_uuid" => one(vm.server_uuid.as_deref()),
            "image_uuid" => one(vm.image_uuid.as_deref()),
            "billing_id" => one(vm.billing_id.as_deref()),
            "brand" => vec![Cow::Borrowed(vm.brand.as_str())],
            "state" => vec![Cow::Borrowed(vm.state.as_str())],
            "zone_state" => one(vm.state.zone_state()),
            "package_name" => one(vm.package_name.as_deref()),
            "package_version" => one(vm.package_version.as_deref()),
            "tags" => self
                .world
                .vm_tags_encoded(&vm.uuid)
                .filter(|t| !t.is_empty())
                .map(|t| vec![Cow::Owned(t.to_string())])
                .unwrap_or_default(),
            "max_physical_memory" | "ram" => num(vm.max_physical_memory),
            "quota" => num(vm.quota),
            "cpu_cap" => num(vm.cpu_cap),
            "create_timestamp" => num(Some(vm.create_timestamp.timestamp_millis() as u64)),
            "destroyed" => vm
                .destroyed
                .map(|t| vec![Cow::Owned(t.timestamp_millis().to_string())])
                .unwrap_or_default(),
            "last_modified" => vm
                .last_modified
                .map(|t| vec![Cow::Owned(iso(&t))])
                .unwrap_or_default(),
            "firewall_enabled" => vec![Cow::Borrowed(if vm.firewall_enabled {
                "true"
            } else {
                "false"
            })],
            "internal_metadata_search_array" => vm
                .internal_metadata
                .iter()
                .map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    Cow::Owned(format!("{k}={v}"))
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}
