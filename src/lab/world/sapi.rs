//! SAPI objects: application → service → instance, and manifests (apis.md §2.1).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ordered::Obj;

/// Service/instance `type`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    Vm,
    Agent,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Vm => "vm",
            ServiceKind::Agent => "agent",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Application {
    pub uuid: String,
    pub name: String,
    pub owner_uuid: String,
    pub params: Map<String, Value>,
    pub metadata: Map<String, Value>,
    pub manifests: Map<String, Value>,
    /// Anything else stored at create (`metadata_schema`, `master`, …): SAPI echoes it.
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Service {
    pub uuid: String,
    pub name: String,
    pub application_uuid: String,
    pub params: Map<String, Value>,
    pub metadata: Map<String, Value>,
    pub manifests: Map<String, Value>,
    pub master: Option<bool>,
    pub kind: ServiceKind,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Instance {
    pub uuid: String,
    pub service_uuid: String,
    pub params: Map<String, Value>,
    pub metadata: Map<String, Value>,
    /// Omitted from renderings when never given (sdcadm-made instances have none).
    pub manifests: Option<Map<String, Value>>,
    pub master: Option<bool>,
    pub kind: ServiceKind,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub uuid: String,
    pub name: String,
    pub path: String,
    pub template: Value,
    pub post_cmd: Option<String>,
    pub post_cmd_linux: Option<String>,
    pub version: String,
    pub master: Option<bool>,
}

impl Application {
    pub fn render(&self) -> Obj {
        let mut o = Obj::new();
        o.put("uuid", self.uuid.clone());
        o.put("name", self.name.clone());
        o.put("owner_uuid", self.owner_uuid.clone());
        o.put("params", Value::Object(self.params.clone()));
        o.put("metadata", Value::Object(self.metadata.clone()));
        o.put("manifests", Value::Object(self.manifests.clone()));
        for (k, v) in &self.extra {
            o.put(k, v.clone());
        }
        o
    }
}

impl Service {
    /// SAPI's serializer order; `type` only for Accept-Version ≥ 2.
    pub fn render(&self, with_type: bool) -> Obj {
        let mut o = Obj::new();
        o.put("uuid", self.uuid.clone());
        o.put("name", self.name.clone());
        o.put("application_uuid", self.application_uuid.clone());
        o.put("params", Value::Object(self.params.clone()));
        o.put("metadata", Value::Object(self.metadata.clone()));
        o.put("manifests", Value::Object(self.manifests.clone()));
        if let Some(m) = self.master {
            o.put("master", m);
        }
        if with_type {
            o.put("type", self.kind.as_str());
        }
        o
    }
}

impl Instance {
    pub fn alias(&self) -> Option<&str> {
        self.params.get("alias").and_then(Value::as_str)
    }

    pub fn server_uuid(&self) -> Option<&str> {
        self.params.get("server_uuid").and_then(Value::as_str)
    }

    /// SAPI's serializer order; `job_uuid` only in an async create answer; `type` for ≥ 2.
    pub fn render(&self, with_type: bool, job_uuid: Option<&str>) -> Obj {
        let mut o = Obj::new();
        o.put("uuid", self.uuid.clone());
        o.put("service_uuid", self.service_uuid.clone());
        o.put("params", Value::Object(self.params.clone()));
        o.put("metadata", Value::Object(self.metadata.clone()));
        if let Some(m) = &self.manifests {
            o.put("manifests", Value::Object(m.clone()));
        }
        if let Some(m) = self.master {
            o.put("master", m);
        }
        if let Some(j) = job_uuid {
            o.put("job_uuid", j);
        }
        if with_type {
            o.put("type", self.kind.as_str());
        }
        o
    }
}

impl Manifest {
    pub fn render(&self) -> Obj {
        let mut o = Obj::new();
        o.put("uuid", self.uuid.clone());
        o.put("name", self.name.clone());
        o.put("path", self.path.clone());
        if let Some(c) = &self.post_cmd {
            o.put("post_cmd", c.clone());
        }
        if let Some(c) = &self.post_cmd_linux {
            o.put("post_cmd_linux", c.clone());
        }
        o.put("template", self.template.clone());
        o.put("version", self.version.clone());
        if let Some(m) = self.master {
            o.put("master", m);
        }
        o
    }
}

/// Merges attribute maps app → service → instance, later wins key by key (one level deep).
pub fn merge(layers: &[&Map<String, Value>]) -> Map<String, Value> {
    let mut out = Map::new();
    for layer in layers {
        for (k, v) in layer.iter() {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Keys of the merged metadata that SAPI copies into the VM's `customer_metadata`.
const CUSTOMER_METADATA_KEYS: &[&str] = &[
    "SAPI_URL",
    "sapi_url",
    "SAPI-URL",
    "sapi-url",
    "user-script",
    "assets-ip",
];

/// The VMAPI CreateVm payload SAPI builds for an instance (apis.md §2.3).
pub fn payload(app: &Application, svc: &Service, inst: &Instance) -> Map<String, Value> {
    if inst.kind == ServiceKind::Agent {
        return Map::new();
    }
    let mut p = merge(&[&app.params, &svc.params, &inst.params]);
    p.insert("owner_uuid".into(), Value::from(app.owner_uuid.clone()));
    p.insert("uuid".into(), Value::from(inst.uuid.clone()));
    p.insert("brand".into(), Value::from("joyent-minimal"));
    let metadata = merge(&[&app.metadata, &svc.metadata, &inst.metadata]);
    let mut pass: Vec<String> = CUSTOMER_METADATA_KEYS
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(Value::Array(extra)) = metadata.get("pass_vmapi_metadata_keys") {
        pass.extend(extra.iter().filter_map(Value::as_str).map(str::to_string));
    }
    let mut cm = match p.get("customer_metadata") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    for (k, v) in &metadata {
        if pass.contains(k) {
            cm.insert(k.clone(), v.clone());
        }
    }
    p.insert("customer_metadata".into(), Value::Object(cm));
    if let Some(Value::Array(nets)) = p.get("networks") {
        let normalized: Vec<Value> = nets
            .iter()
            .map(|n| match n {
                Value::String(s) if uuid::Uuid::parse_str(s).is_ok() => {
                    serde_json::json!({"uuid": s})
                }
                Value::String(s) => serde_json::json!({"name": s}),
                other => other.clone(),
            })
            .collect();
        p.insert("networks".into(), Value::Array(normalized));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn payload_merges_forces_and_filters_metadata() {
        let app = Application {
            uuid: "a".into(),
            name: "sdc".into(),
            owner_uuid: "owner".into(),
            params: map(json!({"brand": "joyent", "resolvers": ["10.0.0.1"], "owner_uuid": "x"})),
            metadata: map(json!({"sapi-url": "http://sapi", "datacenter_name": "coal"})),
            manifests: Map::new(),
            extra: Map::new(),
        };
        let svc = Service {
            uuid: "s".into(),
            name: "moray".into(),
            application_uuid: "a".into(),
            params: map(
                json!({"image_uuid": "img", "networks": ["admin", "326494fa-7860-4fc1-b82e-fa363bdcfac7"]}),
            ),
            metadata: map(json!({"user-script": "#!/bin/sh", "SERVICE_NAME": "moray"})),
            manifests: Map::new(),
            master: None,
            kind: ServiceKind::Vm,
        };
        let inst = Instance {
            uuid: "i".into(),
            service_uuid: "s".into(),
            params: map(json!({"alias": "moray1", "image_uuid": "img2"})),
            metadata: Map::new(),
            manifests: None,
            master: None,
            kind: ServiceKind::Vm,
        };
        let p = payload(&app, &svc, &inst);
        assert_eq!(p["owner_uuid"], "owner");
        assert_eq!(p["brand"], "joyent-minimal");
        assert_eq!(p["uuid"], "i");
        assert_eq!(p["image_uuid"], "img2");
        assert_eq!(
            p["networks"],
            json!([{"name": "admin"}, {"uuid": "326494fa-7860-4fc1-b82e-fa363bdcfac7"}])
        );
        assert_eq!(
            p["customer_metadata"],
            json!({"sapi-url": "http://sapi", "user-script": "#!/bin/sh"})
        );
    }

    #[test]
    fn agent_instances_have_empty_payload() {
        let app = Application {
            uuid: "a".into(),
            name: "sdc".into(),
            owner_uuid: "o".into(),
            params: Map::new(),
            metadata: Map::new(),
            manifests: Map::new(),
            extra: Map::new(),
        };
        let svc = Service {
            uuid: "s".into(),
            name: "cn-agent".into(),
            application_uuid: "a".into(),
            params: Map::new(),
            metadata: Map::new(),
            manifests: Map::new(),
            master: None,
            kind: ServiceKind::Agent,
        };
        let inst = Instance {
            uuid: "i".into(),
            service_uuid: "s".into(),
            params: Map::new(),
            metadata: Map::new(),
            manifests: None,
            master: None,
            kind: ServiceKind::Agent,
        };
        assert!(payload(&app, &svc, &inst).is_empty());
    }
}
