//! A NATS server for the cluster tests: Debian's `nats-server` on 127.0.0.1 and a free port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::wait_until_blocking;

/// A running `nats-server`; killed when dropped.
pub struct Nats {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl Nats {
    /// Starts a server on a free port.
    ///
    /// # Panics
    ///
    /// When `nats-server` is not installed (`./scripts/test.sh` installs it) or does not start.
    pub fn start() -> Nats {
        let dir = std::env::temp_dir().join(format!(
            "nano-rs-nats-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let child = spawn(&[
            "-a",
            "127.0.0.1",
            "-p",
            "-1",
            "--ports_file_dir",
            dir.to_str().expect("utf-8 path"),
        ]);
        let mut port = None;
        let started = wait_until_blocking(Duration::from_secs(10), || {
            port = read_port(&dir);
            port.is_some()
        });
        assert!(started, "nats-server did not start");
        Nats {
            child: Some(child),
            port: port.expect("a port"),
            dir,
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Freezes the server (SIGSTOP): its connections stay open and nothing is answered.
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent.
    pub fn freeze(&self) {
        let child = self.child.as_ref().expect("a running server");
        let status = Command::new("kill")
            .args(["-STOP", &child.id().to_string()])
            .status()
            .expect("kill -STOP");
        assert!(status.success(), "cannot freeze nats-server");
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    ///
    /// # Panics
    ///
    /// When it does not come back.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        self.child = Some(spawn(&["-a", "127.0.0.1", "-p", &port]));
        let restarted = wait_until_blocking(Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        });
        assert!(restarted, "nats-server did not restart");
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The port in the ports file that `nats-server` writes into `dir` once it listens.
fn read_port(dir: &Path) -> Option<u16> {
    let entry = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|entry| entry.path().extension().is_some_and(|ext| ext == "ports"))?;
    let text = std::fs::read_to_string(entry.path()).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = value["nats"][0].as_str()?.to_owned();
    url.rsplit(':').next()?.parse::<u16>().ok()
}

fn spawn(args: &[&str]) -> Child {
    Command::new("nats-server")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!("cannot start nats-server (apt-get install nats-server): {err}")
        })
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
