//! The code `#[component]` generates, called without a network: payloads are decoded into the
//! handler's arguments, return values are encoded into responses, and mistakes in the payload
//! become error replies.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use nano_core::Serializer;
use nano_core::prelude::*;
use nano_core::protocol::Message;
use nano_core::testing::Reply;
use nano_core::testing::{self, reply_error, reply_payload};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
struct Join {
    name: String,
    level: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Joined {
    code: i32,
    greeting: String,
}

#[derive(Default)]
struct Room {
    seen: Mutex<Vec<Join>>,
    raw: Mutex<Vec<Bytes>>,
}

#[component(name = "room", rename_all = "lowercase")]
impl Room {
    #[handler]
    fn join(&self, _session: &Session, join: Join) -> Result<Joined, HandlerError> {
        self.seen.lock().unwrap().push(join.clone());
        if join.level == 0 {
            return Err(HandlerError::new(1001, "level too low"));
        }
        Ok(Joined {
            code: 0,
            greeting: format!("hello {}", join.name),
        })
    }

    #[handler]
    fn raw_echo(&self, _session: &Session, payload: Bytes) -> Bytes {
        self.raw.lock().unwrap().push(payload.clone());
        payload
    }

    #[handler]
    fn ping(&self, _session: &Session) {}

    #[handler]
    fn parse(&self, _session: &Session, text: String) -> Result<u32, HandlerError> {
        Ok(text.parse::<u32>()?)
    }

    #[handler]
    fn later(&self, session: &Session) -> Deferred {
        session.respond(session.last_mid(), &"done later").unwrap();
        Deferred
    }

    #[handler]
    async fn slow_add(&self, session: Session, n: u64) -> u64 {
        tokio::task::yield_now().await;
        n + session.id()
    }
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[tokio::test]
async fn typed_payload_reaches_the_handler_and_the_answer_is_encoded() {
    let room = Arc::new(Room::default());
    let session = testing::session();
    let join = Join {
        name: "ann".into(),
        level: 3,
    };
    let reply = testing::call(&room, "room.join", &session, 1, json(&join)).await;
    assert_eq!(room.seen.lock().unwrap().as_slice(), [join]);
    assert_eq!(
        reply_payload(&reply),
        Some(&br#"{"code":0,"greeting":"hello ann"}"#[..])
    );
}

#[tokio::test]
async fn an_undecodable_payload_is_a_400_naming_the_route() {
    let room = Arc::new(Room::default());
    let session = testing::session();
    for bad in [
        &b"not json"[..],
        br#"{"name":"ann"}"#,
        br#"{"name":1,"level":2}"#,
        b"",
    ] {
        let reply =
            testing::call(&room, "room.join", &session, 1, Bytes::copy_from_slice(bad)).await;
        let error = reply_error(&reply).expect("an error reply");
        assert_eq!(error.code(), 400, "{error}");
        assert!(error.message().contains("room.join"), "{error}");
    }
    assert!(
        room.seen.lock().unwrap().is_empty(),
        "the handler never ran"
    );
}

#[tokio::test]
async fn handler_errors_keep_their_code_and_std_errors_become_500() {
    let room = Arc::new(Room::default());
    let session = testing::session();
    let reply = testing::call(
        &room,
        "room.join",
        &session,
        1,
        json(&Join {
            name: "x".into(),
            level: 0,
        }),
    )
    .await;
    let error = reply_error(&reply).unwrap();
    assert_eq!((error.code(), error.message()), (1001, "level too low"));

    let reply = testing::call(&room, "room.parse", &session, 2, json(&"12")).await;
    assert_eq!(reply_payload(&reply), Some(&b"12"[..]));
    let reply = testing::call(&room, "room.parse", &session, 3, json(&"twelve")).await;
    let error = reply_error(&reply).unwrap();
    assert_eq!((error.code(), error.message()), (500, "internal error"));
    assert!(
        error.source().is_some(),
        "the ParseIntError is kept for the logs"
    );
}

#[tokio::test]
async fn raw_payloads_bypass_the_serializer_both_ways() {
    let room = Arc::new(Room::default());
    let session = testing::session();
    let bytes = Bytes::from_static(b"\x00\xff not json");
    let reply = testing::call(&room, "room.rawecho", &session, 1, bytes.clone()).await;
    assert_eq!(reply_payload(&reply), Some(&bytes[..]));
    assert_eq!(room.raw.lock().unwrap().as_slice(), [bytes]);
}

#[tokio::test]
async fn unit_handlers_answer_requests_with_an_empty_object_and_notifies_with_nothing() {
    let room = Arc::new(Room::default());
    let session = testing::session();
    let reply = testing::call(&room, "room.ping", &session, 9, Bytes::new()).await;
    assert_eq!(reply_payload(&reply), Some(&b"{}"[..]));
    let reply = testing::call(&room, "room.ping", &session, 0, Bytes::new()).await;
    assert!(matches!(reply, Reply::None));
    // A request handler called as a notify: the value is not even serialized.
    let reply = testing::call(
        &room,
        "room.join",
        &session,
        0,
        json(&Join {
            name: "n".into(),
            level: 1,
        }),
    )
    .await;
    assert!(matches!(reply, Reply::None));
}

#[tokio::test]
async fn deferred_handlers_answer_through_the_session() {
    let room = Arc::new(Room::default());
    let session = testing::session();
    let reply = testing::call(&room, "room.later", &session, 42, Bytes::new()).await;
    assert!(matches!(reply, Reply::None));
    let sent = testing::sent(&session);
    assert_eq!(
        sent,
        [Message::Response {
            id: 42,
            payload: Bytes::from_static(br#""done later""#),
            error: false
        }]
    );
}

#[tokio::test]
async fn async_handlers_with_an_owned_session() {
    let room = Arc::new(Room::default());
    let session = testing::session();
    let reply = testing::call(&room, "room.slowadd", &session, 1, json(&10u64)).await;
    let expected = json(&(10 + session.id()));
    assert_eq!(reply_payload(&reply), Some(&expected[..]));
}

#[tokio::test]
async fn message_pack_payloads_and_answers() {
    let room = Arc::new(Room::default());
    let session = testing::session_with(Serializer::MessagePack);
    let join = Join {
        name: "mp".into(),
        level: 1,
    };
    let payload = rmp_serde::to_vec_named(&join).unwrap();
    let reply = testing::call(&room, "room.join", &session, 1, payload).await;
    let joined: Joined = rmp_serde::from_slice(reply_payload(&reply).unwrap()).unwrap();
    assert_eq!(
        joined,
        Joined {
            code: 0,
            greeting: "hello mp".into()
        }
    );
    // JSON is not MessagePack.
    let reply = testing::call(&room, "room.join", &session, 2, json(&join)).await;
    assert_eq!(reply_error(&reply).unwrap().code(), 400);
}

#[derive(Default)]
struct Counter {
    value: u64,
}

#[component(name = "counter")]
impl Counter {
    #[handler]
    fn add(&mut self, _session: &Session, n: u64) -> u64 {
        self.value += n;
        self.value
    }

    #[handler]
    async fn double(&mut self, _session: &Session) -> u64 {
        tokio::task::yield_now().await;
        self.value *= 2;
        self.value
    }

    #[handler]
    fn get(&self, _session: &Session) -> u64 {
        self.value
    }
}

#[tokio::test]
async fn actor_handlers_change_the_state() {
    let mut counter = Counter::default();
    let session = testing::session();
    let reply = testing::call_actor(&mut counter, "counter.add", &session, 1, json(&5u64)).await;
    assert_eq!(reply_payload(&reply), Some(&b"5"[..]));
    let reply =
        testing::call_actor(&mut counter, "counter.double", &session, 2, Bytes::new()).await;
    assert_eq!(reply_payload(&reply), Some(&b"10"[..]));
    let reply = testing::call_actor(&mut counter, "counter.get", &session, 3, Bytes::new()).await;
    assert_eq!(reply_payload(&reply), Some(&b"10"[..]));
    assert_eq!(counter.value, 10);
    let reply = testing::call_actor(&mut counter, "counter.nope", &session, 4, Bytes::new()).await;
    assert_eq!(reply_error(&reply).unwrap().code(), 404);
}
