//! The HTTP side of nano-ws's standalone WebSocket listener: upgrade requests it refuses (405,
//! 400, 503), the time a client has to send its request headers, and frames a client sends
//! right behind its request.

use std::net::SocketAddr;
use std::time::Duration;

use nano_client::Client;
use nano_core::prelude::*;
use nano_ws::WsConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the server to answer or close: far beyond the short header
/// timeout configured here, far below the 10 s default.
const DEADLINE: Duration = Duration::from_secs(5);

struct Echo;

#[component(name = "echo")]
impl Echo {
    #[handler]
    fn say(&self, _session: &Session, text: String) -> String {
        text
    }
}

async fn app_with_ws(config: WsConfig) -> (App, SocketAddr) {
    let app = App::builder().register(Echo).build().unwrap();
    let ws = nano_ws::listen(&app, "127.0.0.1:0", config).await.unwrap();
    (app, ws)
}

/// An upgrade request for `/`, valid unless `edit` changes it: `edit` gets the request line
/// and the header lines, and may change or remove any of them.
fn upgrade_request(edit: impl FnOnce(&mut Vec<String>)) -> String {
    let mut lines: Vec<String> = [
        "GET / HTTP/1.1",
        "Host: x",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ]
    .map(str::to_owned)
    .to_vec();
    edit(&mut lines);
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

/// Drops the header line starting with `name`.
fn without(lines: &mut Vec<String>, name: &str) {
    lines.retain(|line| !line.starts_with(name));
}

/// One HTTP response: its head (status line and headers) and its body.
#[derive(Debug)]
struct Response {
    head: String,
    body: String,
}

impl Response {
    fn status(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or("")
    }

    /// The value of header `name` (case-insensitive), if present.
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Reads one response from `stream` (its head, then `Content-Length` bytes of body).
async fn read_response(stream: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0; 1024];
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut chunk))
            .await
            .expect("no response in time")
            .expect("read");
        assert!(
            n > 0,
            "closed mid-response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut response = Response {
        head,
        body: String::new(),
    };
    let len: usize = response
        .header("content-length")
        .map_or(0, |len| len.parse().unwrap());
    let mut body = buf[head_end..].to_vec();
    body.resize(len, 0);
    let have = buf.len() - head_end;
    tokio::time::timeout(DEADLINE, stream.read_exact(&mut body[have..]))
        .await
        .expect("no body in time")
        .expect("read the body");
    response.body = String::from_utf8(body).unwrap();
    response
}

/// Sends `request` on a new connection and reads the response.
async fn exchange(addr: SocketAddr, request: &str) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(&mut stream).await
}

/// Waits for the server to close `stream`, reading nothing; `false` if it is still open at the
/// deadline.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0; 1];
    match tokio::time::timeout(DEADLINE, stream.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) => panic!("the server sent data: {byte:?}"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn an_upgrade_that_is_not_a_get_is_refused_with_405() {
    let (app, ws) = app_with_ws(WsConfig::new()).await;
    for method in ["POST", "PUT", "DELETE"] {
        let request = upgrade_request(|lines| lines[0] = format!("{method} / HTTP/1.1"));
        let response = exchange(ws, &request).await;
        assert_eq!(response.status(), "405", "{method}: {response:?}");
        assert_eq!(response.body, "WebSocket upgrades use GET\n");
    }
    assert_eq!(app.metrics().sessions_total, 0, "nothing upgraded");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_websocket_headers_are_refused_with_400() {
    let (app, ws) = app_with_ws(WsConfig::new()).await;
    let old_version = upgrade_request(|lines| {
        without(lines, "Sec-WebSocket-Version");
        lines.push("Sec-WebSocket-Version: 8".to_owned());
    });
    let no_version = upgrade_request(|lines| without(lines, "Sec-WebSocket-Version"));
    for request in [old_version, no_version] {
        let response = exchange(ws, &request).await;
        assert_eq!(response.status(), "400", "{request}: {response:?}");
        assert_eq!(response.body, "unsupported WebSocket version\n");
        // RFC 6455 4.4: the refusal names the version the server speaks.
        assert_eq!(response.header("sec-websocket-version"), Some("13"));
    }
    let no_key = upgrade_request(|lines| without(lines, "Sec-WebSocket-Key"));
    let response = exchange(ws, &no_key).await;
    assert_eq!(response.status(), "400", "{response:?}");
    assert_eq!(response.body, "missing Sec-WebSocket-Key\n");
    assert_eq!(app.metrics().sessions_total, 0, "nothing upgraded");

    // The same request with its headers right upgrades.
    let response = exchange(ws, &upgrade_request(|_| {})).await;
    assert_eq!(response.status(), "101", "{response:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn an_upgrade_once_shutdown_has_started_is_refused_with_503() {
    let (app, ws) = app_with_ws(WsConfig::new()).await;
    // A kept-alive HTTP connection, accepted before the shutdown.
    let mut stream = TcpStream::connect(ws).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await.status(), "426");

    app.shutdown().await;
    let request = upgrade_request(|_| {});
    stream.write_all(request.as_bytes()).await.unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!(response.status(), "503", "{response:?}");
    assert_eq!(response.body, "shutting down\n");
    assert_eq!(app.metrics().sessions_total, 0, "nothing upgraded");
}

#[tokio::test]
async fn a_client_slow_to_send_its_headers_is_closed_at_the_header_read_timeout() {
    let config = WsConfig::new().header_read_timeout(Duration::from_millis(200));
    let (app, ws) = app_with_ws(config).await;
    // Upgraded in time: the header timeout no longer applies to it.
    let client = Client::connect(&format!("ws://{ws}/")).await.unwrap();

    let mut silent = TcpStream::connect(ws).await.unwrap();
    assert!(
        closed_by_server(&mut silent).await,
        "a connection that sends nothing is still open"
    );
    let mut partial = TcpStream::connect(ws).await.unwrap();
    partial
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut partial).await,
        "a connection whose headers never end is still open"
    );
    // A kept-alive connection gets the same time for its next request's headers.
    let mut idle = TcpStream::connect(ws).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut idle).await.status(), "426");
    assert!(
        closed_by_server(&mut idle).await,
        "an idle kept-alive connection is still open"
    );

    // The header timeout has passed for the upgraded client too, which is still served.
    let echo: String = client.request("echo.say", &"still here").await.unwrap();
    assert_eq!(echo, "still here");
    assert_eq!(app.metrics().sessions_open, 1);
    app.shutdown().await;
}

/// A masked binary WebSocket frame (as a client sends them) holding `payload` (under 126
/// bytes).
fn masked_binary_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x82, 0x80 | u8::try_from(payload.len()).unwrap()];
    frame.extend_from_slice(&mask);
    frame.extend(
        payload
            .iter()
            .zip(mask.iter().cycle())
            .map(|(byte, key)| byte ^ key),
    );
    frame
}

/// The payload of the first server frame in `bytes`, once all of it is there.
fn first_frame(bytes: &[u8]) -> Option<&[u8]> {
    let (len, start) = match *bytes.get(1)? & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
            4,
        ),
        127 => panic!("an unexpectedly long frame"),
        len => (usize::from(len), 2),
    };
    bytes.get(start..start + len)
}

#[tokio::test]
async fn frames_sent_right_behind_the_upgrade_request_are_read() {
    // A client may send its first frames before the 101 arrives; the listener reads them with
    // the request, and they must reach the session all the same.
    let (app, ws) = app_with_ws(WsConfig::new()).await;
    let mut stream = TcpStream::connect(ws).await.unwrap();
    let body = br#"{"sys":{"type":"test","version":"0.1"},"user":{}}"#;
    let mut handshake = vec![0x01, 0, 0, u8::try_from(body.len()).unwrap()];
    handshake.extend_from_slice(body);
    let mut bytes = upgrade_request(|_| {}).into_bytes();
    bytes.extend(masked_binary_frame(&handshake));
    stream.write_all(&bytes).await.unwrap();
    let mut buf = Vec::new();
    let (head, payload) = loop {
        if let Some(at) = buf.windows(4).position(|window| window == b"\r\n\r\n")
            && let Some(payload) = first_frame(&buf[at + 4..])
        {
            break (
                String::from_utf8_lossy(&buf[..at]).into_owned(),
                payload.to_vec(),
            );
        }
        let mut chunk = [0; 1024];
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut chunk))
            .await
            .expect("no answer in time")
            .expect("read");
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    };
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(payload[0], 0x01, "a handshake response: {payload:?}");
    let answer = String::from_utf8_lossy(&payload[4..]);
    assert!(answer.contains(r#""code":200"#), "{answer}");
    app.shutdown().await;
}
