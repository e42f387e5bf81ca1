//! `AppBuilder::error_body`: every error response an app sends (unknown route, undecodable
//! payload, a handler's error, a panic, an inbound pipeline's refusal) has the app's own shape,
//! serialized with the app's serializer.

use bytes::Bytes;
use nano_core::prelude::*;
use nano_core::protocol::{Message, Route};
use nano_core::{Pipeline, Serializer};
use nano_tests::raw::RawConn;
use serde_json::{Value, json};
use tokio::net::TcpStream;

struct Shop;

#[component(name = "shop")]
impl Shop {
    #[handler]
    fn buy(&self, _session: &Session, gold: u32) -> Result<u32, HandlerError> {
        if gold < 10 {
            return Err(HandlerError::new(4001, "not enough gold"));
        }
        Ok(gold - 10)
    }

    #[handler]
    fn crash(&self, _session: &Session) {
        panic!("the shop crashed");
    }
}

/// The shape this game's clients expect.
fn game_error(error: &HandlerError) -> Value {
    json!({ "ok": false, "error": { "status": error.code(), "reason": error.message() } })
}

async fn serve(serializer: Serializer) -> (App, RawConn<TcpStream>) {
    let inbound = Pipeline::new().push_back(|_session, message| match message.route() {
        Some(route)
            if route
                .name()
                .is_some_and(|name| name.as_str() == "shop.closed") =>
        {
            Err(HandlerError::new(403, "the shop is closed"))
        }
        _ => Ok(()),
    });
    let app = App::builder()
        .register(Shop)
        .serializer(serializer)
        .inbound(inbound)
        .error_body(game_error)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    (app, conn)
}

/// Sends request `id` to `route` with `payload` and returns the response's payload.
async fn ask(conn: &mut RawConn<TcpStream>, id: u64, route: &'static str, payload: Bytes) -> Bytes {
    let request = Message::Request {
        id,
        route: Route::from(route),
        payload,
    };
    conn.send_message(&request).await;
    match conn.recv_message().await {
        Message::Response {
            id: got, payload, ..
        } if got == id => payload,
        other => panic!("expected the response to {id}, got {other:?}"),
    }
}

/// Every kind of error, as `(route, payload, the error it gets)`; `payload` is JSON, and
/// re-encoded for other serializers by the caller.
fn errors() -> Vec<(&'static str, Value, Value)> {
    let error = |status: i32, reason: &str| game_error(&HandlerError::new(status, reason));
    vec![
        (
            "shop.nope",
            json!(null),
            error(404, "unknown route `shop.nope`"),
        ),
        ("shop.buy", json!(3), error(4001, "not enough gold")),
        (
            "shop.crash",
            json!(null),
            error(500, "handler for `shop.crash` panicked"),
        ),
        ("shop.closed", json!(null), error(403, "the shop is closed")),
    ]
}

#[tokio::test]
async fn every_error_response_has_the_apps_shape() {
    let (app, mut conn) = serve(Serializer::Json).await;
    for (id, (route, payload, expected)) in (1..).zip(errors()) {
        let payload = Bytes::from(payload.to_string());
        let body = ask(&mut conn, id, route, payload).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, expected, "{route}");
    }
    // An undecodable payload: the message is the decoder's, the shape the app's.
    let body = ask(&mut conn, 9, "shop.buy", Bytes::from_static(b"\"gold\"")).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["ok"], false);
    assert_eq!(body["error"]["status"], 400, "{body}");
    assert!(body["error"]["reason"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "nothing else: {body}");
    // Successes are untouched.
    let body = ask(&mut conn, 10, "shop.buy", Bytes::from_static(b"25")).await;
    assert_eq!(&body[..], b"15");
    assert_eq!(app.metrics().errors, 5);
    app.shutdown().await;
}

#[tokio::test]
async fn the_error_body_is_serialized_with_the_apps_serializer() {
    let serializer = Serializer::MessagePack;
    let (app, mut conn) = serve(serializer.clone()).await;
    for (id, (route, payload, expected)) in (1..).zip(errors()) {
        let payload = serializer.serialize(&payload).unwrap();
        let body = ask(&mut conn, id, route, payload).await;
        assert!(
            serde_json::from_slice::<Value>(&body).is_err(),
            "{route}: JSON from a MessagePack app"
        );
        let body: Value = serializer.deserialize(&body).unwrap();
        assert_eq!(body, expected, "{route}");
    }
    app.shutdown().await;
}
