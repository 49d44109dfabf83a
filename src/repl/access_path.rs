//! The value before a `.` being completed, when it is a plain access path
//! such as `vm`, `vm.tags` or `vms[0]["nics"]`: variables, properties and
//! literal indexes only, so evaluating it to list its keys runs no function
//! and cannot reach the network.

/// The access path that ends `before`, and its root variable.
pub fn trailing(before: &str) -> Option<(&str, &str)> {
    let bytes = before.as_bytes();
    let mut i = bytes.len();
    loop {
        while i > 0 && bytes[i - 1] == b']' {
            let open = before[..i - 1].rfind('[')?;
            if !is_literal_index(&before[open + 1..i - 1]) {
                return None;
            }
            i = open;
        }
        let start = before[..i]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |p| p + 1);
        let name = &before[start..i];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        i = start;
        match bytes[..i].last() {
            Some(b'.') => i -= 1,
            // `module::name.` is a call's result or a constant: not ours.
            Some(b':') => return None,
            _ => {
                let path = &before[i..];
                let root_end = path.find(['.', '[']).unwrap_or(path.len());
                return Some((path, &path[..root_end]));
            }
        }
    }
}

/// `0`, `12` or `"key"`.
fn is_literal_index(inner: &str) -> bool {
    let inner = inner.trim();
    let number = !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit());
    let string = inner.len() >= 2
        && inner.starts_with('"')
        && inner.ends_with('"')
        && !inner[1..inner.len() - 1].contains(['"', '\\']);
    number || string
}

#[cfg(test)]
mod tests {
    use super::trailing;

    #[test]
    fn plain_paths() {
        assert_eq!(trailing("vm"), Some(("vm", "vm")));
        assert_eq!(trailing("let a = vm.tags"), Some(("vm.tags", "vm")));
        assert_eq!(trailing("f(vms[0]"), Some(("vms[0]", "vms")));
        assert_eq!(
            trailing(r#"vms[12]["nics"][0]"#),
            Some((r#"vms[12]["nics"][0]"#, "vms"))
        );
    }

    #[test]
    fn anything_that_could_run_code_is_refused() {
        for before in [
            "f()",
            "vms[i]",
            "vms[f(1)]",
            r#"m["a" + b]"#,
            "1",
            "x.1",
            "sapi::x",
            "",
            "a..b",
            "]",
        ] {
            assert_eq!(trailing(before), None, "{before:?}");
        }
    }
}
