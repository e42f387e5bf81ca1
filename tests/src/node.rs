//! Running the third-party JavaScript packages pinned in `tests/interop/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;

/// The folder with `package.json`, its lock file and the Node scripts of the interop tests.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Installs the pinned npm packages (`npm ci`) unless they are already installed.
///
/// # Panics
///
/// When Node.js or npm is missing or the install fails: the interop tests cannot run then, and
/// saying so beats skipping them silently.
pub fn ensure_installed() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let dir = interop_dir();
        if dir.join("node_modules/.package-lock.json").exists() {
            return;
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|err| panic!("cannot run npm (is Node.js installed?): {err}"));
        assert!(
            status.success(),
            "`npm ci` in {} failed: {status}",
            dir.display()
        );
    });
}

/// Runs `node <script> <args>` in the interop folder with `stdin` as its input and returns its
/// standard output.
///
/// # Panics
///
/// When the script cannot be started or exits with an error; its stderr is in the message.
pub fn run_script(script: &str, args: &[&str], stdin: &[u8]) -> String {
    ensure_installed();
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(interop_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run node (is Node.js installed?): {err}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("write to node");
    let output = child.wait_with_output().expect("wait for node");
    assert!(
        output.status.success(),
        "node {script} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("node printed UTF-8")
}
