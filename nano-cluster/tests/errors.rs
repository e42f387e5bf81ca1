//! What `ClusterError` tells: NATS failures keep the NATS client's error as their source.

use std::error::Error;
use std::net::TcpListener;

use nano_cluster::{Cluster, ClusterConfig, ClusterError, async_nats};

#[tokio::test]
async fn a_nats_failure_names_what_failed_and_keeps_the_nats_error() {
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let err = Cluster::connect(ClusterConfig::new(url.clone(), "gate-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClusterError::Nats { context, .. } if *context == format!("connect to {url}"))
    );
    assert_eq!(err.to_string(), format!("NATS: cannot connect to {url}"));
    let source = err.source().expect("the NATS error");
    assert!(
        source.downcast_ref::<async_nats::ConnectError>().is_some(),
        "{source:?}"
    );
}
