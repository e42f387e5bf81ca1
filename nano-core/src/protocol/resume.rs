//! The session-resume extension on the wire (`docs/PROTOCOL-EXTENSIONS.md`): what a client
//! puts in its handshake's `user.resume`, and what the server's reply carries there.
//!
//! Both travel inside the handshake's `user` object, so a client or server that knows nothing
//! of resume sees an ordinary handshake.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key of the extension in the handshake's `user` object.
pub const RESUME_KEY: &str = "resume";

/// A resume token: the session it belongs to and 128 random bits, written
/// `"<session id>.<32 hex digits>"`. Good for one resume.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ResumeToken {
    /// The session the token resumes.
    pub session: u64,
    /// The random part, which only the session's client knows.
    pub secret: u128,
}

impl fmt::Display for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:032x}", self.session, self.secret)
    }
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the secret: logs must not hand sessions out.
        write!(f, "ResumeToken({}.***)", self.session)
    }
}

/// A string that is not `"<session id>.<32 hex digits>"`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a resume token is `<session id>.<32 hex digits>`")]
pub struct BadResumeToken;

impl FromStr for ResumeToken {
    type Err = BadResumeToken;

    fn from_str(text: &str) -> Result<Self, BadResumeToken> {
        let (session, secret) = text.split_once('.').ok_or(BadResumeToken)?;
        let digits =
            |part: &str, radix: u32| !part.is_empty() && part.chars().all(|c| c.is_digit(radix));
        if !digits(session, 10) || secret.len() != 32 || !digits(secret, 16) {
            return Err(BadResumeToken);
        }
        Ok(Self {
            session: session.parse().map_err(|_| BadResumeToken)?,
            secret: u128::from_str_radix(secret, 16).map_err(|_| BadResumeToken)?,
        })
    }
}

/// What a client presents in its handshake's `user.resume` to come back to its session.
///
/// # Examples
///
/// ```
/// use nano_core::protocol::ResumeRequest;
///
/// let user = serde_json::json!({"name": "ann", "resume": {"token": "42.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3f", "received": 17}});
/// let request = ResumeRequest::from_user(&user).expect("a resume request");
/// assert_eq!((request.token.as_str(), request.received), ("42.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3f", 17));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeRequest {
    /// The token of the last handshake reply of the session.
    pub token: String,
    /// Pushes the client received in the session, over every connection of it.
    pub received: u64,
}

impl ResumeRequest {
    /// The request in a handshake's `user` object, if it has a well-formed one.
    pub fn from_user(user: &Value) -> Option<Self> {
        serde_json::from_value(user.get(RESUME_KEY)?.clone()).ok()
    }

    /// Adds this request to a handshake's `user` object (made an object if it is not one),
    /// keeping the application's own fields.
    pub fn insert_into(&self, user: &mut Value) {
        if !user.is_object() {
            *user = Value::Object(serde_json::Map::new());
        }
        if let (Value::Object(fields), Ok(value)) = (user, serde_json::to_value(self)) {
            fields.insert(RESUME_KEY.to_owned(), value);
        }
    }
}

/// What a resume-enabled server's handshake reply carries in `user.resume`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeReply {
    /// The token for the next resume of this session.
    pub token: String,
    /// The session the connection serves (the resumed one, or a fresh one).
    pub session: u64,
    /// Whether the connection resumed the session the client asked for.
    pub resumed: bool,
    /// Pushes the server replays after the HandshakeAck (on a resume).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replayed: u64,
    /// How long the server keeps a dropped session, in milliseconds.
    pub grace_ms: u64,
    /// Why the resume the client asked for was refused (the session is a fresh one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusedResume>,
}

/// A refused resume, as a reply names it: one of the codes of
/// `docs/PROTOCOL-EXTENSIONS.md` and its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedResume {
    /// 4101 to 4107.
    pub code: u16,
    /// `unknown`, `expired`, `forged`, `reused`, `overflow`, `ended` or `missed`.
    pub reason: String,
}

impl ResumeReply {
    /// The reply in a handshake reply's `user` object, if the server has resume on.
    pub fn from_user(user: &Value) -> Option<Self> {
        serde_json::from_value(user.get(RESUME_KEY)?.clone()).ok()
    }

    /// The `user` object of a handshake reply that carries this reply.
    pub fn to_user(&self) -> Value {
        let mut fields = serde_json::Map::new();
        if let Ok(value) = serde_json::to_value(self) {
            fields.insert(RESUME_KEY.to_owned(), value);
        }
        Value::Object(fields)
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_ones_are_refused() {
        let token = ResumeToken {
            session: 42,
            secret: 0x9f1c_0b7e_5d3a_4c2b_8e6f_1a0d_9c7b_5e3f,
        };
        assert_eq!(token.to_string(), "42.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3f");
        assert_eq!(token.to_string().parse::<ResumeToken>(), Ok(token));
        assert!(!format!("{token:?}").contains("9f1c"));
        for bad in [
            "",
            "42",
            "42.",
            ".9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3f",
            "42.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3",
            "42.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3fa",
            "-1.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3f",
            "42.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3g",
            "99999999999999999999999.9f1c0b7e5d3a4c2b8e6f1a0d9c7b5e3f",
        ] {
            assert_eq!(bad.parse::<ResumeToken>(), Err(BadResumeToken), "{bad:?}");
        }
    }

    #[test]
    fn a_request_joins_the_apps_user_fields() {
        let mut user = serde_json::json!({"name": "ann"});
        let request = ResumeRequest {
            token: "1.00000000000000000000000000000001".to_owned(),
            received: 3,
        };
        request.insert_into(&mut user);
        assert_eq!(user["name"], "ann");
        assert_eq!(ResumeRequest::from_user(&user), Some(request.clone()));
        let mut null = Value::Null;
        request.insert_into(&mut null);
        assert_eq!(ResumeRequest::from_user(&null), Some(request));
        assert_eq!(
            ResumeRequest::from_user(&serde_json::json!({"resume": 1})),
            None
        );
    }

    #[test]
    fn a_reply_is_written_as_the_extension_documents() {
        let reply = ResumeReply {
            token: "42.0d4e8a1f6b2c9e7d3a5f0b8c1e6d4a2f".to_owned(),
            session: 42,
            resumed: true,
            replayed: 3,
            grace_ms: 60_000,
            refused: None,
        };
        let json = serde_json::to_string(&reply.to_user()).expect("json");
        assert_eq!(
            json,
            // The keys of a `user` object go out sorted.
            r#"{"resume":{"graceMs":60000,"replayed":3,"resumed":true,"session":42,"token":"42.0d4e8a1f6b2c9e7d3a5f0b8c1e6d4a2f"}}"#
        );
        assert_eq!(ResumeReply::from_user(&reply.to_user()), Some(reply));
    }
}
