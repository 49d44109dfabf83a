//! IMGAPI: the datacenter's images, as sdcadm reads them to pick the image
//! of a core service (ListImages by name, GetImage).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Query;
use super::error::DcError;
use super::health::{self, Health};
use super::http::ApiClient;

/// One image: the fields sdcadm reads, and the rest as IMGAPI sent them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub uuid: String,
    pub name: String,
    pub version: String,
    /// `active`, `disabled`, `unactivated`, …
    pub state: String,
    /// ISO-8601; absent on an image never activated.
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A client of IMGAPI, or the reason there is none: a profile may leave
/// out `imgapi_url`, and then only what needs images fails.
#[derive(Clone, Debug)]
pub struct Imgapi {
    client: Option<ApiClient>,
}

impl Imgapi {
    pub(crate) fn new(client: Option<ApiClient>) -> Imgapi {
        Imgapi { client }
    }

    pub fn client(&self) -> Result<&ApiClient, DcError> {
        self.client.as_ref().ok_or_else(|| DcError::Config {
            detail:
                "no IMGAPI URL given: add imgapi_url to the profile (http://imgapi.<dc>.<domain>)"
                    .to_string(),
        })
    }

    /// `GET /ping`: `{"ping": "pong", …}` while it serves.
    pub async fn ping(&self) -> Result<Health, DcError> {
        health::ping(self.client()?).await
    }

    /// `GET /images` with IMGAPI's filters (`name`, `version`, `state` —
    /// `active` unless given, `all` for every state —, `os`, `type`,
    /// `owner`), oldest first.
    pub async fn list(&self, filters: &Query) -> Result<Vec<Image>, DcError> {
        self.client()?
            .get_json(&["images"], filters, Uuid::new_v4())
            .await
    }

    /// `GET /images/:uuid`.
    pub async fn get(&self, uuid: &str) -> Result<Image, DcError> {
        self.client()?
            .get_json(&["images", uuid], &[], Uuid::new_v4())
            .await
    }

    /// The newest active image named `name` (by `published_at`), as
    /// `sdcadm up SERVICE` picks one; None when IMGAPI has none.
    pub async fn latest(&self, name: &str) -> Result<Option<Image>, DcError> {
        let filters = vec![
            ("name".to_string(), name.to_string()),
            ("state".to_string(), "active".to_string()),
        ];
        let images = self.list(&filters).await?;
        Ok(newest(images))
    }
}

/// ISO-8601 timestamps of one format sort as text.
fn newest(images: Vec<Image>) -> Option<Image> {
    images
        .into_iter()
        .max_by(|a, b| a.published_at.cmp(&b.published_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(uuid: &str, published_at: Option<&str>) -> Image {
        Image {
            uuid: uuid.to_string(),
            name: "papi".to_string(),
            version: "v".to_string(),
            state: "active".to_string(),
            published_at: published_at.map(str::to_string),
            extra: Map::new(),
        }
    }

    #[test]
    fn the_newest_is_the_last_published() {
        let found = newest(vec![
            image("b", Some("2026-02-01T00:00:00.000Z")),
            image("c", None),
            image("a", Some("2026-01-01T00:00:00.000Z")),
        ]);
        assert_eq!(found.map(|i| i.uuid), Some("b".to_string()));
        assert_eq!(newest(Vec::new()), None);
    }
}
