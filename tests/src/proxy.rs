//! Connections a test cuts on demand, the way a network switch or a tunnel does: both sides
//! see their stream end, neither sent a Kick, and what was in flight is lost.
//!
//! - [`CutProxy`]: a TCP proxy;
//! - [`MemoryLinks`]: in-memory links (for tests under tokio's paused clock).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// The links open now, each a token that cuts it.
#[derive(Clone, Debug, Default)]
struct Cuts(Arc<Mutex<Vec<CancellationToken>>>);

impl Cuts {
    /// A token for a new link.
    fn add(&self) -> CancellationToken {
        let cut = CancellationToken::new();
        self.0.lock().unwrap().push(cut.clone());
        cut
    }

    /// Cuts the links for which `pick` (called with each one's index among those open) says
    /// so; returns how many.
    fn cut_some(&self, mut pick: impl FnMut(usize) -> bool) -> usize {
        let mut live = self.0.lock().unwrap();
        live.retain(|link| !link.is_cancelled());
        let mut index = 0;
        let mut cut = 0;
        live.retain(|link| {
            let keep = !pick(index);
            index += 1;
            if !keep {
                link.cancel();
                cut += 1;
            }
            keep
        });
        cut
    }
}

/// In-memory links between clients and a server, each through a copying task that a cut
/// stops: the client's and the server's streams then both end.
#[derive(Clone, Debug, Default)]
pub struct MemoryLinks {
    cuts: Cuts,
}

impl MemoryLinks {
    /// A new link: the client's end and the server's end (hand it to `App::serve_stream`).
    pub fn link(&self) -> (DuplexStream, DuplexStream) {
        let (client, client_side) = tokio::io::duplex(64 * 1024);
        let (server_side, server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(copy_until_cut(client_side, server_side, self.cuts.add()));
        (client, server)
    }

    /// Cuts the links for which `pick` says so (see [`CutProxy::cut_some`]); returns how many.
    pub fn cut_some(&self, pick: impl FnMut(usize) -> bool) -> usize {
        self.cuts.cut_some(pick)
    }
}

/// Copies both ways between `a` and `b` until either ends or `cut` is cancelled.
async fn copy_until_cut<A, B>(mut a: A, mut b: B, cut: CancellationToken)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    tokio::select! {
        () = cut.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
    }
}

/// A proxy from its own address to `upstream`, whose connections can be cut.
///
/// It runs until the test's runtime ends.
#[derive(Clone, Debug)]
pub struct CutProxy {
    addr: SocketAddr,
    cuts: Cuts,
}

impl CutProxy {
    /// Listens on 127.0.0.1 and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let proxy = Self {
            addr: listener.local_addr().expect("addr"),
            cuts: Cuts::default(),
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
        self.cuts.cut_some(|_| true)
    }

    /// Cuts the connections for which `pick` (called with each one's index among the open
    /// ones) says so; returns how many.
    pub fn cut_some(&self, pick: impl FnMut(usize) -> bool) -> usize {
        self.cuts.cut_some(pick)
    }

    async fn accept(self, listener: TcpListener, upstream: SocketAddr) {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(forward(client, upstream, self.cuts.add()));
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
