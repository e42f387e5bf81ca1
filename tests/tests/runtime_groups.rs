//! Groups: membership, broadcast (serialized once), multicast, and their errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nano_client::Client;
use nano_core::prelude::*;
use nano_core::{GroupError, testing};
use nano_tests::wait::wait_until;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Counts how often it is serialized.
struct Counted {
    count: Arc<AtomicUsize>,
}

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.count.fetch_add(1, Ordering::Relaxed);
        serializer.serialize_str("hello")
    }
}

#[test]
fn membership_and_errors() {
    let group = Group::new("room-1");
    let (a, b) = (testing::session(), testing::session());
    a.bind(10).unwrap();
    group.add(&a).unwrap();
    group.add(&b).unwrap();
    assert!(matches!(group.add(&a), Err(GroupError::AlreadyMember(_))));
    assert_eq!(group.count(), 2);
    assert!(group.contains(10));
    assert!(!group.contains(11));
    assert_eq!(group.member(10), Some(a.clone()));
    assert_eq!(group.uids(), [10]);
    assert!(group.contains_session(&b));
    group.leave(&b).unwrap();
    assert!(matches!(group.leave(&b), Err(GroupError::NotMember(_))));
    group.leave_all().unwrap();
    assert_eq!(group.count(), 0);
    group.add(&a).unwrap();
    group.close();
    assert!(group.is_closed());
    assert_eq!(group.count(), 0);
    assert!(matches!(group.add(&b), Err(GroupError::Closed)));
    assert!(matches!(
        group.broadcast("onX", &1),
        Err(GroupError::Closed)
    ));
}

#[test]
fn broadcast_serializes_once_and_multicast_filters() {
    let group = Group::new("room");
    let members: Vec<Session> = (0..100).map(|_| testing::session()).collect();
    for (n, session) in members.iter().enumerate() {
        session.bind(n as i64 + 1).unwrap();
        group.add(session).unwrap();
    }
    let count = Arc::new(AtomicUsize::new(0));
    let report = group
        .broadcast(
            "onHello",
            &Counted {
                count: count.clone(),
            },
        )
        .unwrap();
    assert_eq!((report.delivered, report.failed), (100, 0));
    assert_eq!(
        count.load(Ordering::Relaxed),
        1,
        "serialized once for 100 members"
    );
    for session in &members {
        let sent = testing::sent(session);
        assert_eq!(sent.len(), 1);
        assert_eq!(&sent[0].payload()[..], b"\"hello\"");
    }

    let report = group
        .multicast("onEven", &1, |session| session.uid().unwrap() % 2 == 0)
        .unwrap();
    assert_eq!(report.delivered, 50);
    assert_eq!(testing::sent(&members[1]).len(), 1);
    assert_eq!(testing::sent(&members[0]).len(), 0);
}

#[derive(Default)]
struct Room {
    members: Group,
}

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, session: &Session) -> Result<usize, HandlerError> {
        self.members.add(session)?;
        Ok(self.members.count())
    }

    #[handler]
    fn say(&self, _session: &Session, text: String) -> Result<(), HandlerError> {
        self.members.broadcast("onSay", &text)?;
        Ok(())
    }
}

#[tokio::test]
async fn broadcast_reaches_every_member_over_the_network_and_leavers_drop_out() {
    let app = App::builder().register(Room::default()).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let mut clients = Vec::new();
    for n in 1..=20usize {
        let client = Client::connect(&addr).await.unwrap();
        assert_eq!(
            client.request::<_, usize>("room.join", &()).await.unwrap(),
            n
        );
        clients.push(client);
    }
    let mut streams: Vec<_> = clients
        .iter()
        .map(|client| client.subscribe("onSay"))
        .collect();
    clients[0].notify("room.say", &"hi all").await.unwrap();
    for stream in &mut streams {
        let said: Value = stream.recv().await.unwrap().decode().unwrap();
        assert_eq!(said, "hi all");
    }
    // Ten leave; the room shrinks to ten without anyone calling `leave`.
    for client in clients.drain(10..) {
        client.close().await;
    }
    // A session leaves its groups before it stops counting as open.
    assert!(
        wait_until(Duration::from_secs(5), async || {
            app.metrics().sessions_open == 10
        })
        .await,
        "the server did not notice the leavers: {:?}",
        app.metrics()
    );
    let newcomer = Client::connect(&addr).await.unwrap();
    assert_eq!(
        newcomer
            .request::<_, usize>("room.join", &())
            .await
            .unwrap(),
        11
    );
    app.shutdown().await;
}
