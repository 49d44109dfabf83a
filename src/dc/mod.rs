//! Typed async clients of a datacenter: SAPI, VMAPI, CNAPI, workflow jobs
//! and ZooKeeper.
//!
//! Nothing here knows about Rhai or the terminal; nothing above this layer
//! speaks HTTP.

pub mod binder;
pub mod binder_dns;
pub mod binder_status;
pub mod cnapi;
mod decode;
pub mod error;
pub mod gate;
pub mod health;
pub mod http;
pub mod jobs;
pub mod manatee;
pub mod query;
pub mod sapi;
pub mod vm;
pub mod vmapi;
pub mod zk;
pub mod zk_admin;

use url::Url;

pub use cnapi::{Cnapi, Server};
pub use error::DcError;
pub use gate::{GateMode, MutationGate};
pub use health::Health;
pub use http::HttpOptions;
pub use jobs::{Job, Jobs, Outcome};
pub use sapi::Sapi;
pub use vmapi::{JobRef, Vm, Vmapi};

/// Query-string pairs, sent literally and in order (a flat
/// `tag.smartdc_role` key stays one key).
pub type Query = Vec<(String, String)>;

/// Where a datacenter's services are: base URLs of the APIs, e.g.
/// `http://sapi.coal.joyent.us`, and its ZooKeeper members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub sapi: Url,
    pub vmapi: Url,
    pub cnapi: Url,
    /// ZooKeeper members as `ip:port` (the profile's `zk`, `ZK_IPS`, the
    /// lab's `zk`); empty when not known.
    pub zk_hosts: Vec<String>,
    /// Binder's DNS servers as the profile or the lab gives them; empty
    /// when not known (then each binder VM's admin IP, port 53).
    pub binder_dns: Vec<std::net::SocketAddr>,
}

impl Endpoints {
    /// Parses the three base URLs, naming the one that is wrong.
    pub fn parse(sapi: &str, vmapi: &str, cnapi: &str) -> Result<Endpoints, DcError> {
        Ok(Endpoints {
            sapi: parse_url("SAPI", sapi)?,
            vmapi: parse_url("VMAPI", vmapi)?,
            cnapi: parse_url("CNAPI", cnapi)?,
            zk_hosts: Vec::new(),
            binder_dns: Vec::new(),
        })
    }
}

fn parse_url(api: &str, text: &str) -> Result<Url, DcError> {
    let url = Url::parse(text.trim()).map_err(|e| DcError::Config {
        detail: format!("{api} URL {text:?}: {e}"),
    })?;
    check_url(api, &url)?;
    Ok(url)
}

/// The APIs speak plain HTTP on the admin network; anything else is a
/// configuration mistake worth saying plainly.
fn check_url(api: &str, url: &Url) -> Result<(), DcError> {
    if url.scheme() != "http" {
        return Err(DcError::Config {
            detail: format!(
                "{api} URL {url}: only http:// is supported (Triton's APIs are plain HTTP on the admin network)"
            ),
        });
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(DcError::Config {
            detail: format!("{api} URL {url}: no host"),
        });
    }
    Ok(())
}

/// One datacenter: a client per API, sharing one connection pool and one
/// mutation gate.
#[derive(Clone, Debug)]
pub struct Datacenter {
    pub sapi: Sapi,
    pub vmapi: Vmapi,
    pub cnapi: Cnapi,
    pub jobs: Jobs,
    pub zk: zk::ZkEnsemble,
    gate: MutationGate,
    endpoints: Endpoints,
}

impl Datacenter {
    pub fn new(endpoints: Endpoints, gate: MutationGate) -> Result<Datacenter, DcError> {
        Datacenter::with_options(endpoints, gate, HttpOptions::default())
    }

    pub fn with_options(
        endpoints: Endpoints,
        gate: MutationGate,
        options: HttpOptions,
    ) -> Result<Datacenter, DcError> {
        check_url("SAPI", &endpoints.sapi)?;
        check_url("VMAPI", &endpoints.vmapi)?;
        check_url("CNAPI", &endpoints.cnapi)?;
        let http = http::build_http_client()?;
        let client = |api: &'static str, url: &Url| {
            http::ApiClient::new(
                api,
                url.clone(),
                http.clone(),
                gate.clone(),
                options.clone(),
            )
        };
        let vmapi = client("VMAPI", &endpoints.vmapi);
        Ok(Datacenter {
            sapi: Sapi::new(client("SAPI", &endpoints.sapi)),
            jobs: Jobs::new(vmapi.clone()),
            vmapi: Vmapi::new(vmapi),
            cnapi: Cnapi::new(client("CNAPI", &endpoints.cnapi)),
            zk: zk::ZkEnsemble::new(&endpoints.zk_hosts),
            gate,
            endpoints,
        })
    }

    pub fn gate(&self) -> &MutationGate {
        &self.gate
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_plain_http() {
        assert!(
            Endpoints::parse(
                "http://127.0.0.1:1",
                "http://127.0.0.1:2",
                "http://127.0.0.1:3"
            )
            .is_ok()
        );
        let err = Endpoints::parse("http://s", "https://vmapi.coal.joyent.us", "http://c")
            .expect_err("https refused");
        assert!(
            err.to_string()
                .contains("VMAPI URL https://vmapi.coal.joyent.us/: only http://"),
            "{err}"
        );
        let err = Endpoints::parse("sapi", "http://v", "http://c").expect_err("not a URL");
        assert!(
            err.to_string()
                .starts_with("datacenter configuration: SAPI URL \"sapi\""),
            "{err}"
        );
    }
}
