//! A forgiving tokenizer for Rhai source being typed.
//!
//! The validator, the highlighter and the completer all need to know where
//! strings, comments and brackets are in a line that is usually unfinished,
//! which Rhai's own parser reports only as an error. This lexer never fails:
//! it marks what is left open instead.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    /// A `"…"`, `` `…` `` or `'…'` literal; `closed` is false when the input
    /// ends inside it.
    Str {
        quote: char,
        closed: bool,
    },
    /// `// …` or `/* … */`; `closed` is false for an unfinished block comment.
    Comment {
        closed: bool,
    },
    Open(char),
    Close(char),
    /// `::` between a module and its member.
    PathSep,
    Punct,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    /// Byte range in the source.
    pub span: Range<usize>,
}

pub fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr_or_end(bytes, i, b'\n');
                Kind::Comment { closed: true }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let (end, closed) = block_comment_end(bytes, i);
                i = end;
                Kind::Comment { closed }
            }
            b'"' | b'`' | b'\'' => {
                let (end, closed) = string_end(bytes, i, c);
                i = end;
                Kind::Str {
                    quote: c as char,
                    closed,
                }
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                Kind::Open(c as char)
            }
            b')' | b']' | b'}' => {
                i += 1;
                Kind::Close(c as char)
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                i += 2;
                Kind::PathSep
            }
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                Kind::Number
            }
            b if b == b'_' || b.is_ascii_alphabetic() || b >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                Kind::Ident
            }
            _ => {
                i += 1;
                Kind::Punct
            }
        };
        tokens.push(Token {
            kind,
            span: start..i,
        });
    }
    tokens
}

/// The closer that matches an opening bracket.
pub fn closer_of(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn memchr_or_end(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map_or(bytes.len(), |p| from + p)
}

/// Rhai block comments nest.
fn block_comment_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return (i, true);
                }
            }
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

/// Ends after the closing quote; a backslash escapes the next byte. Backtick
/// strings may contain `${ … }` with strings of their own inside.
fn string_end(bytes: &[u8], start: usize, quote: u8) -> (usize, bool) {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'$' if quote == b'`' && bytes.get(i + 1) == Some(&b'{') => {
                i = interpolation_end(bytes, i + 2);
            }
            b if b == quote => return (i + 1, true),
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

fn interpolation_end(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 1usize;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            q @ (b'"' | b'`' | b'\'') => {
                i = string_end(bytes, i, q).0;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        let b = bytes[i];
        let exponent_sign =
            (b == b'+' || b == b'-') && i > 0 && matches!(bytes[i - 1], b'e' | b'E');
        // `1.5` is a number but `1..5` is a range and `x.1.foo` a property.
        let decimal_point = b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if b.is_ascii_alphanumeric() || b == b'_' || exponent_sign || decimal_point {
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Kind> {
        tokenize(src).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn module_path_call() {
        assert_eq!(
            kinds("vmapi::list(#{})"),
            vec![
                Kind::Ident,
                Kind::PathSep,
                Kind::Ident,
                Kind::Open('('),
                Kind::Punct,
                Kind::Open('{'),
                Kind::Close('}'),
                Kind::Close(')'),
            ]
        );
    }

    #[test]
    fn brackets_inside_strings_and_comments_are_not_brackets() {
        let k = kinds(r#""(" /* { */ // ["#);
        assert_eq!(
            k,
            vec![
                Kind::Str {
                    quote: '"',
                    closed: true
                },
                Kind::Comment { closed: true },
                Kind::Comment { closed: true },
            ]
        );
    }

    #[test]
    fn unterminated_things_are_marked_open() {
        assert_eq!(
            kinds(r#"print("a\"b"#),
            vec![
                Kind::Ident,
                Kind::Open('('),
                Kind::Str {
                    quote: '"',
                    closed: false
                }
            ]
        );
        assert_eq!(kinds("/* /* */"), vec![Kind::Comment { closed: false }]);
    }

    #[test]
    fn interpolation_may_hold_quotes_and_braces() {
        assert_eq!(
            kinds(r#"`a ${ #{k: "}"}.k } b`"#),
            vec![Kind::Str {
                quote: '`',
                closed: true
            }]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(kinds("1_000 0xff 1.5e-3"), vec![Kind::Number; 3]);
        assert_eq!(
            kinds("1..5"),
            vec![Kind::Number, Kind::Punct, Kind::Punct, Kind::Number]
        );
    }

    #[test]
    fn non_ascii_does_not_split_inside_a_char() {
        let toks = tokenize("é \"ü");
        assert_eq!(toks[0].span, 0..2);
        assert_eq!(toks[1].span, 3..6);
    }
}
