//! The Triton APIs tritonsh speaks to, in one place: what each is called,
//! how binder names it, where its URL is kept, how to read its ping, and
//! whether a datacenter description must give it.
//!
//! The clients (`dc/`), the profile (`config.rs`), the lab's twins and its
//! status (`lab/`) all go through [`Api::ALL`], so adding an API is a row
//! here, its client, its bindings and its lab twin.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    Sapi,
    Vmapi,
    Cnapi,
    Imgapi,
}

/// One API's facts; see the accessors on [`Api`].
struct Spec {
    name: &'static str,
    service: &'static str,
    url_key: &'static str,
    accept_version: Option<&'static str>,
    verdict: fn(&Value) -> Result<(), String>,
    /// A datacenter description without it is still usable: profiles
    /// written before tritonsh spoke to it stay valid.
    required: bool,
}

impl Api {
    /// Every API, in the order they are listed to operators.
    pub const ALL: [Api; 4] = [Api::Sapi, Api::Vmapi, Api::Cnapi, Api::Imgapi];

    fn spec(self) -> Spec {
        match self {
            Api::Sapi => Spec {
                name: "SAPI",
                service: "sapi",
                url_key: "sapi_url",
                // SAPI hides agent services and the `type` field unless
                // asked for `~2`.
                accept_version: Some("~2"),
                verdict: sapi_verdict,
                required: true,
            },
            Api::Vmapi => Spec {
                name: "VMAPI",
                service: "vmapi",
                url_key: "vmapi_url",
                accept_version: None,
                verdict: vmapi_verdict,
                required: true,
            },
            Api::Cnapi => Spec {
                name: "CNAPI",
                service: "cnapi",
                url_key: "cnapi_url",
                accept_version: None,
                verdict: cnapi_verdict,
                required: true,
            },
            Api::Imgapi => Spec {
                name: "IMGAPI",
                service: "imgapi",
                url_key: "imgapi_url",
                accept_version: None,
                verdict: imgapi_verdict,
                required: false,
            },
        }
    }

    /// As operators and error messages name it: `SAPI`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The SAPI service of its instances, which is also its name in binder
    /// (`sapi.<dc>.<domain>`, apis.md §1.1): `sapi`.
    pub fn service(self) -> &'static str {
        self.spec().service
    }

    /// Where its base URL is kept: a profile's key in config.toml and a key
    /// of `lab status --json`: `sapi_url`.
    pub fn url_key(self) -> &'static str {
        self.spec().url_key
    }

    /// The `accept-version` header its requests carry, if any.
    pub fn accept_version(self) -> Option<&'static str> {
        self.spec().accept_version
    }

    /// Reads a `GET /ping` body the API's own way: `Err(summary)` when it
    /// says it is not ready. The HTTP status is judged apart from this.
    pub fn ping_verdict(self, body: &Value) -> Result<(), String> {
        (self.spec().verdict)(body)
    }

    /// Whether a datacenter description must give its URL (IMGAPI's may be
    /// left out; then only what needs images fails, saying so).
    pub fn required(self) -> bool {
        self.spec().required
    }

    /// The API whose URL is kept under `key`.
    pub fn from_url_key(key: &str) -> Option<Api> {
        Api::ALL.into_iter().find(|api| api.url_key() == key)
    }

    /// `sapi_url, vmapi_url and cnapi_url` (the required ones), for
    /// messages about a profile.
    pub fn url_keys_listed() -> String {
        let keys: Vec<&str> = Api::ALL
            .iter()
            .filter(|api| api.required())
            .map(|api| api.url_key())
            .collect();
        match keys.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `GET /ping`: 200 when SAPI's storage is available, 500 when not.
fn sapi_verdict(body: &Value) -> Result<(), String> {
    if body.get("storAvailable") != Some(&Value::Bool(false)) {
        return Ok(());
    }
    Err(format!(
        "storage unavailable (storType {})",
        body.get("storType").and_then(Value::as_str).unwrap_or("?")
    ))
}

/// `GET /ping`: 503 with `status: "some services are not ready"` when
/// moray or workflow is not connected.
fn vmapi_verdict(body: &Value) -> Result<(), String> {
    if body.get("healthy") != Some(&Value::Bool(false)) {
        return Ok(());
    }
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("not healthy");
    let down = not_online(body.get("services"));
    Err(if down.is_empty() {
        status.to_string()
    } else {
        format!("{status}: {down}")
    })
}

/// `GET /ping` is always 200: `ready` says whether workflow, moray and
/// amqp are all online.
fn cnapi_verdict(body: &Value) -> Result<(), String> {
    if body.get("ready") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    let down = not_online(body.get("services"));
    Err(if down.is_empty() {
        "not ready".to_string()
    } else {
        format!("not ready: {down}")
    })
}

/// `GET /ping` answers `{"ping": "pong", …}` while IMGAPI serves.
fn imgapi_verdict(body: &Value) -> Result<(), String> {
    match body.get("ping").and_then(Value::as_str) {
        Some("pong") => Ok(()),
        _ => Err(format!("no pong: {body}")),
    }
}

/// `moray: offline, wfapi: connecting` from a `services` map.
fn not_online(services: Option<&Value>) -> String {
    let Some(Value::Object(services)) = services else {
        return String::new();
    };
    services
        .iter()
        .filter(|(_, state)| state.as_str() != Some("online"))
        .map(|(name, state)| {
            format!(
                "{name}: {}",
                state
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| state.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The APIs' base URLs as text, serialised as one key per API
/// (`sapi_url`, …) beside the other fields of a flattened record (`lab
/// status --json`). Keys that are not an API's are left to the record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiUrls(pub BTreeMap<Api, String>);

impl ApiUrls {
    /// The URL of `api`, empty when it is not known.
    pub fn get(&self, api: Api) -> &str {
        self.0.get(&api).map(String::as_str).unwrap_or_default()
    }
}

impl Serialize for ApiUrls {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (api, url) in &self.0 {
            map.serialize_entry(api.url_key(), url)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ApiUrls {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ApiUrls, D::Error> {
        struct UrlsVisitor;
        impl<'de> Visitor<'de> for UrlsVisitor {
            type Value = ApiUrls;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "the APIs' URLs ({})", Api::url_keys_listed())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ApiUrls, A::Error> {
                let mut urls = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    match Api::from_url_key(&key) {
                        Some(api) => {
                            urls.insert(api, map.next_value()?);
                        }
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ApiUrls(urls))
            }
        }
        deserializer.deserialize_map(UrlsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_api_has_its_own_names() {
        for api in Api::ALL {
            assert_eq!(Api::from_url_key(api.url_key()), Some(api));
            assert_eq!(api.url_key(), format!("{}_url", api.service()));
            assert_eq!(api.name(), api.service().to_uppercase());
        }
        assert_eq!(Api::url_keys_listed(), "sapi_url, vmapi_url and cnapi_url");
    }

    #[test]
    fn pings_are_read_each_api_its_own_way() {
        assert_eq!(
            Api::Sapi.ping_verdict(&json!({"storAvailable": true})),
            Ok(())
        );
        assert_eq!(
            Api::Sapi.ping_verdict(&json!({"storAvailable": false, "storType": "Moray"})),
            Err("storage unavailable (storType Moray)".to_string())
        );
        assert_eq!(
            Api::Cnapi.ping_verdict(&json!({"ready": false, "services": {"moray": "offline"}})),
            Err("not ready: moray: offline".to_string())
        );
        assert_eq!(
            Api::Vmapi.ping_verdict(
                &json!({"healthy": false, "services": {"wfapi": "offline", "moray": "online"}})
            ),
            Err("not healthy: wfapi: offline".to_string())
        );
        assert_eq!(
            Api::Imgapi.ping_verdict(&json!({"ping": "pong", "imgapi": true})),
            Ok(())
        );
        assert!(Api::Imgapi.ping_verdict(&json!({})).is_err());
    }

    #[test]
    fn urls_keep_their_keys_beside_other_fields() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Record {
            #[serde(flatten)]
            urls: ApiUrls,
            other: u32,
        }
        let record = Record {
            urls: ApiUrls(
                Api::ALL
                    .map(|api| (api, format!("http://{}", api.service())))
                    .into(),
            ),
            other: 7,
        };
        let text = serde_json::to_string(&record).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"sapi_url":"http://sapi","vmapi_url":"http://vmapi","cnapi_url":"http://cnapi","imgapi_url":"http://imgapi","other":7}"#
        );
        let back: Option<Record> = serde_json::from_str(&text).ok();
        assert_eq!(back, Some(record));
    }
}
