//! [`LiveSessions`]: the sessions an app's connections serve now, by id.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::Session;
use crate::sync::lock;

/// Shards of the registry: a session opening or closing locks one of them, so connects on
/// different threads rarely contend.
const SHARDS: usize = 16;

/// A live session and when its connection was accepted.
#[derive(Clone)]
pub(crate) struct Live {
    pub(crate) session: Session,
    pub(crate) since: SystemTime,
}

/// The sessions served by an app's connections (not the stand-ins of other nodes' clients).
/// A session is added when its connection starts and removed once it has finished, so the
/// registry costs one short lock per session opened and closed, nothing per message.
pub(crate) struct LiveSessions {
    shards: [Mutex<HashMap<u64, Live>>; SHARDS],
}

impl LiveSessions {
    pub(crate) fn new() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    fn shard(&self, id: u64) -> &Mutex<HashMap<u64, Live>> {
        // SHARDS fits any integer type, so the remainder does too.
        #[allow(clippy::cast_possible_truncation)]
        let index = (id % SHARDS as u64) as usize;
        &self.shards[index]
    }

    /// Adds `session`, connected now.
    pub(crate) fn insert(&self, session: &Session) {
        let live = Live {
            session: session.clone(),
            since: SystemTime::now(),
        };
        lock(self.shard(session.id())).insert(session.id(), live);
    }

    /// Removes `session`.
    pub(crate) fn remove(&self, session: &Session) {
        let mut shard = lock(self.shard(session.id()));
        // Ids wrap after 2^53: remove only this session, never a newer one with its id.
        if shard
            .get(&session.id())
            .is_some_and(|live| live.session == *session)
        {
            shard.remove(&session.id());
        }
    }

    /// The session with `id`, if live.
    pub(crate) fn get(&self, id: u64) -> Option<Live> {
        lock(self.shard(id)).get(&id).cloned()
    }

    /// Every live session for which `keep` returns `true`, at most `limit` of them, by id.
    pub(crate) fn collect(&self, keep: impl Fn(&Session) -> bool, limit: usize) -> Vec<Live> {
        let mut found: Vec<Live> = Vec::new();
        for shard in &self.shards {
            let shard = lock(shard);
            found.extend(shard.values().filter(|live| keep(&live.session)).cloned());
        }
        found.sort_unstable_by_key(|live| live.session.id());
        found.truncate(limit);
        found
    }

    /// Calls `f` on every live session, one shard locked at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Session)) {
        for shard in &self.shards {
            lock(shard).values().for_each(|live| f(&live.session));
        }
    }

    /// How many sessions are live.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}
