//! Finding the APIs the way Triton's own tools do: `sapi.<dc>.<domain>`,
//! `vmapi.…`, `cnapi.…` (every [`Api`]) resolve only through binder (apis.md §1.1), so they
//! are asked of binder directly, never of this host's resolver.
//!
//! Binder answers A queries with the admin IPs of the live instances of a
//! service; the APIs listen on plain HTTP, port 80, on those IPs.
//!
//! Any other name of binder's zone is asked in [`super::binder_dns`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use url::Url;

use super::Endpoints;
use super::error::{DcError, one_line};
use crate::api::Api;

/// Binder's DNS port.
const DNS_PORT: u16 = 53;
/// The APIs' port on their admin IPs.
const API_PORT: u16 = 80;
/// How long one query waits for one binder before asking again.
pub(super) const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole resolution gives up after this, however many binders there are.
const DEADLINE: Duration = Duration::from_secs(5);

/// Parses the profile's `binder` entries: `ip` (port 53) or `ip:port`.
pub fn parse_binders(entries: &[String]) -> Result<Vec<SocketAddr>, DcError> {
    if entries.is_empty() {
        return Err(DcError::Config {
            detail: "binder is an empty list (give binder_admin_ips from the headnode config)"
                .to_string(),
        });
    }
    entries.iter().map(|entry| parse_binder(entry)).collect()
}

fn parse_binder(entry: &str) -> Result<SocketAddr, DcError> {
    let text = entry.trim();
    text.parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, DNS_PORT)))
        .map_err(|_| DcError::Config {
            detail: format!(
                "binder address {entry:?} is not an IP or IP:port (binder_admin_ips in the headnode config)"
            ),
        })
}

pub(super) fn binder_error(binders: &[SocketAddr], detail: String) -> DcError {
    DcError::Binder {
        servers: binders.to_vec(),
        detail,
    }
}

impl Endpoints {
    /// Resolves every API through `binders` for datacenter
    /// `datacenter_name` in `dns_domain` (the SAPI `sdc` application's
    /// `datacenter_name` and `dns_domain`). With several live instances of
    /// an API, the first address binder gives is used. Gives up after a few
    /// seconds.
    pub async fn from_binder(
        binders: &[SocketAddr],
        datacenter_name: &str,
        dns_domain: &str,
    ) -> Result<Endpoints, DcError> {
        let failed = |detail: String| binder_error(binders, detail);
        let Some(first) = binders.first() else {
            return Err(failed("no binder address given".to_string()));
        };
        check_label("datacenter_name", datacenter_name)?;
        check_label("dns_domain", dns_domain)?;
        let resolver = resolver(binders).map_err(failed)?;
        let url = |api: Api| {
            let service = api.service();
            let name = format!("{service}.{datacenter_name}.{dns_domain}");
            let resolver = &resolver;
            async move {
                let ip = lookup(resolver, &name)
                    .await
                    .map_err(|why| failed(why.describe(&name, service, *first)))?;
                let base = format!("http://{}/", SocketAddr::new(ip, API_PORT));
                let url = Url::parse(&base).map_err(|e| {
                    failed(format!("{name} resolved to {ip}, which makes no URL: {e}"))
                })?;
                Ok::<_, DcError>((api, url))
            }
        };
        // An API that is not required and that binder does not know is
        // left out, as a profile may leave it out.
        let optional = |api: Api| async move {
            match url(api).await {
                Ok(found) => Ok(Some(found)),
                Err(_) if !api.required() => Ok(None),
                Err(e) => Err(e),
            }
        };
        let all = futures::future::try_join_all(Api::ALL.map(optional));
        let urls = tokio::time::timeout(DEADLINE, all).await.map_err(|_| {
            failed(format!(
                "no answer within {}s (is binder running and reachable? check `{}`)",
                DEADLINE.as_secs(),
                dig(
                    *first,
                    &format!("{}.{datacenter_name}.{dns_domain}", Api::ALL[0].service())
                )
            ))
        })??;
        let mut endpoints = Endpoints::new(urls.into_iter().flatten().collect())?;
        endpoints.binder_dns = binders.to_vec();
        Ok(endpoints)
    }

    /// [`Endpoints::from_binder`] for callers that are not async: runs on a
    /// thread of its own, so it may be called from anywhere, even from
    /// inside a runtime.
    pub fn from_binder_blocking(
        binders: &[SocketAddr],
        datacenter_name: &str,
        dns_domain: &str,
    ) -> Result<Endpoints, DcError> {
        let failed = |detail: String| binder_error(binders, detail);
        std::thread::scope(|scope| {
            let resolving = scope.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| failed(format!("cannot start a runtime to ask binder: {e}")))?;
                rt.block_on(Endpoints::from_binder(binders, datacenter_name, dns_domain))
            });
            resolving
                .join()
                .unwrap_or_else(|_| Err(failed("the resolving thread panicked".to_string())))
        })
    }
}

/// A name part from the profile must be plain DNS labels, or the query
/// would ask for something else than the operator thinks.
pub(super) fn check_label(key: &str, value: &str) -> Result<(), DcError> {
    let ok = !value.is_empty()
        && value.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(DcError::Config {
            detail: format!(
                "{key} {value:?} is not a DNS name (letters, digits, - and dots; see `sdc` metadata in SAPI)"
            ),
        })
    }
}

/// A resolver that asks `binders` only: no system configuration, no hosts
/// file, no search domains.
fn resolver(binders: &[SocketAddr]) -> Result<Resolver<TokioRuntimeProvider>, String> {
    let name_servers = binders
        .iter()
        .map(|server| {
            let mut udp = ConnectionConfig::udp();
            udp.port = server.port();
            // Binder answers on TCP too; large answers are retried there.
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = server.port();
            NameServerConfig::new(server.ip(), true, vec![udp, tcp])
        })
        .collect();
    let mut options = ResolverOpts::default();
    options.timeout = QUERY_TIMEOUT;
    options.attempts = 2;
    options.ip_strategy = LookupIpStrategy::Ipv4Only;
    options.use_hosts_file = ResolveHosts::Never;
    options.ndots = 0;
    Resolver::builder_with_config(
        ResolverConfig::from_name_servers(name_servers),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .map_err(|e| {
        format!(
            "cannot set up a resolver: {}",
            one_line(&e.to_string(), 200)
        )
    })
}

/// Why a name did not resolve.
pub(super) enum Miss {
    NoRecord,
    Refused,
    Answered(String),
    Silent,
    Unreachable(String),
    Other(String),
}

impl Miss {
    pub(super) fn describe(&self, name: &str, service: &str, binder: SocketAddr) -> String {
        let dig = dig(binder, name);
        match self {
            Miss::NoRecord => {
                format!("no A record for {name} (is {service} registered? check `{dig}`)")
            }
            Miss::Refused => format!(
                "refused to answer for {name} (are datacenter_name and dns_domain right? check `{dig}`)"
            ),
            Miss::Answered(code) => format!("answered {code} for {name} (check `{dig}`)"),
            Miss::Silent => {
                format!("no answer for {name} (is binder running and reachable? check `{dig}`)")
            }
            Miss::Unreachable(cause) => format!(
                "cannot reach it for {name}: {cause} (is binder running? check the profile's binder and `{dig}`)"
            ),
            Miss::Other(cause) => format!("cannot resolve {name}: {cause} (check `{dig}`)"),
        }
    }
}

/// The command an operator runs to ask binder the same question.
pub(super) fn dig(binder: SocketAddr, name: &str) -> String {
    match binder.port() {
        DNS_PORT => format!("dig @{} {name}", binder.ip()),
        port => format!("dig @{} -p {port} {name}", binder.ip()),
    }
}

async fn lookup(resolver: &Resolver<TokioRuntimeProvider>, name: &str) -> Result<IpAddr, Miss> {
    // The trailing dot makes the name absolute: no search domains.
    match resolver.lookup_ip(format!("{name}.")).await {
        Ok(found) => found.iter().next().ok_or(Miss::NoRecord),
        Err(NetError::Dns(DnsError::NoRecordsFound(_))) => Err(Miss::NoRecord),
        Err(NetError::Dns(DnsError::ResponseCode(code))) => {
            if code == hickory_resolver::proto::op::ResponseCode::Refused {
                Err(Miss::Refused)
            } else {
                Err(Miss::Answered(code.to_string()))
            }
        }
        Err(NetError::Timeout) => Err(Miss::Silent),
        Err(NetError::Io(e)) => Err(Miss::Unreachable(one_line(&e.to_string(), 200))),
        Err(other) => Err(Miss::Other(one_line(&other.to_string(), 200))),
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
        let err = parse_binders(&[]).expect_err("empty");
        assert!(err.to_string().contains("empty list"), "{err}");
    }

    #[test]
    fn dig_names_the_port_only_when_unusual() {
        let name = "vmapi.coal.joyent.us";
        let standard = "127.1.0.5:53".parse().ok();
        let unusual = "127.0.0.1:5353".parse().ok();
        assert_eq!(
            standard.map(|b| dig(b, name)).as_deref(),
            Some("dig @127.1.0.5 vmapi.coal.joyent.us")
        );
        assert_eq!(
            unusual.map(|b| dig(b, name)).as_deref(),
            Some("dig @127.0.0.1 -p 5353 vmapi.coal.joyent.us")
        );
    }

    #[test]
    fn names_must_be_dns_labels() {
        assert!(check_label("dns_domain", "joyent.us").is_ok());
        assert!(check_label("datacenter_name", "us-east-1").is_ok());
        for bad in ["", "co al", "joyent..us", "a/b"] {
            let err = check_label("dns_domain", bad).expect_err(bad);
            assert!(err.to_string().contains("is not a DNS name"), "{err}");
        }
    }
}
