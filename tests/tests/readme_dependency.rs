//! The README's "Use it in your project" section, followed as a user would: a new crate whose
//! `Cargo.toml` has the README's dependency lines and whose `main.rs` is the README's quick
//! start must build. The git dependencies on nano-rs point at this checkout instead, and the
//! workspace's `Cargo.lock` is copied in, so the versions are the tested ones and cargo works
//! offline from the registry cache that building the workspace filled.
//!
//! The crate and its target directory live in this test's temporary directory, not in the
//! workspace's target directory (whose lock a running `cargo test` may hold), and are kept
//! between runs, so only the first run compiles tokio, serde and nano-core. It is built without
//! debug info (this crate is its own workspace: the nano-rs profiles do not apply to it), which
//! keeps that second copy of the dependency tree small on disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use nano_tests::workspace_root;

const BEGIN: &str = "<!-- readme-dependencies: begin -->";
const END: &str = "<!-- readme-dependencies: end -->";

/// The README's dependency blocks: what the quick start needs, then the optional crates.
fn dependency_blocks(readme: &str) -> (String, String) {
    let start = readme.find(BEGIN).expect("README has the begin marker") + BEGIN.len();
    let len = readme[start..]
        .find(END)
        .expect("README has the end marker");
    let blocks = code_blocks(&readme[start..start + len], "toml");
    let [needed, optional] = <[String; 2]>::try_from(blocks)
        .unwrap_or_else(|blocks| panic!("two TOML blocks between the markers: {blocks:?}"));
    assert!(
        needed.starts_with("[dependencies]\n"),
        "the first block starts with [dependencies]:\n{needed}"
    );
    (needed, optional)
}

/// The fenced code blocks of `text` whose info string starts with `language`.
fn code_blocks(text: &str, language: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) if info.starts_with(language) => current = Some(String::new()),
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The quick start's code, as rustdoc compiles it (hidden `# ` lines included).
fn quick_start(readme: &str) -> String {
    let section = readme
        .split_once("\n## Quick start\n")
        .expect("README has a quick start")
        .1;
    let code = code_blocks(section, "rust")
        .into_iter()
        .next()
        .expect("the quick start has a Rust block");
    code.lines()
        .map(|line| match line.strip_prefix('#') {
            Some(hidden) if hidden.is_empty() || hidden.starts_with(' ') => {
                hidden.strip_prefix(' ').unwrap_or(hidden)
            }
            _ => line,
        })
        .fold(String::new(), |code, line| code + line + "\n")
}

/// `lines` with every `git = "<repository>"` of a nano-rs crate replaced by its path here.
fn to_local_paths(lines: &str) -> String {
    let repository = format!("git = \"{}\"", env!("CARGO_PKG_REPOSITORY"));
    let mut local = String::new();
    for line in lines.lines() {
        let name = line.split_once('=').map(|(key, _)| key.trim());
        match name {
            Some(name) if name.starts_with("nano-") => {
                assert!(
                    line.contains(&repository),
                    "README: {name} must come from {repository}: {line}"
                );
                let path = workspace_root().join(name);
                assert!(path.join("Cargo.toml").exists(), "README: no crate {name}");
                let path = format!("path = {:?}", path.display().to_string());
                local.push_str(&line.replace(&repository, &path));
            }
            _ => local.push_str(line),
        }
        local.push('\n');
    }
    local
}

/// Writes a crate named `name` with `dependencies` and `main` into `dir`, with the workspace's
/// lock file.
fn write_crate(dir: &Path, name: &str, dependencies: &str, main: &str) {
    std::fs::create_dir_all(dir.join("src")).expect("crate dir");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         # Not part of the nano-rs workspace, wherever this directory is.\n[workspace]\n\n\
         {dependencies}"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::write(dir.join("src/main.rs"), main).expect("write main.rs");
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock"))
        .expect("copy Cargo.lock");
}

/// Runs `cargo <args>` offline in the crate at `dir`; panics with cargo's output on failure.
fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(dir)
        .args(args)
        .args(["--offline", "--quiet"])
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo {args:?} in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme-dependency")
}

fn readme() -> String {
    std::fs::read_to_string(workspace_root().join("README.md")).expect("read README.md")
}

#[test]
fn the_quick_start_builds_with_the_readme_dependency_lines() {
    let readme = readme();
    let (needed, _) = dependency_blocks(&readme);
    let dir = scratch().join("quick-start");
    write_crate(
        &dir,
        "quick-start",
        &to_local_paths(&needed),
        &quick_start(&readme),
    );
    let target = scratch().join("target");
    let target = target.to_str().expect("a UTF-8 path");
    cargo(&dir, &["build", "--target-dir", target]);
}

#[test]
fn the_optional_crates_and_features_of_the_readme_resolve() {
    let readme = readme();
    let (needed, optional) = dependency_blocks(&readme);
    let dir = scratch().join("with-options");
    let dependencies = to_local_paths(&format!("{needed}{optional}"));
    write_crate(&dir, "with-options", &dependencies, "fn main() {}\n");
    // Resolving checks every crate and feature named; building them all would take minutes.
    cargo(&dir, &["metadata", "--format-version", "1"]);
}

#[test]
fn the_readme_names_the_minimum_rust_version() {
    let readme = readme();
    let version = env!("CARGO_PKG_RUST_VERSION");
    assert!(
        readme.contains(&format!("Rust {version} or newer")),
        "README: say `Rust {version} or newer` (rust-version in Cargo.toml)"
    );
}
