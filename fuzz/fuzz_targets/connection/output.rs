//! What the server may send a client, given what that client sent: checks the whole output of
//! one connection of the `connection` target.
//!
//! - It is whole packets, nothing left over.
//! - A handshake reply only to a client that sent a handshake, at most one, and first.
//! - Heartbeats and Data only after a reply with code 200, to a client that sent the ack.
//! - Data is only responses and pushes, decoded with the reply's dictionary: a response
//!   answers a request the client sent (no more responses to an id than requests with it,
//!   never id 0), a push is one of the app's push routes.
//! - A Kick is the last packet, and parses.

use std::collections::HashMap;

use bytes::BytesMut;
use nano_core::protocol::{
    HandshakeResponse, Kick, MAX_FRAME_BODY_LEN, Message, Packet, PacketCodec, PacketType,
    RouteDict,
};
use tokio_util::codec::Decoder;

/// What a client sent that the server may answer.
#[derive(Default)]
pub struct Sent {
    handshake: bool,
    ack: bool,
    /// Request ids (not 0) and how many requests had each.
    requests: HashMap<u64, usize>,
}

/// Reads the client's bytes as the server does (packets of at most `max_body` bytes, up to
/// the first that does not decode).
pub fn sent(input: &[u8], max_body: usize) -> Sent {
    let mut sent = Sent::default();
    let mut codec = PacketCodec::new(max_body);
    let mut buf = BytesMut::from(input);
    while let Ok(Some(packet)) = codec.decode(&mut buf) {
        match packet.kind {
            PacketType::Handshake => sent.handshake = true,
            PacketType::HandshakeAck => sent.ack = true,
            PacketType::Data => {
                if let Ok(Message::Request { id, .. }) = Message::decode(packet.body)
                    && id != 0
                {
                    *sent.requests.entry(id).or_default() += 1;
                }
            }
            PacketType::Heartbeat | PacketType::Kick => {}
        }
    }
    sent
}

/// The server's packets: the output must decode to whole packets.
fn packets(output: &[u8]) -> Vec<Packet> {
    let mut codec = PacketCodec::new(MAX_FRAME_BODY_LEN);
    let mut buf = BytesMut::from(output);
    let mut packets = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(packet)) => packets.push(packet),
            Ok(None) => break,
            Err(err) => panic!("the server sent a bad packet: {err}"),
        }
    }
    assert!(buf.is_empty(), "the server's output ends in half a packet");
    packets
}

/// The connection as the client sees it so far.
struct Seen<'a> {
    sent: &'a Sent,
    push_routes: &'a [&'a str],
    /// The dictionary of an accepted handshake; `None` before one.
    accepted: Option<RouteDict>,
    answered: HashMap<u64, usize>,
}

/// Checks everything the server sent (`output`) against what the client `sent`.
pub fn check(sent: &Sent, output: &[u8], push_routes: &[&str]) {
    let packets = packets(output);
    let mut seen = Seen {
        sent,
        push_routes,
        accepted: None,
        answered: HashMap::new(),
    };
    for (i, packet) in packets.iter().enumerate() {
        match packet.kind {
            PacketType::Handshake => seen.reply(packet, i),
            PacketType::HandshakeAck => panic!("the server sent a handshake ack"),
            PacketType::Heartbeat => {
                seen.working("a heartbeat");
                assert!(packet.body.is_empty(), "a heartbeat with a body");
            }
            PacketType::Data => seen.data(packet),
            PacketType::Kick => {
                assert_eq!(i + 1, packets.len(), "a packet after the Kick");
                Kick::from_json(&packet.body).expect("the Kick parses");
            }
        }
    }
}

impl Seen<'_> {
    fn reply(&mut self, packet: &Packet, index: usize) {
        assert!(self.sent.handshake, "a handshake reply without a handshake");
        assert_eq!(index, 0, "the handshake reply is not the first packet");
        let reply = HandshakeResponse::from_json(&packet.body).expect("the reply parses");
        if reply.code == HandshakeResponse::OK {
            let sys = reply.sys.expect("an accepted handshake has sys");
            self.accepted = Some(sys.dict.unwrap_or_default());
        }
    }

    /// `what` may only follow an accepted handshake and the client's ack.
    fn working(&self, what: &str) -> &RouteDict {
        assert!(self.sent.ack, "{what} to a client that never sent the ack");
        self.accepted
            .as_ref()
            .unwrap_or_else(|| panic!("{what} without an accepted handshake"))
    }

    fn data(&mut self, packet: &Packet) {
        let dict = self.working("data");
        let message = Message::decode_with(packet.body.clone(), dict).expect("data decodes");
        match message {
            Message::Response { id, .. } => {
                let answered = self.answered.entry(id).or_default();
                *answered += 1;
                let requests = self.sent.requests.get(&id).copied().unwrap_or(0);
                assert!(
                    *answered <= requests,
                    "response {id} to no request of that id"
                );
            }
            Message::Push { route, .. } => {
                let name = route.name().map(|name| name.as_str()).unwrap_or_default();
                assert!(self.push_routes.contains(&name), "a push to `{name}`");
            }
            other => panic!("the server sent {other:?}"),
        }
    }
}
