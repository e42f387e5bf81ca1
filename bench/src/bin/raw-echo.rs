//! # raw-echo: the reference for what this machine allows
//!
//! ```sh
//! cargo run --release -p nano-bench --bin raw-echo -- --tcp 127.0.0.1:3290 --ws 127.0.0.1:3291
//! ```
//!
//! A tokio server speaking the same packet framing with no framework: it decodes packets,
//! answers the handshake, echoes each request's body in a response with the same id, and
//! pushes each notify's body back as `pong`. No sessions, routing, queues or timers: whatever
//! nano-rs does on top costs the difference between this server and it. Over WebSocket
//! (`--ws`) it uses tokio-tungstenite as nano-ws does (its buffer sizes, each packet one binary
//! message), so the WebSocket reference has the same library cost and nothing else.

#![allow(clippy::print_stdout)]

use bytes::BytesMut;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use nano_core::protocol::{
    EncodedPacket, HandshakeResponse, Message, Packet, PacketCodec, PacketType, Route, ServerSys,
    encode_data_packet,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::codec::{Decoder, Encoder};

/// The framing of the nano protocol with no framework: echoes requests, pushes notifies back.
#[derive(Parser)]
#[command(name = "raw-echo")]
struct Flags {
    /// Address to listen on
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3290")]
    tcp: String,
    /// Address to listen on for WebSocket connections (any path)
    #[arg(long, value_name = "HOST:PORT")]
    ws: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let flags = Flags::parse();
    let listener = TcpListener::bind(&flags.tcp).await?;
    let ws = match &flags.ws {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let ws_addr = match &ws {
        Some(ws) => format!(" ws={}", ws.local_addr()?),
        None => String::new(),
    };
    println!("raw-echo listening tcp={}{ws_addr}", listener.local_addr()?);
    if let Some(ws) = ws {
        tokio::spawn(accept(ws, |stream| tokio::spawn(serve_ws(stream))));
    }
    accept(listener, |stream| tokio::spawn(serve(stream))).await
}

/// Accepts connections on `listener` forever, handing each to `serve`.
async fn accept<F>(listener: TcpListener, serve: F) -> std::io::Result<()>
where
    F: Fn(TcpStream) -> tokio::task::JoinHandle<()>,
{
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        serve(stream);
    }
}

/// The Handshake packet answering every handshake (no heartbeat).
fn handshake() -> EncodedPacket {
    let reply = HandshakeResponse::ok(ServerSys {
        heartbeat: None,
        ..ServerSys::default()
    })
    .to_json();
    EncodedPacket::from_packet(&Packet::handshake(reply)).expect("small packet")
}

/// Appends the answer to `packet` to `output`: the handshake for a handshake, the echo for a
/// request, the `pong` push for a notify, nothing for the rest. `Err` closes the connection.
fn answer(
    packet: Packet,
    handshake: &EncodedPacket,
    codec: &mut PacketCodec,
    output: &mut BytesMut,
) -> Result<(), ()> {
    match packet.kind {
        PacketType::Handshake => codec.encode(handshake.clone(), output).map_err(drop),
        PacketType::Data => {
            let answer = match Message::decode(packet.body).map_err(drop)? {
                Message::Request { id, payload, .. } => Message::Response {
                    id,
                    payload,
                    error: false,
                },
                Message::Notify { payload, .. } => Message::Push {
                    route: Route::from("pong"),
                    payload,
                },
                _ => return Err(()),
            };
            encode_data_packet(&answer, None, output).map_err(drop)
        }
        _ => Ok(()),
    }
}

/// Answers every whole packet in `input`, appending the answers to `output`; `each` sees
/// `output` after every packet. `Err` (a bad packet) closes the connection.
fn answer_all(
    input: &mut BytesMut,
    codec: &mut PacketCodec,
    handshake: &EncodedPacket,
    output: &mut BytesMut,
    mut each: impl FnMut(&mut BytesMut),
) -> Result<(), ()> {
    while let Some(packet) = codec.decode(input).map_err(drop)? {
        answer(packet, handshake, codec, output)?;
        each(output);
    }
    Ok(())
}

/// One TCP connection: every packet read is answered, the answers written together.
async fn serve(mut stream: TcpStream) {
    let handshake = handshake();
    let mut codec = PacketCodec::default();
    let mut input = BytesMut::with_capacity(8 * 1024);
    let mut output = BytesMut::with_capacity(8 * 1024);
    loop {
        match stream.read_buf(&mut input).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if answer_all(&mut input, &mut codec, &handshake, &mut output, |_| {}).is_err() {
            return;
        }
        if !output.is_empty() {
            if stream.write_all(&output).await.is_err() {
                return;
            }
            output.clear();
        }
    }
}

/// One WebSocket connection: the packets of each binary message are answered, each answer a
/// binary message of its own (as nano-ws sends them), flushed together.
async fn serve_ws(stream: TcpStream) {
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024);
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    let handshake = handshake();
    let mut codec = PacketCodec::default();
    let mut input = BytesMut::with_capacity(4 * 1024);
    let mut output = BytesMut::with_capacity(4 * 1024);
    while let Some(Ok(message)) = ws.next().await {
        let WsMessage::Binary(bytes) = message else {
            continue;
        };
        input.extend_from_slice(&bytes);
        let mut replies = Vec::new();
        let split = |output: &mut BytesMut| {
            if !output.is_empty() {
                replies.push(WsMessage::Binary(output.split().freeze()));
            }
        };
        if answer_all(&mut input, &mut codec, &handshake, &mut output, split).is_err() {
            return;
        }
        if replies.is_empty() {
            continue;
        }
        for reply in replies {
            if ws.feed(reply).await.is_err() {
                return;
            }
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}
