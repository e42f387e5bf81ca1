//! Actor components over TCP: callers wait for room in a full mailbox
//! (`Config::actor_mailbox_capacity`), and a panic in an actor's handler or in a closure posted
//! to it fails that call only: the actor keeps its state and serves on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nano_client::{Client, ClientError};
use nano_core::InvokeError;
use nano_core::prelude::*;
use nano_tests::wait::wait_until;
use tokio::sync::{Semaphore, oneshot};

/// How long a test waits for something that happens at once on an idle machine.
const DEADLINE: Duration = Duration::from_secs(10);

/// An actor component that can be held busy: `hold` waits for `gate` to open.
struct Counter {
    value: u64,
    log: Vec<String>,
    /// Set when `hold` starts.
    holding: Arc<AtomicBool>,
    /// `hold` takes a permit; there are none until the test adds one.
    gate: Arc<Semaphore>,
}

impl Default for Counter {
    fn default() -> Self {
        Self {
            value: 0,
            log: Vec::new(),
            holding: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
        }
    }
}

#[component(name = "counter")]
impl Counter {
    #[handler]
    fn add(&mut self, _session: &Session, n: u64) -> u64 {
        self.value += n;
        self.log.push(format!("add {n}"));
        self.value
    }

    /// Keeps the actor busy until the gate opens.
    #[handler]
    async fn hold(&mut self, _session: &Session) -> Result<u64, HandlerError> {
        self.holding.store(true, Ordering::SeqCst);
        let _permit = self
            .gate
            .acquire()
            .await
            .map_err(|_| HandlerError::internal("gate closed"))?;
        self.log.push("hold".to_owned());
        Ok(self.value)
    }

    /// Changes the state, then panics.
    #[handler]
    fn boom(&mut self, _session: &Session) {
        self.value += 100;
        panic!("boom in an actor handler");
    }

    /// Panics after an await, with the actor's state borrowed.
    #[handler]
    async fn async_boom(&mut self, _session: &Session) {
        tokio::task::yield_now().await;
        self.log.push("async_boom".to_owned());
        panic!("boom in an async actor handler");
    }
}

async fn serve(counter: Counter, mailbox: usize) -> (App, String) {
    let app = App::builder()
        .register(counter)
        .actor_mailbox_capacity(mailbox)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    (app, addr)
}

/// A request to `counter.add` on a client of its own, running in the background.
async fn add_in_background(
    addr: &str,
    n: u64,
) -> tokio::task::JoinHandle<Result<u64, ClientError>> {
    let client = Client::connect(addr).await.unwrap();
    tokio::spawn(async move { client.request("counter.add", &n).await })
}

/// Makes the actor of `app` busy with a `hold` request (waiting for the gate), then fills its
/// mailbox of two; returns the running `hold` request.
async fn hold_with_a_full_mailbox(
    app: &App,
    addr: &str,
    holding: &AtomicBool,
) -> tokio::task::JoinHandle<Result<u64, ClientError>> {
    let actor = app.actor::<Counter>().unwrap();
    let client = Client::connect(addr).await.unwrap();
    let hold = tokio::spawn(async move { client.request::<_, u64>("counter.hold", &()).await });
    assert!(
        wait_until(DEADLINE, async || holding.load(Ordering::SeqCst)).await,
        "the hold handler never started"
    );
    for n in 1..=2 {
        actor
            .try_invoke(move |counter| counter.log.push(format!("probe {n}")))
            .unwrap();
    }
    assert_eq!(actor.try_invoke(|_| {}), Err(InvokeError::Full));
    hold
}

#[tokio::test]
async fn callers_of_an_actor_whose_mailbox_is_full_wait_for_room_and_are_all_served() {
    let counter = Counter::default();
    let (holding, gate) = (counter.holding.clone(), counter.gate.clone());
    let (app, addr) = serve(counter, 2).await;
    let actor = app.actor::<Counter>().unwrap();
    let hold = hold_with_a_full_mailbox(&app, &addr, &holding).await;

    // Sessions calling it now wait for room, and so does `invoke`.
    let adds = [
        add_in_background(&addr, 10).await,
        add_in_background(&addr, 20).await,
    ];
    let invoked = tokio::spawn({
        let actor = actor.clone();
        async move {
            actor
                .invoke(|counter| counter.log.push("invoked".to_owned()))
                .await
        }
    });
    assert!(
        wait_until(DEADLINE, async || app.metrics().messages_in == 3).await,
        "the requests did not arrive: {:?}",
        app.metrics()
    );
    assert!(adds.iter().all(|add| !add.is_finished()), "answered early");
    assert!(!invoked.is_finished(), "posted to a full mailbox");
    assert_eq!(actor.try_invoke(|_| {}), Err(InvokeError::Full));

    // Once the gate opens, the probes run, then every waiting caller: nothing lost or refused.
    gate.add_permits(1);
    assert_eq!(hold.await.unwrap().unwrap(), 0);
    let mut answers = Vec::new();
    for add in adds {
        answers.push(add.await.unwrap().expect("a waiting caller is served"));
    }
    invoked.await.unwrap().unwrap();
    answers.sort_unstable();
    assert!(answers == [10, 30] || answers == [20, 30], "{answers:?}");
    let mut log = actor.call(|counter| counter.log.clone()).await.unwrap();
    assert_eq!(log[..3], ["hold", "probe 1", "probe 2"]);
    log[3..].sort_unstable();
    assert_eq!(log[3..], ["add 10", "add 20", "invoked"]);
    assert_eq!(app.metrics().errors, 0);
    app.shutdown().await;
}

#[tokio::test]
async fn a_panicking_actor_handler_gets_a_500_and_the_actor_serves_on_with_its_state() {
    let (app, addr) = serve(Counter::default(), 1024).await;
    let client = Client::connect(&addr).await.unwrap();
    assert_eq!(
        client.request::<_, u64>("counter.add", &5).await.unwrap(),
        5
    );
    for route in ["counter.boom", "counter.async_boom"] {
        let err = client.request::<_, ()>(route, &()).await.unwrap_err();
        assert!(
            matches!(&err, ClientError::Server { code: 500, message } if message.contains("panicked")),
            "{route}: {err}"
        );
    }
    // The same connection, the same actor: what the handlers did before panicking stays.
    assert_eq!(
        client.request::<_, u64>("counter.add", &1).await.unwrap(),
        106
    );
    let other = Client::connect(&addr).await.unwrap();
    assert_eq!(
        other.request::<_, u64>("counter.add", &1).await.unwrap(),
        107
    );
    let actor = app.actor::<Counter>().unwrap();
    assert!(actor.is_running());
    let log = actor.call(|counter| counter.log.clone()).await.unwrap();
    assert_eq!(log, ["add 5", "async_boom", "add 1", "add 1"]);
    app.shutdown().await;
}

#[tokio::test]
async fn a_panicking_closure_posted_to_an_actor_fails_alone() {
    let (app, addr) = serve(Counter::default(), 1024).await;
    let actor = app.actor::<Counter>().unwrap();
    actor
        .invoke(|counter| {
            counter.value += 1;
            panic!("boom in an invoked closure");
        })
        .await
        .unwrap();
    actor
        .try_invoke(|_| panic!("boom in a closure posted without waiting"))
        .unwrap();
    // `call` reports the panic of its closure as the actor not answering.
    let panicked = actor
        .call(|_| -> u64 { panic!("boom in a called closure") })
        .await;
    assert_eq!(panicked, Err(InvokeError::Stopped));
    // The actor runs on, its state as the closures left it, for closures and sessions alike.
    assert!(actor.is_running());
    assert_eq!(actor.call(|counter| counter.value).await, Ok(1));
    let client = Client::connect(&addr).await.unwrap();
    assert_eq!(
        client.request::<_, u64>("counter.add", &1).await.unwrap(),
        2
    );

    // The app's scheduler is an actor too.
    app.scheduler()
        .invoke(|| panic!("boom on the scheduler"))
        .await
        .unwrap();
    let (ran, done) = oneshot::channel();
    app.scheduler()
        .invoke(move || ran.send(()).unwrap())
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, done)
        .await
        .expect("the scheduler stopped running closures")
        .unwrap();
    app.shutdown().await;
}
