//! Which datacenter the shell talks to, and the banner that says so.
//!
//! An explicit flag wins over the environment: `--lab DIR` or `--profile
//! NAME` (never both), else `TRITONSH_LAB` or `TRITONSH_PROFILE` (never
//! both), else the config file's `default` profile, else the default lab,
//! started if it is not running — so a shell with nothing configured still
//! has a datacenter to rehearse on.
//!
//! Choosing reads only the config file: asking a lab whether it runs,
//! starting it and building the clients wait for the first call that needs
//! the datacenter (see [`LazyDatacenter`]), so `tritonsh -c 1+1` is quick
//! and works with no datacenter at all.

use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use crate::api::Api;
use crate::config::{self, Profile};
use crate::dc::identity::DatacenterId;
use crate::dc::{Datacenter, Endpoints, MutationGate};
use crate::lab::status::LabStatus;
use crate::script::{LazyDatacenter, OutputOptions, ScriptCtx};

#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `--lab DIR` / `TRITONSH_LAB`.
    pub lab: Option<PathBuf>,
    /// `--profile NAME` / `TRITONSH_PROFILE`.
    pub profile: Option<String>,
}

impl ConnectOptions {
    /// The datacenter the flags name, else the one the environment names:
    /// an explicit flag beats the environment, and two names at the same
    /// level are a mistake worth one line, not a silent choice.
    pub fn from_flags(
        lab: Option<PathBuf>,
        profile: Option<String>,
    ) -> Result<ConnectOptions, String> {
        let env_lab = std::env::var_os("TRITONSH_LAB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let env_profile = std::env::var("TRITONSH_PROFILE")
            .ok()
            .filter(|v| !v.is_empty());
        choose_options((lab, profile), (env_lab, env_profile))
    }
}

/// A flag given before a subcommand and after it (`tritonsh --profile a
/// health --profile b`): the same value, or an error.
pub fn flag_in_two_places<T: PartialEq + std::fmt::Debug>(
    before: Option<T>,
    after: Option<T>,
    flag: &str,
) -> Result<Option<T>, String> {
    match (before, after) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "{flag} {a:?} and {flag} {b:?} name two datacenters: give one"
        )),
        (a, b) => Ok(a.or(b)),
    }
}

type Named = (Option<PathBuf>, Option<String>);

fn choose_options(flags: Named, env: Named) -> Result<ConnectOptions, String> {
    let options = |(lab, profile): Named| ConnectOptions { lab, profile };
    match (flags, env) {
        ((Some(lab), Some(profile)), _) => Err(format!(
            "--lab {} and --profile {profile} name two datacenters: give one",
            lab.display()
        )),
        ((None, None), (Some(lab), Some(profile))) => Err(format!(
            "TRITONSH_LAB={} and TRITONSH_PROFILE={profile} name two datacenters: unset one, or choose with --lab or --profile",
            lab.display()
        )),
        ((None, None), env) => Ok(options(env)),
        (flags, _) => Ok(options(flags)),
    }
}

/// The datacenter chosen by `options`, ready for a [`crate::script::Session`]
/// (found on first use), and a one-line banner naming it.
pub fn connect(
    options: &ConnectOptions,
    rt: tokio::runtime::Handle,
    output: OutputOptions,
) -> Result<(Arc<ScriptCtx>, String), String> {
    let choice = choose(options)?;
    let banner = choice.banner();
    let id = choice.id();
    let dc = LazyDatacenter::new(
        MutationGate::default(),
        id,
        choice.note(),
        choice.resolver(),
    );
    Ok((Arc::new(ScriptCtx::new(rt, dc, output)), banner))
}

/// Which datacenter `options` choose, without asking it anything.
pub fn datacenter_id(options: &ConnectOptions) -> Result<DatacenterId, String> {
    choose(options).map(|choice| choice.id())
}

/// Where the datacenter is, as far as can be told without asking it.
enum Choice {
    /// `--lab DIR`: that lab must be running.
    Lab(PathBuf),
    Profile {
        name: String,
        datacenter_name: Option<String>,
        endpoints: Box<Endpoints>,
    },
    /// Nothing configured: the default lab, started if need be.
    DefaultLab(PathBuf),
}

fn choose(options: &ConnectOptions) -> Result<Choice, String> {
    if let Some(dir) = &options.lab {
        return Ok(Choice::Lab(dir.clone()));
    }
    let path = config::path();
    let config = config::load(&path)?;
    if let Some((name, profile)) = config.profile(options.profile.as_deref(), &path)? {
        let endpoints = profile_endpoints(&profile)
            .map_err(|e| format!("profile {name} in {}: {e}", path.display()))?;
        return Ok(Choice::Profile {
            name,
            datacenter_name: profile.datacenter_name.clone(),
            endpoints: Box::new(endpoints),
        });
    }
    Ok(Choice::DefaultLab(crate::lab::default_dir()))
}

impl Choice {
    fn id(&self) -> DatacenterId {
        match self {
            Choice::Lab(dir) | Choice::DefaultLab(dir) => DatacenterId::lab(dir),
            Choice::Profile {
                name,
                datacenter_name,
                endpoints,
            } => DatacenterId::Profile {
                name: name.clone(),
                sapi_url: endpoints
                    .url(Api::Sapi)
                    .map(Url::to_string)
                    .unwrap_or_default(),
                datacenter_name: datacenter_name.clone(),
            },
        }
    }

    fn banner(&self) -> String {
        match self {
            Choice::Lab(_) | Choice::Profile { .. } => format!("connected to {}", self.id()),
            Choice::DefaultLab(dir) => format!(
                "no datacenter configured: using the lab at {} (tritonsh lab down to stop it)",
                dir.display()
            ),
        }
    }

    /// A script that reaches for the default lab gets a lab it may not
    /// have asked for: it is told once, on stderr.
    fn note(&self) -> Option<String> {
        match self {
            Choice::DefaultLab(_) => Some(self.banner()),
            Choice::Lab(_) | Choice::Profile { .. } => None,
        }
    }

    fn resolver(self) -> crate::script::lazy_dc::Resolve {
        Box::new(move |gate: MutationGate| {
            let endpoints = match &self {
                Choice::Lab(dir) => lab_endpoints(&crate::lab::status(dir).map_err(no_dc)?)?,
                Choice::Profile { endpoints, .. } => Endpoints::clone(endpoints),
                Choice::DefaultLab(dir) => {
                    lab_endpoints(&crate::lab::ensure_running(dir).map_err(no_dc)?)?
                }
            };
            Datacenter::new(endpoints, gate).map_err(no_dc)
        })
    }
}

fn no_dc(e: impl std::fmt::Display) -> String {
    format!("no datacenter: {e}")
}

fn lab_endpoints(status: &LabStatus) -> Result<Endpoints, String> {
    let urls = Api::ALL.map(|api| (api, status.urls.get(api)));
    let mut endpoints =
        Endpoints::parse(urls).map_err(|e| format!("no datacenter: the lab's status: {e}"))?;
    endpoints.zk_hosts = zk_members(status.zk.clone(), std::env::var("ZK_IPS").ok());
    endpoints.zone = Some((status.datacenter_name.clone(), status.dns_domain.clone()));
    // Each member's own DNS: a lab not run as root serves on other ports.
    endpoints.binder_dns = status
        .instances
        .iter()
        .filter(|i| i.service == "binder")
        .filter_map(|i| i.dns.as_deref()?.parse().ok())
        .collect();
    Ok(endpoints)
}

/// The APIs a profile leads to, and its ZooKeeper members.
fn profile_endpoints(profile: &Profile) -> Result<Endpoints, String> {
    let mut endpoints = profile_apis(profile)?;
    endpoints.zk_hosts = zk_members(profile_zk(profile)?, std::env::var("ZK_IPS").ok());
    endpoints.zone = profile
        .datacenter_name
        .clone()
        .zip(profile.dns_domain.clone());
    endpoints.binder_dns = match &profile.binder {
        Some(binder) => {
            crate::dc::binder::parse_binders(&binder.to_vec()).map_err(|e| e.to_string())?
        }
        None => Vec::new(),
    };
    Ok(endpoints)
}

/// The profile's `zk` list, else its binders at port 2181: binder zones
/// run the ZooKeeper servers.
fn profile_zk(profile: &Profile) -> Result<Vec<String>, String> {
    if !profile.zk.is_empty() {
        return Ok(profile.zk.clone());
    }
    let Some(binder) = &profile.binder else {
        return Ok(Vec::new());
    };
    let binders = crate::dc::binder::parse_binders(&binder.to_vec()).map_err(|e| e.to_string())?;
    Ok(binders
        .iter()
        .map(|b| format!("{}:{}", b.ip(), crate::dc::zk_admin::CLIENT_PORT))
        .collect())
}

/// `ZK_IPS` (as manatee-adm reads it: `ip[:port]` separated by commas or
/// spaces) wins over what the profile or the lab says.
fn zk_members(configured: Vec<String>, zk_ips: Option<String>) -> Vec<String> {
    let from_env: Vec<String> = zk_ips
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(crate::dc::zk_admin::with_port)
        .collect();
    if from_env.is_empty() {
        configured
    } else {
        from_env
    }
}

/// A profile gives every API's URL, or binder and the names to ask it, or
/// only the names (for a host whose resolver is binder).
fn profile_apis(profile: &Profile) -> Result<Endpoints, String> {
    if !profile.urls.is_empty() {
        let missing: Vec<&str> = Api::ALL
            .into_iter()
            .filter(|api| api.required() && !profile.urls.contains_key(api))
            .map(Api::url_key)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{} go together (missing {})",
                Api::url_keys_listed(),
                missing.join(", ")
            ));
        }
        let urls = profile.urls.iter().map(|(api, url)| (*api, url.as_str()));
        return Endpoints::parse(urls).map_err(|e| e.to_string());
    }
    let (Some(dc), Some(domain)) = (&profile.datacenter_name, &profile.dns_domain) else {
        return Err(format!(
            "give {}, or datacenter_name and dns_domain",
            Api::url_keys_listed()
        ));
    };
    if let Some(binder) = &profile.binder {
        // Binder itself is asked, as it is the only one that knows (apis.md §1.1).
        let binders =
            crate::dc::binder::parse_binders(&binder.to_vec()).map_err(|e| e.to_string())?;
        return Endpoints::from_binder_blocking(&binders, dc, domain).map_err(|e| e.to_string());
    }
    // The names Triton's own tools use (sdcadm loadConfig); they resolve
    // where binder is the resolver, as on the headnode.
    let urls = Api::ALL.map(|api| (api, format!("http://{}.{dc}.{domain}", api.service())));
    Endpoints::parse(urls.iter().map(|(api, url)| (*api, url.as_str()))).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_beats_the_environment_and_two_names_are_refused() {
        let lab = || Some(PathBuf::from("/tmp/a"));
        let west = || Some("west".to_string());
        let chosen = choose_options((None, west()), (lab(), None)).unwrap();
        assert_eq!((chosen.lab, chosen.profile), (None, west()));
        let chosen = choose_options((lab(), None), (None, west())).unwrap();
        assert_eq!((chosen.lab, chosen.profile), (lab(), None));
        let chosen = choose_options((None, None), (lab(), None)).unwrap();
        assert_eq!(chosen.lab, lab());
        let err = choose_options((lab(), west()), (None, None)).unwrap_err();
        assert_eq!(
            err,
            "--lab /tmp/a and --profile west name two datacenters: give one"
        );
        let err = choose_options((None, None), (lab(), west())).unwrap_err();
        assert!(
            err.starts_with("TRITONSH_LAB=/tmp/a and TRITONSH_PROFILE=west"),
            "{err}"
        );
    }

    #[test]
    fn names_are_built_from_the_datacenter_and_domain() {
        let profile = Profile {
            datacenter_name: Some("coal".into()),
            dns_domain: Some("joyent.us".into()),
            ..Profile::default()
        };
        let endpoints = profile_endpoints(&profile).map(|e| e.url(Api::Vmapi).map(Url::to_string));
        assert_eq!(
            endpoints,
            Ok(Some("http://vmapi.coal.joyent.us/".to_string()))
        );
    }

    #[test]
    fn zookeeper_members_come_along() {
        let profile = Profile {
            datacenter_name: Some("coal".into()),
            dns_domain: Some("joyent.us".into()),
            zk: vec!["10.99.99.11:2181".into()],
            ..Profile::default()
        };
        let zk = profile_endpoints(&profile).map(|e| e.zk_hosts);
        assert_eq!(zk, Ok(vec!["10.99.99.11:2181".to_string()]));
    }

    #[test]
    fn binders_serve_zookeeper_when_no_zk_list_is_given() {
        let profile = Profile {
            binder: Some(config::OneOrMany::Many(vec![
                "10.99.99.11".into(),
                "10.99.99.12:5353".into(),
            ])),
            ..Profile::default()
        };
        assert_eq!(
            profile_zk(&profile),
            Ok(vec![
                "10.99.99.11:2181".to_string(),
                "10.99.99.12:2181".to_string()
            ])
        );
    }

    #[test]
    fn zk_ips_wins() {
        let configured = vec!["10.99.99.11:2181".to_string()];
        assert_eq!(
            zk_members(configured.clone(), Some("10.0.0.1, 10.0.0.2:2182".into())),
            vec!["10.0.0.1:2181".to_string(), "10.0.0.2:2182".to_string()]
        );
        assert_eq!(zk_members(configured.clone(), Some(" ".into())), configured);
        assert_eq!(zk_members(configured.clone(), None), configured);
    }

    #[test]
    fn half_given_urls_name_what_is_missing() {
        let profile = Profile {
            urls: [(Api::Sapi, "http://127.0.0.1:1".to_string())].into(),
            ..Profile::default()
        };
        let err = profile_endpoints(&profile).err().unwrap_or_default();
        assert!(err.ends_with("(missing vmapi_url, cnapi_url)"), "{err}");
    }

    #[test]
    fn a_binder_must_be_an_address() {
        let profile = Profile {
            binder: Some(config::OneOrMany::One("binder.coal.joyent.us".into())),
            datacenter_name: Some("coal".into()),
            dns_domain: Some("joyent.us".into()),
            ..Profile::default()
        };
        let err = profile_endpoints(&profile).err().unwrap_or_default();
        assert!(err.contains("is not an IP or IP:port"), "{err}");
    }
}
