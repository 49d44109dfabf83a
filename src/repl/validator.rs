//! Multi-line input: Enter continues the input while a bracket, string or
//! block comment is still open, or the input ends with an operator that
//! wants its right side (`1 +`), so an expression or a function can be
//! typed over several lines.

use rustyline::validate::{ValidationContext, ValidationResult, Validator};

use super::lexer::{Kind, closer_of, tokenize};

/// True while the input has an open bracket, string or block comment.
/// A closer that does not match is left for Rhai to report, so the input
/// counts as complete then.
pub fn is_incomplete(src: &str) -> bool {
    let tokens = tokenize(src);
    let last = tokens
        .iter()
        .rev()
        .find(|t| !matches!(t.kind, Kind::Comment { closed: true }));
    if let Some(last) = last
        && last.kind == Kind::Punct
        && src[last.span.clone()]
            .chars()
            .all(|c| "+-*/%=<>&|^,.?".contains(c))
    {
        return true;
    }
    let mut open = Vec::new();
    for token in tokens {
        match token.kind {
            Kind::Str { closed: false, .. } | Kind::Comment { closed: false } => return true,
            Kind::Open(c) => open.push(c),
            Kind::Close(c) => match open.pop() {
                Some(o) if closer_of(o) == c => {}
                _ => return false,
            },
            _ => {}
        }
    }
    !open.is_empty()
}

pub struct InputValidator;

impl Validator for InputValidator {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_incomplete;

    #[test]
    fn complete_inputs() {
        for src in [
            "",
            "1 + 1",
            "fn f(x) { x * 2 }",
            r#"print("(")"#,
            r#"let s = "{ [ (";"#,
            "let c = '{';",
            "// a comment with {",
            "/* { */ 1",
            "`a ${ 1 + 2 } b`",
            "[1, 2, #{a: [3]}]",
        ] {
            assert!(!is_incomplete(src), "{src:?} should be complete");
        }
    }

    #[test]
    fn incomplete_inputs() {
        for src in [
            "fn f(x) {",
            "fn f(x) {\n  if x {\n    1\n  }",
            "vmapi::list(#{",
            "[1, 2,",
            r#"print("abc"#,
            "let s = `line one\n",
            "/* still a comment",
            "let s = \"escaped \\\" quote",
            "1 +",
            "let x = 2 *  ",
            "a ==",
            "vm.alias ?? // a comment\n",
            "[1, 2].map(|x| x) .",
        ] {
            assert!(is_incomplete(src), "{src:?} should be incomplete");
        }
    }

    #[test]
    fn a_stray_closer_is_left_for_rhai_to_report() {
        assert!(!is_incomplete("1 + 2)"));
        assert!(!is_incomplete("fn f() { (]"));
    }
}
