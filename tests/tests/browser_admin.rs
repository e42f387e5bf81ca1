//! The admin page in a real browser: headless Chromium (Debian's `chromium`, installed by the
//! test command) drives the chat example's admin page through playwright-core. A wrong token
//! is refused; with the right one, the requests-per-second chart shows the messages this test
//! sends (read from the chart's data in the DOM, not its pixels), and the kick button of a
//! chosen session disconnects that client, which leaves the list. A screenshot is saved as
//! `target/browser-admin.png` (docs/admin.png is a copy).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nano_client::{Client, CloseReason};
use nano_tests::{examples, node};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "browser-test-token";

/// The sessions the admin API lists now.
async fn listed_sessions(admin: &str) -> Vec<Value> {
    let mut stream = tokio::net::TcpStream::connect(admin).await.unwrap();
    let request = format!(
        "GET /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {TOKEN}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap();
    let body: Value = serde_json::from_str(body).unwrap();
    body["sessions"].as_array().unwrap().clone()
}

async fn join(chat: &str, name: &str) -> Client {
    let client = Client::connect(chat).await.unwrap();
    let _: Value = client
        .request("room.join", &json!({ "name": name }))
        .await
        .unwrap();
    client
}

#[test]
fn the_admin_page_charts_traffic_and_kicks_the_chosen_session() {
    assert!(
        std::path::Path::new(
            &std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
        )
        .exists(),
        "headless Chromium is missing: install Debian's `chromium` (./scripts/test.sh does)"
    );
    let chat = examples::start(
        "chat",
        &[
            "--http",
            "127.0.0.1:0",
            "--tcp",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--admin-token",
            TOKEN,
        ],
    );
    let (tcp, admin) = (chat.addr("tcp").to_owned(), chat.addr("admin").to_owned());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // The victim connects first, alone, so the API names its session.
    let (victim, victim_id) = runtime.block_on(async {
        let victim = join(&tcp, "victim").await;
        let sessions = listed_sessions(&admin).await;
        assert_eq!(sessions.len(), 1, "{sessions:?}");
        (victim, sessions[0]["id"].as_u64().unwrap())
    });
    let talker = runtime.block_on(join(&tcp, "talker"));
    // Traffic for the chart, until the page has seen it.
    let talking = Arc::new(AtomicBool::new(true));
    let traffic = runtime.spawn({
        let talking = talking.clone();
        async move {
            while talking.load(Ordering::Relaxed) {
                let message = json!({ "name": "talker", "content": "hello" });
                talker.notify("room.message", &message).await.unwrap();
                // Pacing for a steady rate, not a wait for anything.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            talker
        }
    });

    let screenshot = examples::target_dir()
        .parent()
        .expect("target")
        .join("browser-admin.png");
    let _ = std::fs::remove_file(&screenshot);
    let url = format!("http://{admin}/");
    let id = victim_id.to_string();
    let output = node::run_script(
        "browser-admin.js",
        &[
            &url,
            TOKEN,
            "room.message",
            &id,
            &screenshot.display().to_string(),
        ],
        b"",
    );
    talking.store(false, Ordering::Relaxed);
    let seen: Value =
        serde_json::from_str(output.trim()).unwrap_or_else(|_| panic!("bad output: {output}"));

    assert!(
        seen["wrongTokenStatus"].to_string().contains("wrong"),
        "{seen}"
    );
    let rates = seen["rateValues"].as_array().expect("chart values");
    assert!(
        rates
            .iter()
            .any(|rate| rate.as_f64().is_some_and(|r| r > 0.0)),
        "the chart shows the traffic: {seen}"
    );
    assert_eq!(seen["sessionsNow"], 2, "{seen}");
    assert_eq!(seen["groups"], json!(["room:2"]), "{seen}");
    let before = seen["sessionsBefore"].as_array().unwrap();
    assert!(
        before.contains(&json!(victim_id)) && before.len() == 2,
        "{seen}"
    );
    assert_eq!(seen["sessionsAfter"].as_array().unwrap().len(), 1, "{seen}");
    assert!(
        !seen["sessionsAfter"]
            .as_array()
            .unwrap()
            .contains(&json!(victim_id))
    );

    runtime.block_on(async {
        assert_eq!(
            victim.closed().await,
            CloseReason::Kicked {
                reason: "kicked by admin".into()
            }
        );
        let talker = traffic.await.unwrap();
        assert!(talker.is_connected(), "only the chosen session was kicked");
    });
    assert!(screenshot.exists(), "screenshot saved");
}
