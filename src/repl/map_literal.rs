//! Where the cursor stands in a map literal being typed, for completion:
//! at a key (`vmapi::list(#{st`), or at the value of a key
//! (`#{state: "r`), and which function the map is an argument of.

use super::lexer::{Kind, Token};

/// The tokens of a line and the line they came from.
pub struct Tokens<'a> {
    pub line: &'a str,
    pub tokens: &'a [Token],
}

impl Tokens<'_> {
    fn text(&self, i: usize) -> &str {
        &self.line[self.tokens[i].span.clone()]
    }

    /// Whether the token at `at` (or the word about to start there, when
    /// `at` is past the last token) is where a key of a map literal goes:
    /// right after `#{` or after a `,` in one. The index of its `{`.
    pub fn key_position(&self, at: usize) -> Option<usize> {
        let previous = at.checked_sub(1)?;
        match self.tokens[previous].kind {
            Kind::Open('{') => self.is_map(previous).then_some(previous),
            Kind::Punct if self.text(previous) == "," => {
                let open = self.innermost_open(previous)?;
                (self.tokens[open].kind == Kind::Open('{') && self.is_map(open)).then_some(open)
            }
            _ => None,
        }
    }

    /// The key whose value starts at `at` (`#{state: "r` → `state`) and
    /// the index of its map's `{`.
    pub fn key_of_value(&self, at: usize) -> Option<(String, usize)> {
        let key = at.checked_sub(2)?;
        if self.text(at - 1) != ":" {
            return None;
        }
        let name = match self.tokens[key].kind {
            Kind::Ident => self.text(key).to_string(),
            Kind::Str { closed: true, .. } => {
                let quoted = self.text(key);
                quoted[1..quoted.len() - 1].to_string()
            }
            _ => return None,
        };
        Some((name, self.key_position(key)?))
    }

    /// `module::function` when the map whose `{` is at `brace` is an
    /// argument of that call.
    pub fn call_of(&self, brace: usize) -> Option<String> {
        let call = self.enclosing_call(brace)?;
        if call >= 2 && self.tokens[call - 1].kind == Kind::PathSep {
            Some(format!("{}::{}", self.text(call - 2), self.text(call)))
        } else {
            Some(self.text(call).to_string())
        }
    }

    /// The index of the name of the innermost call still open at `from`.
    pub fn enclosing_call(&self, from: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..from).rev() {
            match self.tokens[i].kind {
                Kind::Close(_) => depth += 1,
                Kind::Open('(')
                    if depth == 0 && i > 0 && self.tokens[i - 1].kind == Kind::Ident =>
                {
                    return Some(i - 1);
                }
                // A map literal or a grouping bracket: the call may be further out.
                Kind::Open(_) if depth == 0 => {}
                Kind::Open(_) => depth -= 1,
                _ => {}
            }
        }
        None
    }

    /// `{` preceded by `#`: a map literal, not a block.
    fn is_map(&self, brace: usize) -> bool {
        brace > 0 && self.text(brace - 1) == "#"
    }

    /// The bracket still open at `from`, the innermost one.
    fn innermost_open(&self, from: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..from).rev() {
            match self.tokens[i].kind {
                Kind::Close(_) => depth += 1,
                Kind::Open(_) if depth == 0 => return Some(i),
                Kind::Open(_) => depth -= 1,
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn at_end(line: &str, f: impl Fn(&Tokens, usize) -> Option<String>) -> Option<String> {
        let tokens = tokenize(line);
        let t = Tokens {
            line,
            tokens: &tokens,
        };
        f(&t, tokens.len())
    }

    #[test]
    fn keys_and_values_of_a_map_argument() {
        let key = |t: &Tokens, n: usize| t.key_position(n).and_then(|b| t.call_of(b));
        assert_eq!(
            at_end("vmapi::list(#{", key).as_deref(),
            Some("vmapi::list")
        );
        assert_eq!(
            at_end(r#"vmapi::list(#{state: "running", "#, key).as_deref(),
            Some("vmapi::list")
        );
        assert_eq!(at_end("vmapi::list(#{state: ", key), None, "a value");
        assert_eq!(at_end("if x {", key), None, "a block");
        assert_eq!(at_end("f(1, ", key), None, "arguments");
        assert_eq!(at_end("#{a: [1, ", key), None, "an array in a map");

        let value = |t: &Tokens, n: usize| {
            t.key_of_value(n)
                .map(|(k, b)| format!("{k} in {}", t.call_of(b).unwrap_or_default()))
        };
        assert_eq!(
            at_end("cnapi::servers(#{setup: ", value).as_deref(),
            Some("setup in cnapi::servers")
        );
        assert_eq!(
            at_end(r#"vmapi::list(#{"tag.smartdc_role": "#, value).as_deref(),
            Some("tag.smartdc_role in vmapi::list")
        );
    }
}
