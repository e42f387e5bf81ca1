//! # raw-echo: the reference for what this machine allows
//!
//! ```sh
//! cargo run --release -p nano-bench --bin raw-echo -- --tcp 127.0.0.1:3290
//! ```
//!
//! A tokio server speaking the same packet framing with no framework: it decodes packets,
//! answers the handshake, echoes each request's body in a response with the same id, and
//! pushes each notify's body back as `pong`. No sessions, routing, queues or timers: whatever
//! nano-rs does on top costs the difference between this server and it.

#![allow(clippy::print_stdout)]

use bytes::BytesMut;
use clap::Parser;
use nano_core::protocol::{
    EncodedPacket, HandshakeResponse, Message, Packet, PacketCodec, PacketType, Route, ServerSys,
    encode_data_packet,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Decoder, Encoder};

/// The framing of the nano protocol with no framework: echoes requests, pushes notifies back.
#[derive(Parser)]
#[command(name = "raw-echo")]
struct Flags {
    /// Address to listen on
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3290")]
    tcp: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let flags = Flags::parse();
    let listener = TcpListener::bind(&flags.tcp).await?;
    println!("raw-echo listening tcp={}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(serve(stream));
    }
}

async fn serve(mut stream: TcpStream) {
    let reply = HandshakeResponse::ok(ServerSys {
        heartbeat: None,
        ..ServerSys::default()
    })
    .to_json();
    let handshake = EncodedPacket::from_packet(&Packet::handshake(reply)).expect("small packet");
    let mut codec = PacketCodec::default();
    let mut input = BytesMut::with_capacity(8 * 1024);
    let mut output = BytesMut::with_capacity(8 * 1024);
    loop {
        match stream.read_buf(&mut input).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            let packet = match codec.decode(&mut input) {
                Ok(Some(packet)) => packet,
                Ok(None) => break,
                Err(_) => return,
            };
            match packet.kind {
                PacketType::Handshake => {
                    let _ = codec.encode(handshake.clone(), &mut output);
                }
                PacketType::Data => {
                    let Ok(message) = Message::decode(packet.body) else {
                        return;
                    };
                    let answer = match message {
                        Message::Request { id, payload, .. } => Message::Response {
                            id,
                            payload,
                            error: false,
                        },
                        Message::Notify { payload, .. } => Message::Push {
                            route: Route::from("pong"),
                            payload,
                        },
                        _ => return,
                    };
                    if encode_data_packet(&answer, None, &mut output).is_err() {
                        return;
                    }
                }
                _ => {}
            }
        }
        if !output.is_empty() {
            if stream.write_all(&output).await.is_err() {
                return;
            }
            output.clear();
        }
    }
}
