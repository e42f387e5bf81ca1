//! # nano-macros
//!
//! Attribute macros for nano-rs: `#[component]` on an `impl` block turns its `#[handler]`
//! methods into routes (`"component.method"`) with a route table and payload decoding generated
//! at compile time. Use them through `nano-core`, which re-exports them.
//!
//! The macros arrive with the component model; this crate currently exports nothing.
