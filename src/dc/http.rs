//! The one request path shared by SAPI, VMAPI and CNAPI clients.
//!
//! Every request carries a timeout, an `x-request-id` (one per logical
//! operation, so the API logs of a paged list or a retried read line up) and
//! `Accept: application/json`. Only idempotent reads are retried, and only
//! when retrying can help (no connection, or a 5xx). Requests that change the
//! datacenter go through the [`MutationGate`] first.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;
use uuid::Uuid;

use super::decode::decode;
use super::error::{Call, DcError, one_line};
use super::gate::{MutationGate, Permit, RecordedRequest, Refusal};
use crate::api::Api;

/// Timeouts and retry policy of every client of a datacenter.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Limit for one whole request (connect, send, answer).
    pub timeout: Duration,
    /// Limit for requests the API documents as slow: SAPI's blocking
    /// CreateInstance and DeleteInstance wait for a workflow job server-side.
    pub long_timeout: Duration,
    /// How many times an idempotent read is tried again after a failure that
    /// may go away (no connection, 5xx).
    pub read_retries: u32,
    /// Pause before the first retry; doubled for each further retry.
    pub retry_backoff: Duration,
    /// How many pages of a long list are fetched at once.
    pub page_concurrency: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            long_timeout: Duration::from_secs(3600),
            read_retries: 2,
            retry_backoff: Duration::from_millis(250),
            page_concurrency: 4,
        }
    }
}

/// A client of one API at one base URL.
#[derive(Clone, Debug)]
pub struct ApiClient {
    kind: Api,
    /// `kind`'s name, as every error names the API.
    api: &'static str,
    base: Url,
    http: reqwest::Client,
    gate: MutationGate,
    options: HttpOptions,
    accept_version: Option<&'static str>,
}

/// A success answer, body still undecoded.
pub(crate) struct Reply {
    pub call: Call,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: StatusCode,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, DcError> {
        decode(&self.call, self.content_type(), &self.body)
    }

    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request as the API clients describe it.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub segments: &'a [&'a str],
    pub query: &'a [(String, String)],
    pub body: Option<Value>,
    pub long: bool,
    /// Return non-success answers as a `Reply` instead of an error (pings).
    pub any_status: bool,
    pub id: Uuid,
}

impl<'a> Request<'a> {
    pub fn new(
        method: Method,
        segments: &'a [&'a str],
        query: &'a [(String, String)],
        id: Uuid,
    ) -> Self {
        Request {
            method,
            segments,
            query,
            body: None,
            long: false,
            any_status: false,
            id,
        }
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn long(mut self) -> Self {
        self.long = true;
        self
    }

    pub fn any_status(mut self) -> Self {
        self.any_status = true;
        self
    }
}

impl ApiClient {
    pub fn new(
        kind: Api,
        base: Url,
        http: reqwest::Client,
        gate: MutationGate,
        options: HttpOptions,
    ) -> ApiClient {
        ApiClient {
            kind,
            api: kind.name(),
            base,
            http,
            gate,
            options,
            accept_version: kind.accept_version(),
        }
    }

    pub fn api(&self) -> &'static str {
        self.api
    }

    /// The same API at another instance's `base`, asked once within
    /// `timeout`: a health check must say at once that an instance does
    /// not answer, not retry it.
    pub fn at_instance(&self, base: Url, timeout: Duration) -> ApiClient {
        let mut client = self.clone();
        client.base = base;
        client.options.read_retries = 0;
        client.options.timeout = timeout;
        client
    }

    pub fn kind(&self) -> Api {
        self.kind
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// `GET` and decode the JSON body.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(String, String)],
        id: Uuid,
    ) -> Result<T, DcError> {
        self.send(Request::new(Method::GET, segments, query, id))
            .await?
            .json()
    }

    /// Sends a request: reads are retried, mutations pass the gate.
    pub(crate) async fn send(&self, request: Request<'_>) -> Result<Reply, DcError> {
        // `..` would be dropped from the URL (and `DELETE /vms/..` become
        // `DELETE /vms`); an empty id would address the collection.
        if let Some(bad) = request
            .segments
            .iter()
            .find(|s| matches!(s.trim(), "" | "." | ".."))
        {
            let path = format!("/{}", request.segments.join("/"));
            let call = Call {
                api: self.api,
                method: method_name(&request.method),
                path,
            };
            return Err(DcError::InvalidRequest {
                call,
                detail: format!("{bad:?} is not a valid identifier"),
            });
        }
        let url = self.url(request.segments, request.query)?;
        let call = Call {
            api: self.api,
            method: method_name(&request.method),
            path: display_path(&url, request.query),
        };
        let idempotent = request.method == Method::GET || request.method == Method::HEAD;
        if !idempotent {
            let recorded = RecordedRequest {
                api: self.api,
                method: call.method.to_string(),
                path: call.path.clone(),
                body: request.body.clone(),
            };
            let permit = match self.gate.permit(recorded) {
                Ok(permit) => permit,
                Err(Refusal::NotSent) => return Err(DcError::NotSent { call }),
                Err(Refusal::Denied) => return Err(DcError::MutationDenied { call }),
            };
            return self
                .attempt(&request, &url, call, Access::Write(permit))
                .await;
        }
        let mut backoff = self.options.retry_backoff;
        let mut retries_left = self.options.read_retries;
        loop {
            match self
                .attempt(&request, &url, call.clone(), Access::Read)
                .await
            {
                Err(err) if retries_left > 0 && err.is_transient() => {
                    tracing::debug!(%err, "retrying read");
                    retries_left -= 1;
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                other => return other,
            }
        }
    }

    async fn attempt(
        &self,
        request: &Request<'_>,
        url: &Url,
        call: Call,
        access: Access,
    ) -> Result<Reply, DcError> {
        let is_read = request.method == Method::GET || request.method == Method::HEAD;
        if !is_read && !matches!(access, Access::Write(_)) {
            return Err(DcError::MutationDenied { call });
        }
        let timeout = if request.long {
            self.options.long_timeout
        } else {
            self.options.timeout
        };
        let mut builder = self
            .http
            .request(request.method.clone(), url.clone())
            .timeout(timeout)
            .header(ACCEPT, "application/json")
            .header("x-request-id", request.id.to_string());
        if let Some(version) = self.accept_version {
            builder = builder.header("accept-version", version);
        }
        if let Some(body) = &request.body {
            let bytes = serde_json::to_vec(body).map_err(|e| DcError::InvalidRequest {
                call: call.clone(),
                detail: format!("cannot encode the body: {e}"),
            })?;
            builder = builder.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(err) => return Err(self.transport_error(call, url, timeout, &err)),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => return Err(self.transport_error(call, url, timeout, &err)),
        };
        // SAPI's metadata carries the datacenter's secrets: remembered, so
        // that no transcript or log shows them wherever they reappear.
        if self.kind == Api::Sapi
            && status.is_success()
            && let Ok(value) = serde_json::from_slice::<Value>(&body)
        {
            crate::redact::learn(&value);
        }
        if !status.is_success() && !request.any_status {
            let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
            return Err(DcError::from_status(
                call,
                status.as_u16(),
                content_type,
                &body,
            ));
        }
        Ok(Reply {
            call,
            headers,
            body,
            status,
        })
    }

    fn url(&self, segments: &[&str], query: &[(String, String)]) -> Result<Url, DcError> {
        let mut url = self.base.clone();
        match url.path_segments_mut() {
            Ok(mut path) => {
                path.pop_if_empty().extend(segments);
            }
            Err(()) => {
                return Err(DcError::Config {
                    detail: format!("{} URL {} cannot take a path", self.api, self.base),
                });
            }
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn transport_error(
        &self,
        call: Call,
        url: &Url,
        timeout: Duration,
        err: &reqwest::Error,
    ) -> DcError {
        if err.is_timeout() {
            DcError::Timeout {
                call,
                after: timeout,
            }
        } else if err.is_builder() {
            // Refused here, before anything was sent (a URL too long for
            // HTTP, from a huge filter): "connection broke, retry" would
            // send the operator after the API for their own input.
            DcError::InvalidRequest {
                call,
                detail: format!(
                    "cannot send this request ({}; the URL is {} bytes): use shorter filters",
                    root_cause(err),
                    url.as_str().len()
                ),
            }
        } else if err.is_connect() {
            DcError::Connect {
                call,
                url: origin(url),
                cause: root_cause(err),
            }
        } else {
            DcError::Transport {
                call,
                url: origin(url),
                cause: root_cause(err),
            }
        }
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// The path as an operator reads it: query values unencoded.
fn display_path(url: &Url, query: &[(String, String)]) -> String {
    let mut path = url.path().to_string();
    for (i, (key, value)) in query.iter().enumerate() {
        path.push(if i == 0 { '?' } else { '&' });
        path.push_str(key);
        path.push('=');
        path.push_str(value);
    }
    path
}

/// `http://127.0.0.1:8080`, port always shown: "which port" is half the
/// question when a connection is refused.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// The innermost cause, in words: `connection refused`, not a chain of
/// wrapper messages.
fn root_cause(err: &reqwest::Error) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return io_cause(io);
        }
        last = cause.to_string();
        source = cause.source();
    }
    one_line(&last, 200)
}

fn io_cause(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        io::ErrorKind::ConnectionAborted => "connection aborted".into(),
        io::ErrorKind::UnexpectedEof => "connection closed before the answer was complete".into(),
        io::ErrorKind::HostUnreachable => "host unreachable".into(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".into(),
        _ => one_line(&err.to_string(), 200),
    }
}

/// The shared HTTP connection pool of a datacenter.
pub(crate) fn build_http_client() -> Result<reqwest::Client, DcError> {
    reqwest::Client::builder()
        // The APIs live on the admin network: a proxy from the environment
        // would only be in the way (and would swallow loopback labs).
        .no_proxy()
        .user_agent(concat!("tritonsh/", env!("CARGO_PKG_VERSION")))
        // Node closes idle keep-alive connections after 5 s; reusing one
        // the server just closed fails the request.
        .pool_idle_timeout(Duration::from_secs(4))
        .build()
        .map_err(|e| DcError::Config {
            detail: format!("cannot set up the HTTP client: {e}"),
        })
}
/// What lets a request on the wire: a read goes freely, a write only with
/// the gate's permit.
enum Access {
    Read,
    Write(Permit),
}
