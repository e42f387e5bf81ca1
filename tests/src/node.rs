//! Running the third-party JavaScript packages pinned in `tests/interop/`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;

use serde_json::Value;

/// The folder with `package.json`, its lock file and the Node scripts of the interop tests.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Installs the pinned npm packages (`npm ci`) unless `node_modules` already holds exactly what
/// the lock file pins (see [`installed_as_locked`]), so a changed lock file is installed before
/// the next test runs.
///
/// Test processes running at the same time install one after the other: each holds an
/// exclusive lock on `package-lock.json` while it checks and installs (npm does not take that
/// lock; it only keeps two `npm ci` from deleting each other's `node_modules`).
///
/// # Panics
///
/// When Node.js or npm is missing or the install fails: the interop tests cannot run then, and
/// saying so beats skipping them silently.
pub fn ensure_installed() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let dir = interop_dir();
        let lock =
            File::open(dir.join("package-lock.json")).expect("tests/interop/package-lock.json");
        lock.lock().expect("lock package-lock.json");
        if !installed_as_locked(&dir) {
            npm_ci(&dir);
        }
    });
}

/// Whether `dir/node_modules` holds the packages `dir/package-lock.json` pins. npm records what
/// it installed in `node_modules/.package-lock.json` (its hidden lock file): the same `packages`
/// as the lock file, without the root package's entry.
pub fn installed_as_locked(dir: &Path) -> bool {
    let read = |path: PathBuf| -> Option<Value> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    };
    let (Some(lock), Some(installed)) = (
        read(dir.join("package-lock.json")),
        read(dir.join("node_modules/.package-lock.json")),
    ) else {
        return false;
    };
    let Some(mut pinned) = lock["packages"].as_object().cloned() else {
        return false;
    };
    pinned.remove("");
    Some(&pinned) == installed["packages"].as_object()
        && pinned
            .keys()
            .all(|package| dir.join(package).join("package.json").is_file())
}

/// `npm ci` in `dir`.
fn npm_ci(dir: &Path) {
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| panic!("cannot run npm (is Node.js installed?): {err}"));
    assert!(
        output.status.success(),
        "`npm ci` in {} failed ({}):\n{}{}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `node <script> <args>` in the interop folder with `stdin` as its input and returns its
/// standard output.
///
/// # Panics
///
/// When the script cannot be started or exits with an error; its stdout (where the scripts
/// print their observations and error as JSON) and stderr are in the message.
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
    let mut input = child.stdin.take().expect("piped stdin");
    let (written, output) = std::thread::scope(|scope| {
        // Written while the output is read, so a script that prints before it has read all of
        // its input cannot block on a full pipe; dropping `input` ends the script's input.
        let writer = scope.spawn(move || input.write_all(stdin));
        let output = child.wait_with_output().expect("wait for node");
        (writer.join().expect("the input writer"), output)
    });
    assert!(
        output.status.success() && written.is_ok(),
        "node {script} {} failed ({}; writing its input: {written:?}):\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("node printed UTF-8")
}
