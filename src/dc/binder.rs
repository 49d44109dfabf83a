//! Finding the APIs the way Triton's own tools do: `sapi.<dc>.<domain>`,
//! `vmapi.…`, `cnapi.…` resolve only through binder (apis.md §1.1), so they
//! are asked of binder directly, not of the system resolver.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use url::Url;

use super::Endpoints;
use super::error::{DcError, one_line};

/// Binder's DNS port.
const DNS_PORT: u16 = 53;
/// The APIs listen on plain HTTP, port 80, on the admin network.
const API_PORT: u16 = 80;

impl Endpoints {
    /// Resolves the three APIs through binder at `binder` (`ip` or
    /// `ip:port`), for datacenter `datacenter` in `dns_domain` (the SAPI `sdc`
    /// application's `datacenter_name` and `dns_domain`). With several live
    /// instances of an API, the first address binder gives is used.
    pub async fn from_binder(
        binder: &str,
        datacenter: &str,
        dns_domain: &str,
    ) -> Result<Endpoints, DcError> {
        let server = parse_binder(binder)?;
        let resolver = resolver(server)?;
        let url = |service: &'static str| {
            let name = format!("{service}.{datacenter}.{dns_domain}");
            let resolver = &resolver;
            async move {
                let ip = lookup(resolver, server, &name).await?;
                let base = format!("http://{}/", SocketAddr::new(ip, API_PORT));
                Url::parse(&base).map_err(|e| DcError::Config {
                    detail: format!("{name} resolved to {ip}, which makes no URL: {e}"),
                })
            }
        };
        let (sapi, vmapi, cnapi) = futures::try_join!(url("sapi"), url("vmapi"), url("cnapi"))?;
        Ok(Endpoints { sapi, vmapi, cnapi })
    }
}

fn parse_binder(binder: &str) -> Result<SocketAddr, DcError> {
    let text = binder.trim();
    text.parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, DNS_PORT)))
        .map_err(|_| DcError::Config {
            detail: format!(
                "binder address {binder:?} is not an IP or IP:port (binder_admin_ips in the headnode config)"
            ),
        })
}

fn resolver(server: SocketAddr) -> Result<Resolver<TokioRuntimeProvider>, DcError> {
    let mut udp = ConnectionConfig::udp();
    udp.port = server.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = server.port();
    let name_server = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
    let mut options = ResolverOpts::default();
    options.timeout = Duration::from_secs(2);
    options.attempts = 2;
    options.ip_strategy = LookupIpStrategy::Ipv4Only;
    options.use_hosts_file = ResolveHosts::Never;
    Resolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![name_server]),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .map_err(|e| DcError::Config {
        detail: format!("cannot set up a resolver for binder {server}: {e}"),
    })
}

async fn lookup(
    resolver: &Resolver<TokioRuntimeProvider>,
    server: SocketAddr,
    name: &str,
) -> Result<IpAddr, DcError> {
    let failed = |cause: String| DcError::Config {
        detail: format!(
            "cannot resolve {name} through binder {server}: {cause} (is binder up, and the service registered? check `lab status` or the binder address)"
        ),
    };
    // The trailing dot keeps the name from being tried under search domains.
    match resolver.lookup_ip(format!("{name}.")).await {
        Ok(found) => found
            .iter()
            .next()
            .ok_or_else(|| failed("no address".to_string())),
        Err(err) => Err(failed(one_line(&err.to_string(), 200))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binder_addresses() {
        assert_eq!(
            parse_binder("10.99.99.11").ok(),
            "10.99.99.11:53".parse().ok()
        );
        assert_eq!(
            parse_binder(" 127.0.0.1:5353 ").ok(),
            "127.0.0.1:5353".parse().ok()
        );
        let err = parse_binder("binder.coal.joyent.us").expect_err("a name");
        assert!(err.to_string().contains("is not an IP or IP:port"), "{err}");
    }
}
