//! Colours for the line being edited: keywords, strings, numbers, module
//! names, comments, and the bracket matching the one at the cursor.
//!
//! Only SGR escape codes are added, so the text keeps its display width,
//! which rustyline relies on to place the cursor.

use nu_ansi_term::{Color, Style};

use super::lexer::{Kind, Token, closer_of, tokenize};

const KEYWORDS: &[&str] = &[
    "let",
    "const",
    "fn",
    "private",
    "if",
    "else",
    "switch",
    "while",
    "loop",
    "do",
    "until",
    "for",
    "in",
    "break",
    "continue",
    "return",
    "throw",
    "try",
    "catch",
    "import",
    "export",
    "as",
    "true",
    "false",
    "this",
    "global",
    "is_shared",
    "Fn",
    "call",
    "curry",
    "type_of",
];

/// `line` with colour codes; `cursor` is the byte position of the cursor, or
/// `None` to leave brackets plain (the final redraw before Enter).
pub fn highlight(line: &str, cursor: Option<usize>) -> String {
    let tokens = tokenize(line);
    let partner = cursor.and_then(|pos| matching_brackets(&tokens, pos));
    let mut out = String::with_capacity(line.len() * 2);
    let mut last = 0;
    for (i, token) in tokens.iter().enumerate() {
        out.push_str(&line[last..token.span.start]);
        let text = &line[token.span.clone()];
        let style = match token.kind {
            _ if partner.is_some_and(|(a, b)| i == a || i == b) => {
                Some(Style::new().bold().fg(Color::Cyan).underline())
            }
            Kind::Str { .. } => Some(Color::Green.normal()),
            Kind::Number => Some(Color::Cyan.normal()),
            Kind::Comment { .. } => Some(Style::new().dimmed()),
            Kind::Ident if is_module_name(&tokens, i) => Some(Color::Yellow.normal()),
            Kind::Ident if KEYWORDS.contains(&text) => Some(Color::Magenta.bold()),
            _ => None,
        };
        match style {
            Some(style) => out.push_str(&style.paint(text).to_string()),
            None => out.push_str(text),
        }
        last = token.span.end;
    }
    out.push_str(&line[last..]);
    out
}

/// History hints are shown dimmed so they do not look like typed text.
pub fn dim(hint: &str) -> String {
    Style::new().dimmed().paint(hint).to_string()
}

fn is_module_name(tokens: &[Token], i: usize) -> bool {
    tokens
        .get(i + 1)
        .is_some_and(|next| next.kind == Kind::PathSep)
}

/// Token indexes of the bracket at the cursor (or just before it, as after
/// typing one) and its partner.
fn matching_brackets(tokens: &[Token], pos: usize) -> Option<(usize, usize)> {
    let at = tokens
        .iter()
        .position(|t| t.span.start == pos && is_bracket(t.kind))
        .or_else(|| {
            tokens
                .iter()
                .position(|t| t.span.end == pos && is_bracket(t.kind))
        })?;
    partner_of(tokens, at).map(|p| (at, p))
}

fn is_bracket(kind: Kind) -> bool {
    matches!(kind, Kind::Open(_) | Kind::Close(_))
}

fn partner_of(tokens: &[Token], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    match tokens[at].kind {
        Kind::Open(open) => {
            for (i, t) in tokens.iter().enumerate().skip(at + 1) {
                match t.kind {
                    Kind::Open(_) => depth += 1,
                    Kind::Close(c) if depth == 0 => return (c == closer_of(open)).then_some(i),
                    Kind::Close(_) => depth -= 1,
                    _ => {}
                }
            }
            None
        }
        Kind::Close(close) => {
            for i in (0..at).rev() {
                match tokens[i].kind {
                    Kind::Close(_) => depth += 1,
                    Kind::Open(o) if depth == 0 => return (closer_of(o) == close).then_some(i),
                    Kind::Open(_) => depth -= 1,
                    _ => {}
                }
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn colouring_keeps_the_text() {
        let line = r#"let xs = vmapi::list(#{alias: "moray"}); // 1 "x" é"#;
        let coloured = highlight(line, Some(20));
        assert_ne!(coloured, line, "something should be coloured");
        assert_eq!(strip_ansi(&coloured), line);
    }

    #[test]
    fn each_kind_gets_its_colour() {
        let coloured = highlight(r#"let n = sapi::x("s", 42)"#, None);
        assert!(coloured.contains(&Color::Magenta.bold().paint("let").to_string()));
        assert!(coloured.contains(&Color::Yellow.normal().paint("sapi").to_string()));
        assert!(coloured.contains(&Color::Green.normal().paint("\"s\"").to_string()));
        assert!(coloured.contains(&Color::Cyan.normal().paint("42").to_string()));
    }

    #[test]
    fn the_bracket_at_the_cursor_and_its_partner_are_marked() {
        let line = "f(a[1], (b))";
        let tokens = tokenize(line);
        assert_eq!(matching_brackets(&tokens, 1), Some((1, 10)));
        // Just after typing the last `)`.
        assert_eq!(matching_brackets(&tokens, line.len()), Some((10, 1)));
        assert_eq!(matching_brackets(&tokens, 7), None, "not at a bracket");
        assert_eq!(matching_brackets(&tokenize("(]"), 0), None, "mismatched");
        assert_eq!(matching_brackets(&tokenize("(("), 0), None, "unclosed");
    }

    #[test]
    fn without_a_cursor_no_bracket_is_marked() {
        let coloured = highlight("f(1)", None);
        assert_eq!(strip_ansi(&coloured), "f(1)");
        assert!(!coloured.contains("\x1b[1;4"));
    }
}
