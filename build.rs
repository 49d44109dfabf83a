//! The stdlib runbooks are embedded with `include_dir!`, which cargo does
//! not track on stable: rebuild when any of them changes.

fn main() {
    println!("cargo:rerun-if-changed=stdlib");
}
