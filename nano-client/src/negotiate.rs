//! Choosing the payload serializer from the server's handshake.
//!
//! The server names its format in `sys.serializer`. The client maps that name to a
//! [`Serializer`] in one place, [`SerializerChoice::resolve`]: the names nano-rs knows
//! (`json`, `msgpack`, and `protobuf` with the `protobuf` feature), then the names the
//! application registered with
//! [`ClientBuilder::accept_serializer`](crate::ClientBuilder::accept_serializer). An application
//! can accept any other format by registering its name and exchanging the encoded bytes itself
//! through
//! [`Client::request_raw`](crate::Client::request_raw), [`Client::notify_raw`](crate::Client::notify_raw)
//! and [`Push::payload`](crate::Push::payload).

use std::collections::BTreeMap;

use nano_core::Serializer;

use crate::ClientError;

/// How the client picks its serializer: forced, or from the server's announcement.
#[derive(Clone, Debug, Default)]
pub(crate) struct SerializerChoice {
    /// Used whatever the server announces.
    pub(crate) forced: Option<Serializer>,
    /// Names the application accepts beyond the built-in ones.
    pub(crate) accepted: BTreeMap<String, Serializer>,
}

impl SerializerChoice {
    /// The serializer for a server announcing `announced` (`None`: the server said nothing,
    /// which means JSON for every nano/Pomelo server).
    pub(crate) fn resolve(&self, announced: Option<&str>) -> Result<Serializer, ClientError> {
        if let Some(forced) = &self.forced {
            return Ok(forced.clone());
        }
        let Some(name) = announced else {
            return Ok(Serializer::Json);
        };
        if let Some(serializer) = self.accepted.get(name) {
            return Ok(serializer.clone());
        }
        Serializer::from_name(name).ok_or_else(|| ClientError::UnsupportedSerializer {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_names_registered_names_and_unknown_names() {
        let choice = SerializerChoice::default();
        assert_eq!(choice.resolve(None).unwrap(), Serializer::Json);
        assert_eq!(choice.resolve(Some("json")).unwrap(), Serializer::Json);
        assert_eq!(
            choice.resolve(Some("msgpack")).unwrap(),
            Serializer::MessagePack
        );
        assert_eq!(
            choice.resolve(Some("protobuf")).unwrap(),
            Serializer::Protobuf
        );
        let err = choice.resolve(Some("cbor")).unwrap_err();
        assert!(
            matches!(&err, ClientError::UnsupportedSerializer { name } if name == "cbor"),
            "{err}"
        );

        let mut accepting = SerializerChoice::default();
        accepting
            .accepted
            .insert("cbor".to_owned(), Serializer::Json);
        assert_eq!(accepting.resolve(Some("cbor")).unwrap(), Serializer::Json);

        let forced = SerializerChoice {
            forced: Some(Serializer::MessagePack),
            ..SerializerChoice::default()
        };
        assert_eq!(
            forced.resolve(Some("anything")).unwrap(),
            Serializer::MessagePack
        );
    }
}
