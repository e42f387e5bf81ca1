//! The load shapes, and the options they share.

mod broadcast;
mod connections;
mod moves;
mod request;
mod soak;
mod storm;

pub(crate) use broadcast::{Broadcast, broadcast};
pub(crate) use connections::{Connections, connections};
pub(crate) use moves::{Moves, moves};
pub(crate) use request::{Notify, Request, notify, request};
pub(crate) use soak::{Soak, soak};
pub(crate) use storm::{Storm, storm};

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::conn::{Conn, Error, Target};
use crate::values;

/// The handshake body sent by default.
const HELLO: &str = r#"{"sys":{"type":"nano-bench","version":"0.1.0"},"user":{}}"#;

/// What every scenario is given: where to connect, how many connections, for how long.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Options {
    #[command(flatten)]
    target: TargetArgs,
    /// Connections to open
    #[arg(long, value_name = "N", default_value = "100", value_parser = values::at_least_one())]
    pub(crate) conns: usize,
    /// Length of the measured run (after the warmup, where there is one): 3s, 500ms, 2m, 1h,
    /// or a number of seconds
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = values::duration)]
    pub(crate) duration: Duration,
    /// Body of each connection's Handshake packet
    #[arg(long, value_name = "JSON", default_value = HELLO)]
    pub(crate) handshake_json: String,
}

/// The server to load: exactly one of `--tcp` and `--ws`.
#[derive(clap::Args, Clone, Debug)]
#[group(required = true, multiple = false)]
struct TargetArgs {
    /// Server address, over TCP
    #[arg(long, value_name = "HOST:PORT")]
    tcp: Option<String>,
    /// Server URL, over WebSocket (ws://host:port/path)
    #[arg(long, value_name = "URL")]
    ws: Option<String>,
}

impl Options {
    /// Where to connect.
    pub(crate) fn target(&self) -> Target {
        match (&self.target.tcp, &self.target.ws) {
            (Some(addr), None) => Target::Tcp(addr.clone()),
            (None, Some(url)) => Target::Ws(url.clone()),
            _ => unreachable!("clap lets exactly one of --tcp and --ws through"),
        }
    }
}

/// What the measured scenarios send, and when they start counting.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Load {
    /// Body of each message, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub(crate) payload_bytes: usize,
    /// Time the connections run before anything is counted
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = values::duration)]
    pub(crate) warmup: Duration,
}

/// Opens `options.conns` connections, at most 256 handshakes at a time.
pub(crate) async fn open_all(options: &Options) -> Result<Vec<Conn>, Error> {
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..options.conns {
        let (gate, target, hello) = (
            gate.clone(),
            options.target(),
            options.handshake_json.clone(),
        );
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (index, Conn::connect(&target, &hello).await)
        });
    }
    let mut conns: Vec<Option<Conn>> = (0..options.conns).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, conn) = joined?;
        conns[index] = Some(conn?);
    }
    Ok(conns.into_iter().flatten().collect())
}

/// A JSON payload of exactly `bytes` bytes (at least 2): a string of `x`.
pub(crate) fn payload(bytes: usize) -> Bytes {
    let mut body = vec![b'x'; bytes.max(2)];
    body[0] = b'"';
    let last = body.len() - 1;
    body[last] = b'"';
    Bytes::from(body)
}
