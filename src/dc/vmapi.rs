//! VMAPI: VM records, and the calls that queue VM jobs.
//!
//! ListVms returns at most 1000 VMs per request. `list` pages by itself: the
//! first page's `x-joyent-resource-count` says how many there are, and the
//! remaining pages are fetched a few at a time, in order.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{StreamExt, TryStreamExt, stream};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::Query;
use super::error::{Call, DcError};
use super::health::{self, Health};
use super::http::{ApiClient, Request};
use super::query::{has_key, page, with_required_fields};
pub use super::vm::Vm;

/// VMAPI's maximum (and default) `limit`.
pub const PAGE_LIMIT: usize = 1000;

const RESOURCE_COUNT: &str = "x-joyent-resource-count";

/// Fields `Vm` needs; added to a caller's `fields=` list.
const VM_FIELDS: &[&str] = &[
    "uuid",
    "alias",
    "state",
    "server_uuid",
    "owner_uuid",
    "tags",
];

/// The `202` answer of every VMAPI mutation: the job to wait for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    pub vm_uuid: String,
    pub job_uuid: String,
}

#[derive(Clone, Debug)]
pub struct Vmapi {
    client: ApiClient,
}

impl Vmapi {
    pub(crate) fn new(client: ApiClient) -> Vmapi {
        Vmapi { client }
    }

    pub fn client(&self) -> &ApiClient {
        &self.client
    }

    /// `GET /ping`: 503 with `status: "some services are not ready"` when
    /// moray or workflow is not connected.
    pub async fn ping(&self) -> Result<Health, DcError> {
        health::ping(&self.client).await
    }

    /// `GET /vms` with the given filters (apis.md §3.3), every page unless
    /// the query has its own `limit`, `offset` or `marker`.
    pub async fn list(&self, filters: &Query) -> Result<Vec<Vm>, DcError> {
        self.list_as(filters).await
    }

    /// Like [`Vmapi::list`], decoding each VM straight from the page bytes
    /// into `T` (a narrower struct, `serde_json::Value`, a script engine's
    /// value): a caller that converts ten thousand VMs anyway need not hold
    /// them twice.
    pub async fn list_as<T: DeserializeOwned + Send + 'static>(
        &self,
        filters: &Query,
    ) -> Result<Vec<T>, DcError> {
        let filters = with_required_fields(filters, VM_FIELDS);
        let id = Uuid::new_v4();
        if ["limit", "offset", "marker"]
            .iter()
            .any(|key| has_key(&filters, key))
        {
            return self.client.get_json(&["vms"], &filters, id).await;
        }
        let first = self
            .client
            .send(Request::new(
                Method::GET,
                &["vms"],
                &page(&filters, PAGE_LIMIT, None),
                id,
            ))
            .await?;
        let total = first
            .header(RESOURCE_COUNT)
            .and_then(|v| v.trim().parse::<usize>().ok());
        let mut vms: Vec<T> = first.json()?;
        drop(first);
        if vms.len() < PAGE_LIMIT {
            return Ok(vms);
        }
        match total {
            Some(total) => {
                // The count is a snapshot: VMs created meanwhile are not
                // chased, as with any single ListVms.
                vms.reserve(total.saturating_sub(vms.len()));
                let offsets = (vms.len()..total).step_by(PAGE_LIMIT);
                let concurrency = self.client.options().page_concurrency.max(1);
                // Each page is fetched and decoded in its own task, so
                // decoding (most of the cost) uses every core.
                let mut pages = stream::iter(offsets)
                    .map(|offset| PageTask::spawn(&self.client, &filters, offset, id))
                    .buffered(concurrency);
                while let Some(page) = pages.try_next().await? {
                    vms.extend(page);
                }
            }
            None => loop {
                let page: Vec<T> = self.page(&filters, vms.len(), id).await?;
                let full = page.len() == PAGE_LIMIT;
                vms.extend(page);
                if !full {
                    break;
                }
            },
        }
        Ok(vms)
    }

    async fn page<T: DeserializeOwned>(
        &self,
        filters: &Query,
        offset: usize,
        id: Uuid,
    ) -> Result<Vec<T>, DcError> {
        self.client
            .get_json(&["vms"], &page(filters, PAGE_LIMIT, Some(offset)), id)
            .await
    }

    /// `HEAD /vms`: how many VMs match, without fetching them.
    pub async fn count(&self, filters: &Query) -> Result<u64, DcError> {
        let id = Uuid::new_v4();
        let reply = match self
            .client
            .send(Request::new(Method::HEAD, &["vms"], filters, id))
            .await
        {
            Ok(reply) => reply,
            // A HEAD answer has no body, so a refused filter would read
            // "409 Conflict (empty body)": the same filters as a one-VM GET
            // bring VMAPI's reason.
            Err(
                err @ DcError::Status {
                    status: 400..=499, ..
                },
            ) => {
                let asked: Result<Vec<Value>, DcError> = self
                    .client
                    .get_json(&["vms"], &page(filters, 1, None), id)
                    .await;
                return Err(asked.err().unwrap_or(err));
            }
            Err(err) => return Err(err),
        };
        match reply
            .header(RESOURCE_COUNT)
            .map(|v| v.trim().parse::<u64>())
        {
            Some(Ok(count)) => Ok(count),
            Some(Err(_)) | None => Err(DcError::BadResponse {
                call: reply.call.clone(),
                detail: format!(
                    "no usable {RESOURCE_COUNT} header ({:?})",
                    reply.header(RESOURCE_COUNT)
                ),
            }),
        }
    }

    /// `GET /vms/:uuid` (uuids only: an alias is a 409).
    pub async fn get(&self, uuid: &str) -> Result<Vm, DcError> {
        self.client
            .get_json(&["vms", uuid], &[], Uuid::new_v4())
            .await
    }

    /// `POST /vms`: queues a provision job; the VM exists at once in state
    /// `provisioning`.
    pub async fn create(&self, payload: &Value) -> Result<JobRef, DcError> {
        self.client
            .send(Request::new(Method::POST, &["vms"], &[], Uuid::new_v4()).body(payload.clone()))
            .await?
            .json()
    }

    /// Wrong-state actions (stop a stopped VM) fail in the job, not here.
    pub async fn start(&self, uuid: &str) -> Result<JobRef, DcError> {
        self.action(uuid, "start", &Value::Object(Map::new())).await
    }

    pub async fn stop(&self, uuid: &str) -> Result<JobRef, DcError> {
        self.action(uuid, "stop", &Value::Object(Map::new())).await
    }

    pub async fn reboot(&self, uuid: &str) -> Result<JobRef, DcError> {
        self.action(uuid, "reboot", &Value::Object(Map::new()))
            .await
    }

    /// `POST /vms/:uuid?action=NAME` with extra parameters in the body
    /// (`{"idempotent": true}`, `{"image_uuid": …}` for reprovision, …).
    pub async fn action(
        &self,
        uuid: &str,
        action: &str,
        params: &Value,
    ) -> Result<JobRef, DcError> {
        let query = vec![("action".to_string(), action.to_string())];
        self.client
            .send(
                Request::new(Method::POST, &["vms", uuid], &query, Uuid::new_v4())
                    .body(params.clone()),
            )
            .await?
            .json()
    }

    /// `DELETE /vms/:uuid`: queues a destroy job; the record stays, `destroyed`.
    pub async fn delete(&self, uuid: &str) -> Result<JobRef, DcError> {
        self.client
            .send(Request::new(
                Method::DELETE,
                &["vms", uuid],
                &[],
                Uuid::new_v4(),
            ))
            .await?
            .json()
    }
}

/// One page of ListVms fetched and decoded on its own task; dropping it
/// (the list was interrupted) aborts the task.
struct PageTask<T> {
    handle: JoinHandle<Result<Vec<T>, DcError>>,
    call: Call,
}

impl<T: DeserializeOwned + Send + 'static> PageTask<T> {
    fn spawn(client: &ApiClient, filters: &Query, offset: usize, id: Uuid) -> PageTask<T> {
        let client = client.clone();
        let query = page(filters, PAGE_LIMIT, Some(offset));
        let call = Call {
            api: client.api(),
            method: "GET",
            path: format!("/vms?offset={offset}"),
        };
        let handle = tokio::spawn(async move { client.get_json(&["vms"], &query, id).await });
        PageTask { handle, call }
    }
}

impl<T> Future for PageTask<T> {
    type Output = Result<Vec<T>, DcError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.handle).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(page)) => Poll::Ready(page),
            Poll::Ready(Err(err)) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Poll::Ready(Err(_)) => Poll::Ready(Err(DcError::InvalidRequest {
                call: self.call.clone(),
                detail: "cancelled: the runtime is shutting down".to_string(),
            })),
        }
    }
}

impl<T> Drop for PageTask<T> {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        crate::fixtures::text(name)
    }

    #[test]
    fn vm_fixtures_decode_and_round_trip() {
        for name in [
            "vmapi-vm-binder.json",
            "vmapi-vm-manatee.json",
            "vmapi-vm-moray-provisioning.json",
        ] {
            let text = fixture(name);
            let vm: Vm = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!vm.uuid.is_empty());
            assert!(vm.extra.contains_key("nics"), "{name}: extra fields kept");
            let original: Value = serde_json::from_str(&text).expect("json");
            assert_eq!(
                serde_json::to_value(&vm).expect("encodes"),
                original,
                "{name}"
            );
        }
        let vm: Vm =
            serde_json::from_str(&fixture("vmapi-vm-moray-provisioning.json")).expect("decodes");
        assert_eq!(vm.state, "provisioning");
        assert_eq!(vm.tags["smartdc_role"], "moray");
    }

    #[test]
    fn null_alias_and_server() {
        let vm: Vm =
            serde_json::from_str(r#"{"uuid":"u","alias":null,"state":"failed","server_uuid":null,"owner_uuid":"o","tags":{}}"#)
                .expect("decodes");
        assert_eq!((vm.alias, vm.server_uuid), (None, None));
    }

    #[test]
    fn job_response() {
        let job: JobRef =
            serde_json::from_str(&fixture("vmapi-job-response.json")).expect("decodes");
        assert_eq!(job.job_uuid, "20e8799a-15e6-4362-8faa-a5f1fa55f5bd");
    }
}
