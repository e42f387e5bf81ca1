//! A first end-to-end exchange: an app on TCP and nano-client.

use nano_client::Client;
use nano_core::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, Serialize, Clone)]
struct Chat {
    name: String,
    content: String,
}

#[derive(Default)]
struct Room {
    members: Group,
}

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, session: &Session, body: Value) -> Result<Value, HandlerError> {
        self.members.add(session)?;
        session.push("onMembers", &json!({ "members": [body["name"]] }))?;
        Ok(json!({ "code": 0, "result": "success" }))
    }

    #[handler]
    async fn message(&self, _session: &Session, chat: Chat) -> Result<(), HandlerError> {
        self.members.broadcast("onMessage", &chat)?;
        Ok(())
    }
}

#[tokio::test]
async fn join_message_and_broadcast() {
    let app = App::builder().register(Room::default()).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();

    let client = Client::connect(&addr.to_string()).await.unwrap();
    let mut members = client.subscribe("onMembers");
    let mut messages = client.subscribe("onMessage");
    let joined: Value = client
        .request("room.join", &json!({ "name": "ann" }))
        .await
        .unwrap();
    assert_eq!(joined, json!({ "code": 0, "result": "success" }));
    let push: Value = members.recv().await.unwrap().decode().unwrap();
    assert_eq!(push, json!({ "members": ["ann"] }));
    client
        .notify("room.message", &json!({ "name": "ann", "content": "hi" }))
        .await
        .unwrap();
    let push: Value = messages.recv().await.unwrap().decode().unwrap();
    assert_eq!(push["content"], "hi");

    let err = client
        .request::<_, Value>("room.nope", &json!({}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    app.shutdown().await;
    assert!(matches!(
        client.closed().await,
        nano_client::CloseReason::Kicked { .. }
    ));
}
