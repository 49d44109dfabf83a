//! The reference payloads in `../shared/triton/fixtures`, for unit tests:
//! one copy of the real formats, shared with the integration tests and the
//! rest of the team, never a copy of our own.

/// The fixture's text; a missing fixture fails the test that wanted it.
pub fn text(name: &str) -> String {
    let path = format!(
        "{}/../shared/triton/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}
