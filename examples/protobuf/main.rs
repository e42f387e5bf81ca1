//! # protobuf: a chat room whose payloads are protobuf messages
//!
//! ```sh
//! cargo run --example protobuf
//! ```
//!
//! Serves TCP on 127.0.0.1:3270 with the protobuf serializer (`sys.serializer: "protobuf"`),
//! the format nano's Go client and most Unity projects on nano speak. The messages are in
//! `examples/protobuf/chat.proto`; the Rust types are generated from it by prost-build
//! (`examples/build.rs`), and clients generate theirs from the same file.
//!
//! - `room.join` (request, `Join` -> `Joined`): joins the room; the joiner is pushed `onWelcome`
//!   (`Welcome`). An empty name is answered with an error (`nano.ErrorBody` from
//!   `nano-core/proto/nano.proto`, code 400, marked with the error flag).
//! - `room.say` (notify, `Say`): broadcasts `onChat` (`Chat`) to every member.
//! - `room.leave` (request, no payload): leaves the room; the answer is an empty message.
//!
//! Flags: `--tcp ADDR`, `--smoke` (a free port, one round of every route with nano-client, exit
//! 0). Tested from Node with protobufjs reading `chat.proto` (tests/tests/protobuf_example.rs).

#![allow(clippy::print_stdout)]

use std::time::{SystemTime, UNIX_EPOCH};

use nano_core::prelude::*;
use nano_core::{Proto, Serializer};
use nano_examples::{Args, Flag, init_logging};

/// The types generated from `chat.proto`.
mod chat {
    #![allow(missing_docs, unreachable_pub, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/chat.rs"));
}

use chat::{Chat, Join, Joined, Member, Say, Welcome};

struct Room {
    members: Group,
}

#[component(name = "room", pushes(onWelcome = Proto<Welcome>, onChat = Proto<Chat>))]
impl Room {
    #[handler]
    fn join(
        &self,
        session: &Session,
        Proto(join): Proto<Join>,
    ) -> Result<Proto<Joined>, HandlerError> {
        if join.name.trim().is_empty() {
            return Err(HandlerError::bad_request("a name is required"));
        }
        session.set("name", join.name);
        self.members.add(session)?;
        let welcome = Welcome {
            motd: "welcome to the protobuf room".into(),
            online: u32::try_from(self.members.count()).unwrap_or(u32::MAX),
        };
        session.push("onWelcome", &Proto(welcome))?;
        let members = self.members.members().iter().map(member).collect();
        Ok(Proto(Joined {
            member_id: session.id(),
            members,
        }))
    }

    #[handler]
    fn say(&self, session: &Session, Proto(say): Proto<Say>) {
        if !self.members.contains_session(session) {
            return;
        }
        let chat = Chat {
            from: Some(member(session)),
            text: say.text,
            sent_at_ms: now_ms(),
        };
        // Encoded once for every member.
        let _ = self.members.broadcast("onChat", &Proto(chat));
    }

    #[handler]
    fn leave(&self, session: &Session) -> Result<(), HandlerError> {
        self.members.leave(session)?;
        Ok(())
    }
}

fn member(session: &Session) -> Member {
    Member {
        id: session.id(),
        name: session.get::<String>("name").unwrap_or_default(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

const FLAGS: &[Flag] = &[
    Flag::value("--tcp", "ADDR", "TCP address to listen on").default_value("127.0.0.1:3270"),
    Flag::switch("--smoke", "a free port, one round of every route, exit 0"),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let args = Args::from_env("protobuf", FLAGS);
    let app = App::builder()
        .serializer(Serializer::Protobuf)
        .register(Room {
            members: Group::new("room"),
        })
        .build()?;
    let tcp = app.listen_tcp(args.addr("--tcp")).await?;
    tracing::info!("protobuf chat: TCP {tcp}");
    println!("protobuf listening tcp={tcp}");
    if args.smoke() {
        smoke(&tcp.to_string()).await?;
        println!("protobuf smoke test passed");
        app.shutdown().await;
        return Ok(());
    }
    app.run().await?;
    Ok(())
}

/// One round of every route with nano-client, which takes the serializer from the handshake.
async fn smoke(addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = nano_client::Client::connect(addr).await?;
    assert_eq!(client.serializer(), &Serializer::Protobuf);
    let mut welcomes = client.subscribe("onWelcome");
    let mut chats = client.subscribe("onChat");
    let join = Join { name: "ann".into() };
    let Proto(joined): Proto<Joined> = client.request("room.join", &Proto(join)).await?;
    assert_eq!(joined.members.len(), 1);
    let Proto(welcome): Proto<Welcome> = welcomes.recv().await.ok_or("onWelcome")?.decode()?;
    assert_eq!(welcome.online, 1);
    client
        .notify("room.say", &Proto(Say { text: "hi".into() }))
        .await?;
    let Proto(chat): Proto<Chat> = chats.recv().await.ok_or("onChat")?.decode()?;
    assert_eq!(
        (chat.text.as_str(), chat.from.map(|from| from.name)),
        ("hi", Some("ann".into()))
    );
    let refused = client
        .request::<_, Proto<Joined>>("room.join", &Proto(Join::default()))
        .await;
    assert!(
        matches!(
            &refused,
            Err(nano_client::ClientError::Server { code: 400, .. })
        ),
        "{refused:?}"
    );
    // `()` is prost's empty message: no payload out, an empty answer back.
    let Proto(()) = client.request("room.leave", &Proto(())).await?;
    client.close().await;
    Ok(())
}
