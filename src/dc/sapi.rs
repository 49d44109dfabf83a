//! SAPI: applications → services → instances, their configs, and the mode.
//!
//! SAPI silently ignores filters it does not know (`GET /instances?alias=x`
//! returns every instance), so list filters are checked here against the
//! ones SAPI implements (apis.md §2.2) and unknown ones are refused.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Query;
use super::error::{Call, DcError};
use super::health::{self, Health};
use super::http::{ApiClient, Request};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub uuid: String,
    pub name: String,
    pub owner_uuid: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub uuid: String,
    pub name: String,
    pub application_uuid: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// `vm` or `agent` (SAPI sends it because we ask for version `~2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Also the VM uuid (zonename) for `vm` instances.
    pub uuid: String,
    pub service_uuid: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Only in the answer of an async create: the VMAPI provision job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_uuid: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Instance {
    /// The alias lives in `params.alias`; instances have no name of their own.
    pub fn alias(&self) -> Option<&str> {
        self.params.get("alias").and_then(Value::as_str)
    }

    pub fn server_uuid(&self) -> Option<&str> {
        self.params.get("server_uuid").and_then(Value::as_str)
    }
}

/// Body of `POST /instances`. `image_uuid` normally comes from the service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewInstance {
    pub service_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How a `PUT` changes the maps it is given (SAPI `action`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateAction {
    /// Set the given keys, leave the others.
    #[default]
    Update,
    /// Replace each given map whole.
    Replace,
    /// Remove the given keys (their values are ignored).
    Delete,
}

/// Body of `PUT /services/:uuid` and `PUT /instances/:uuid`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateRequest {
    #[serde(default)]
    pub action: UpdateAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<Map<String, Value>>,
}

/// Whether `create_instance` waits for the VM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvisionMode {
    /// SAPI waits for the provision job (can take many minutes) and answers
    /// with the instance, or with the job's error.
    Blocking,
    /// SAPI answers once VMAPI queued the job; the instance has `job_uuid`.
    /// A job failing later leaves the instance behind: delete it.
    Async,
}

const APPLICATION_FILTERS: &[&str] = &["name", "owner_uuid", "include_master"];
const SERVICE_FILTERS: &[&str] = &["name", "application_uuid", "type", "include_master"];
const INSTANCE_FILTERS: &[&str] = &["service_uuid", "type", "include_master"];

#[derive(Clone, Debug)]
pub struct Sapi {
    client: ApiClient,
}

impl Sapi {
    pub(crate) fn new(client: ApiClient) -> Sapi {
        Sapi { client }
    }

    pub fn client(&self) -> &ApiClient {
        &self.client
    }

    /// `GET /ping`: 200 when SAPI's storage is available, 500 when not.
    pub async fn ping(&self) -> Result<Health, DcError> {
        health::ping(&self.client).await
    }

    pub async fn list_applications(&self, filters: &Query) -> Result<Vec<Application>, DcError> {
        self.list("applications", APPLICATION_FILTERS, filters)
            .await
    }

    pub async fn get_application(&self, uuid: &str) -> Result<Application, DcError> {
        self.client
            .get_json(&["applications", uuid], &[], Uuid::new_v4())
            .await
    }

    /// `PUT /applications/:uuid` (e.g. the `sdc` application's metadata).
    pub async fn update_application(
        &self,
        uuid: &str,
        changes: &UpdateRequest,
    ) -> Result<Application, DcError> {
        self.update("applications", uuid, changes).await
    }

    pub async fn list_services(&self, filters: &Query) -> Result<Vec<Service>, DcError> {
        self.list("services", SERVICE_FILTERS, filters).await
    }

    pub async fn get_service(&self, uuid: &str) -> Result<Service, DcError> {
        self.client
            .get_json(&["services", uuid], &[], Uuid::new_v4())
            .await
    }

    pub async fn update_service(
        &self,
        uuid: &str,
        changes: &UpdateRequest,
    ) -> Result<Service, DcError> {
        self.update("services", uuid, changes).await
    }

    pub async fn list_instances(&self, filters: &Query) -> Result<Vec<Instance>, DcError> {
        self.list("instances", INSTANCE_FILTERS, filters).await
    }

    pub async fn get_instance(&self, uuid: &str) -> Result<Instance, DcError> {
        self.client
            .get_json(&["instances", uuid], &[], Uuid::new_v4())
            .await
    }

    /// `POST /instances`. Blocking waits up to the long timeout (SAPI itself
    /// waits up to an hour for the provision job).
    pub async fn create_instance(
        &self,
        instance: &NewInstance,
        mode: ProvisionMode,
    ) -> Result<Instance, DcError> {
        let body = to_body(&self.client, "POST", "/instances", instance)?;
        let query = match mode {
            ProvisionMode::Blocking => Vec::new(),
            ProvisionMode::Async => vec![("async".to_string(), "true".to_string())],
        };
        let mut request =
            Request::new(Method::POST, &["instances"], &query, Uuid::new_v4()).body(body);
        if mode == ProvisionMode::Blocking {
            request = request.long();
        }
        self.client.send(request).await?.json()
    }

    pub async fn update_instance(
        &self,
        uuid: &str,
        changes: &UpdateRequest,
    ) -> Result<Instance, DcError> {
        self.update("instances", uuid, changes).await
    }

    /// `PUT /instances/:uuid/upgrade` (apis.md §2.6): SAPI reprovisions
    /// the instance's VM to `image_uuid` and waits for the job, so this can
    /// take minutes. The answer is the instance as it was before.
    pub async fn upgrade_instance(
        &self,
        uuid: &str,
        image_uuid: &str,
    ) -> Result<Instance, DcError> {
        let body = serde_json::json!({ "image_uuid": image_uuid });
        self.client
            .send(
                Request::new(
                    Method::PUT,
                    &["instances", uuid, "upgrade"],
                    &[],
                    Uuid::new_v4(),
                )
                .body(body)
                .long(),
            )
            .await?
            .json()
    }

    /// `PUT /{collection}/:uuid`: the same update semantics for
    /// applications, services and instances (apis.md §2.2).
    async fn update<T: DeserializeOwned>(
        &self,
        collection: &str,
        uuid: &str,
        changes: &UpdateRequest,
    ) -> Result<T, DcError> {
        let path = format!("/{collection}/{uuid}");
        let body = to_body(&self.client, "PUT", &path, changes)?;
        self.client
            .send(Request::new(Method::PUT, &[collection, uuid], &[], Uuid::new_v4()).body(body))
            .await?
            .json()
    }

    /// `DELETE /instances/:uuid`: SAPI destroys the VM first and waits for
    /// the destroy job, so this can take minutes.
    pub async fn delete_instance(&self, uuid: &str) -> Result<(), DcError> {
        self.client
            .send(Request::new(Method::DELETE, &["instances", uuid], &[], Uuid::new_v4()).long())
            .await
            .map(drop)
    }

    /// `GET /configs/:uuid`: `{manifests: [...], metadata: {...}}` as
    /// config-agent sees it.
    pub async fn get_config(&self, uuid: &str) -> Result<Value, DcError> {
        self.client
            .get_json(&["configs", uuid], &[], Uuid::new_v4())
            .await
    }

    /// `GET /instances/:uuid/payload`: the VMAPI CreateVm body SAPI would send.
    pub async fn get_payload(&self, uuid: &str) -> Result<Value, DcError> {
        self.client
            .get_json(&["instances", uuid, "payload"], &[], Uuid::new_v4())
            .await
    }

    /// `GET /mode`: `proto` or `full`.
    pub async fn get_mode(&self) -> Result<String, DcError> {
        self.client.get_json(&["mode"], &[], Uuid::new_v4()).await
    }

    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        collection: &'static str,
        allowed: &[&str],
        filters: &Query,
    ) -> Result<Vec<T>, DcError> {
        if let Some((key, _)) = filters
            .iter()
            .find(|(key, _)| !allowed.contains(&key.as_str()))
        {
            let call = Call {
                api: "SAPI",
                method: "GET",
                path: format!("/{collection}"),
            };
            return Err(DcError::InvalidRequest {
                call,
                detail: format!(
                    "SAPI has no filter `{key}` (it would ignore it and list everything); filters: {}",
                    allowed.join(", ")
                ),
            });
        }
        self.client
            .get_json(&[collection], filters, Uuid::new_v4())
            .await
    }
}

/// Encodes a request body, naming the request if that fails.
pub(crate) fn to_body<T: Serialize>(
    client: &ApiClient,
    method: &'static str,
    path: &str,
    body: &T,
) -> Result<Value, DcError> {
    serde_json::to_value(body).map_err(|e| DcError::InvalidRequest {
        call: Call {
            api: client.api(),
            method,
            path: path.to_string(),
        },
        detail: format!("cannot encode the body: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        crate::fixtures::text(name)
    }

    #[test]
    fn application_keeps_unknown_fields() {
        let app: Application =
            serde_json::from_str(&fixture("sapi-application-sdc.json")).expect("decodes");
        assert_eq!(app.name, "sdc");
        assert_eq!(app.metadata["datacenter_name"], "coal");
        assert!(app.extra.contains_key("manifests"));
        let back = serde_json::to_value(&app).expect("encodes");
        let original: Value =
            serde_json::from_str(&fixture("sapi-application-sdc.json")).expect("json");
        assert_eq!(back, original, "nothing lost in a round trip");
    }

    #[test]
    fn services_have_a_type() {
        let vm: Service =
            serde_json::from_str(&fixture("sapi-service-manatee.json")).expect("decodes");
        let agent: Service =
            serde_json::from_str(&fixture("sapi-service-cn-agent.json")).expect("decodes");
        assert_eq!(vm.r#type.as_deref(), Some("vm"));
        assert_eq!(agent.r#type.as_deref(), Some("agent"));
        assert_eq!(vm.params["package_name"], "sdc_db");
    }

    #[test]
    fn instance_alias_and_server() {
        let inst: Instance =
            serde_json::from_str(&fixture("sapi-instance-moray.json")).expect("decodes");
        assert_eq!(inst.alias(), Some("moray0"));
        assert_eq!(
            inst.server_uuid(),
            Some("564d4374-d703-b97b-ca9f-7375f05f337c")
        );
        assert_eq!(inst.job_uuid, None);
        let created: Instance =
            serde_json::from_str(&fixture("sapi-instance-create-async.json")).expect("decodes");
        assert_eq!(
            created.job_uuid.as_deref(),
            Some("20e8799a-15e6-4362-8faa-a5f1fa55f5bd")
        );
    }

    #[test]
    fn instance_without_params_is_not_an_error() {
        let inst: Instance =
            serde_json::from_str(r#"{"uuid":"u","service_uuid":"s"}"#).expect("decodes");
        assert_eq!(inst.alias(), None);
    }

    #[test]
    fn update_request_body() {
        let mut metadata = Map::new();
        metadata.insert("foo".into(), Value::Null);
        let body = UpdateRequest {
            action: UpdateAction::Delete,
            metadata: Some(metadata),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&body).expect("encodes"),
            r#"{"action":"delete","metadata":{"foo":null}}"#
        );
    }
}
