//! The data a lab instance keeps on disk under its VM's uuid (a ZooKeeper
//! member's, a manatee peer's): it lives as long as the VM, as a zone's
//! delegated dataset does.

use std::path::Path;

use crate::lab::world::{SharedWorld, VmState};

/// Removes the directories under `root` of `alias`'s VMs that were
/// destroyed (or failed to provision).
pub fn forget_destroyed(root: &Path, world: &SharedWorld, alias: &str) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let uuid = entry.file_name().to_string_lossy().into_owned();
        let destroyed = world.with(|w| {
            w.vm(&uuid).is_some_and(|vm| {
                vm.alias.as_deref() == Some(alias)
                    && matches!(vm.state, VmState::Destroyed | VmState::Failed)
            })
        });
        if destroyed {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
