//! LDAP search filters (RFC 4515 subset) as moray evaluates them for VMAPI `query=`.
//!
//! Supported: `(&…)`, `(|…)`, `(!…)`, `attr=value`, `attr>=value`, `attr<=value`,
//! `attr~=value` (as equality), substrings with `*`, presence `attr=*`, and `\XX` hex escapes.

use std::borrow::Cow;
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Equal(String, String),
    GreaterOrEqual(String, String),
    LessOrEqual(String, String),
    Present(String),
    /// `initial*any1*any2*final`.
    Substring {
        attr: String,
        initial: Option<String>,
        any: Vec<String>,
        last: Option<String>,
    },
}

/// Where a filter reads attribute values from (a VM, in VMAPI's case).
pub trait Attributes {
    /// All values of `attr`; empty when the attribute is absent or null.
    fn values(&self, attr: &str) -> Vec<Cow<'_, str>>;
}

impl Filter {
    /// Parses a whole filter; trailing text is an error.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            depth: 0,
        };
        let f = p.filter()?;
        if p.i != p.s.len() {
            return Err(format!("unexpected text after filter at offset {}", p.i));
        }
        Ok(f)
    }

    pub fn matches(&self, a: &dyn Attributes) -> bool {
        match self {
            Filter::And(fs) => fs.iter().all(|f| f.matches(a)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(a)),
            Filter::Not(f) => !f.matches(a),
            Filter::Equal(k, v) => a.values(k).iter().any(|x| x == v),
            Filter::GreaterOrEqual(k, v) => {
                a.values(k).iter().any(|x| compare(x, v) != Ordering::Less)
            }
            Filter::LessOrEqual(k, v) => a
                .values(k)
                .iter()
                .any(|x| compare(x, v) != Ordering::Greater),
            Filter::Present(k) => !a.values(k).is_empty(),
            Filter::Substring {
                attr,
                initial,
                any,
                last,
            } => a
                .values(attr)
                .iter()
                .any(|x| substring_match(x, initial.as_deref(), any, last.as_deref())),
        }
    }
}

/// Numbers compare as numbers (moray's numeric columns), everything else as strings.
fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

fn substring_match(value: &str, initial: Option<&str>, any: &[String], last: Option<&str>) -> bool {
    let mut rest = value;
    if let Some(init) = initial {
        let Some(r) = rest.strip_prefix(init) else {
            return false;
        };
        rest = r;
    }
    for part in any {
        match rest.find(part.as_str()) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    match last {
        Some(l) => rest.len() >= l.len() && rest.ends_with(l),
        None => true,
    }
}

/// How deep `(&(|(!…` may nest. The parser recurses once per level, so a
/// query thousands deep would overflow the daemon's stack and kill the lab;
/// real filters nest a few levels.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        match self.peek() {
            Some(x) if x == c => {
                self.i += 1;
                Ok(())
            }
            Some(x) => Err(format!(
                "expected '{}' at offset {}, found '{}'",
                c as char, self.i, x as char
            )),
            None => Err(format!("expected '{}' at end of filter", c as char)),
        }
    }

    fn filter(&mut self) -> Result<Filter, String> {
        if self.depth == MAX_DEPTH {
            return Err(format!(
                "filter nested more than {MAX_DEPTH} levels deep at offset {}",
                self.i
            ));
        }
        self.depth += 1;
        let f = self.nested_filter();
        self.depth -= 1;
        f
    }

    fn nested_filter(&mut self) -> Result<Filter, String> {
        self.expect(b'(')?;
        let f = match self.peek() {
            Some(b'&') => {
                self.i += 1;
                Filter::And(self.list()?)
            }
            Some(b'|') => {
                self.i += 1;
                Filter::Or(self.list()?)
            }
            Some(b'!') => {
                self.i += 1;
                Filter::Not(Box::new(self.filter()?))
            }
            _ => self.item()?,
        };
        self.expect(b')')?;
        Ok(f)
    }

    fn list(&mut self) -> Result<Vec<Filter>, String> {
        let mut fs = Vec::new();
        while self.peek() == Some(b'(') {
            fs.push(self.filter()?);
        }
        if fs.is_empty() {
            return Err(format!("empty filter list at offset {}", self.i));
        }
        Ok(fs)
    }

    fn item(&mut self) -> Result<Filter, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b'=' | b'>' | b'<' | b'~' | b'(' | b')' | b'*') {
                break;
            }
            self.i += 1;
        }
        let attr = std::str::from_utf8(&self.s[start..self.i])
            .map_err(|_| "attribute is not UTF-8".to_string())?
            .trim()
            .to_string();
        if attr.is_empty() {
            return Err(format!("missing attribute name at offset {start}"));
        }
        let op = match (self.peek(), self.s.get(self.i + 1).copied()) {
            (Some(b'='), _) => {
                self.i += 1;
                b'='
            }
            (Some(c @ (b'>' | b'<' | b'~')), Some(b'=')) => {
                self.i += 2;
                c
            }
            _ => return Err(format!("expected an operator after '{attr}'")),
        };
        // Split the raw value on unescaped '*', unescaping each part.
        let mut parts: Vec<String> = vec![String::new()];
        let mut raw = Vec::new();
        let flush = |raw: &mut Vec<u8>, parts: &mut Vec<String>| -> Result<(), String> {
            let s = String::from_utf8(std::mem::take(raw))
                .map_err(|_| "value is not UTF-8".to_string())?;
            if let Some(last) = parts.last_mut() {
                last.push_str(&s);
            }
            Ok(())
        };
        while let Some(c) = self.peek() {
            match c {
                b')' => break,
                b'(' => return Err(format!("unescaped '(' in value at offset {}", self.i)),
                b'*' => {
                    flush(&mut raw, &mut parts)?;
                    parts.push(String::new());
                    self.i += 1;
                }
                b'\\' => {
                    let hex = self
                        .s
                        .get(self.i + 1..self.i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(|| format!("bad escape at offset {}", self.i))?;
                    raw.push(hex);
                    self.i += 3;
                }
                _ => {
                    raw.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut raw, &mut parts)?;
        if parts.len() == 1 {
            let v = parts.remove(0);
            return Ok(match op {
                b'>' => Filter::GreaterOrEqual(attr, v),
                b'<' => Filter::LessOrEqual(attr, v),
                _ => Filter::Equal(attr, v),
            });
        }
        if op != b'=' {
            return Err(format!(
                "wildcard not allowed with '{}=' on '{attr}'",
                op as char
            ));
        }
        if parts.len() == 2 && parts.iter().all(String::is_empty) {
            return Ok(Filter::Present(attr));
        }
        let last = parts.pop().filter(|s| !s.is_empty());
        let initial = Some(parts.remove(0)).filter(|s| !s.is_empty());
        let any = parts.into_iter().filter(|s| !s.is_empty()).collect();
        Ok(Filter::Substring {
            attr,
            initial,
            any,
            last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Rec(HashMap<&'static str, Vec<&'static str>>);

    impl Attributes for Rec {
        fn values(&self, attr: &str) -> Vec<Cow<'_, str>> {
            self.0
                .get(attr)
                .map(|v| v.iter().map(|s| Cow::Borrowed(*s)).collect())
                .unwrap_or_default()
        }
    }

    fn vm() -> Rec {
        Rec(HashMap::from([
            ("alias", vec!["moray10"]),
            ("state", vec!["running"]),
            ("max_physical_memory", vec!["8192"]),
            (
                "tags",
                vec!["-smartdc_role=moray-smartdc_type=core-n=%n{5}-"],
            ),
        ]))
    }

    fn m(f: &str) -> bool {
        Filter::parse(f).unwrap().matches(&vm())
    }

    #[test]
    fn parses_nested_filters() {
        let f = Filter::parse("(&(tags=*-smartdc_role=binder-*)(state=running))").unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::Substring {
                    attr: "tags".into(),
                    initial: None,
                    any: vec!["-smartdc_role=binder-".into()],
                    last: None
                },
                Filter::Equal("state".into(), "running".into()),
            ])
        );
        assert_eq!(
            Filter::parse("(alias=*)").unwrap(),
            Filter::Present("alias".into())
        );
        assert_eq!(
            Filter::parse("(alias=a\\2ab)").unwrap(),
            Filter::Equal("alias".into(), "a*b".into())
        );
    }

    #[test]
    fn evaluates_equality_substrings_ranges_and_logic() {
        assert!(m("(alias=moray10)"));
        assert!(!m("(alias=moray1)"));
        assert!(m("(alias=moray1*)"));
        assert!(m("(alias=*ray1*)"));
        assert!(m("(alias=m*10)"));
        assert!(!m("(alias=x*)"));
        assert!(m("(tags=*-smartdc_role=moray-*)"));
        assert!(!m("(tags=*-smartdc_role=mor-*)"));
        assert!(m("(tags=*-n=%n{5}-*)"));
        assert!(m("(max_physical_memory>=4096)"));
        assert!(!m("(max_physical_memory<=4096)"));
        assert!(m("(max_physical_memory<=10000)"));
        assert!(m("(&(state=running)(|(alias=nope)(alias=moray10)))"));
        assert!(m("(!(state=destroyed))"));
        assert!(!m("(server_uuid=*)"));
        assert!(m("(!(server_uuid=*))"));
        assert!(!m("(ram~=x)"));
    }

    #[test]
    fn rejects_malformed_filters() {
        for bad in [
            "",
            "state=running",
            "(state=running",
            "(state=running))",
            "(&)",
            "(=running)",
            "(state running)",
            "(state>=run*)",
            "(alias=a\\zz)",
            "(&(state=running)",
            "(alias=a(b)",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}(alias=x){}", "(&".repeat(100_000), ")".repeat(100_000));
        let err = Filter::parse(&deep).unwrap_err();
        assert!(err.contains("nested more than 64 levels"), "{err}");
        let ok = format!("{}(alias=x){}", "(!".repeat(63), ")".repeat(63));
        assert!(Filter::parse(&ok).is_ok());
    }
}
