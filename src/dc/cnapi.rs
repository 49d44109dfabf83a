//! CNAPI: the servers (compute nodes) of the datacenter.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Query;
use super::error::DcError;
use super::health::{self, Health};
use super::http::{ApiClient, Request};
use super::query::{has_key, page, with_required_fields};

/// CNAPI's maximum (and default) `limit`.
pub const PAGE_LIMIT: usize = 1000;

/// Fields `Server` needs; added to a caller's `fields=` list.
const SERVER_FIELDS: &[&str] = &["uuid", "hostname", "status", "setup", "headnode"];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub uuid: String,
    pub hostname: String,
    /// `running`, `unknown` or `rebooting`; CNAPI renders a missing status
    /// as `unknown`, and so do we.
    #[serde(default = "unknown")]
    pub status: String,
    pub setup: bool,
    pub headnode: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn unknown() -> String {
    "unknown".to_string()
}

/// What a command run through CommandExecute printed, and its exit code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    #[serde(rename = "exitCode")]
    pub exit_code: i64,
}

#[derive(Clone, Debug)]
pub struct Cnapi {
    client: ApiClient,
}

impl Cnapi {
    pub(crate) fn new(client: ApiClient) -> Cnapi {
        Cnapi { client }
    }

    pub fn client(&self) -> &ApiClient {
        &self.client
    }

    /// `GET /ping` is always 200: `ready` says whether workflow, moray and
    /// amqp are all online.
    pub async fn ping(&self) -> Result<Health, DcError> {
        health::ping(&self.client).await
    }

    /// `GET /servers` with the given filters (apis.md §4.2), every page
    /// unless the query has its own `limit` or `offset`.
    pub async fn list_servers(&self, filters: &Query) -> Result<Vec<Server>, DcError> {
        let filters = with_required_fields(filters, SERVER_FIELDS);
        let id = Uuid::new_v4();
        if has_key(&filters, "limit") || has_key(&filters, "offset") {
            return self.client.get_json(&["servers"], &filters, id).await;
        }
        // No count header here: page until a short page.
        let mut servers = Vec::new();
        loop {
            let query = page(&filters, PAGE_LIMIT, Some(servers.len()));
            let batch: Vec<Server> = self.client.get_json(&["servers"], &query, id).await?;
            let full = batch.len() == PAGE_LIMIT;
            servers.extend(batch);
            if !full {
                return Ok(servers);
            }
        }
    }

    /// `GET /servers/:uuid`: the full record (sysinfo, vms, agents, capacity).
    pub async fn get_server(&self, uuid: &str) -> Result<Server, DcError> {
        self.client
            .get_json(&["servers", uuid], &[], Uuid::new_v4())
            .await
    }

    /// `DELETE /servers/:uuid` ("forget"): removes CNAPI's record only.
    /// Nothing reaches the machine; a live server registers itself again.
    /// CommandExecute (`POST /servers/:uuid/execute`, apis.md §4.5a): runs
    /// `script` (a shebang first) on the server. Always with `json: true`:
    /// without it a non-zero exit is a bare 500 and stderr is lost.
    pub async fn execute(&self, server: &str, script: &str) -> Result<ExecOutput, DcError> {
        let body = serde_json::json!({ "script": script, "json": true });
        self.client
            .send(
                Request::new(
                    Method::POST,
                    &["servers", server, "execute"],
                    &[],
                    Uuid::new_v4(),
                )
                .body(body)
                .long(),
            )
            .await?
            .json()
    }

    pub async fn delete_server(&self, uuid: &str) -> Result<(), DcError> {
        self.client
            .send(Request::new(
                Method::DELETE,
                &["servers", uuid],
                &[],
                Uuid::new_v4(),
            ))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        crate::fixtures::text(name)
    }

    #[test]
    fn servers_decode() {
        let list: Vec<Server> =
            serde_json::from_str(&fixture("cnapi-servers-list.json")).expect("decodes");
        assert_eq!(list.len(), 2);
        assert!(list[0].headnode && list[0].setup);
        assert_eq!(list[1].hostname, "4QENZE2");
        let head: Server =
            serde_json::from_str(&fixture("cnapi-server-headnode.json")).expect("decodes");
        assert!(head.extra["sysinfo"].is_object());
        assert_eq!(head.status, "running");
    }

    #[test]
    fn missing_status_is_unknown() {
        let s: Server =
            serde_json::from_str(r#"{"uuid":"u","hostname":"h","setup":false,"headnode":false}"#)
                .expect("decodes");
        assert_eq!(s.status, "unknown");
    }
}
