//! HTTP twins of the APIs (SAPI, VMAPI, CNAPI, IMGAPI) over one shared `World` (apis.md, field by field).
//!
//! Each router answers like the real restify 4 service: its `Server` header, `x-request-id`
//! echo, error bodies, status codes (including where the code contradicts the docs, §5), and
//! workflow jobs that progress over time. The lab binds each router to its own address.

mod cnapi;
mod http;
mod imgapi;
mod jobs;
mod ldap;
mod sapi;
mod sapi_instances;
mod sapi_update;
mod version;

#[cfg(test)]
mod tests_cnapi;
#[cfg(test)]
mod tests_imgapi;
#[cfg(test)]
mod tests_sapi;
#[cfg(test)]
mod tests_support;
#[cfg(test)]
mod tests_vmapi;
mod vm_actions;
mod vm_attrs;
mod vm_create;
mod vm_list;
mod vm_query;
mod vmapi;

use std::collections::BTreeMap;

use axum::Router;

use crate::api::Api;
use crate::lab::world::SharedWorld;

pub use ldap::{Attributes, Filter};

/// The router that answers as `api`.
pub fn router(api: Api, twin: Twin) -> Router {
    match api {
        Api::Sapi => sapi::sapi(twin),
        Api::Vmapi => vmapi::vmapi(twin),
        Api::Cnapi => cnapi::cnapi(twin),
        Api::Imgapi => imgapi::imgapi(twin),
    }
}

/// What the routers share: the world, and the zone names they report in `x-server-name`.
#[derive(Clone)]
pub struct Twin {
    pub world: SharedWorld,
    /// `x-server-name` of each API (the real ones send the serving zone's uuid).
    pub zones: BTreeMap<Api, String>,
    /// Where CNAPI's CommandExecute hands the zone commands the lab runs;
    /// None in twin-only tests (then every command is refused).
    pub zone_commands: Option<crate::lab::zone_command::ZoneCommands>,
}

impl Twin {
    /// A twin over `world`; zone names default to fresh uuids (set them to the instances' uuids
    /// when the layout has sapi0/vmapi0/cnapi0).
    pub fn new(world: SharedWorld) -> Twin {
        let zones = Api::ALL.map(|api| (api, uuid::Uuid::new_v4().to_string()));
        Twin {
            world,
            zones: zones.into(),
            zone_commands: None,
        }
    }

    /// The zone name `api` reports in `x-server-name`.
    fn zone(&self, api: Api) -> String {
        self.zones.get(&api).cloned().unwrap_or_default()
    }

    /// `http://workflow.<dc>.<domain>`, sent as `workflow-api` with every job-creating answer.
    fn workflow_url(&self) -> String {
        self.world
            .with(|w| format!("http://{}", w.config.service_domain("workflow")))
    }
}
