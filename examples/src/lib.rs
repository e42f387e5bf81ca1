//! # nano-examples
//!
//! Runnable examples of nano-rs (`cargo run --example <name>` from the repository root), and the
//! small helpers they share. The examples arrive with the runtime.
