//! What a check or a verification answers, and the Rhai helpers that build
//! the answer: `pass(why)`, `warn(why)`, `fail(why)`, `pending(why)`,
//! `needs_force(why)`.
//!
//! Every verdict carries a reason, so the operator reads why a check
//! passed or failed instead of a bare tick.

use rhai::{Dynamic, Engine, Map};

use crate::script::register::func;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "verdict", content = "why", rename_all = "snake_case")]
pub enum Verdict {
    Pass(String),
    /// It holds, with something the operator must see: shown ⚠, never ✓.
    Warn(String),
    Fail(String),
    /// Not yet: a verification keeps polling until its wait runs out.
    Pending(String),
    /// Fails unless the operator gave `--force`.
    NeedsForce(String),
}

impl Verdict {
    pub fn why(&self) -> &str {
        match self {
            Verdict::Pass(w)
            | Verdict::Warn(w)
            | Verdict::Fail(w)
            | Verdict::Pending(w)
            | Verdict::NeedsForce(w) => w,
        }
    }

    /// Passed, with or without a warning.
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass(_) | Verdict::Warn(_))
    }

    pub fn is_needs_force(&self) -> bool {
        matches!(self, Verdict::NeedsForce(_))
    }

    /// Reads what a runbook function returned: a verdict map, or a plain
    /// boolean (which says nothing about why).
    pub fn from_dynamic(function: &str, value: &Dynamic) -> Verdict {
        if let Ok(b) = value.as_bool() {
            return if b {
                Verdict::Pass(format!("{function} returned true"))
            } else {
                Verdict::Fail(format!("{function} returned false"))
            };
        }
        let parsed = value.read_lock::<Map>().and_then(|map| {
            let why = map.get("why").map(|w| w.to_string()).unwrap_or_default();
            let verdict = map.get("verdict")?.clone().into_string().ok()?;
            match verdict.as_str() {
                "pass" => Some(Verdict::Pass(why)),
                "warn" => Some(Verdict::Warn(why)),
                "fail" => Some(Verdict::Fail(why)),
                "pending" => Some(Verdict::Pending(why)),
                "needs_force" => Some(Verdict::NeedsForce(why)),
                _ => None,
            }
        });
        parsed.unwrap_or_else(|| {
            Verdict::Fail(format!(
                "{function} returned {} instead of pass(why), fail(why) or pending(why)",
                value.type_name()
            ))
        })
    }
}

fn verdict(kind: &str, why: &str) -> Map {
    let mut map = Map::new();
    map.insert("verdict".into(), kind.into());
    map.insert("why".into(), why.into());
    map
}

pub fn register(engine: &mut Engine) {
    let doc = |what: &str| format!("{what}\nExample: {EXAMPLE}");
    let pass = doc("A check's answer: it holds; `why` says why.");
    func("pass", &["why: String"], "Map", &pass)
        .register_into_engine(engine, |why: &str| verdict("pass", why));
    let warn = doc(
        "A check's answer: it holds, but with a problem the operator must see (shown ⚠, not ✓).",
    );
    func("warn", &["why: String"], "Map", &warn)
        .register_into_engine(engine, |why: &str| verdict("warn", why));
    let fail = doc("A check's answer: it does not hold; `why` says why.");
    func("fail", &["why: String"], "Map", &fail)
        .register_into_engine(engine, |why: &str| verdict("fail", why));
    let pending =
        doc("A verification's answer: not yet; it is asked again until its wait runs out.");
    func("pending", &["why: String"], "Map", &pending)
        .register_into_engine(engine, |why: &str| verdict("pending", why));
    let needs_force = doc("A check's answer: refused unless the operator gave --force.");
    func("needs_force", &["why: String"], "Map", &needs_force)
        .register_into_engine(engine, |why: &str| verdict("needs_force", why));
}

const EXAMPLE: &str = "if n > 0 { pass(`${n} instances`) } else { fail(\"no instance\") }";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_and_booleans_become_verdicts() {
        let mut engine = Engine::new();
        register(&mut engine);
        let read = |src: &str| Verdict::from_dynamic("f", &engine.eval::<Dynamic>(src).unwrap());
        assert_eq!(
            read(r#"pass("papi1 is running")"#),
            Verdict::Pass("papi1 is running".into())
        );
        assert_eq!(read(r#"fail("no")"#), Verdict::Fail("no".into()));
        let warned = read(r#"warn("binder2 does not answer")"#);
        assert_eq!(warned, Verdict::Warn("binder2 does not answer".into()));
        assert!(warned.is_pass());
        assert_eq!(
            read(r#"pending("still provisioning")"#),
            Verdict::Pending("still provisioning".into())
        );
        assert_eq!(
            read(r#"needs_force("quorum")"#),
            Verdict::NeedsForce("quorum".into())
        );
        assert_eq!(read("true"), Verdict::Pass("f returned true".into()));
        assert!(matches!(read("42"), Verdict::Fail(w) if w.contains("instead of pass")));
    }
}
