//! The config file, `$XDG_CONFIG_HOME/tritonsh/config.toml`: named
//! datacenter profiles and which one is the default.
//!
//! ```toml
//! default = "coal"
//!
//! [profiles.coal]              # the APIs' addresses, given directly
//! sapi_url = "http://10.99.99.32"
//! vmapi_url = "http://10.99.99.27"
//! cnapi_url = "http://10.99.99.22"
//! zk = ["10.99.99.11:2181"]
//!
//! [profiles.east]              # or found through binder, as Triton does
//! binder = ["10.1.0.11", "10.1.0.12"]
//! datacenter_name = "us-east-1"
//! dns_domain = "example.com"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::api::Api;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The profile used when `--profile` is not given.
    pub default: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// The APIs' base URLs, one key per API: `sapi_url`, `vmapi_url`, …
    /// ([`Api::url_key`]).
    pub urls: BTreeMap<Api, String>,
    /// Binder's DNS servers ("ip" or "ip:port"), one or several.
    pub binder: Option<OneOrMany>,
    pub datacenter_name: Option<String>,
    pub dns_domain: Option<String>,
    /// ZooKeeper members as "ip:port"; when absent, the binders at port
    /// 2181. `ZK_IPS` in the environment wins over both.
    pub zk: Vec<String>,
}

/// The keys of a profile besides the APIs' URLs.
const PROFILE_KEYS: [&str; 4] = ["binder", "datacenter_name", "dns_domain", "zk"];

/// A key of a profile, read as a key so that a misspelt one is reported on
/// its own line.
enum ProfileKey {
    Url(Api),
    Binder,
    DatacenterName,
    DnsDomain,
    Zk,
}

impl<'de> Deserialize<'de> for ProfileKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ProfileKey, D::Error> {
        let key = String::deserialize(deserializer)?;
        if let Some(api) = Api::from_url_key(&key) {
            return Ok(ProfileKey::Url(api));
        }
        match key.as_str() {
            "binder" => Ok(ProfileKey::Binder),
            "datacenter_name" => Ok(ProfileKey::DatacenterName),
            "dns_domain" => Ok(ProfileKey::DnsDomain),
            "zk" => Ok(ProfileKey::Zk),
            _ => {
                let known: Vec<String> = Api::ALL
                    .iter()
                    .map(|api| api.url_key())
                    .chain(PROFILE_KEYS)
                    .map(|k| format!("`{k}`"))
                    .collect();
                Err(D::Error::custom(format!(
                    "unknown field `{key}`, expected one of {}",
                    known.join(", ")
                )))
            }
        }
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Profile, D::Error> {
        struct ProfileVisitor;
        impl<'de> Visitor<'de> for ProfileVisitor {
            type Value = Profile;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a profile table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Profile, A::Error> {
                let mut profile = Profile::default();
                while let Some(key) = map.next_key::<ProfileKey>()? {
                    match key {
                        ProfileKey::Url(api) => {
                            profile.urls.insert(api, map.next_value()?);
                        }
                        ProfileKey::Binder => profile.binder = Some(map.next_value()?),
                        ProfileKey::DatacenterName => {
                            profile.datacenter_name = Some(map.next_value()?);
                        }
                        ProfileKey::DnsDomain => profile.dns_domain = Some(map.next_value()?),
                        ProfileKey::Zk => profile.zk = map.next_value()?,
                    }
                }
                Ok(profile)
            }
        }
        deserializer.deserialize_map(ProfileVisitor)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Where the config file is.
pub fn path() -> PathBuf {
    crate::paths::config_dir().join("config.toml")
}

/// Reads the config file; a missing file is an empty config.
pub fn load(path: &Path) -> Result<Config, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(format!("config {}: cannot read it: {e}", path.display())),
    };
    parse(&text).map_err(|e| format!("config {}{e}", path.display()))
}

/// Parses config text; the error starts with " line N: " when it has a place.
fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', "; ");
        match line {
            Some(line) => format!(" line {line}: {message}"),
            None => format!(": {message}"),
        }
    })
}

impl Config {
    /// The profile to use: `name`, else the default, else none.
    pub fn profile(
        &self,
        name: Option<&str>,
        path: &Path,
    ) -> Result<Option<(String, Profile)>, String> {
        let Some(name) = name.or(self.default.as_deref()) else {
            return Ok(None);
        };
        match self.profiles.get(name) {
            Some(profile) => Ok(Some((name.to_string(), profile.clone()))),
            None if self.profiles.is_empty() => Err(format!(
                "no profile named {name}: {} defines none (add [profiles.{name}])",
                path.display()
            )),
            None => Err(format!(
                "no profile named {name} in {} (profiles: {})",
                path.display(),
                self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_with_urls_or_binder() {
        let config = parse(
            "default = \"a\"\n[profiles.a]\nsapi_url = \"http://s\"\nzk = [\"1.2.3.4:2181\"]\n\
             [profiles.b]\nbinder = \"10.0.0.1\"\ndatacenter_name = \"dc\"\ndns_domain = \"x.com\"\n",
        );
        let config = config.unwrap_or_default();
        let path = Path::new("c.toml");
        let a = config.profile(None, path).ok().flatten();
        assert_eq!(
            a.map(|(n, p)| (n, p.urls)),
            Some(("a".into(), [(Api::Sapi, "http://s".to_string())].into()))
        );
        let b = config.profile(Some("b"), path).ok().flatten();
        assert_eq!(
            b.and_then(|(_, p)| p.binder).map(|b| b.to_vec()),
            Some(vec!["10.0.0.1".into()])
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("default = \"a\"\n\n[profiles.a]\nsapi_ur = 1\n")
            .err()
            .unwrap_or_default();
        assert!(err.starts_with(" line 4: "), "{err}");
        assert!(err.contains("sapi_ur"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let config = parse("[profiles.a]\n[profiles.b]\n").unwrap_or_default();
        let err = config
            .profile(Some("c"), Path::new("c.toml"))
            .err()
            .unwrap_or_default();
        assert_eq!(err, "no profile named c in c.toml (profiles: a, b)");
    }
}
