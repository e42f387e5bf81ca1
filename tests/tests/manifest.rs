//! `App::manifest()`: every route with its kind and types, the push routes components declare
//! with `#[component(pushes(...))]` (which also join the handshake's route dictionary), JSON
//! Schemas for types implementing `schemars::JsonSchema`, and a clear error for a route the
//! app does not have.

use bytes::Bytes;
use nano_core::prelude::*;
use nano_core::protocol::{Message, Route};
use nano_tests::raw::RawConn;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
struct Join {
    name: String,
    level: Option<u32>,
}

#[derive(Serialize, JsonSchema)]
struct Joined {
    members: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Chat {
    text: String,
}

/// No `JsonSchema`: named in the manifest, without a schema.
#[derive(Serialize)]
struct Left {
    name: String,
}

struct Room;

#[component(name = "room", pushes(onChat = Chat, "room.left" = Left))]
impl Room {
    #[handler]
    fn join(&self, session: &Session, join: Join) -> Result<Joined, HandlerError> {
        let _level = join.level;
        session.push("onChat", &Chat { text: join.name })?;
        Ok(Joined { members: vec![] })
    }

    #[handler]
    fn say(&self, _session: &Session, _chat: Chat) {}

    #[handler]
    fn raw(&self, _session: &Session, payload: Bytes) -> Bytes {
        payload
    }

    #[handler]
    fn later(&self, _session: &Session) -> Deferred {
        Deferred
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct Score {
    #[prost(uint32, tag = "1")]
    points: u32,
}

struct Scores;

#[component(name = "scores", pushes(onScore = Proto<Score>))]
impl Scores {
    #[handler]
    fn post(&self, _session: &Session, score: Proto<Score>) -> Proto<Score> {
        score
    }
}

fn app() -> Result<App, nano_core::Error> {
    App::builder()
        .register(Room)
        .push_routes(["onKick", "onChat"])
        .build()
}

/// The manifest as JSON, with each schema replaced by whether it is there.
fn summary(app: &App) -> Value {
    let mut manifest = serde_json::to_value(app.manifest()).unwrap();
    for section in ["routes", "pushes"] {
        for entry in manifest[section].as_array_mut().unwrap() {
            for key in ["payload", "response"] {
                if let Some(ty) = entry.get_mut(key).and_then(Value::as_object_mut) {
                    let has_schema = ty.remove("schema").is_some();
                    ty.insert("has_schema".into(), has_schema.into());
                }
            }
        }
    }
    manifest
}

/// A type entry: raw for `Bytes`, protobuf for `Proto` messages, else the app's serializer.
fn ty(name: &str, has_schema: bool) -> Value {
    let encoding = match name {
        "Bytes" => "raw",
        _ if name.starts_with("Proto<") => "protobuf",
        _ => "serializer",
    };
    json!({ "name": name, "has_schema": has_schema, "encoding": encoding })
}

#[tokio::test]
async fn the_manifest_lists_every_route_with_its_kind_types_and_pushes() {
    let app = app().unwrap();
    let route = |route: &str, kind: &str, payload: Value, response: Value| json!({ "route": route, "component": "room", "kind": kind, "payload": payload, "response": response });
    let expected = json!({
        "routes": [
            route("room.join", "request", ty("Join", true), ty("Joined", true)),
            route("room.say", "notify", ty("Chat", true), Value::Null),
            route("room.raw", "request", ty("Bytes", false), ty("Bytes", false)),
            route("room.later", "request", Value::Null, Value::Null),
        ],
        "pushes": [
            { "route": "onChat", "component": "room", "payload": ty("Chat", true) },
            { "route": "room.left", "component": "room", "payload": ty("Left", false) },
            { "route": "onKick", "component": null, "payload": null },
        ],
    });
    assert_eq!(summary(&app), expected);
    app.shutdown().await;
}

#[tokio::test]
async fn proto_messages_are_listed_as_protobuf() {
    let app = App::builder().register(Scores).build().unwrap();
    let score = ty("Proto<Score>", false);
    let expected = json!({
        "routes": [{ "route": "scores.post", "component": "scores", "kind": "request", "payload": score, "response": score }],
        "pushes": [{ "route": "onScore", "component": "scores", "payload": score }],
    });
    assert_eq!(summary(&app), expected);
    app.shutdown().await;
}

#[tokio::test]
async fn payload_schemas_come_from_schemars_and_the_manifest_reads_back() {
    let app = app().unwrap();
    let manifest = app.manifest();
    let join = manifest.route("room.join").unwrap();
    let schema = join.payload.as_ref().and_then(|ty| ty.schema.as_ref());
    let schema = schema.expect("Join's schema");
    assert_eq!(schema["properties"]["name"]["type"], "string");
    assert_eq!(schema["required"], json!(["name"]));
    let text = serde_json::to_string(manifest).unwrap();
    let read: nano_core::Manifest = serde_json::from_str(&text).unwrap();
    assert_eq!(&read, manifest);
    app.shutdown().await;
}

#[tokio::test]
async fn a_route_the_manifest_does_not_have_is_a_clear_error() {
    let app = app().unwrap();
    let error = app.manifest().route("room.nope").unwrap_err();
    assert_eq!(
        error.to_string(),
        "no route `room.nope` in the manifest (it has: room.join, room.say, room.raw, room.later)"
    );
    assert!(app.manifest().push("onNope").is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn declared_pushes_join_the_dictionary_and_go_out_compressed() {
    let app = app().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    let reply = conn.handshake().await;
    let dict = reply.sys.and_then(|sys| sys.dict).expect("dict");
    let routes: Vec<(String, u16)> = dict
        .iter()
        .map(|(route, code)| (route.to_string(), code))
        .collect();
    let expected = [
        "room.join",
        "room.say",
        "room.raw",
        "room.later",
        "onChat",
        "room.left",
        "onKick",
    ];
    let expected: Vec<(String, u16)> = (1..).zip(expected).map(|(c, r)| (r.into(), c)).collect();
    assert_eq!(routes, expected);
    conn.request(1, "room.join", r#"{"name":"ada"}"#).await;
    let push = Message::decode(conn.recv().await.unwrap().body).unwrap();
    assert_eq!(
        push.route(),
        Some(&Route::Code(5)),
        "onChat travels as its code"
    );
    app.shutdown().await;
}
