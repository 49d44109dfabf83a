//! The images the lab's IMGAPI holds, and which VMAPI accepts.
//!
//! Every VM service of SAPI gets three versions of its image in the
//! catalog: the one its `params.image_uuid` names (published a month ago),
//! an older one and a newer one, so that an update to `latest` has
//! somewhere to go and a rollback somewhere to come back to. The catalog is
//! kept with the world, so the versions stay put when a service moves to
//! another image. One base image serves VMs that are not core zones.
//!
//! VMAPI refuses a provision from any image not in the catalog (nor run by
//! a VM or named by a service already), as a datacenter whose IMGAPI does
//! not have it does.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ServiceKind, World, iso};

/// A SmartOS base image the lab offers for VMs outside SAPI (customer
/// VMs, the API conformance checks).
pub const BASE_IMAGE: &str = "2b683a82-a066-11e3-97ab-2faa44701c5a";

/// The owner of every core image: the `admin` user.
const ADMIN_UUID: &str = "930896af-bf8c-48d4-885c-6573a94b1853";

/// One image of the catalog, with the fields sdcadm reads.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Image {
    pub uuid: String,
    /// Named after the service it is for (the lab's convention).
    pub name: String,
    pub version: String,
    pub published_at: DateTime<Utc>,
    /// `active` or `disabled`.
    pub state: String,
    pub os: String,
}

impl Image {
    /// The image as IMGAPI's `GET /images/:uuid` shows it.
    pub fn render(&self) -> Value {
        json!({
            "v": 2,
            "uuid": self.uuid,
            "owner": ADMIN_UUID,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "disabled": self.state == "disabled",
            "public": false,
            "published_at": iso(&self.published_at),
            "type": "zone-dataset",
            "os": self.os,
            "files": [{"sha1": sha1_like(&self.uuid), "size": 104857600, "compression": "gzip"}],
            "description": format!("SDC {}", self.name),
            "requirements": {"min_platform": {"7.0": "20141030T081701Z"}},
            "tags": {"smartdc_service": true},
        })
    }
}

/// A stable 40-hex-digit stand-in for the file's sha1.
fn sha1_like(uuid: &str) -> String {
    let hex: String = uuid.chars().filter(|c| *c != '-').collect();
    format!("{hex}{}", &hex[..8.min(hex.len())])
}

/// `master-20260101T000000Z-g1a2b3c4`, as Triton's builds are versioned.
fn version_at(t: &DateTime<Utc>, uuid: &str) -> String {
    format!(
        "master-{}-g{}",
        t.format("%Y%m%dT%H%M%SZ"),
        &uuid.replace('-', "")[..7]
    )
}

impl World {
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    pub fn image(&self, uuid: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.uuid == uuid)
    }

    pub fn knows_image(&self, uuid: &str) -> bool {
        uuid == BASE_IMAGE
            || self.image(uuid).is_some()
            || self
                .services()
                .iter()
                .any(|s| s.params.get("image_uuid").and_then(|i| i.as_str()) == Some(uuid))
            || self.vms().any(|vm| vm.image_uuid.as_deref() == Some(uuid))
    }

    /// Adds an older, the current and a newer image for every VM service
    /// whose image the catalog does not hold yet (a new lab, or one saved
    /// before the catalog existed). `now` dates them.
    pub fn catalog_images(&mut self, now: DateTime<Utc>) {
        let missing: Vec<(String, String)> = self
            .services()
            .iter()
            .filter(|s| s.kind == ServiceKind::Vm)
            .filter_map(|s| {
                let image = s.params.get("image_uuid")?.as_str()?;
                Some((s.name.clone(), image.to_string()))
            })
            .filter(|(_, image)| self.image(image).is_none())
            .collect();
        for (name, current) in missing {
            let versions = [
                (Uuid::new_v4().to_string(), now - Duration::days(60)),
                (current, now - Duration::days(30)),
                (Uuid::new_v4().to_string(), now - Duration::days(1)),
            ];
            for (uuid, published_at) in versions {
                self.images.push(Image {
                    version: version_at(&published_at, &uuid),
                    uuid,
                    name: name.clone(),
                    published_at,
                    state: "active".to_string(),
                    os: "smartos".to_string(),
                });
            }
        }
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

    #[test]
    fn versions_sort_as_they_were_published() {
        let now = Utc::now();
        let old = version_at(&(now - Duration::days(60)), "0123456789");
        let new = version_at(&(now - Duration::days(1)), "abcdef0123");
        assert!(old < new, "{old} < {new}");
        assert!(new.ends_with("-gabcdef0"), "{new}");
    }
}
