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
pub mod identity;
pub mod imgapi;
pub mod jobs;
pub mod manatee;
pub mod query;
pub mod sapi;
pub mod service_health;
pub mod vm;
pub mod vmapi;
pub mod zk;
pub mod zk_admin;
pub mod zone;

use std::collections::BTreeMap;

use url::Url;

use crate::api::Api;

pub use cnapi::{Cnapi, Server};
pub use error::DcError;
pub use gate::{GateMode, MutationGate};
pub use health::Health;
pub use http::HttpOptions;
pub use imgapi::{Image, Imgapi};
pub use jobs::{Job, Jobs, Outcome};
pub use sapi::Sapi;
pub use vmapi::{JobRef, Vm, Vmapi};

/// Query-string pairs, sent literally and in order (a flat
/// `tag.smartdc_role` key stays one key).
pub type Query = Vec<(String, String)>;

/// Where a datacenter's services are: the base URL of every API, e.g.
/// `http://sapi.coal.joyent.us`, and its ZooKeeper members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// One URL for every required API in [`Api::ALL`], and for the others
    /// when known.
    urls: BTreeMap<Api, Url>,
    /// ZooKeeper members as `ip:port` (the profile's `zk`, `ZK_IPS`, the
    /// lab's `zk`); empty when not known.
    pub zk_hosts: Vec<String>,
    /// Binder's DNS servers as the profile or the lab gives them; empty
    /// when not known (then each binder VM's admin IP, port 53).
    pub binder_dns: Vec<std::net::SocketAddr>,
    /// `(datacenter_name, dns_domain)` as the profile or the lab gives
    /// them: binder's zone when SAPI, which knows it, does not answer.
    pub zone: Option<(String, String)>,
}

impl Endpoints {
    /// Parses a base URL for every API, naming the one that is wrong or
    /// missing. An empty URL of an API that is not required counts as
    /// not given.
    pub fn parse<'a>(urls: impl IntoIterator<Item = (Api, &'a str)>) -> Result<Endpoints, DcError> {
        let urls = urls
            .into_iter()
            .filter(|(api, text)| api.required() || !text.trim().is_empty())
            .map(|(api, text)| Ok((api, parse_url(api.name(), text)?)))
            .collect::<Result<BTreeMap<Api, Url>, DcError>>()?;
        Endpoints::new(urls)
    }

    /// Every API at the same base URL: one server answering for all of
    /// them (a test's canned server).
    pub fn all_at(url: &str) -> Result<Endpoints, DcError> {
        Endpoints::parse(Api::ALL.map(|api| (api, url)))
    }

    /// Endpoints from URLs already parsed; every required API must have one.
    pub fn new(urls: BTreeMap<Api, Url>) -> Result<Endpoints, DcError> {
        if let Some(missing) = Api::ALL
            .into_iter()
            .find(|api| api.required() && !urls.contains_key(api))
        {
            return Err(DcError::Config {
                detail: format!("no {missing} URL given"),
            });
        }
        Ok(Endpoints {
            urls,
            zk_hosts: Vec::new(),
            binder_dns: Vec::new(),
            zone: None,
        })
    }

    /// The base URL of `api`, when known (always, for a required one).
    pub fn url(&self, api: Api) -> Option<&Url> {
        self.urls.get(&api)
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
    pub imgapi: Imgapi,
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
        for (api, url) in &endpoints.urls {
            check_url(api.name(), url)?;
        }
        let http = http::build_http_client()?;
        let client = |api: Api| {
            let url = endpoints.url(api).ok_or_else(|| DcError::Config {
                detail: format!("no {api} URL given"),
            })?;
            Ok::<_, DcError>(http::ApiClient::new(
                api,
                url.clone(),
                http.clone(),
                gate.clone(),
                options.clone(),
            ))
        };
        let vmapi = client(Api::Vmapi)?;
        Ok(Datacenter {
            sapi: Sapi::new(client(Api::Sapi)?),
            jobs: Jobs::new(vmapi.clone()),
            vmapi: Vmapi::new(vmapi),
            cnapi: Cnapi::new(client(Api::Cnapi)?),
            imgapi: Imgapi::new(client(Api::Imgapi).ok()),
            zk: zk::ZkEnsemble::new(&endpoints.zk_hosts, zk::SESSION_TIMEOUT, gate.clone()),
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
        let urls = |vmapi: &'static str| {
            [
                (Api::Sapi, "http://127.0.0.1:1"),
                (Api::Vmapi, vmapi),
                (Api::Cnapi, "http://127.0.0.1:3"),
            ]
        };
        assert!(Endpoints::parse(urls("http://127.0.0.1:2")).is_ok());
        let err =
            Endpoints::parse(urls("https://vmapi.coal.joyent.us")).expect_err("https refused");
        assert!(
            err.to_string()
                .contains("VMAPI URL https://vmapi.coal.joyent.us/: only http://"),
            "{err}"
        );
        let err = Endpoints::parse([(Api::Sapi, "sapi")]).expect_err("not a URL");
        assert!(
            err.to_string()
                .starts_with("datacenter configuration: SAPI URL \"sapi\""),
            "{err}"
        );
        let err = Endpoints::parse([(Api::Sapi, "http://s")]).expect_err("VMAPI missing");
        assert_eq!(
            err.to_string(),
            "datacenter configuration: no VMAPI URL given"
        );
    }
}
