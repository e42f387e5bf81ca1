//! Placing a room when this node is the kind's placement node: the lowest-named live node
//! serving the kind. Placements take turns (one at a time per kind), so each sees the seats
//! the ones before it reserved; that is what keeps concurrent joiners from creating rooms
//! where one with a free seat exists.

use std::time::Duration;

use futures_util::future::join_all;

use super::ask::AskError;
use super::config::NodeLoad;
use super::wire::{Answer, Ask, Load, Seat};
use super::{Kind, Node};

/// What a failed reservation on the chosen node means for the placement.
enum Failed {
    /// Try the next node (gone, slow, or at its `max_rooms`).
    Elsewhere,
    /// Pass this refusal on.
    Refused(Answer),
}

impl Node {
    /// Places a seat in a room of `kind` made with `filter`: asks every node serving the
    /// kind for its load (those that do not answer in time are left out), redirects to the
    /// lowest-named node that answered if that is not this one, then reserves in a room with
    /// a free seat if any node has one, or in a new room on the node the policy picks.
    pub(super) async fn place(&self, kind_name: &str, kind: &Kind, filter: &str) -> Answer {
        let asked_at = tokio::time::Instant::now();
        let _turn = kind.turn.lock().await;
        let config = kind.server.config().clone();
        if asked_at.elapsed() >= config.request_timeout {
            // Its caller stopped waiting: a seat reserved now would only wait to expire.
            return Answer::Error {
                code: 504,
                msg: "the placement waited too long for its turn".to_owned(),
            };
        }
        let mut loads = self
            .probe_all(kind_name, kind, filter, config.probe_timeout)
            .await;
        if let Some((lowest, _)) = loads.first()
            && lowest != self.link.node()
        {
            return Answer::Redirect(lowest.clone());
        }
        loop {
            let Some(chosen) = choose(&config.policy, filter, &loads) else {
                return Answer::Error {
                    code: 503,
                    msg: format!("no node can place a room of `{kind_name}`"),
                };
            };
            match self
                .reserve_on(kind_name, kind, &chosen, filter, config.probe_timeout)
                .await
            {
                Ok(seat) => return Answer::Seat(seat),
                Err(Failed::Refused(answer)) => return answer,
                Err(Failed::Elsewhere) => loads.retain(|(node, _)| node != &chosen),
            }
        }
    }

    /// The load of every node serving `kind` that answers within `timeout`, in name order
    /// (this node's own without asking).
    async fn probe_all(
        &self,
        kind_name: &str,
        kind: &Kind,
        filter: &str,
        timeout: Duration,
    ) -> Vec<(String, Load)> {
        let nodes = self.kind_nodes(kind_name);
        let asks = nodes.iter().map(|node| async move {
            if node == self.link.node() {
                return Some(kind.server.load(filter));
            }
            let ask = Ask {
                filter: filter.to_owned(),
            };
            let subject = self.kind_subject(node, kind_name, "probe");
            self.ask::<_, Load>(subject, &ask, timeout).await.ok()
        });
        let loads = join_all(asks).await;
        nodes
            .into_iter()
            .zip(loads)
            .filter_map(|(node, load)| Some((node, load?)))
            .collect()
    }

    /// Reserves a seat on `node` (in a room with a free seat, or a new one).
    async fn reserve_on(
        &self,
        kind_name: &str,
        kind: &Kind,
        node: &str,
        filter: &str,
        timeout: Duration,
    ) -> Result<Seat, Failed> {
        let answer = if node == self.link.node() {
            self.reserve_here(kind, filter)
        } else {
            let ask = Ask {
                filter: filter.to_owned(),
            };
            let subject = self.kind_subject(node, kind_name, "reserve");
            match self.ask::<_, Answer>(subject, &ask, timeout).await {
                Ok(answer) => answer,
                Err(AskError::NoResponders | AskError::TimedOut | AskError::Failed(_)) => {
                    tracing::warn!(%node, kind = kind_name, "no reservation from the chosen node: trying another");
                    return Err(Failed::Elsewhere);
                }
            }
        };
        match answer {
            Answer::Seat(seat) => Ok(seat),
            // Too many rooms there, or its app is stopping.
            Answer::Error { code: 503, .. } | Answer::Redirect(_) => Err(Failed::Elsewhere),
            refused @ Answer::Error { .. } => Err(Failed::Refused(refused)),
        }
    }

    /// Reserves a seat in a room of `kind` on this node.
    pub(super) fn reserve_here(&self, kind: &Kind, filter: &str) -> Answer {
        match kind.server.reserve(filter) {
            Ok(reservation) => {
                let left = reservation
                    .expires_at
                    .saturating_duration_since(tokio::time::Instant::now());
                Answer::Seat(Seat {
                    node: self.link.node().to_owned(),
                    room: reservation.room,
                    token: reservation.token,
                    expires_in_ms: u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
                })
            }
            Err(error) => Answer::Error {
                code: error.code(),
                msg: error.to_string(),
            },
        }
    }
}

/// The node for the next seat: the first (in name order) with a free seat for the filter,
/// else the policy's choice for a new room.
fn choose(
    policy: &super::PlacementPolicy,
    filter: &str,
    loads: &[(String, Load)],
) -> Option<String> {
    if let Some((node, _)) = loads.iter().find(|(_, load)| load.free) {
        return Some(node.clone());
    }
    let nodes: Vec<NodeLoad> = loads
        .iter()
        .map(|(node, load)| NodeLoad {
            node: node.clone(),
            rooms: load.rooms,
            sessions: load.sessions,
        })
        .collect();
    policy.choose(filter, &nodes)
}
