//! World operations: seeding, faults, jobs, persistence.

use std::net::Ipv4Addr;

use chrono::{Duration, Utc};
use serde_json::Map;

use super::*;

/// headnode + cn1, the `sdc` app, binder and moray services, binder0 on headnode.
pub(crate) fn small_world() -> World {
    let mut w = World::new(WorldConfig::default());
    w.add_server(ServerSpec::new(
        "headnode",
        Ipv4Addr::new(127, 0, 10, 1),
        true,
    ))
    .unwrap();
    w.add_server(ServerSpec::new("cn1", Ipv4Addr::new(127, 0, 10, 2), false))
        .unwrap();
    let app = w.add_application(ApplicationSpec::sdc(&w)).unwrap();
    let binder = ServiceSpec::core(
        &w,
        "binder",
        &app,
        "4129b03e-48e8-42bd-beba-345d660a7b99",
        &Package::SDC_1024,
    );
    w.add_service(binder).unwrap();
    let moray = ServiceSpec::core(
        &w,
        "moray",
        &app,
        "24a4c5c7-a5e6-487d-b1da-2e790dbcaddf",
        &Package::SDC_8192,
    );
    w.add_service(moray).unwrap();
    w.add_instance(InstanceSpec {
        service: "binder".into(),
        alias: "binder0".into(),
        server: "headnode".into(),
        ip: Ipv4Addr::new(127, 0, 20, 1),
        uuid: None,
        running: true,
    })
    .unwrap();
    w
}

#[test]
fn seeded_instance_has_vm_with_admin_nic_tags_and_owner() {
    let w = small_world();
    let vm = w.vm_by_alias("binder0").unwrap();
    assert_eq!(vm.state, VmState::Running);
    assert_eq!(vm.primary_ip(), Some("127.0.20.1"));
    assert_eq!(vm.tags["smartdc_role"], "binder");
    assert_eq!(vm.owner_uuid, w.config.admin_uuid);
    assert_eq!(vm.quota, Some(10));
    let inst = w.instance(&vm.uuid).unwrap();
    assert_eq!(inst.alias(), Some("binder0"));
    assert_eq!(w.service_name_of(&vm.uuid), Some("binder"));
    let json: serde_json::Value = serde_json::from_str(&w.vm_json(&vm.uuid).unwrap()).unwrap();
    assert_eq!(json["nics"][0]["ip"], "127.0.20.1");
    assert_eq!(json["datasets"][0], format!("zones/{}/data", vm.uuid));
}

#[test]
fn vm_rendering_has_every_always_present_key_in_order() {
    let w = small_world();
    let vm = w.vm_by_alias("binder0").unwrap();
    let keys: Vec<String> = vm.render().keys().map(str::to_string).collect();
    let expected = [
        "uuid",
        "alias",
        "autoboot",
        "brand",
        "billing_id",
        "cpu_cap",
        "cpu_shares",
        "create_timestamp",
        "customer_metadata",
        "datasets",
        "destroyed",
        "firewall_enabled",
        "internal_metadata",
        "last_modified",
        "limit_priv",
        "max_locked_memory",
        "max_lwps",
        "max_physical_memory",
        "max_swap",
        "nics",
        "owner_uuid",
        "platform_buildstamp",
        "quota",
        "ram",
        "resolvers",
        "server_uuid",
        "snapshots",
        "state",
        "tags",
        "zfs_filesystem",
        "zfs_io_priority",
        "zone_state",
        "zonepath",
        "zpool",
    ];
    assert_eq!(&keys[..expected.len()], &expected);
    assert_eq!(keys.last().map(String::as_str), Some("image_uuid"));
}

#[test]
fn duplicate_seeds_and_unknown_references_are_refused() {
    let mut w = small_world();
    let dup = w.add_server(ServerSpec::new("cn1", Ipv4Addr::new(127, 0, 10, 9), false));
    assert!(matches!(dup, Err(WorldError::Duplicate(_))));
    let spec = InstanceSpec {
        service: "binder".into(),
        alias: "binder0".into(),
        server: "cn1".into(),
        ip: Ipv4Addr::new(127, 0, 20, 2),
        uuid: None,
        running: true,
    };
    assert!(matches!(
        w.add_instance(spec.clone()),
        Err(WorldError::Duplicate(_))
    ));
    let bad_server = InstanceSpec {
        alias: "binder1".into(),
        server: "cn9".into(),
        ..spec.clone()
    };
    assert_eq!(
        w.add_instance(bad_server),
        Err(WorldError::NoServer("cn9".into()))
    );
    let bad_service = InstanceSpec {
        service: "nope".into(),
        alias: "x1".into(),
        ..spec
    };
    assert_eq!(
        w.add_instance(bad_service),
        Err(WorldError::NoService("nope".into()))
    );
}

#[test]
fn server_down_stops_its_vms_and_up_restarts_them() {
    let mut w = small_world();
    w.take_changes();
    let changes = w.set_server_running("headnode", false).unwrap();
    assert!(matches!(
        &changes[0],
        Change::ServerStatus { running: false, .. }
    ));
    assert!(changes.iter().any(|c| matches!(c,
        Change::VmState { service: Some(s), from: VmState::Running, to: VmState::Stopped, .. } if s == "binder")));
    assert_eq!(w.vm_by_alias("binder0").unwrap().state, VmState::Stopped);
    assert_eq!(w.find_server("headnode").unwrap().status(), "unknown");
    let changes = w.set_server_running("headnode", true).unwrap();
    assert!(changes.iter().any(|c| matches!(
        c,
        Change::VmState {
            to: VmState::Running,
            ..
        }
    )));
    assert_eq!(w.vm_by_alias("binder0").unwrap().state, VmState::Running);
    assert_eq!(
        w.set_server_running("nope", true),
        Err(WorldError::NoServer("nope".into()))
    );
}

#[test]
fn vm_stop_start_by_alias_records_changes() {
    let mut w = small_world();
    let c = w.set_vm_running("binder0", false).unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(w.vm_by_alias("binder0").unwrap().autoboot, Some(false));
    // A stopped VM stays stopped across a server bounce (autoboot off).
    w.set_server_running("headnode", false).unwrap();
    w.set_server_running("headnode", true).unwrap();
    assert_eq!(w.vm_by_alias("binder0").unwrap().state, VmState::Stopped);
    w.set_vm_running("binder0", true).unwrap();
    assert_eq!(w.vm_by_alias("binder0").unwrap().state, VmState::Running);
    assert!(matches!(
        w.set_vm_running("ghost", true),
        Err(WorldError::NoVm(_))
    ));
}

#[test]
fn stop_job_fails_in_the_job_on_a_stopped_vm_unless_idempotent() {
    let mut w = small_world();
    let vm = w.vm_by_alias("binder0").unwrap().uuid.clone();
    w.set_vm_running("binder0", false).unwrap();
    let job = w.start_job(JobKind::Stop, Some(&vm), None, false, Map::new(), "req");
    assert_eq!(w.job(&job).unwrap().execution, Execution::Queued);
    w.advance(Utc::now() + Duration::seconds(5));
    let j = w.job(&job).unwrap();
    assert_eq!(j.execution, Execution::Failed);
    assert_eq!(
        j.error_message(),
        Some("Cannot stop a VM from a 'stopped' state")
    );
    assert_eq!(
        j.chain_results.last().unwrap().name,
        "common.ensure_vm_state"
    );
    let job = w.start_job(JobKind::Stop, Some(&vm), None, true, Map::new(), "req");
    w.advance(Utc::now() + Duration::seconds(5));
    assert_eq!(w.job(&job).unwrap().execution, Execution::Succeeded);
}

#[test]
fn jobs_progress_queued_running_succeeded_with_effects() {
    let mut w = small_world();
    let vm = w.vm_by_alias("binder0").unwrap().uuid.clone();
    let start = Utc::now();
    let job = w.start_job(JobKind::Stop, Some(&vm), None, false, Map::new(), "req");
    w.advance(start + Duration::milliseconds(300));
    let j = w.job(&job).unwrap();
    assert_eq!(j.execution, Execution::Running);
    assert!(!j.chain_results.is_empty() && j.chain_results.len() < 9);
    assert!(w.next_job_due().is_some());
    w.advance(start + Duration::seconds(2));
    assert_eq!(w.job(&job).unwrap().execution, Execution::Succeeded);
    assert_eq!(w.vm(&vm).unwrap().state, VmState::Stopped);
    assert!(w.next_job_due().is_none());
}

#[test]
fn provision_onto_a_down_server_fails_and_marks_the_vm_failed() {
    let mut w = small_world();
    let cn1 = w.find_server("cn1").unwrap().uuid.clone();
    let mut payload = Map::new();
    payload.insert("alias".into(), "moray1".into());
    let vm = w.new_vm(&payload, &cn1, w.allocate_ip(), VmState::Provisioning);
    let uuid = vm.uuid.clone();
    w.insert_vm(vm);
    let job = w.start_job(
        JobKind::Provision,
        Some(&uuid),
        None,
        false,
        Map::new(),
        "r",
    );
    w.set_server_running("cn1", false).unwrap();
    w.advance(Utc::now() + Duration::seconds(5));
    assert_eq!(w.job(&job).unwrap().execution, Execution::Failed);
    assert_eq!(w.vm(&uuid).unwrap().state, VmState::Failed);
}

#[test]
fn allocate_ip_skips_used_addresses() {
    let mut w = small_world();
    w.config.provision_ips = IpRange {
        first: Ipv4Addr::new(127, 0, 20, 1),
        last: Ipv4Addr::new(127, 0, 20, 2),
    };
    assert_eq!(w.allocate_ip(), Some(Ipv4Addr::new(127, 0, 20, 2)));
    w.config.provision_ips.last = Ipv4Addr::new(127, 0, 20, 1);
    assert_eq!(w.allocate_ip(), None);
}

#[test]
fn customer_vms_are_cheap_and_survive_a_save_and_load() {
    let mut w = small_world();
    let uuids = w.add_customer_vms(&CustomerVms::new(500));
    assert_eq!(uuids.len(), 500);
    assert_eq!(w.vm_count(), 501);
    let cn1 = w.find_server("cn1").unwrap().uuid.clone();
    assert!(
        uuids
            .iter()
            .all(|u| w.vm(u).unwrap().server_uuid.as_deref() == Some(cn1.as_str()))
    );
    let text = w.to_json().unwrap();
    let back = World::from_json(&text).unwrap();
    assert_eq!(back.vm_count(), 501);
    assert_eq!(back.vm_json(&uuids[0]), w.vm_json(&uuids[0]));
    assert!(World::from_json("{not json").is_err());
}
