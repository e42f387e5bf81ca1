//! # nano-tests
//!
//! Cross-crate end-to-end and interop tests of nano-rs (in `tests/tests/`), and the helpers they
//! share. Interop tests run third-party JavaScript code (pinned in `tests/interop/package.json`
//! and its lock file) with Node.js.

pub mod cluster_rooms;
pub mod examples;
pub mod limits;
pub mod nats;
pub mod node;
pub mod peer;
pub mod proxy;
pub mod raw;
pub mod resume;
pub mod rooms;
pub mod session_ends;
pub mod spans;
pub mod wait;

use std::path::Path;

/// The root of the workspace (where `Cargo.lock` and `README.md` are).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is in the workspace")
}

/// The code blocks of `README.md`, compiled and run as doc tests so the README cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The code blocks of `docs/OPERATIONS.md`, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/OPERATIONS.md")]
pub struct OperationsDoctests;
