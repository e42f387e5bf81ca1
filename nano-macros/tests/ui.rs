//! Compile-time behaviour of `#[component]` and `#[handler]`: every accepted form compiles
//! (`tests/ui/pass`), and every mistake gives its own error at the offending token
//! (`tests/ui/fail/<mistake>.rs` with the expected `.stderr`).
//!
//! The `.stderr` files are pinned to the toolchain in `rust-version` (compiler messages change
//! between releases). To refresh them after a deliberate change:
//! `TRYBUILD=overwrite cargo test -p nano-macros --test ui`, then review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
