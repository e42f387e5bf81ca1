//! `--smoke`: the page is served, a WebSocket player and a TCP player are paired, X wins on
//! the top row, O leaves and X is told.

use std::net::SocketAddr;

use nano_client::{Client, Pushes};
use nano_examples::http_get;
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error>;

/// Runs one game against the example at `http` (page and WebSocket) and `tcp`.
pub(crate) async fn run(http: SocketAddr, tcp: SocketAddr) -> Result<(), Error> {
    let page = http_get(http, "/").await?;
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("<title>"),
        "the page is served"
    );
    let x = Client::connect(&format!("ws://{http}/nano")).await?;
    let mut x_left = x.subscribe("onOpponentLeft");
    let x_room: Value = x.request("lobby.play", &()).await?;
    let o = Client::connect(&tcp.to_string()).await?;
    let mut o_states = o.subscribe("onState");
    let o_room: Value = o.request("lobby.play", &()).await?;
    assert_eq!(x_room, o_room, "paired in one match");

    for (player, cell) in [(&x, 0), (&o, 3), (&x, 1), (&o, 4), (&x, 2)] {
        let _: Value = player
            .request("match.move", &json!({ "cell": cell }))
            .await?;
    }
    let over = loop {
        let state: Value = o_states.recv().await.ok_or("onState")?.decode()?;
        if state["status"] == "over" {
            break state;
        }
    };
    assert_eq!(
        over["outcome"],
        json!({ "kind": "win", "mark": "X", "line": [0, 1, 2] })
    );
    o.close().await;
    let left = next(&mut x_left).await?;
    assert_eq!(left, json!({ "mark": "O", "forfeit": false }));
    println!("tictactoe smoke test passed");
    Ok(())
}

async fn next(pushes: &mut Pushes) -> Result<Value, Error> {
    Ok(pushes.recv().await.ok_or("push")?.decode()?)
}
