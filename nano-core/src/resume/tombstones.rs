//! [`Tombstones`]: why recently ended resumable sessions ended, so that a late resume is
//! refused with the real reason (`expired`, `ended`, `overflow`) rather than `unknown`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::ResumeRefusal;
use crate::sync::lock;

/// How many ended sessions are remembered; the oldest are forgotten first (their resumes are
/// refused as `unknown`). 16,384 entries take about 0.5 MiB.
const REMEMBERED: usize = 16_384;

/// The ended resumable sessions of an app, by id: what a resume of each is refused with.
#[derive(Debug, Default)]
pub(crate) struct Tombstones {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    reasons: HashMap<u64, ResumeRefusal>,
    order: VecDeque<u64>,
}

impl Tombstones {
    /// Remembers that session `id` ended, and what its resume is refused with.
    pub(crate) fn bury(&self, id: u64, refusal: ResumeRefusal) {
        let mut state = lock(&self.state);
        if state.reasons.insert(id, refusal).is_none() {
            state.order.push_back(id);
        }
        while state.order.len() > REMEMBERED {
            if let Some(oldest) = state.order.pop_front() {
                state.reasons.remove(&oldest);
            }
        }
    }

    /// What a resume of session `id`, which is not live, is refused with.
    pub(crate) fn refusal(&self, id: u64) -> ResumeRefusal {
        lock(&self.state)
            .reasons
            .get(&id)
            .copied()
            .unwrap_or(ResumeRefusal::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_reason_and_forgets_the_oldest() {
        let tombstones = Tombstones::default();
        tombstones.bury(1, ResumeRefusal::Expired);
        tombstones.bury(2, ResumeRefusal::Ended);
        assert_eq!(tombstones.refusal(1), ResumeRefusal::Expired);
        assert_eq!(tombstones.refusal(2), ResumeRefusal::Ended);
        assert_eq!(tombstones.refusal(3), ResumeRefusal::Unknown);
        for id in 3..(3 + REMEMBERED as u64) {
            tombstones.bury(id, ResumeRefusal::Overflow);
        }
        assert_eq!(tombstones.refusal(1), ResumeRefusal::Unknown);
        assert_eq!(tombstones.refusal(3), ResumeRefusal::Overflow);
    }
}
