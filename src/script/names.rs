//! Names that live in the datacenter — server hostnames, the aliases of
//! active VMs, SAPI service names — read in one go, for a front end that
//! offers them (the REPL's completion), so it needs no client of its own.

use std::future::Future;

use super::LazyDatacenter;
use crate::dc::Query;

/// One read; `None` where that API could not be read, so the caller can
/// keep what it had.
#[derive(Debug, Clone, Default)]
pub struct FetchedNames {
    pub hostnames: Option<Vec<String>>,
    pub vm_aliases: Option<Vec<String>>,
    pub services: Option<Vec<String>>,
}

/// Reads the names through the datacenter's clients, all three at once;
/// none until a call has found the datacenter (asking never starts a lab).
pub fn fetch(dc: &LazyDatacenter) -> impl Future<Output = FetchedNames> + Send + 'static {
    let dc = dc.get().cloned();
    async move {
        let Some(dc) = dc else {
            return FetchedNames::default();
        };
        let all = Query::new();
        let active: Query = vec![("state".into(), "active".into())];
        let (servers, vms, services) = futures::join!(
            dc.cnapi.list_servers(&all),
            dc.vmapi.list(&active),
            dc.sapi.list_services(&all),
        );
        FetchedNames {
            hostnames: servers
                .ok()
                .map(|s| s.into_iter().map(|s| s.hostname).collect()),
            vm_aliases: vms
                .ok()
                .map(|v| v.into_iter().filter_map(|v| v.alias).collect()),
            services: services
                .ok()
                .map(|s| s.into_iter().map(|s| s.name).collect()),
        }
    }
}
