//! A NATS server for the cluster tests: Debian's `nats-server` on 127.0.0.1 and a free port.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            let found = std::fs::read_dir(&dir)
                .ok()
                .into_iter()
                .flatten()
                .flatten()
                .find(|entry| entry.path().extension().is_some_and(|ext| ext == "ports"))
                .and_then(|entry| std::fs::read_to_string(entry.path()).ok())
                .and_then(|text| {
                    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
                    let url = value["nats"][0].as_str()?.to_owned();
                    url.rsplit(':').next()?.parse::<u16>().ok()
                });
            if let Some(port) = found {
                break port;
            }
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Nats {
            child: Some(child),
            port,
            dir,
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not restart");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
