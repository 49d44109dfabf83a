//! Where in the script a failure happened, ` (line 51, position 25)` as
//! Rhai adds it, is for the runbook's author: the transcript keeps it, and
//! `-v` shows it; the operator reads the message without it.

/// `text` without the ` (line 51, position 25)` Rhai adds to a failure.
pub fn without_script_positions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(" (line ") {
        let after = &rest[start + " (line ".len()..];
        let end = after.find(')').filter(|&end| {
            let inside = &after[..end];
            inside.split_once(", position ").is_some_and(|(line, pos)| {
                [line, pos]
                    .iter()
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
        });
        match end {
            Some(end) => {
                out.push_str(&rest[..start]);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[..start + 1]);
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_positions_are_left_out_of_what_the_operator_reads() {
        assert_eq!(
            without_script_positions(
                "SAPI has no service named nosuch (services: a, b) (line 51, position 25)."
            ),
            "SAPI has no service named nosuch (services: a, b)."
        );
        assert_eq!(
            without_script_positions("a (line of text)"),
            "a (line of text)"
        );
    }
}
