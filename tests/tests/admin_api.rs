//! The admin server's JSON API over real sockets: without the token (or with another one)
//! every endpoint answers 401 and does nothing; with it, sessions are found by uid, kicked,
//! groups listed and broadcast to, routes' traffic and latencies reported, a cluster's nodes
//! listed (the cluster example's gate), and `/metrics` served.

use std::net::SocketAddr;
use std::time::Duration;

use nano_client::{Client, CloseReason};
use nano_core::prelude::*;
use nano_tests::wait::wait_until;
use nano_ws::admin::{AdminConfig, listen_admin};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "correct horse battery staple";

/// Everyone who logs in is in `lobby`; uids above 100 are in `vip` too.
struct Lobby {
    lobby: Group,
    vip: Group,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    fn login(&self, session: &Session, uid: i64) -> Result<i64, HandlerError> {
        session.bind(uid)?;
        self.lobby.add(session)?;
        if uid > 100 {
            self.vip.add(session)?;
        }
        Ok(uid)
    }

    #[handler]
    fn ping(&self, _session: &Session) -> &'static str {
        "pong"
    }
}

struct Server {
    app: App,
    game: String,
    admin: SocketAddr,
}

async fn start() -> Server {
    let app = App::builder()
        .register(Lobby {
            lobby: Group::new("lobby"),
            vip: Group::new("vip"),
        })
        .build()
        .unwrap();
    let game = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let config = AdminConfig::new(TOKEN).addr("127.0.0.1:0".parse().unwrap());
    let admin = listen_admin(&app, config).await.unwrap();
    Server { app, game, admin }
}

async fn login(server: &Server, uid: i64) -> Client {
    let client = Client::connect(&server.game).await.unwrap();
    let _: i64 = client.request("lobby.login", &uid).await.unwrap();
    client
}

/// A response: status code, headers and body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// `method path` on the admin server with `authorization` (a whole header value) and `body`.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: &str,
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = authorization.map_or(String::new(), |value| format!("Authorization: {value}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // A server refusing a large body may answer and close before reading all of it.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut bytes = Vec::new();
    let mut chunk = [0; 4096];
    while let Ok(n @ 1..) = stream.read(&mut chunk).await {
        bytes.extend_from_slice(&chunk[..n]);
    }
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok());
    Answer {
        status: status.unwrap_or_else(|| panic!("no status in {response}")),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

async fn get(server: &Server, path: &str) -> Answer {
    http(server.admin, "GET", path, Some(&bearer()), "").await
}

async fn post(server: &Server, path: &str, body: &str) -> Answer {
    http(server.admin, "POST", path, Some(&bearer()), body).await
}

#[tokio::test]
async fn without_the_token_every_endpoint_answers_401_and_nothing_changes() {
    let server = start().await;
    let alice = login(&server, 7).await;
    let mut notices = alice.subscribe("onNotice");
    let id = get(&server, "/api/sessions?uid=7").await.json()["sessions"][0]["id"].clone();
    let kick = format!("/api/sessions/{id}/kick");
    let broadcast = "/api/groups/lobby/broadcast";
    let notice = r#"{"route":"onNotice","body":{"text":"refused"}}"#;
    let endpoints = [
        ("GET", "/api/overview", ""),
        ("GET", "/api/routes", ""),
        ("GET", "/api/groups", ""),
        ("GET", "/api/nodes", ""),
        ("GET", "/api/sessions", ""),
        ("GET", "/metrics", ""),
        ("POST", kick.as_str(), "{}"),
        ("POST", broadcast, notice),
    ];
    let wrong = [
        None,
        Some("Bearer wrong"),
        Some("Bearer correct horse battery stapl"),
        Some("Bearer correct horse battery staple!"),
        Some("Basic Y29ycmVjdA=="),
        Some(TOKEN),
    ];
    for (method, path, body) in endpoints {
        for authorization in wrong {
            let answer = http(server.admin, method, path, authorization, body).await;
            assert_eq!(answer.status, 401, "{method} {path} with {authorization:?}");
            assert!(
                answer
                    .head
                    .to_ascii_lowercase()
                    .contains("www-authenticate: bearer"),
                "{}",
                answer.head
            );
        }
    }
    // Still connected, and the refused broadcast never arrived: the first notice is the
    // one sent with the token.
    assert_eq!(
        alice.request::<_, String>("lobby.ping", &()).await.unwrap(),
        "pong"
    );
    assert!(alice.is_connected());
    let allowed = r#"{"route":"onNotice","body":{"text":"allowed"}}"#;
    assert_eq!(post(&server, broadcast, allowed).await.status, 200);
    let first = notices.recv().await.unwrap().decode::<Value>().unwrap();
    assert_eq!(first, json!({ "text": "allowed" }));
    // The page itself holds no data and needs no token.
    let page = http(server.admin, "GET", "/", None, "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>nano-rs admin</title>"));
    let head = page.head.to_ascii_lowercase();
    assert!(head.contains("x-frame-options: deny"), "{head}");
    assert!(head.contains("frame-ancestors 'none'"), "{head}");
    server.app.shutdown().await;
}

#[tokio::test]
async fn sessions_are_found_by_uid_with_their_address_and_groups() {
    let server = start().await;
    let _alice = login(&server, 7).await;
    let _bob = login(&server, 101).await;
    let _anonymous = Client::connect(&server.game).await.unwrap();
    let everyone = wait_until(Duration::from_secs(10), async || {
        get(&server, "/api/sessions").await.json()["sessions"]
            .as_array()
            .is_some_and(|sessions| sessions.len() == 3)
    })
    .await;
    assert!(everyone, "{}", get(&server, "/api/sessions").await.body);

    let bob = get(&server, "/api/sessions?uid=101").await.json();
    let sessions = bob["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{bob}");
    let session = &sessions[0];
    assert_eq!(session["uid"], 101);
    assert_eq!(session["transport"], "tcp");
    assert_eq!(session["groups"], json!(["lobby", "vip"]));
    assert!(
        session["remote"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{session}"
    );
    assert!(session["connected_since_ms"].as_u64().unwrap() > 1_600_000_000_000);

    let nobody = get(&server, "/api/sessions?uid=5").await.json();
    assert_eq!(nobody["sessions"], json!([]));
    assert_eq!(get(&server, "/api/sessions?uid=x").await.status, 400);
    let limited = get(&server, "/api/sessions?limit=2").await.json();
    assert_eq!(limited["sessions"].as_array().unwrap().len(), 2);

    let groups = get(&server, "/api/groups").await.json();
    assert_eq!(
        groups["groups"],
        json!([{ "name": "lobby", "members": 2 }, { "name": "vip", "members": 1 }])
    );
    let overview = get(&server, "/api/overview").await.json();
    assert_eq!(overview["sessions"], 3, "{overview}");
    assert_eq!(overview["groups"], 2, "{overview}");
    server.app.shutdown().await;
}

#[tokio::test]
async fn a_kick_disconnects_the_chosen_session_only() {
    let server = start().await;
    let alice = login(&server, 7).await;
    let bob = login(&server, 8).await;
    let found = get(&server, "/api/sessions?uid=7").await.json();
    let id = found["sessions"][0]["id"].as_u64().unwrap();

    let kicked = post(
        &server,
        &format!("/api/sessions/{id}/kick"),
        r#"{"reason":"bye"}"#,
    )
    .await;
    assert_eq!(kicked.status, 200, "{}", kicked.body);
    assert_eq!(kicked.json(), json!({ "kicked": id, "reason": "bye" }));
    assert_eq!(
        alice.closed().await,
        CloseReason::Kicked {
            reason: "bye".into()
        }
    );
    let gone = wait_until(Duration::from_secs(10), async || {
        get(&server, "/api/sessions?uid=7").await.json()["sessions"] == json!([])
    })
    .await;
    assert!(gone, "the kicked session leaves the list");
    assert_eq!(
        bob.request::<_, String>("lobby.ping", &()).await.unwrap(),
        "pong"
    );

    let again = post(&server, &format!("/api/sessions/{id}/kick"), "").await;
    assert_eq!(again.status, 404, "{}", again.body);
    assert_eq!(post(&server, "/api/sessions/x/kick", "").await.status, 400);
    assert_eq!(post(&server, "/api/sessions/1/kick", "{").await.status, 400);
    server.app.shutdown().await;
}

#[tokio::test]
async fn a_broadcast_reaches_the_members_of_the_group() {
    let server = start().await;
    let alice = login(&server, 7).await;
    let bob = login(&server, 101).await;
    let mut alice_pushes = alice.pushes();
    let mut bob_notices = bob.subscribe("onNotice");

    let body = r#"{"route":"onNotice","body":{"text":"vip only"}}"#;
    let sent = post(&server, "/api/groups/vip/broadcast", body).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.json(), json!({ "delivered": 1, "failed": 0 }));
    let notice = bob_notices.recv().await.unwrap().decode::<Value>().unwrap();
    assert_eq!(notice, json!({ "text": "vip only" }));

    let everyone = r#"{"route":"onNotice","body":{"text":"all"}}"#;
    let sent = post(&server, "/api/groups/lobby/broadcast", everyone).await;
    assert_eq!(sent.json(), json!({ "delivered": 2, "failed": 0 }));
    // alice's first push is the lobby's: the vip broadcast did not reach her.
    let first = alice_pushes.recv().await.unwrap();
    assert_eq!(first.decode::<Value>().unwrap(), json!({ "text": "all" }));

    let missing = post(&server, "/api/groups/nobody/broadcast", body).await;
    assert_eq!(missing.status, 404);
    let no_route = post(&server, "/api/groups/vip/broadcast", r#"{"body":{}}"#).await;
    assert_eq!(no_route.status, 400);
    assert_eq!(
        post(&server, "/api/groups/vip/broadcast", "nope")
            .await
            .status,
        400
    );
    server.app.shutdown().await;
}

#[tokio::test]
async fn routes_report_their_rate_and_latency_quantiles() {
    let server = start().await;
    let before = get(&server, "/api/routes").await.json();
    let ping = |routes: &Value| {
        routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|route| route["route"] == "lobby.ping")
            .cloned()
            .unwrap()
    };
    assert_eq!(ping(&before)["requests"], 0);
    assert_eq!(ping(&before)["p50_ms"], Value::Null);
    let client = Client::connect(&server.game).await.unwrap();
    for _ in 0..20 {
        let _: String = client.request("lobby.ping", &()).await.unwrap();
    }
    let after = get(&server, "/api/routes").await.json();
    let route = ping(&after);
    assert_eq!(route["requests"], 20, "{after}");
    assert_eq!(route["kind"], "request");
    assert!(route["rate"].as_f64().unwrap() > 0.0, "{after}");
    assert!(after["window_seconds"].as_f64().unwrap() > 0.0, "{after}");
    let (p50, p99) = (
        route["p50_ms"].as_f64().unwrap(),
        route["p99_ms"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p99, "{after}");

    let metrics = get(&server, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains(r#"nano_requests_total{route="lobby.ping",kind="request"} 20"#),
        "{}",
        metrics.body
    );
    assert_eq!(get(&server, "/api/nothing").await.status, 404);
    server.app.shutdown().await;
}

#[tokio::test]
async fn an_empty_token_is_refused() {
    let app = App::builder().build().unwrap();
    let config = AdminConfig::new("").addr("127.0.0.1:0".parse().unwrap());
    let refused = listen_admin(&app, config).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    app.shutdown().await;
}

#[tokio::test]
async fn outside_a_cluster_no_nodes_are_listed() {
    let server = start().await;
    let nodes = get(&server, "/api/nodes").await;
    assert_eq!(nodes.status, 200);
    assert_eq!(nodes.json(), json!({ "cluster": false, "nodes": [] }));
    server.app.shutdown().await;
}

/// The cluster example's gate lists itself and the backend it knows.
#[tokio::test]
async fn the_nodes_of_a_cluster_are_listed() {
    let nats = nano_tests::nats::Nats::start();
    let url = nats.url();
    let _backend = nano_tests::examples::start(
        "cluster",
        &["--role", "room", "--node", "room-a", "--nats", &url],
    );
    let gate = nano_tests::examples::start(
        "cluster",
        &[
            "--role",
            "gate",
            "--node",
            "gate-1",
            "--nats",
            &url,
            "--tcp",
            "127.0.0.1:0",
            "--ws",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--admin-token",
            TOKEN,
        ],
    );
    let admin: SocketAddr = gate.addr("admin").parse().unwrap();
    let nodes = async || {
        http(admin, "GET", "/api/nodes", Some(&bearer()), "")
            .await
            .json()
    };
    let both = wait_until(Duration::from_secs(10), async || {
        nodes().await["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes.len() == 2)
    })
    .await;
    let listed = nodes().await;
    assert!(both, "{listed}");
    assert_eq!(listed["cluster"], true);
    let names: Vec<(&str, bool)> = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| (node["name"].as_str().unwrap(), node["this"] == true))
        .collect();
    assert_eq!(names, [("gate-1", true), ("room-a", false)], "{listed}");
    assert!(
        listed["nodes"][1]["routes"].as_u64().unwrap() > 0,
        "{listed}"
    );
}

#[tokio::test]
async fn a_client_that_sends_no_request_is_disconnected() {
    let app = App::builder().build().unwrap();
    let mut config = AdminConfig::new(TOKEN).addr("127.0.0.1:0".parse().unwrap());
    config.header_read_timeout = Duration::from_millis(100);
    let admin = listen_admin(&app, config).await.unwrap();
    let mut idle = tokio::net::TcpStream::connect(admin).await.unwrap();
    let mut byte = [0; 1];
    // Well under the 10 s default, so a server ignoring the setting fails instead of passing
    // late; far over the 100 ms configured.
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "the server closes an idle connection: {read:?}"
    );
    app.shutdown().await;
}
