//! What the REPL needs from the Rhai session, as a small seam so the editor
//! parts can be exercised without a datacenter.

use rhai::Dynamic;

use crate::script::session::Session;

pub trait Evaluator {
    /// Evaluates `src` in the session's persistent scope; the error is one line.
    fn eval(&self, src: &str) -> Result<Dynamic, String>;
    /// Functions, `module::member`s and variables in scope.
    fn names(&self) -> Vec<String>;
}

/// Keys of the map at `path` (a variable, or `x.y`), read by evaluating
/// `path.keys()`: cheap, and empty when it is not a map.
pub fn map_keys(evaluator: &dyn Evaluator, path: &str) -> Vec<String> {
    let Ok(keys) = evaluator.eval(&format!("{path}.keys()")) else {
        return Vec::new();
    };
    keys.into_array()
        .map(|keys| keys.into_iter().map(|k| k.to_string()).collect())
        .unwrap_or_default()
}

impl Evaluator for Session {
    fn eval(&self, src: &str) -> Result<Dynamic, String> {
        Session::eval(self, src)
    }

    fn names(&self) -> Vec<String> {
        Session::names(self)
    }
}
