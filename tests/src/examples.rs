//! Running the built example binaries as black boxes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

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

/// Starts example `name` with `args` (building it first if needed) and waits for its address
/// line (`<name> listening key=addr ...`).
///
/// # Panics
///
/// When the example cannot be built or started.
pub fn start(name: &str, args: &[&str]) -> RunningExample {
    let binary = target_dir().join("examples").join(name);
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "--example", name])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building example {name} failed");
    }
    let mut child = Command::new(&binary)
        .args(args)
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
