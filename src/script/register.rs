//! Registering host functions together with their documentation, so
//! `help()` can show every function's signature and doc comment.

use rhai::FuncRegistration;

/// A function named `name` taking `params` (`"uuid: String"`) and returning
/// `ret`, documented by `doc` (plain text; the first line is the summary
/// `help()` lists).
pub fn func(name: &str, params: &[&str], ret: &str, doc: &str) -> FuncRegistration {
    let mut info: Vec<&str> = params.to_vec();
    info.push(ret);
    FuncRegistration::new(name)
        .with_params_info(info)
        .with_comments([doc_comment(doc)])
}

/// Rhai keeps doc comments with their `///` leaders, one block per string.
fn doc_comment(text: &str) -> String {
    text.trim()
        .lines()
        .map(|line| format!("/// {}", line.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}
