//! The images the lab knows, until it has an IMGAPI twin: the image of
//! every SAPI service, every image a VM already runs, and one base image
//! for VMs that are not core zones. VMAPI refuses a provision from any
//! other image, as a datacenter whose IMGAPI does not have it does.

use super::World;

/// A SmartOS base image the lab offers for VMs outside SAPI (customer
/// VMs, the API conformance checks).
pub const BASE_IMAGE: &str = "2b683a82-a066-11e3-97ab-2faa44701c5a";

impl World {
    pub fn knows_image(&self, uuid: &str) -> bool {
        uuid == BASE_IMAGE
            || self
                .services()
                .iter()
                .any(|s| s.params.get("image_uuid").and_then(|i| i.as_str()) == Some(uuid))
            || self.vms().any(|vm| vm.image_uuid.as_deref() == Some(uuid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_image_and_no_other_stranger_is_known() {
        let world = World::new(Default::default());
        assert!(world.knows_image(BASE_IMAGE));
        assert!(!world.knows_image("00000000-0000-4000-8000-000000000001"));
    }
}
