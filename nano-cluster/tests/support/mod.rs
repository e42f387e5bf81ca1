//! A NATS server for nano-cluster's tests: `nats-server` on 127.0.0.1 and a free port.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `nats-server`; killed when dropped.
pub(crate) struct Nats {
    child: Child,
    port: u16,
}

impl Nats {
    /// Starts a server on a free port.
    ///
    /// # Panics
    ///
    /// When `nats-server` is not installed (`./scripts/test.sh` installs it) or does not
    /// start: these tests need it, and never pass without it.
    pub(crate) fn start() -> Nats {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start nats-server (apt-get install nats-server): {err}")
            });
        let nats = Nats { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        nats
    }

    /// Freezes the server (SIGSTOP): its connections stay open, nothing is answered.
    pub(crate) fn freeze(&self) {
        let status = Command::new("kill")
            .args(["-STOP", &self.child.id().to_string()])
            .status()
            .expect("kill -STOP");
        assert!(status.success(), "cannot freeze nats-server");
    }

    /// `nats://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (at most 10 s) until `done`.
///
/// # Panics
///
/// When it does not happen, with `what`.
pub(crate) async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
