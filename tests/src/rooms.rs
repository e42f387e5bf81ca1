//! The room kind and lobby the rooms tests share: `match.*` routes, served by the room each
//! session joined, and `lobby.*` routes that create, join and leave rooms; an app serving
//! both over TCP (or in-memory pipes, for tests under tokio's paused clock).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nano_client::Client;
use nano_core::prelude::*;
use nano_core::transport::StreamTransport;
use nano_core::{
    Matchmaker, QueueConfig, ReservationToken, Room, RoomConfig, RoomId, RoomInput, RoomRef, Rooms,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

/// What every room of a test shares with the test.
pub struct Signals {
    /// `match.hold` waits for a permit; `match.open` adds one.
    pub gate: Semaphore,
    /// How many `match.hold` calls have started.
    pub holding: AtomicUsize,
    /// Cloned into the timers `match.start_timer` starts: its count falls back to 1 once they
    /// are dropped.
    pub timer_probe: Arc<()>,
    /// What every room's `tick` saw: (room, tick, inputs).
    pub ticks: Mutex<Vec<(RoomId, u64, Vec<String>)>>,
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            gate: Semaphore::new(0),
            holding: AtomicUsize::new(0),
            timer_probe: Arc::new(()),
            ticks: Mutex::new(Vec::new()),
        }
    }
}

/// A room's init data.
pub struct MatchInit {
    /// The score it starts with.
    pub start: u64,
    /// Shared with the test.
    pub signals: Arc<Signals>,
}

/// One match.
pub struct Match {
    score: u64,
    log: Vec<String>,
    signals: Arc<Signals>,
}

/// `match.state`'s answer.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MatchState {
    /// The room's id.
    pub room: RoomId,
    /// Its score.
    pub score: u64,
    /// Its members.
    pub members: usize,
    /// What happened to it: `created`, `joined <session>`, `left <session>`,
    /// `note <session> <text>`.
    pub log: Vec<String>,
}

/// An `onTick` push: the tick's number and the inputs it saw.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TickPush {
    /// From 1.
    pub tick: u64,
    /// In arrival order.
    pub inputs: Vec<String>,
}

#[component(name = "match", room)]
impl Match {
    /// Adds `n` to the score; answers the new score.
    #[handler]
    fn add(&mut self, _session: &Session, n: u64) -> u64 {
        self.score += n;
        self.score
    }

    /// Changes the state, then panics.
    #[handler]
    fn boom(&mut self, _session: &Session) {
        self.score += 100;
        panic!("boom in a room handler");
    }

    /// The room as its handler sees it (a `&self` handler: rooms are actors all the same).
    #[handler]
    fn state(&self, _session: &Session, ctx: &Context<Self>) -> Result<MatchState, HandlerError> {
        let room = ctx
            .room()
            .ok_or_else(|| HandlerError::internal("no room"))?;
        Ok(MatchState {
            room: room.id(),
            score: self.score,
            members: room.members().count(),
            log: self.log.clone(),
        })
    }

    /// Waits for the gate ([`Signals::gate`]), holding the room busy; answers the score.
    #[handler]
    async fn hold(&mut self, _session: &Session) -> Result<u64, HandlerError> {
        self.signals.holding.fetch_add(1, Ordering::SeqCst);
        let permit = self.signals.gate.acquire().await;
        permit
            .map_err(|_| HandlerError::internal("gate closed"))?
            .forget();
        Ok(self.score)
    }

    /// Appends `note <session> <text>` to the log.
    #[handler]
    fn note(&mut self, session: &Session, text: String) {
        self.log.push(format!("note {} {text}", session.id()));
    }

    /// Ends the match: answers the final score, then the room is disposed.
    #[handler]
    fn finish(&mut self, _session: &Session, ctx: &Context<Self>) -> u64 {
        if let Some(room) = ctx.room() {
            room.dispose();
        }
        self.score
    }

    /// Opens the gate once.
    #[handler]
    fn open(&mut self, _session: &Session) {
        self.signals.gate.add_permits(1);
    }

    /// Starts a timer on the room, holding a clone of [`Signals::timer_probe`].
    #[handler]
    fn start_timer(&mut self, _session: &Session, ctx: &Context<Self>) -> Result<(), HandlerError> {
        let room = ctx
            .room()
            .ok_or_else(|| HandlerError::internal("no room"))?;
        let probe = Arc::clone(&self.signals.timer_probe);
        room.actor()
            .every(Duration::from_millis(10), move |game: &mut Match| {
                let _probe = &probe;
                game.score += 1;
            });
        Ok(())
    }

    /// Queues `text` for the next tick.
    #[handler]
    fn input(
        &mut self,
        session: &Session,
        text: String,
        ctx: &Context<Self>,
    ) -> Result<(), HandlerError> {
        let room = ctx
            .room()
            .ok_or_else(|| HandlerError::internal("no room"))?;
        room.input(session, text)?;
        Ok(())
    }
}

impl Room for Match {
    type Init = MatchInit;
    type Input = String;

    /// A match created with `start` 666 panics.
    fn create(init: &MatchInit, _room: &RoomRef<Self>) -> Self {
        assert_ne!(init.start, 666, "a panicking create");
        Match {
            score: init.start,
            log: vec!["created".to_owned()],
            signals: Arc::clone(&init.signals),
        }
    }

    fn joined(&mut self, session: &Session, _room: &RoomRef<Self>) {
        self.log.push(format!("joined {}", session.id()));
    }

    fn left(&mut self, session: &Session, _room: &RoomRef<Self>) {
        self.log.push(format!("left {}", session.id()));
    }

    /// Broadcasts `onTick` with the inputs; an input `"panic"` makes it panic.
    fn tick(&mut self, room: &RoomRef<Self>, tick: u64, inputs: Vec<RoomInput<String>>) {
        let inputs: Vec<String> = inputs.into_iter().map(|input| input.input).collect();
        assert!(
            !inputs.iter().any(|input| input == "panic"),
            "a panicking tick"
        );
        let _ = room.members().broadcast(
            "onTick",
            &TickPush {
                tick,
                inputs: inputs.clone(),
            },
        );
        nano_core::__private::lock(&self.signals.ticks).push((room.id(), tick, inputs));
    }
}

/// A seat reserved for a client: `lobby.reserve`'s and `lobby.reserve_in`'s answer.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ticket {
    /// What `lobby.take` takes.
    pub token: ReservationToken,
    /// The room the seat is in.
    pub room: RoomId,
}

impl From<nano_core::Reservation> for Ticket {
    fn from(seat: nano_core::Reservation) -> Self {
        Self {
            token: seat.token,
            room: seat.room,
        }
    }
}

/// Creates, joins and leaves matches for its clients.
pub struct Lobby {
    matches: Rooms<Match>,
    signals: Arc<Signals>,
    queue: Matchmaker<Match>,
}

#[component(name = "lobby")]
impl Lobby {
    /// A new match starting at `start`; answers its id.
    #[handler]
    fn create(&self, _session: &Session, start: u64) -> Result<RoomId, HandlerError> {
        let init = MatchInit {
            start,
            signals: Arc::clone(&self.signals),
        };
        Ok(self.matches.create(init)?.id())
    }

    /// Joins match `id`.
    #[handler]
    async fn join(&self, session: &Session, id: RoomId) -> Result<RoomId, HandlerError> {
        Ok(self.matches.join(id, session).await?.id())
    }

    /// Joins a match made with `filter` that has a seat, or a new one starting at 0;
    /// answers its id.
    #[handler]
    async fn quick(&self, session: &Session, filter: String) -> Result<RoomId, HandlerError> {
        let signals = Arc::clone(&self.signals);
        let init = move || MatchInit { start: 0, signals };
        Ok(self
            .matches
            .join_or_create(filter, session, init)
            .await?
            .id())
    }

    /// Reserves a seat in a match made with `filter` (or a new one starting at 0).
    #[handler]
    fn reserve(&self, _session: &Session, filter: String) -> Result<Ticket, HandlerError> {
        let signals = Arc::clone(&self.signals);
        let init = move || MatchInit { start: 0, signals };
        Ok(self.matches.reserve_or_create(filter, init)?.into())
    }

    /// Reserves a seat in match `id`.
    #[handler]
    fn reserve_in(&self, _session: &Session, id: RoomId) -> Result<Ticket, HandlerError> {
        Ok(self.matches.reserve(id)?.into())
    }

    /// Takes the seat of `token`; answers the match's id.
    #[handler]
    async fn take(
        &self,
        session: &Session,
        token: ReservationToken,
    ) -> Result<RoomId, HandlerError> {
        Ok(self.matches.join_reserved(token, session).await?.id())
    }

    /// Cancels the reservation `token`; whether it was held.
    #[handler]
    fn cancel(&self, _session: &Session, token: ReservationToken) -> bool {
        self.matches.cancel_reservation(token)
    }

    /// Waits in the queue with `rating`; answers the match it was put in (holding the
    /// session's later requests until then).
    #[handler]
    async fn queue(&self, session: &Session, rating: i64) -> Result<RoomId, HandlerError> {
        Ok(self.queue.enqueue(session, rating).await?.id())
    }

    /// Enters the queue with `rating`; the match comes as an `onMatched` push.
    #[handler]
    fn queue_push(&self, session: &Session, rating: i64) -> Result<(), HandlerError> {
        Ok(self.queue.enqueue_and_push(session, rating)?)
    }

    /// Leaves the queue; whether the session was waiting.
    #[handler]
    fn unqueue(&self, session: &Session) -> bool {
        self.queue.cancel(session)
    }

    /// Leaves the session's match.
    #[handler]
    async fn leave(&self, session: &Session) -> Result<RoomId, HandlerError> {
        Ok(self.matches.leave(session).await?)
    }
}

/// An app serving matches and their lobby.
pub struct Served {
    /// The app.
    pub app: App,
    /// Its TCP address (`127.0.0.1:<port>`).
    pub addr: String,
    /// Its matches.
    pub matches: Rooms<Match>,
    /// What the matches share with the test.
    pub signals: Arc<Signals>,
    /// `lobby.queue`'s matchmaker: [`queue_config`], matches starting at 0.
    pub queue: Matchmaker<Match>,
}

/// The config of [`Served::queue`]: groups of 2, ratings within 10, widening by 10 a second.
pub fn queue_config() -> QueueConfig {
    QueueConfig::default()
        .group_size(2)
        .widening(10, 10, Duration::from_secs(1))
}

impl Served {
    /// An app serving matches configured with `config`, listening on `127.0.0.1:0`.
    pub async fn start(config: RoomConfig) -> Self {
        let served = Self::build(config);
        let addr = served.app.listen_tcp("127.0.0.1:0").await.unwrap();
        Self {
            addr: addr.to_string(),
            ..served
        }
    }

    /// As [`start`](Self::start), without a listener (heartbeats off): clients connect over
    /// in-memory pipes ([`pipe_client`](Self::pipe_client)), for tests under tokio's paused
    /// clock, which jumps ahead whenever the runtime waits for a real socket.
    pub fn build(config: RoomConfig) -> Self {
        let matches = Rooms::<Match>::new(config).unwrap();
        let signals = Arc::new(Signals::default());
        let queued = Arc::clone(&signals);
        let init = move |_: &[Session]| MatchInit {
            start: 0,
            signals: Arc::clone(&queued),
        };
        let queue = Matchmaker::new(matches.clone(), queue_config(), init).unwrap();
        let lobby = Lobby {
            matches: matches.clone(),
            signals: Arc::clone(&signals),
            queue: queue.clone(),
        };
        let app = App::builder()
            .rooms(matches.clone())
            .register(lobby)
            .heartbeat_interval(Duration::ZERO)
            .build()
            .unwrap();
        Self {
            app,
            addr: String::new(),
            matches,
            signals,
            queue,
        }
    }

    /// A client over TCP.
    pub async fn client(&self) -> Client {
        Client::builder()
            .request_timeout(Duration::from_secs(60))
            .connect(&self.addr)
            .await
            .unwrap()
    }

    /// A client over an in-memory pipe.
    pub async fn pipe_client(&self) -> Client {
        let (client_side, server_side) = tokio::io::duplex(64 * 1024);
        self.app.serve_stream(server_side, None);
        let transport = StreamTransport::new(client_side, self.app.config().max_body_len);
        Client::builder()
            .request_timeout(Duration::from_secs(3600))
            .connect_transport(transport)
            .await
            .unwrap()
    }

    /// Init data for a match starting at `start`.
    pub fn init(&self, start: u64) -> MatchInit {
        MatchInit {
            start,
            signals: Arc::clone(&self.signals),
        }
    }
}

/// A client's request to create a match starting at `start`, then to join it.
pub async fn create_and_join(client: &Client, start: u64) -> RoomId {
    let id: RoomId = client.request("lobby.create", &start).await.unwrap();
    let joined: RoomId = client.request("lobby.join", &id).await.unwrap();
    assert_eq!(joined, id);
    id
}
