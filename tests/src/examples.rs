//! Running the example binaries as black boxes. Each is built by cargo first, into the target
//! directory and profile of the running test, so a test always starts the examples of the
//! sources it was built from.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

/// A running example; killed when dropped.
pub struct RunningExample {
    child: Child,
    /// The `key=value` addresses from the example's first stdout line.
    pub addresses: Vec<(String, String)>,
}

impl RunningExample {
    /// The address printed as `key=...`.
    ///
    /// # Panics
    ///
    /// When the example did not print it.
    pub fn addr(&self, key: &str) -> &str {
        self.addresses
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no `{key}=` in {:?}", self.addresses))
    }
}

impl Drop for RunningExample {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/<profile>` of the running test.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

/// Builds example `name` (package `nano-examples`) and returns the path of its binary.
///
/// Cargo builds into the running test's target directory with its profile, and is a no-op when
/// the binary is up to date; it runs once per example in a test process. Calling cargo from a
/// running test is safe: `cargo test` holds its build lock only while it compiles, and test
/// processes building at the same time wait for each other on that lock.
///
/// # Panics
///
/// When the build fails (cargo's output is in the message).
pub fn build(name: &str) -> PathBuf {
    build_target(&["-p", "nano-examples", "--example", name], name, "example")
}

/// Builds binary `name` of package `package` (e.g. `nano-cli`) as [`build`] builds an
/// example, and returns its path.
///
/// # Panics
///
/// When the build fails (cargo's output is in the message).
pub fn build_binary(package: &str, name: &str) -> PathBuf {
    build_target(&["-p", package, "--bin", name], name, "bin")
}

/// Builds the target that `selection` (cargo's `-p ... --example/--bin ...`) names, whose
/// artifact is `name` of `kind` (`example`, `bin`), once per test process.
fn build_target(selection: &[&str], name: &str, kind: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    // Held during the build: tests starting the same example wait for one build.
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let key = format!("{kind} {name}");
    if let Some(binary) = built.get(&key) {
        return binary.clone();
    }
    let output = cargo_build(selection).output().expect("run cargo build");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "building {kind} {name} failed ({}):\n{stderr}",
        output.status
    );
    let binary = artifact(&output.stdout, name, kind).unwrap_or_else(|| {
        panic!(
            "cargo did not report the binary of {kind} {name}:\n{stderr}{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    built.insert(key, binary.clone());
    binary
}

/// `cargo build <selection>` (e.g. `-p nano-examples --example <name>`) from the workspace
/// root, into the running test's target directory with its profile.
///
/// The variables cargo sets for the test it runs (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...) are
/// removed: inherited, they would be recorded in the fingerprints of build scripts that watch
/// them (ring's does), and the next `cargo test`, which does not have them, would rebuild those
/// dependencies and everything above them.
fn cargo_build(selection: &[&str]) -> Command {
    let profile_dir = target_dir();
    let profile = match profile_dir.file_name().and_then(|dir| dir.to_str()) {
        Some("debug") | None => "dev",
        Some(profile) => profile,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(crate::workspace_root())
        .args(["build", "--locked", "--quiet"])
        .arg("--message-format=json-render-diagnostics")
        .args(selection)
        .args(["--profile", profile])
        .arg("--target-dir")
        .arg(profile_dir.parent().expect("the target directory"));
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_for_the_test) {
            command.env_remove(key);
        }
    }
    command
}

/// Whether `key` is one of the variables cargo sets for the crate it builds or runs.
fn set_by_cargo_for_the_test(key: &str) -> bool {
    const PREFIXES: [&str; 3] = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_EXE_"];
    const NAMES: [&str; 6] = [
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|prefix| key.starts_with(prefix)) || NAMES.contains(&key)
}

/// The executable of target `name` of `kind` (`example`, `bin`) among cargo's JSON messages.
fn artifact(messages: &[u8], name: &str, kind: &str) -> Option<PathBuf> {
    String::from_utf8_lossy(messages)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == name
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|each| each == kind))
        })
        .and_then(|message| message["executable"].as_str().map(PathBuf::from))
}

/// Starts example `name` with `args` (building it first, see [`build`]) and waits for its
/// address line (`<name> listening key=addr ...`).
///
/// # Panics
///
/// When the example cannot be built or started.
pub fn start(name: &str, args: &[&str]) -> RunningExample {
    let binary = build(name);
    let mut command = Command::new(&binary);
    command.args(args);
    spawn(command, &binary)
}

/// Starts example `name` as [`start`] does, under an open-file limit of `limit` (soft and
/// hard, set by bash's `ulimit -n` before the example starts).
///
/// # Panics
///
/// When the example cannot be built or started.
pub fn start_with_open_files(name: &str, args: &[&str], limit: u64) -> RunningExample {
    let binary = build(name);
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(&binary)
        .args(args);
    spawn(command, &binary)
}

/// Spawns `command` (which runs `binary`) and waits for its address line.
fn spawn(mut command: Command, binary: &std::path::Path) -> RunningExample {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the example prints its addresses");
    let addresses = line
        .split_whitespace()
        .filter_map(|part| part.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    RunningExample { child, addresses }
}
