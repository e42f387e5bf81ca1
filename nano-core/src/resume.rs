//! Session resume (`docs/PROTOCOL-EXTENSIONS.md`): a dropped client comes back to its session
//! within a grace window, and the pushes it missed are replayed.
//!
//! - this file: [`ResumeConfig`], the limits, and [`ResumeRefusal`], why a resume is refused;
//! - [`replay`]: what a resumable session keeps (its token, the replay buffer, the response
//!   cache), inside its outbox;
//! - `tombstones.rs`: why recently ended sessions ended, for the refusals of late resumes;
//! - the wire format is in [`protocol::resume`](crate::protocol::ResumeRequest);
//! - the connection's side (taking a session over, the grace window) is in `connection/resume.rs`.

pub(crate) mod replay;
mod tombstones;

pub(crate) use tombstones::Tombstones;

use std::time::Duration;

/// Default grace window of a dropped session: 60 s.
pub const DEFAULT_RESUME_GRACE: Duration = Duration::from_secs(60);
/// Default number of pushes a session's replay buffer holds: 256.
pub const DEFAULT_REPLAY_CAPACITY: usize = 256;
/// Default number of bytes a session's replay buffer holds: 256 KiB.
pub const DEFAULT_REPLAY_BYTES: usize = 256 * 1024;
/// Default number of responses a session keeps to answer requests sent again: 16.
pub const DEFAULT_RESPONSE_CACHE: usize = 16;

/// Session resume, for [`AppBuilder::resume`](crate::AppBuilder::resume): how long a dropped
/// session waits for its client, and what it keeps meanwhile.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_core::ResumeConfig;
///
/// let resume = ResumeConfig::default().grace(Duration::from_secs(30)).replay_capacity(512);
/// assert_eq!(resume.grace, Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumeConfig {
    /// How long a dropped session keeps its id, uid, values, groups and rooms for its client
    /// to come back; its close callbacks run when the window ends.
    /// Default: [`DEFAULT_RESUME_GRACE`] (60 s).
    pub grace: Duration,
    /// Pushes kept for replay: the last ones written while connected, and every one sent
    /// while dropped. When the pushes a dropped client may have missed no longer fit, the
    /// session closes and its resume is refused (`overflow`).
    /// Default: [`DEFAULT_REPLAY_CAPACITY`] (256).
    pub replay_capacity: usize,
    /// Bytes of pushes kept for replay, a second bound beside `replay_capacity`.
    /// Default: [`DEFAULT_REPLAY_BYTES`] (256 KiB).
    pub replay_bytes: usize,
    /// Responses kept to answer a request the client sends again after a resume, without
    /// running its handler twice. Default: [`DEFAULT_RESPONSE_CACHE`] (16).
    pub response_cache: usize,
}

impl Default for ResumeConfig {
    fn default() -> Self {
        Self {
            grace: DEFAULT_RESUME_GRACE,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            replay_bytes: DEFAULT_REPLAY_BYTES,
            response_cache: DEFAULT_RESPONSE_CACHE,
        }
    }
}

impl ResumeConfig {
    /// Sets [`grace`](Self::grace).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets [`replay_capacity`](Self::replay_capacity) (at least 1).
    pub fn replay_capacity(mut self, pushes: usize) -> Self {
        self.replay_capacity = pushes.max(1);
        self
    }

    /// Sets [`replay_bytes`](Self::replay_bytes).
    pub fn replay_bytes(mut self, bytes: usize) -> Self {
        self.replay_bytes = bytes;
        self
    }

    /// Sets [`response_cache`](Self::response_cache).
    pub fn response_cache(mut self, responses: usize) -> Self {
        self.response_cache = responses;
        self
    }
}

/// Why a resume was refused (the client gets a fresh session); each has the code and reason
/// of `docs/PROTOCOL-EXTENSIONS.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResumeRefusal {
    /// No session with that id, or a token that is not one.
    Unknown,
    /// The session's grace window ended.
    Expired,
    /// The token is not the session's.
    Forged,
    /// The token was used by an earlier resume.
    Reused,
    /// More pushes were sent while the client was away than the replay buffer holds.
    Overflow,
    /// The app kicked or closed the session.
    Ended,
    /// The client reports more pushes than the server sent.
    Missed,
}

impl ResumeRefusal {
    /// Every refusal, in code order.
    pub const ALL: [ResumeRefusal; 7] = [
        ResumeRefusal::Unknown,
        ResumeRefusal::Expired,
        ResumeRefusal::Forged,
        ResumeRefusal::Reused,
        ResumeRefusal::Overflow,
        ResumeRefusal::Ended,
        ResumeRefusal::Missed,
    ];

    /// The code in the reply's `user.resume.refused.code`: 4101 to 4107.
    pub fn code(self) -> u16 {
        match self {
            ResumeRefusal::Unknown => 4101,
            ResumeRefusal::Expired => 4102,
            ResumeRefusal::Forged => 4103,
            ResumeRefusal::Reused => 4104,
            ResumeRefusal::Overflow => 4105,
            ResumeRefusal::Ended => 4106,
            ResumeRefusal::Missed => 4107,
        }
    }

    /// The reason in the reply, and the `outcome` label of `nano_resumes_total`.
    pub fn reason(self) -> &'static str {
        match self {
            ResumeRefusal::Unknown => "unknown",
            ResumeRefusal::Expired => "expired",
            ResumeRefusal::Forged => "forged",
            ResumeRefusal::Reused => "reused",
            ResumeRefusal::Overflow => "overflow",
            ResumeRefusal::Ended => "ended",
            ResumeRefusal::Missed => "missed",
        }
    }
}

/// The error code of a response to a request sent again after a resume whose response is no
/// longer kept: its handler is not run again, as it may have run already.
pub const RESPONSE_GONE: i32 = 410;
