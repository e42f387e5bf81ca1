//! [`CutProxy`]: a TCP proxy in the test that cuts its connections on demand, the way a
//! network switch or a tunnel does: both sides see their socket end, neither sent a Kick.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A proxy from its own address to `upstream`, whose connections can be cut.
///
/// It runs until the test's runtime ends.
#[derive(Clone, Debug)]
pub struct CutProxy {
    addr: SocketAddr,
    live: Arc<Mutex<Vec<CancellationToken>>>,
}

impl CutProxy {
    /// Listens on 127.0.0.1 and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let proxy = Self {
            addr: listener.local_addr().expect("addr"),
            live: Arc::default(),
        };
        tokio::spawn(proxy.clone().accept(listener, upstream));
        proxy
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every connection open now; returns how many were cut.
    pub fn cut_all(&self) -> usize {
        let cut = std::mem::take(&mut *self.live.lock().unwrap());
        for connection in &cut {
            connection.cancel();
        }
        cut.len()
    }

    /// Cuts the connections for which `pick` (called with each one's index among the open
    /// ones) says so; returns how many.
    pub fn cut_some(&self, mut pick: impl FnMut(usize) -> bool) -> usize {
        let mut live = self.live.lock().unwrap();
        live.retain(|connection| !connection.is_cancelled());
        let mut index = 0;
        let mut cut = 0;
        live.retain(|connection| {
            let keep = !pick(index);
            index += 1;
            if !keep {
                connection.cancel();
                cut += 1;
            }
            keep
        });
        cut
    }

    async fn accept(self, listener: TcpListener, upstream: SocketAddr) {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            let cut = CancellationToken::new();
            self.live.lock().unwrap().push(cut.clone());
            tokio::spawn(forward(client, upstream, cut));
        }
    }
}

/// Copies both ways between `client` and a new connection to `upstream` until either side
/// ends or `cut` is cancelled; a cut resets both sockets (what was in flight is lost).
async fn forward(mut client: TcpStream, upstream: SocketAddr, cut: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    tokio::select! {
        () = cut.cancelled() => {
            for socket in [&client, &server] {
                let _ = socket.set_zero_linger();
            }
        }
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
    }
}
