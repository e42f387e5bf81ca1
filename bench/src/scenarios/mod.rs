//! The four load shapes.

mod broadcast;
mod connections;
mod request;
mod soak;

pub(crate) use broadcast::broadcast;
pub(crate) use connections::connections;
pub(crate) use request::{notify, request};
pub(crate) use soak::{Soak, soak};

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::Options;
use crate::conn::{Conn, Error};

/// Opens `options.conns` connections, at most 256 handshakes at a time.
pub(crate) async fn open_all(options: &Options) -> Result<Vec<Conn>, Error> {
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..options.conns {
        let (gate, target, hello) = (
            gate.clone(),
            options.target.clone(),
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
