//! Which datacenter a command works on. A run records it in its journal:
//! a run belongs to its datacenter and is resumed nowhere else, and its
//! transcript says where it ran.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DatacenterId {
    /// A lab, by its directory (made absolute).
    Lab { dir: PathBuf },
    /// A profile of the config file, with what it pointed at.
    Profile {
        name: String,
        sapi_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        datacenter_name: Option<String>,
    },
}

impl DatacenterId {
    /// A lab in `dir`, made absolute so that the same lab reached from two
    /// working directories is the same datacenter.
    pub fn lab(dir: &std::path::Path) -> DatacenterId {
        let dir = std::fs::canonicalize(dir)
            .or_else(|_| std::path::absolute(dir))
            .unwrap_or_else(|_| dir.to_path_buf());
        DatacenterId::Lab { dir }
    }

    /// A few characters for a prompt: `lab:NAME` (the lab directory's
    /// name) or the profile's name.
    pub fn short(&self) -> String {
        match self {
            DatacenterId::Lab { dir } => format!(
                "lab:{}",
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| dir.display().to_string())
            ),
            DatacenterId::Profile { name, .. } => name.clone(),
        }
    }

    /// The flag that chooses this datacenter again: `--lab DIR`, `--profile NAME`.
    pub fn flag(&self) -> String {
        match self {
            DatacenterId::Lab { dir } => format!("--lab {}", dir.display()),
            DatacenterId::Profile { name, .. } => format!("--profile {name}"),
        }
    }
}

impl fmt::Display for DatacenterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatacenterId::Lab { dir } => write!(f, "the lab in {}", dir.display()),
            DatacenterId::Profile {
                name,
                sapi_url,
                datacenter_name,
            } => {
                write!(f, "profile {name}")?;
                if let Some(dc) = datacenter_name {
                    write!(f, " ({dc})")?;
                }
                write!(f, ", SAPI {sapi_url}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_is_its_absolute_directory_and_a_profile_says_where_it_points() {
        let here = DatacenterId::lab(std::path::Path::new("."));
        let cwd = std::fs::canonicalize(".").unwrap();
        assert_eq!(here, DatacenterId::Lab { dir: cwd.clone() });
        assert_eq!(here.to_string(), format!("the lab in {}", cwd.display()));
        let west = DatacenterId::Profile {
            name: "west".into(),
            sapi_url: "http://sapi.west.example.com/".into(),
            datacenter_name: Some("us-west-1".into()),
        };
        assert_eq!(
            west.to_string(),
            "profile west (us-west-1), SAPI http://sapi.west.example.com/"
        );
        assert_eq!(west.flag(), "--profile west");
        assert_eq!(west.short(), "west");
        let lab = DatacenterId::Lab {
            dir: "/tmp/rehearsal".into(),
        };
        assert_eq!(lab.short(), "lab:rehearsal");
        let json = serde_json::to_value(&west).unwrap();
        assert_eq!(json["kind"], "profile");
        assert_eq!(serde_json::from_value::<DatacenterId>(json).unwrap(), west);
    }
}
