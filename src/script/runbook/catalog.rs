//! Where runbooks come from: the stdlib embedded in the binary at build
//! time, and the operator's runbook directory, whose files override the
//! stdlib ones of the same name without a rebuild.
//!
//! `export` keeps a copy of the stdlib text it exported beside the local
//! file (in `.exported/`), so `list` can tell an edited copy from an
//! untouched one, and notice when the stdlib moved on since the export.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::error::RunbookError;

static STDLIB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/stdlib");

const EXTENSION: &str = "rhai";

/// Where the text of a runbook was read from.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum Origin {
    Stdlib,
    /// A file in the runbook directory, found by name.
    Local(PathBuf),
    /// A file named on the command line.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Stdlib => f.write_str("stdlib"),
            Origin::Local(p) | Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub origin: Origin,
    pub text: String,
}

/// The text of the stdlib runbook `name`, if there is one.
pub fn stdlib_text(name: &str) -> Option<&'static str> {
    STDLIB
        .get_file(format!("{name}.{EXTENSION}"))
        .and_then(|f| f.contents_utf8())
}

/// The names of the stdlib runbooks, sorted.
pub fn stdlib_names() -> Vec<String> {
    let mut names: Vec<String> = STDLIB
        .files()
        .filter_map(|f| runbook_name(f.path()))
        .collect();
    names.sort();
    names
}

/// The names of the runbooks in `dir` (the operator's), sorted.
pub fn local_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        // A directory named x.rhai is not a runbook (listing it sent the
        // operator to `runbook list` for a runbook that list showed).
        .filter(|e| e.path().is_file())
        .filter_map(|e| runbook_name(&e.path()))
        .collect();
    names.sort();
    names
}

/// Every runbook name, stdlib and local, sorted and without repeats.
pub fn all_names(dir: &Path) -> Vec<String> {
    let mut names = stdlib_names();
    names.extend(local_names(dir));
    names.sort();
    names.dedup();
    names
}

/// Whether `arg` names a file rather than a runbook.
pub fn is_path(arg: &str) -> bool {
    arg.ends_with(".rhai") || arg.contains('/')
}

/// Finds a runbook by name (local copy first, then stdlib) or by path.
pub fn resolve(arg: &str, dir: &Path) -> Result<Source, RunbookError> {
    if is_path(arg) {
        let path = PathBuf::from(arg);
        let text = read(&path)?;
        let path = std::path::absolute(&path).unwrap_or(path);
        let name = runbook_name(&path).unwrap_or_else(|| arg.to_string());
        return Ok(Source {
            name,
            origin: Origin::File(path),
            text,
        });
    }
    let local = local_path(dir, arg);
    if local.is_file() {
        return Ok(Source {
            name: arg.to_string(),
            text: read(&local)?,
            origin: Origin::Local(local),
        });
    }
    match stdlib_text(arg) {
        Some(text) => Ok(Source {
            name: arg.to_string(),
            origin: Origin::Stdlib,
            text: text.to_string(),
        }),
        None => Err(RunbookError::UnknownRunbook {
            name: arg.to_string(),
        }),
    }
}

/// Reads a runbook again from where it was first found (for a resume).
pub fn reload(name: &str, origin: &Origin, dir: &Path) -> Result<Source, RunbookError> {
    match origin {
        Origin::File(path) => resolve(&path.to_string_lossy(), dir),
        Origin::Stdlib | Origin::Local(_) => resolve(name, dir),
    }
}

pub fn local_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.{EXTENSION}"))
}

fn exported_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(".exported").join(format!("{name}.{EXTENSION}"))
}

/// How a local runbook relates to the stdlib one of the same name.
#[derive(Clone, Debug, PartialEq)]
pub enum LocalState {
    /// No local file: the stdlib text runs.
    StdlibOnly,
    /// A local runbook with no stdlib counterpart.
    LocalOnly,
    /// Same text as the stdlib.
    SameAsStdlib,
    /// Exported, then edited; the stdlib has not changed since.
    Edited,
    /// The stdlib text changed since the export (whether or not the local
    /// copy was edited too).
    StdlibChanged,
    /// Differs from the stdlib, and was not made by `export`.
    Differs,
}

pub fn local_state(dir: &Path, name: &str) -> LocalState {
    // An unreadable local file (not UTF-8) is still local: reading it as
    // absent labelled it "stdlib" beside its own load error.
    let path = local_path(dir, name);
    let local = path
        .is_file()
        .then(|| std::fs::read_to_string(&path).unwrap_or_default());
    let stdlib = stdlib_text(name);
    let base = std::fs::read_to_string(exported_path(dir, name)).ok();
    match (local, stdlib) {
        (None, _) => LocalState::StdlibOnly,
        (Some(_), None) => LocalState::LocalOnly,
        (Some(local), Some(stdlib)) if local == stdlib => LocalState::SameAsStdlib,
        (Some(_), Some(stdlib)) => match base {
            Some(base) if base != stdlib => LocalState::StdlibChanged,
            Some(_) => LocalState::Edited,
            None => LocalState::Differs,
        },
    }
}

/// Copies the stdlib runbook `name` into `dir` for editing. Refuses to
/// overwrite a local copy.
pub fn export(dir: &Path, name: &str) -> Result<PathBuf, RunbookError> {
    let text = stdlib_text(name).ok_or_else(|| RunbookError::UnknownRunbook {
        name: name.to_string(),
    })?;
    let path = local_path(dir, name);
    if path.exists() {
        return Err(RunbookError::Other(format!(
            "{} already exists: edit it, or delete it to export the stdlib version again",
            path.display()
        )));
    }
    write(&exported_path(dir, name), text)?;
    write(&path, text)?;
    Ok(path)
}

fn runbook_name(path: &Path) -> Option<String> {
    if path.extension()? != EXTENSION {
        return None;
    }
    Some(path.file_stem()?.to_string_lossy().into_owned())
}

fn read(path: &Path) -> Result<String, RunbookError> {
    std::fs::read_to_string(path).map_err(|e| RunbookError::Read {
        path: path.to_path_buf(),
        cause: e.to_string(),
    })
}

fn write(path: &Path, text: &str) -> Result<(), RunbookError> {
    let fail = |e: std::io::Error| RunbookError::Write {
        path: path.to_path_buf(),
        cause: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temp_dir::TempDir;

    fn tempdir(tag: &str) -> TempDir {
        TempDir::new(&format!("catalog-{tag}"))
    }

    #[test]
    fn stdlib_has_the_first_runbooks() {
        let names = stdlib_names();
        assert!(names.contains(&"scale-service".to_string()), "{names:?}");
        assert!(names.contains(&"remove-instance".to_string()), "{names:?}");
    }

    #[test]
    fn local_copy_overrides_and_is_classified() {
        let dir = tempdir("override");
        assert_eq!(
            resolve("scale-service", &dir).unwrap().origin,
            Origin::Stdlib
        );
        assert_eq!(local_state(&dir, "scale-service"), LocalState::StdlibOnly);

        let path = export(&dir, "scale-service").unwrap();
        assert_eq!(local_state(&dir, "scale-service"), LocalState::SameAsStdlib);
        assert!(
            export(&dir, "scale-service").is_err(),
            "export must not overwrite"
        );
        assert_eq!(
            resolve("scale-service", &dir).unwrap().origin,
            Origin::Local(path.clone())
        );

        std::fs::write(&path, "// edited\n").unwrap();
        assert_eq!(local_state(&dir, "scale-service"), LocalState::Edited);
        std::fs::write(exported_path(&dir, "scale-service"), "older stdlib").unwrap();
        assert_eq!(
            local_state(&dir, "scale-service"),
            LocalState::StdlibChanged
        );

        std::fs::write(local_path(&dir, "mine"), "#{}").unwrap();
        assert_eq!(local_state(&dir, "mine"), LocalState::LocalOnly);
        assert!(all_names(&dir).contains(&"mine".to_string()));

        std::fs::write(local_path(&dir, "binary"), b"\xff\xfe").unwrap();
        assert_eq!(local_state(&dir, "binary"), LocalState::LocalOnly);
        std::fs::create_dir_all(local_path(&dir, "folder")).unwrap();
        assert!(!all_names(&dir).contains(&"folder".to_string()));
    }

    #[test]
    fn unknown_names_and_missing_files_are_one_line_errors() {
        let dir = tempdir("unknown");
        let err = resolve("no-such-runbook", &dir).unwrap_err().to_string();
        assert!(err.contains("no runbook named 'no-such-runbook'"), "{err}");
        let err = resolve("/nonexistent/x.rhai", &dir)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read /nonexistent/x.rhai"), "{err}");
        assert!(!err.contains('\n'));
    }
}
