//! What Tab offers at the cursor: function and `module::` names, the keys of
//! a map in scope after `x.`, the filter keys of a list function inside its
//! map literal (`vmapi::list(#{st` → `state`) and the values of an
//! enumerated one (`#{state: "r` → `running`), and inside a string the live
//! names that fit the key or the call (hostnames for `cnapi::`, aliases for
//! `vmapi::`, services for `sapi::`).

use std::collections::BTreeSet;

use rustyline::completion::Pair;

use super::access_path;
use super::lexer::{Kind, Token, tokenize};
use super::live::LiveNames;
use super::map_literal::Tokens;
use crate::script::filters::{FilterKey, LiveValues, filter_keys};

/// What the completer can draw on; `map_keys` is only asked about paths whose
/// first name is in `known` (a variable in scope), so nothing else is
/// evaluated behind the operator's back.
pub struct Sources<'a> {
    pub known: &'a [String],
    pub live: &'a LiveNames,
    pub map_keys: &'a dyn Fn(&str) -> Vec<String>,
}

/// The byte position where the replacement starts, and the candidates.
pub fn complete(line: &str, pos: usize, sources: &Sources) -> (usize, Vec<Pair>) {
    let Some(before) = line.get(..pos) else {
        return (pos, Vec::new());
    };
    let tokens = tokenize(before);
    match tokens.last().map(|t| t.kind) {
        Some(Kind::Str {
            quote: '"',
            closed: false,
        }) => complete_live(line, pos, &tokens, sources.live),
        Some(Kind::Str { closed: false, .. } | Kind::Comment { closed: false }) => {
            (pos, Vec::new())
        }
        Some(Kind::Comment { .. }) if before.ends_with(|c| c != '\n') => (pos, Vec::new()),
        _ => complete_word(before, &tokens, sources),
    }
}

fn complete_word(before: &str, tokens: &[Token], sources: &Sources) -> (usize, Vec<Pair>) {
    let ident_start = word_start(before, |c| c.is_alphanumeric() || c == '_');
    if let Some(object) = before[..ident_start].strip_suffix('.') {
        let prefix = &before[ident_start..];
        let keys = map_keys(object, sources);
        return (
            ident_start,
            plain(keys.into_iter().filter(|k| k.starts_with(prefix))),
        );
    }
    // The word being typed is a token of its own, or none yet.
    let at = tokens
        .iter()
        .position(|t| t.span.start >= ident_start)
        .unwrap_or(tokens.len());
    let spot = Tokens {
        line: before,
        tokens,
    };
    if let Some(brace) = spot.key_position(at) {
        // A key is never a function: the list function's filter keys, or
        // nothing for a map no function is known to take.
        let prefix = &before[ident_start..];
        let keys = map_filter_keys(&spot, brace)
            .iter()
            .filter(|k| k.name.starts_with(prefix))
            .map(|k| Pair {
                display: k.name.to_string(),
                replacement: quoted_if_needed(k.name),
            })
            .collect();
        return (ident_start, keys);
    }
    let start = word_start(before, |c| c.is_alphanumeric() || c == '_' || c == ':');
    let word = &before[start..];
    if word.is_empty() {
        return (start, Vec::new());
    }
    let mut found = BTreeSet::new();
    for name in sources.known {
        let name = name.split('(').next().unwrap_or(name).trim();
        if name.starts_with(word) {
            found.insert(name.to_string());
        }
        if let Some((module, _)) = name.split_once("::")
            && !word.contains("::")
            && module.starts_with(word)
        {
            found.insert(format!("{module}::"));
        }
    }
    (start, plain(found.into_iter()))
}

/// Where the run of `part` characters that ends `before` starts.
fn word_start(before: &str, part: impl Fn(char) -> bool) -> usize {
    before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| part(c))
        .last()
        .map_or(before.len(), |(i, _)| i)
}

/// Keys of the map at the access path ending `object` (`x`, `x.y`,
/// `xs[0]`), if its root is a variable in scope.
fn map_keys(object: &str, sources: &Sources) -> Vec<String> {
    let Some((path, root)) = access_path::trailing(object) else {
        return Vec::new();
    };
    if !sources.known.iter().any(|n| n == root) {
        return Vec::new();
    }
    let mut keys = (sources.map_keys)(path);
    keys.sort();
    keys.dedup();
    keys
}

/// Which live names fit a string being typed.
#[derive(Debug, PartialEq, Eq)]
enum LiveKind {
    Hostnames,
    VmAliases,
    Services,
    Any,
}

fn complete_live(line: &str, pos: usize, tokens: &[Token], live: &LiveNames) -> (usize, Vec<Pair>) {
    let string = tokens.len() - 1;
    let start = tokens[string].span.start + 1;
    let prefix = &line[start..pos];
    let spot = Tokens { line, tokens };
    let names: Vec<&str> = if let Some(brace) = spot.key_position(string) {
        // A quoted key: `#{"tag.smartdc_role": …}`.
        map_filter_keys(&spot, brace)
            .iter()
            .map(|k| k.name)
            .collect()
    } else if let Some(key) = value_key(&spot, string) {
        match (key.values, key.live) {
            (_, Some(kind)) => live_names(live, kind.into()),
            (values, None) => values.to_vec(),
        }
    } else {
        live_names(live, live_kind(line, tokens, string))
    };
    let close = if line[pos..].starts_with('"') {
        ""
    } else {
        "\""
    };
    let found: BTreeSet<&str> = names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    let pairs = found
        .into_iter()
        .map(|n| Pair {
            display: n.to_string(),
            replacement: format!("{n}{close}"),
        })
        .collect();
    (start, pairs)
}

fn live_names(live: &LiveNames, kind: LiveKind) -> Vec<&str> {
    let names: Vec<&String> = match kind {
        LiveKind::Hostnames => live.hostnames.iter().collect(),
        LiveKind::VmAliases => live.vm_aliases.iter().collect(),
        LiveKind::Services => live.services.iter().collect(),
        LiveKind::Any => live
            .hostnames
            .iter()
            .chain(&live.vm_aliases)
            .chain(&live.services)
            .collect(),
    };
    names.into_iter().map(String::as_str).collect()
}

impl From<LiveValues> for LiveKind {
    fn from(values: LiveValues) -> LiveKind {
        match values {
            LiveValues::Hostnames => LiveKind::Hostnames,
            LiveValues::VmAliases => LiveKind::VmAliases,
            LiveValues::Services => LiveKind::Services,
        }
    }
}

/// The filter keys of the list function whose map literal opens at `brace`.
fn map_filter_keys(spot: &Tokens, brace: usize) -> &'static [FilterKey] {
    spot.call_of(brace)
        .map_or(&[], |function| filter_keys(&function))
}

/// The filter key whose value the string at `string` is, when the list
/// function knows it (`vmapi::list(#{state: "`).
fn value_key(spot: &Tokens, string: usize) -> Option<&'static FilterKey> {
    let (key, brace) = spot.key_of_value(string)?;
    map_filter_keys(spot, brace).iter().find(|k| k.name == key)
}

/// A key Rhai reads bare (`state`), or quoted when it is not a name
/// (`"tag.smartdc_role"`).
fn quoted_if_needed(key: &str) -> String {
    if key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        key.to_string()
    } else {
        format!("\"{key}\"")
    }
}

/// A map key right before the string (`#{alias: "`) decides; otherwise the
/// module of the call the string is an argument of.
fn live_kind(line: &str, tokens: &[Token], string: usize) -> LiveKind {
    let text = |i: usize| &line[tokens[i].span.clone()];
    if string >= 2 && text(string - 1) == ":" && tokens[string - 2].kind == Kind::Ident {
        match text(string - 2) {
            "hostname" | "server" => return LiveKind::Hostnames,
            "alias" | "vm" => return LiveKind::VmAliases,
            "service" => return LiveKind::Services,
            _ => {}
        }
    }
    let Some(call) = (Tokens { line, tokens }).enclosing_call(string) else {
        return LiveKind::Any;
    };
    match (call >= 2 && tokens[call - 1].kind == Kind::PathSep).then(|| text(call - 2)) {
        Some("cnapi") => LiveKind::Hostnames,
        Some("vmapi") => LiveKind::VmAliases,
        Some("sapi") => LiveKind::Services,
        _ => LiveKind::Any,
    }
}

fn plain(names: impl Iterator<Item = String>) -> Vec<Pair> {
    names
        .map(|n| Pair {
            display: n.clone(),
            replacement: n,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        [
            "vmapi::list",
            "vmapi::get",
            "vmapi::list",
            "cnapi::server",
            "cnapi::servers",
            "sapi::services",
            "print",
            "vm",
            "inst",
            "vms",
        ]
        .map(String::from)
        .to_vec()
    }

    fn live() -> LiveNames {
        LiveNames {
            hostnames: vec!["cn0".into(), "cn1".into(), "headnode".into()],
            vm_aliases: vec!["moray0".into(), "manatee0".into()],
            services: vec!["moray".into(), "manatee".into()],
        }
    }

    fn no_keys(_: &str) -> Vec<String> {
        Vec::new()
    }

    fn run(line: &str) -> (usize, Vec<String>) {
        let known = known();
        let live = live();
        let keys = |path: &str| match path {
            "vm" => vec!["uuid".into(), "alias".into(), "state".into()],
            "vm.tags" => vec!["smartdc_role".into()],
            "vms[0]" => vec!["alias".into()],
            _ => Vec::new(),
        };
        let sources = Sources {
            known: &known,
            live: &live,
            map_keys: &keys,
        };
        let (start, pairs) = complete(line, line.len(), &sources);
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn module_members() {
        assert_eq!(run("vmapi::l"), (0, vec!["vmapi::list".to_string()]));
        assert_eq!(
            run("let x = cnapi::se"),
            (8, vec!["cnapi::server".into(), "cnapi::servers".into()])
        );
    }

    #[test]
    fn module_names_and_functions() {
        assert_eq!(
            run("v"),
            (
                0,
                vec![
                    "vm".into(),
                    "vmapi::".into(),
                    "vmapi::get".into(),
                    "vmapi::list".into(),
                    "vms".into(),
                ]
            )
        );
        assert_eq!(run("1 + pri"), (4, vec!["print".to_string()]));
        assert_eq!(run("nothing_like_this"), (0, Vec::<String>::new()));
        assert_eq!(run("x = "), (4, Vec::<String>::new()), "no word, no list");
    }

    #[test]
    fn hostnames_inside_a_cnapi_call() {
        assert_eq!(
            run(r#"cnapi::server("c"#),
            (15, vec!["cn0\"".to_string(), "cn1\"".to_string()])
        );
    }

    #[test]
    fn the_call_or_key_picks_the_live_names() {
        assert_eq!(run(r#"vmapi::list(#{alias: "mo"#).1, vec!["moray0\""]);
        assert_eq!(run(r#"sapi::services(#{name: "ma"#).1, vec!["manatee\""]);
        assert_eq!(run(r#"sapi::instances(#{service: "mo"#).1, vec!["moray\""]);
        assert_eq!(run(r#"print("mo"#).1, vec!["moray\"", "moray0\""]);
        // Arguments before the string do not hide the call.
        assert_eq!(run(r#"cnapi::server(f(1), "h"#).1, vec!["headnode\""]);
    }

    #[test]
    fn filter_keys_and_values_inside_a_map_literal() {
        assert_eq!(run("vmapi::list(#{st"), (14, vec!["state".to_string()]));
        assert_eq!(
            run(r#"vmapi::list(#{state: "r"#).1,
            vec!["running\"".to_string()]
        );
        assert_eq!(
            run(r#"vmapi::list(#{state: "running", ta"#).1,
            vec!["\"tag.smartdc_role\"".to_string()]
        );
        assert_eq!(
            run(r#"vmapi::list(#{"tag.smartdc_role": "mo"#).1,
            vec!["moray\"".to_string()]
        );
        assert_eq!(run(r#"vmapi::list(#{"ta"#).1, vec!["tag.smartdc_role\""]);
        assert_eq!(
            run(r#"cnapi::servers(#{hostname: "h"#).1,
            vec!["headnode\"".to_string()]
        );
        assert_eq!(run("cnapi::servers(#{setup: t").1, Vec::<String>::new());
        assert_eq!(run("cnapi::servers(#{").1.len(), 10, "every key");
        // A map no list function takes: no keys to offer, and never functions.
        assert_eq!(run("print(#{v").1, Vec::<String>::new());
        // A value that is code still completes as code.
        assert_eq!(
            run("vmapi::list(#{state: vm").1,
            vec!["vm", "vmapi::", "vmapi::get", "vmapi::list", "vms"]
        );
    }

    #[test]
    fn no_closing_quote_added_when_one_follows() {
        let known = known();
        let live = live();
        let sources = Sources {
            known: &known,
            live: &live,
            map_keys: &no_keys,
        };
        let line = r#"cnapi::server("h")"#;
        let (_, pairs) = complete(line, 16, &sources);
        assert_eq!(pairs[0].replacement, "headnode");
    }

    #[test]
    fn map_keys_of_a_variable_in_scope() {
        assert_eq!(run("vm.st"), (3, vec!["state".to_string()]));
        assert_eq!(
            run("vm."),
            (3, vec!["alias".into(), "state".into(), "uuid".into()])
        );
        assert_eq!(run("vm.tags.s"), (8, vec!["smartdc_role".to_string()]));
        assert_eq!(run("vms[0].a"), (7, vec!["alias".to_string()]));
    }

    #[test]
    fn map_keys_only_for_variables_in_scope() {
        assert_eq!(run("unknown.a").1, Vec::<String>::new());
        assert_eq!(run("f().a").1, Vec::<String>::new());
        assert_eq!(run("1.5").1, Vec::<String>::new());
        assert_eq!(run("vms[i].a").1, Vec::<String>::new());
    }

    #[test]
    fn nothing_inside_comments_or_other_strings() {
        assert_eq!(run("// vmapi::l").1, Vec::<String>::new());
        assert_eq!(run("`vmapi::l").1, Vec::<String>::new());
        assert_eq!(run("'v").1, Vec::<String>::new());
    }

    #[test]
    fn a_cursor_inside_a_char_is_harmless() {
        let known = known();
        let live = live();
        let sources = Sources {
            known: &known,
            live: &live,
            map_keys: &no_keys,
        };
        let (_, pairs) = complete("é", 1, &sources);
        assert!(pairs.is_empty());
    }
}
