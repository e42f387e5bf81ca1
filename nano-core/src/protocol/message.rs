//! The message layer: the body of a Data packet.
//!
//! `[flag: 1][id: varint, Request and Response only][route: Request, Notify, Push only][payload]`

use bytes::{BufMut, Bytes, BytesMut};

use super::packet::put_header;
use super::{PacketType, ProtocolError, Route, RouteDict, RouteName, route::MAX_ROUTE_LEN, varint};

/// Flag bit 0: the route is a 2-byte dictionary code.
const FLAG_COMPRESSED_ROUTE: u8 = 0x01;
/// Flag bit 5: pitaya's "this response is an error"; only sent to clients that asked for it.
const FLAG_ERROR: u8 = 0x20;
/// Flag bits that are neither the route bit, the type bits nor the error bit.
const FLAG_UNSUPPORTED: u8 = 0xd0;

/// The four message types, as numbered on the wire (flag bits 1..=3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Client to server, expects a Response with the same id.
    Request = 0,
    /// Client to server, no answer.
    Notify = 1,
    /// Server to client, answers the Request with the same id.
    Response = 2,
    /// Server to client, unsolicited.
    Push = 3,
}

impl MessageType {
    /// The type's name, for logs and errors.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageType::Request => "request",
            MessageType::Notify => "notify",
            MessageType::Response => "response",
            MessageType::Push => "push",
        }
    }
}

impl TryFrom<u8> for MessageType {
    type Error = ProtocolError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            0 => Ok(MessageType::Request),
            1 => Ok(MessageType::Notify),
            2 => Ok(MessageType::Response),
            3 => Ok(MessageType::Push),
            other => Err(ProtocolError::InvalidMessageType(other)),
        }
    }
}

/// One message: what a Data packet carries.
///
/// Each variant holds exactly the fields its type has on the wire, so a Response cannot carry a
/// route and a Notify cannot carry an id. Payloads are [`Bytes`]: decoding slices them out of
/// the packet body without copying.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use nano_core::protocol::{Message, Route};
///
/// let request = Message::Request {
///     id: 1,
///     route: Route::from("room.join"),
///     payload: Bytes::from_static(b"{}"),
/// };
/// let bytes = request.to_bytes(None)?;
/// assert_eq!(&bytes[..], b"\x00\x01\x09room.join{}");
/// assert_eq!(Message::decode(bytes)?, request);
/// # Ok::<(), nano_core::protocol::ProtocolError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A request from a client; the server answers with a [`Message::Response`] of the same id.
    Request {
        /// Request id chosen by the client (clients start at 1).
        id: u64,
        /// The handler's route.
        route: Route,
        /// Serialized body.
        payload: Bytes,
    },
    /// A one-way message from a client.
    Notify {
        /// The handler's route.
        route: Route,
        /// Serialized body.
        payload: Bytes,
    },
    /// The server's answer to a request.
    Response {
        /// Id of the request this answers.
        id: u64,
        /// Serialized body.
        payload: Bytes,
        /// pitaya's error flag (0x20). Plain pomelo/nano clients do not understand it, so it is
        /// only set for clients that negotiated it; nano-rs otherwise reports errors in the body.
        error: bool,
    },
    /// A message the server sends without being asked.
    Push {
        /// Route the client listens on, e.g. `onMessage`.
        route: Route,
        /// Serialized body.
        payload: Bytes,
    },
}

/// How a route will be written: the choice between name and code, made before anything is
/// written so that a failed encode leaves the destination untouched.
enum WireRoute<'a> {
    None,
    Code(u16),
    Name(&'a [u8]),
}

impl WireRoute<'_> {
    fn len(&self) -> usize {
        match self {
            WireRoute::None => 0,
            WireRoute::Code(_) => 2,
            WireRoute::Name(name) => 1 + name.len(),
        }
    }
}

impl Message {
    /// The message's type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Request { .. } => MessageType::Request,
            Message::Notify { .. } => MessageType::Notify,
            Message::Response { .. } => MessageType::Response,
            Message::Push { .. } => MessageType::Push,
        }
    }

    /// The message id, for Requests and Responses.
    pub fn id(&self) -> Option<u64> {
        match self {
            Message::Request { id, .. } | Message::Response { id, .. } => Some(*id),
            Message::Notify { .. } | Message::Push { .. } => None,
        }
    }

    /// The route, for every type but Response.
    pub fn route(&self) -> Option<&Route> {
        match self {
            Message::Request { route, .. }
            | Message::Notify { route, .. }
            | Message::Push { route, .. } => Some(route),
            Message::Response { .. } => None,
        }
    }

    /// The serialized body.
    pub fn payload(&self) -> &Bytes {
        match self {
            Message::Request { payload, .. }
            | Message::Notify { payload, .. }
            | Message::Response { payload, .. }
            | Message::Push { payload, .. } => payload,
        }
    }

    /// The serialized body, for a pipeline stage that rewrites it.
    pub fn payload_mut(&mut self) -> &mut Bytes {
        match self {
            Message::Request { payload, .. }
            | Message::Notify { payload, .. }
            | Message::Response { payload, .. }
            | Message::Push { payload, .. } => payload,
        }
    }

    /// Decodes a message from a Data packet's body.
    ///
    /// The route is returned as sent: a compressed route stays a [`Route::Code`]; use
    /// [`RouteDict::resolve`] (or [`Message::decode_with`]) to turn it into a name. The route
    /// name and the payload share `body`'s memory.
    ///
    /// # Errors
    ///
    /// Every malformed input maps to one [`ProtocolError`] variant: [`EmptyMessage`],
    /// [`InvalidMessageType`], [`ReservedFlagBits`], [`TruncatedId`], [`VarintOverflow`],
    /// [`MissingRouteLength`], [`RoutePastEnd`], [`TruncatedRouteCode`], [`InvalidRouteUtf8`].
    ///
    /// [`EmptyMessage`]: ProtocolError::EmptyMessage
    /// [`InvalidMessageType`]: ProtocolError::InvalidMessageType
    /// [`ReservedFlagBits`]: ProtocolError::ReservedFlagBits
    /// [`TruncatedId`]: ProtocolError::TruncatedId
    /// [`VarintOverflow`]: ProtocolError::VarintOverflow
    /// [`MissingRouteLength`]: ProtocolError::MissingRouteLength
    /// [`RoutePastEnd`]: ProtocolError::RoutePastEnd
    /// [`TruncatedRouteCode`]: ProtocolError::TruncatedRouteCode
    /// [`InvalidRouteUtf8`]: ProtocolError::InvalidRouteUtf8
    pub fn decode(body: Bytes) -> Result<Message, ProtocolError> {
        let Some(&flag) = body.first() else {
            return Err(ProtocolError::EmptyMessage);
        };
        let kind = MessageType::try_from((flag >> 1) & 0x07)?;
        let error = flag & FLAG_ERROR != 0;
        if flag & FLAG_UNSUPPORTED != 0 || (error && kind != MessageType::Response) {
            return Err(ProtocolError::ReservedFlagBits(flag));
        }
        let mut offset = 1;

        let id = match kind {
            MessageType::Request | MessageType::Response => {
                let (id, used) = varint::decode(&body[offset..])?;
                offset += used;
                id
            }
            MessageType::Notify | MessageType::Push => 0,
        };

        let compressed = flag & FLAG_COMPRESSED_ROUTE != 0;
        Ok(match kind {
            MessageType::Response => Message::Response {
                id,
                payload: body.slice(offset..),
                error,
            },
            MessageType::Request => {
                let route = read_route(&body, &mut offset, compressed)?;
                Message::Request {
                    id,
                    route,
                    payload: body.slice(offset..),
                }
            }
            MessageType::Notify => {
                let route = read_route(&body, &mut offset, compressed)?;
                Message::Notify {
                    route,
                    payload: body.slice(offset..),
                }
            }
            MessageType::Push => {
                let route = read_route(&body, &mut offset, compressed)?;
                Message::Push {
                    route,
                    payload: body.slice(offset..),
                }
            }
        })
    }

    /// Decodes a message and resolves a compressed route through `dict`.
    ///
    /// # Errors
    ///
    /// As [`Message::decode`], plus [`ProtocolError::UnknownRouteCode`] for a code that `dict`
    /// does not hold.
    pub fn decode_with(body: Bytes, dict: &RouteDict) -> Result<Message, ProtocolError> {
        let mut message = Message::decode(body)?;
        if let Message::Request { route, .. }
        | Message::Notify { route, .. }
        | Message::Push { route, .. } = &mut message
            && let Route::Code(_) = route
        {
            *route = Route::Name(dict.resolve(route)?);
        }
        Ok(message)
    }

    fn wire_route<'a>(&'a self, dict: Option<&RouteDict>) -> Result<WireRoute<'a>, ProtocolError> {
        let Some(route) = self.route() else {
            return Ok(WireRoute::None);
        };
        Ok(match route {
            Route::Code(code) => WireRoute::Code(*code),
            Route::Name(name) => match dict.and_then(|dict| dict.code(name.as_str())) {
                Some(code) => WireRoute::Code(code),
                None if name.len() > MAX_ROUTE_LEN => {
                    return Err(ProtocolError::RouteTooLong(name.len()));
                }
                None => WireRoute::Name(name.as_str().as_bytes()),
            },
        })
    }

    /// Number of bytes [`Message::encode`] writes with the same `dict`.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::RouteTooLong`] for an uncompressed route over 255 bytes.
    pub fn encoded_len(&self, dict: Option<&RouteDict>) -> Result<usize, ProtocolError> {
        Ok(self.len_with(&self.wire_route(dict)?))
    }

    fn len_with(&self, route: &WireRoute<'_>) -> usize {
        let id_len = self.id().map_or(0, varint::encoded_len);
        1 + id_len + route.len() + self.payload().len()
    }

    /// Appends the encoded message to `dst`.
    ///
    /// A route that `dict` holds is written compressed (as its 2-byte code); a [`Route::Code`]
    /// is written as given. Nothing is written when an error is returned.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::RouteTooLong`] for an uncompressed route over 255 bytes: its length
    /// would not fit the 1-byte length field.
    pub fn encode(
        &self,
        dict: Option<&RouteDict>,
        dst: &mut impl BufMut,
    ) -> Result<(), ProtocolError> {
        let route = self.wire_route(dict)?;
        self.write(&route, dst);
        Ok(())
    }

    /// Appends a whole Data packet (header and message), choosing the route's form once.
    pub(crate) fn encode_packet(
        &self,
        dict: Option<&RouteDict>,
        dst: &mut impl BufMut,
    ) -> Result<(), ProtocolError> {
        let route = self.wire_route(dict)?;
        put_header(PacketType::Data, self.len_with(&route), dst)?;
        self.write(&route, dst);
        Ok(())
    }

    /// A whole Data packet in a buffer of exactly the right size.
    pub(crate) fn to_packet_bytes(&self, dict: Option<&RouteDict>) -> Result<Bytes, ProtocolError> {
        let route = self.wire_route(dict)?;
        let len = self.len_with(&route);
        let mut buf = BytesMut::with_capacity(super::HEADER_LEN + len);
        put_header(PacketType::Data, len, &mut buf)?;
        self.write(&route, &mut buf);
        Ok(buf.freeze())
    }

    fn write(&self, route: &WireRoute<'_>, dst: &mut impl BufMut) {
        let kind = self.message_type() as u8;
        let mut flag = kind << 1;
        if matches!(route, WireRoute::Code(_)) {
            flag |= FLAG_COMPRESSED_ROUTE;
        }
        if let Message::Response { error: true, .. } = self {
            flag |= FLAG_ERROR;
        }
        dst.put_u8(flag);
        if let Some(id) = self.id() {
            varint::encode(id, dst);
        }
        match route {
            WireRoute::None => {}
            WireRoute::Code(code) => dst.put_u16(*code),
            WireRoute::Name(name) => {
                // `wire_route` checked the length against MAX_ROUTE_LEN (255).
                #[allow(clippy::cast_possible_truncation)]
                dst.put_u8(name.len() as u8);
                dst.put_slice(name);
            }
        }
        dst.put_slice(self.payload());
    }

    /// Encodes the message into a new buffer of exactly the right size.
    ///
    /// # Errors
    ///
    /// As [`Message::encode`].
    pub fn to_bytes(&self, dict: Option<&RouteDict>) -> Result<Bytes, ProtocolError> {
        let mut buf = Vec::with_capacity(self.encoded_len(dict)?);
        self.encode(dict, &mut buf)?;
        Ok(Bytes::from(buf))
    }
}

/// Reads the route at `*offset`, advancing `offset` past it.
fn read_route(body: &Bytes, offset: &mut usize, compressed: bool) -> Result<Route, ProtocolError> {
    let start = *offset;
    if compressed {
        let Some(&[high, low]) = body.get(start..start + 2) else {
            return Err(ProtocolError::TruncatedRouteCode);
        };
        *offset = start + 2;
        return Ok(Route::Code(u16::from_be_bytes([high, low])));
    }
    let Some(&len) = body.get(start) else {
        return Err(ProtocolError::MissingRouteLength);
    };
    let len = usize::from(len);
    let name_start = start + 1;
    let available = body.len() - name_start;
    if len > available {
        return Err(ProtocolError::RoutePastEnd { len, available });
    }
    let name = RouteName::from_utf8(body.slice(name_start..name_start + len))?;
    *offset = name_start + len;
    Ok(Route::Name(name))
}
