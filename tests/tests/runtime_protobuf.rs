//! Protobuf payloads over real sockets with nano-client: `Serializer::Protobuf` apps (error
//! bodies flagged, serde values refused at the send, undecodable payloads answered with 400 and
//! the session kept), a JSON app serving a `Proto` route next to serde routes, and
//! `AppBuilder::error_flag` overriding the default.

use nano_client::{Client, ClientError};
use nano_core::prelude::*;
use nano_core::{Proto, Serializer, SessionError};
use prost::Message as _;
use serde_json::{Value, json};

#[derive(Clone, PartialEq, prost::Message)]
struct Bet {
    #[prost(sint64, tag = "1")]
    amount: i64,
    #[prost(string, repeated, tag = "2")]
    on: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Balance {
    #[prost(int64, tag = "1")]
    gold: i64,
}

struct Casino;

#[component(name = "casino", pushes(onBalance = Proto<Balance>))]
impl Casino {
    #[handler]
    fn bet(
        &self,
        session: &Session,
        Proto(bet): Proto<Bet>,
    ) -> Result<Proto<Balance>, HandlerError> {
        if bet.amount <= 0 {
            return Err(HandlerError::new(4002, "bets are positive"));
        }
        let gold = 1_000 - bet.amount * i64::try_from(bet.on.len()).unwrap_or(1);
        session.push("onBalance", &Proto(Balance { gold }))?;
        Ok(Proto(Balance { gold }))
    }

    /// A serde push in a protobuf app: refused by the serializer, reported to the caller.
    #[handler]
    fn serde_push(&self, session: &Session) -> Result<(), HandlerError> {
        match session.push("onBalance", &json!({ "gold": 1 })) {
            Err(SessionError::Serializer(err)) => Err(HandlerError::new(4003, err.to_string())),
            other => Err(HandlerError::internal(format!(
                "expected a serializer error: {other:?}"
            ))),
        }
    }

    /// A serde route, for the JSON app.
    #[handler]
    fn rules(&self, _session: &Session) -> Value {
        json!({ "max_bet": 100 })
    }
}

async fn serve(builder: nano_core::AppBuilder) -> (App, Client) {
    let app = builder.register(Casino).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&addr.to_string()).await.unwrap();
    (app, client)
}

fn bet(amount: i64, on: &[&str]) -> Proto<Bet> {
    Proto(Bet {
        amount,
        on: on.iter().map(|&name| name.to_owned()).collect(),
    })
}

#[tokio::test]
async fn a_protobuf_app_answers_pushes_and_flags_errors() {
    let (app, client) = serve(App::builder().serializer(Serializer::Protobuf)).await;
    assert_eq!(client.serializer(), &Serializer::Protobuf);
    let mut balances = client.subscribe("onBalance");

    let Proto(balance): Proto<Balance> = client
        .request("casino.bet", &bet(30, &["red", "17"]))
        .await
        .unwrap();
    assert_eq!(balance.gold, 940);
    let Proto(pushed): Proto<Balance> = balances.recv().await.unwrap().decode().unwrap();
    assert_eq!(pushed, balance);

    let refused = client
        .request::<_, Proto<Balance>>("casino.bet", &bet(-5, &[]))
        .await;
    assert!(
        matches!(&refused, Err(ClientError::Server { code: 4002, message }) if message == "bets are positive"),
        "{refused:?}"
    );

    let serde_push = client
        .request::<_, Proto<()>>("casino.serde_push", &Proto(()))
        .await;
    let Err(ClientError::Server {
        code: 4003,
        message,
    }) = serde_push
    else {
        panic!("{serde_push:?}");
    };
    assert!(message.contains("prost messages only"), "{message}");

    // A length-delimited field announcing 100 bytes, then 2: not a `Bet`.
    let truncated = client.request_raw("casino.bet", &b"\x12\x64ab"[..]).await;
    let Err(ClientError::Server { code: 400, message }) = truncated else {
        panic!("{truncated:?}");
    };
    assert!(
        message.contains("invalid payload for `casino.bet`"),
        "{message}"
    );
    // The session goes on.
    let Proto(balance): Proto<Balance> =
        client.request("casino.bet", &bet(1, &["x"])).await.unwrap();
    assert_eq!(balance.gold, 999);
    client.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_json_app_serves_proto_routes_next_to_serde_routes() {
    let (app, client) = serve(App::builder()).await;
    assert_eq!(client.serializer(), &Serializer::Json);
    let rules: Value = client.request("casino.rules", &()).await.unwrap();
    assert_eq!(rules, json!({ "max_bet": 100 }));
    let Proto(balance): Proto<Balance> = client
        .request("casino.bet", &bet(10, &["a"]))
        .await
        .unwrap();
    assert_eq!(balance.gold, 990);
    // Errors keep the JSON body and no flag, as JSON clients expect.
    let refused = client
        .request_raw("casino.bet", bet(0, &[]).0.encode_to_vec())
        .await;
    assert!(
        matches!(&refused, Err(ClientError::Server { code: 4002, .. })),
        "{refused:?}"
    );
    client.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn error_flag_can_be_turned_off_for_protobuf_and_on_for_json() {
    let (app, client) = serve(
        App::builder()
            .serializer(Serializer::Protobuf)
            .error_flag(false),
    )
    .await;
    // Without the flag, a protobuf error body cannot be recognized: the client sees bytes.
    let answer = client
        .request_raw("casino.bet", bet(-1, &[]).0.encode_to_vec())
        .await
        .unwrap();
    assert_eq!(&answer[..], b"\x08\xa2\x1f\x12\x11bets are positive");
    client.close().await;
    app.shutdown().await;

    let (app, client) = serve(App::builder().error_flag(true)).await;
    let refused = client
        .request_raw("casino.bet", bet(-1, &[]).0.encode_to_vec())
        .await;
    assert!(
        matches!(&refused, Err(ClientError::Server { code: 4002, message }) if message == "bets are positive"),
        "{refused:?}"
    );
    client.close().await;
    app.shutdown().await;
}
