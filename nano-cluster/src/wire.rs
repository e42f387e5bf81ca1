//! What travels between nodes over NATS: a JSON header and raw payload bytes,
//! `[header length: u32 big-endian][header JSON][payload]`.

use std::fmt;
use std::marker::PhantomData;

use bytes::{BufMut, Bytes, BytesMut};
use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Room for a header written in place: most are smaller (a call's is about 100 bytes).
const HEADER_ROOM: usize = 160;

/// Encodes a header and a payload: the header's JSON is written in place, after a length
/// filled in once it is known (one buffer, no copy of the header).
pub(crate) fn encode<H: Serialize>(header: &H, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(4 + HEADER_ROOM + payload.len());
    out.put_u32(0);
    if serde_json::to_writer((&mut out).writer(), header).is_err() {
        out.truncate(4); // An empty header, which no reader takes.
    }
    let len = u32::try_from(out.len() - 4).unwrap_or(0);
    out[..4].copy_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.freeze()
}

/// Decodes a header and the payload that follows; `None` for malformed bytes.
pub(crate) fn decode<H: DeserializeOwned>(bytes: &Bytes) -> Option<(H, Bytes)> {
    let len = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    let header = serde_json::from_slice(bytes.get(4..4 + len)?).ok()?;
    Some((header, bytes.slice(4 + len..)))
}

/// The client session a forwarded message or an RPC belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SessionInfo {
    /// The node the client is connected to.
    pub(crate) gate: String,
    pub(crate) id: u64,
    pub(crate) uid: Option<i64>,
    #[serde(default)]
    pub(crate) synced: Map<String, Value>,
}

/// A call of a route on another node.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Call {
    pub(crate) route: String,
    /// 0 for a notify.
    pub(crate) mid: u64,
    pub(crate) session: Option<SessionInfo>,
}

/// What an [`Answer`] carries (read by [`Kind`]: a name this version does not know is kept).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AnswerKind {
    /// The handler's reply: the payload.
    Payload,
    /// The handler's error: [`Answer::code`] and [`Answer::msg`].
    Error,
    /// Nothing to answer (a notify, or a handler that answers later).
    #[default]
    None,
    /// A kind this version does not know (sent by a newer node), as it was named.
    #[serde(untagged)]
    Unknown(String),
}

/// The answer to a [`Call`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Answer {
    pub(crate) kind: AnswerKind,
    #[serde(default)]
    pub(crate) code: i32,
    #[serde(default)]
    pub(crate) msg: String,
    /// The session's uid after the handler ran.
    #[serde(default)]
    pub(crate) uid: Option<i64>,
    /// Synchronized values the handler set (or changed)...
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) synced_set: Map<String, Value>,
    /// ...and removed: merged into the caller's values, so that concurrent changes of other
    /// keys survive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) synced_removed: Vec<String>,
}

impl Answer {
    /// Records how the synchronized values went from `before` to `after`.
    pub(crate) fn synced_changes(
        &mut self,
        before: &Map<String, Value>,
        after: Map<String, Value>,
    ) {
        self.synced_removed = before
            .keys()
            .filter(|key| !after.contains_key(*key))
            .cloned()
            .collect();
        self.synced_set = after
            .into_iter()
            .filter(|(key, value)| before.get(key) != Some(value))
            .collect();
    }
}

/// What an [`Event`] is (read by [`Kind`]: a name this version does not know is kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EventKind {
    /// A push (or late response): the payload is an encoded packet.
    Packet,
    /// Kick the client, with the reason in [`Event::name`].
    Kick,
    /// Close the client's connection.
    Close,
    /// Add the client to the cluster group named in [`Event::name`] (confirmed: see
    /// [`Event`]).
    Join,
    /// Remove the client from the cluster group named in [`Event::name`].
    Leave,
    /// Push the broadcast held under [`Event::key`] to group [`Event::name`] now: it was held
    /// so as to keep its place among the session's pushes and answers.
    Release,
    /// A kind this version does not know (sent by a newer node), as it was named: ignored.
    #[serde(untagged)]
    Unknown(String),
}

impl NamedKind for AnswerKind {
    fn named(name: &str) -> Self {
        match name {
            "payload" => Self::Payload,
            "error" => Self::Error,
            "none" => Self::None,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl<'de> Deserialize<'de> for AnswerKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Kind(PhantomData))
    }
}

impl NamedKind for EventKind {
    fn named(name: &str) -> Self {
        match name {
            "packet" => Self::Packet,
            "kick" => Self::Kick,
            "close" => Self::Close,
            "join" => Self::Join,
            "leave" => Self::Leave,
            "release" => Self::Release,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Kind(PhantomData))
    }
}

/// A kind of message known by its name, as it is serialized (`rename_all = "lowercase"`),
/// or kept as named when this version does not know it.
trait NamedKind: Sized {
    fn named(name: &str) -> Self;
}

/// Reads a [`NamedKind`] from a string, without first copying the value aside (serde's
/// derive does for an untagged variant, which cost an allocation per answer).
struct Kind<K>(PhantomData<K>);

impl<K: NamedKind> Visitor<'_> for Kind<K> {
    type Value = K;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the name of a kind")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<K, E> {
        Ok(K::named(name))
    }
}

/// Something a backend's handlers did to a client connected to a gate. One sent as a request
/// is confirmed with an empty reply, or with what went wrong.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Event {
    pub(crate) session: u64,
    pub(crate) kind: EventKind,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) key: String,
}

impl Event {
    /// An event of `kind` for `session` (a group's `name`, or a kick's reason).
    pub(crate) fn new(session: u64, kind: EventKind, name: impl Into<String>) -> Self {
        Self {
            session,
            kind,
            name: name.into(),
            key: String::new(),
        }
    }
}

/// A node's announcement: in full (with its routes) when it starts, when another node starts
/// and when asked; as a heartbeat (without routes) every second. A node's routes do not change
/// while it runs, so heartbeats stay small however many routes and nodes there are.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Announce {
    pub(crate) node: String,
    /// Which run of the node this is: random per process.
    #[serde(default)]
    pub(crate) instance: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) routes: Option<Vec<String>>,
}

/// A gate's client left.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Closed {
    pub(crate) gate: String,
    pub(crate) session: u64,
}

/// A broadcast to a cluster group.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct GroupPush {
    pub(crate) route: String,
    /// Set when a handler broadcast on behalf of a client of `gate`: that gate holds the
    /// broadcast until the `release` event with this key, which follows the handler's earlier
    /// pushes and precedes its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) held: Option<Held>,
}

/// Where and under which key a broadcast is held (see [`GroupPush::held`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Held {
    pub(crate) gate: String,
    pub(crate) key: String,
}

#[cfg(test)]
mod golden;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_carry_only_changed_synced_values() {
        let before = json!({ "room": "lobby", "name": "ann", "level": 3 });
        let after = json!({ "room": "arena", "name": "ann", "score": 10 });
        let mut answer = Answer::default();
        answer.synced_changes(
            before.as_object().unwrap(),
            after.as_object().unwrap().clone(),
        );
        assert_eq!(
            Value::Object(answer.synced_set.clone()),
            json!({ "room": "arena", "score": 10 })
        );
        assert_eq!(answer.synced_removed, ["level"]);
    }

    #[test]
    fn frames_round_trip_and_malformed_ones_are_refused() {
        let event = Event::new(7, EventKind::Kick, "bye".to_owned());
        let bytes = encode(&event, b"payload");
        let (decoded, payload) = decode::<Event>(&bytes).unwrap();
        assert_eq!((decoded.session, &payload[..]), (7, &b"payload"[..]));
        for bad in [
            &b""[..],
            b"\x00\x00",
            b"\x00\x00\x00\x09{}",
            b"\x00\x00\x00\x02[]",
        ] {
            assert!(decode::<Event>(&Bytes::copy_from_slice(bad)).is_none());
        }
    }

    #[test]
    fn kinds_unknown_to_this_version_decode_as_unknown() {
        let frame = |header: &str| {
            let mut bytes = u32::try_from(header.len()).unwrap().to_be_bytes().to_vec();
            bytes.extend_from_slice(header.as_bytes());
            Bytes::from(bytes)
        };
        let (event, _) =
            decode::<Event>(&frame(r#"{"session":7,"kind":"teleport","name":"x"}"#)).unwrap();
        assert_eq!(event.kind, EventKind::Unknown("teleport".to_owned()));
        let (answer, _) = decode::<Answer>(&frame(r#"{"kind":"later","code":0}"#)).unwrap();
        assert_eq!(answer.kind, AnswerKind::Unknown("later".to_owned()));
        // Passed on as they came.
        assert_eq!(serde_json::to_string(&answer.kind).unwrap(), r#""later""#);
        // A kind that is not a name is a malformed frame.
        assert!(decode::<Event>(&frame(r#"{"session":7,"kind":3}"#)).is_none());
        assert!(decode::<Answer>(&frame(r#"{"kind":null}"#)).is_none());
    }
}
