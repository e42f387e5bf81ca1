//! A connection flood against a server whose open-file limit is lower than its configured
//! `max_connections`: the pingpong example under `ulimit -n 256` serves 128 sessions (the
//! limit less the default reserve of 128) and refuses every connection beyond them at once,
//! instead of running out of descriptors and leaving clients hanging in the listen queue;
//! when the flood leaves, new clients are served again.

use std::time::Duration;

use futures_util::future::join_all;
use nano_client::Client;

/// The example's open-file limit.
const LIMIT: u64 = 256;
/// What it leaves for connections: the limit less `DEFAULT_OPEN_FILE_RESERVE`.
const SERVED: usize = 128;
/// Clients of the flood, well past both.
const FLOOD: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_past_the_open_file_limit_is_refused_cleanly() {
    // The client side of the flood, in this process.
    nano_tests::limits::raise_open_files(FLOOD as u64 + 200);
    let server = nano_tests::examples::start_with_open_files(
        "pingpong",
        &["--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0"],
        LIMIT,
    );
    let addr = server.addr("tcp").to_owned();
    let within = Duration::from_secs(30);
    let connects = (0..FLOOD).map(|_| tokio::time::timeout(within, Client::connect(&addr)));
    let outcomes = join_all(connects).await;
    let hung = outcomes.iter().filter(|outcome| outcome.is_err()).count();
    assert_eq!(
        hung, 0,
        "every client is served or refused, none left waiting"
    );
    let clients: Vec<Client> = outcomes
        .into_iter()
        .filter_map(|outcome| outcome.ok()?.ok())
        .collect();
    assert_eq!(clients.len(), SERVED, "sessions served during the flood");
    for client in &clients {
        let echoed = client.request_raw("pingpong.ping", &b"1"[..]).await;
        assert_eq!(&echoed.expect("a served session works")[..], b"1");
    }
    for client in &clients {
        client.close().await;
    }
    drop(clients);
    // The slots come back.
    let again =
        nano_tests::wait::wait_until(within, async || Client::connect(&addr).await.is_ok()).await;
    assert!(again, "a new client is served after the flood");
}
