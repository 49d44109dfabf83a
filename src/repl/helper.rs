//! The rustyline helper: completion, history hints, highlighting and
//! multi-line validation put together for the editor.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::completer::{Sources, complete};
use super::evaluator::{Evaluator, map_keys};
use super::highlighter::{dim, highlight};
use super::live::LiveCache;
use super::validator::InputValidator;

pub struct ReplHelper {
    evaluator: Arc<dyn Evaluator>,
    live: Option<LiveCache>,
    color: bool,
    hinter: HistoryHinter,
    /// Whether the next redraw may mark matching brackets: not on the final
    /// redraw before Enter, so the submitted line stays plain.
    mark_brackets: Cell<bool>,
}

impl ReplHelper {
    pub fn new(evaluator: Arc<dyn Evaluator>, live: Option<LiveCache>, color: bool) -> ReplHelper {
        ReplHelper {
            evaluator,
            live,
            color,
            hinter: HistoryHinter::new(),
            mark_brackets: Cell::new(false),
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let known = self.evaluator.names();
        let live = self.live.as_ref().map(LiveCache::names).unwrap_or_default();
        let keys = |path: &str| map_keys(self.evaluator.as_ref(), path);
        let sources = Sources {
            known: &known,
            live: &live,
            map_keys: &keys,
        };
        Ok(complete(line, pos, &sources))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hinter.hint(line, pos, ctx)
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight(line, self.mark_brackets.get().then_some(pos)))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if !self.color {
            return Cow::Borrowed(hint);
        }
        Cow::Owned(dim(hint))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        self.mark_brackets.set(kind != CmdKind::ForcedRefresh);
        self.color
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        InputValidator.validate(ctx)
    }
}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use rhai::Dynamic;

    use super::*;

    struct NoSession;

    impl Evaluator for NoSession {
        fn eval(&self, _src: &str) -> Result<Dynamic, String> {
            Err("no session".into())
        }
        fn names(&self) -> Vec<String> {
            Vec::new()
        }
    }

    #[test]
    fn no_escape_codes_when_colour_is_off() {
        let helper = ReplHelper::new(Arc::new(NoSession), None, false);
        let line = r#"let x = vmapi::list(#{alias: "m"}) // 42"#;
        helper.highlight_char(line, 3, CmdKind::Other);
        assert_eq!(helper.highlight(line, 19), line);
        assert_eq!(helper.highlight_hint("rest"), "rest");
        assert!(!helper.highlight_char(line, 3, CmdKind::Other));
    }

    #[test]
    fn colour_on_adds_escape_codes() {
        let helper = ReplHelper::new(Arc::new(NoSession), None, true);
        assert!(helper.highlight("let x = 1", 0).contains('\x1b'));
        assert!(helper.highlight_hint("rest").contains('\x1b'));
    }
}
