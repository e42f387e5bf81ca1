//! Timers on the app's scheduler and on actor components, with tokio's paused clock: exact
//! call counts, no sleeps. And a timer a handler starts, seen by a client over TCP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nano_client::Client;
use nano_core::prelude::*;

fn counter() -> (Arc<AtomicU64>, impl Fn() -> u64) {
    let count = Arc::new(AtomicU64::new(0));
    let read = count.clone();
    (count, move || read.load(Ordering::SeqCst))
}

/// Lets the scheduler task run what is due at the current (paused) instant.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_thousand_timers_for_two_periods_make_two_thousand_calls() {
    let app = App::builder().build().unwrap();
    let (count, calls) = counter();
    for _ in 0..1_000 {
        let count = count.clone();
        app.scheduler().every(Duration::from_millis(1), move || {
            count.fetch_add(1, Ordering::SeqCst);
        });
    }
    settle().await;
    tokio::time::advance(Duration::from_millis(1)).await;
    settle().await;
    tokio::time::advance(Duration::from_millis(1)).await;
    settle().await;
    assert_eq!(calls(), 2_000);
    app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn count_after_when_and_stop() {
    let app = App::builder().build().unwrap();
    let scheduler = app.scheduler();

    let (count, counted) = counter();
    let limited = scheduler.count(Duration::from_secs(1), 3, move || {
        count.fetch_add(1, Ordering::SeqCst);
    });
    let (once, onced) = counter();
    scheduler.after(Duration::from_millis(2500), move || {
        once.fetch_add(1, Ordering::SeqCst);
    });
    let (level, level_now) = counter();
    let (fired, fired_count) = counter();
    let level_for_condition = level.clone();
    scheduler.when(
        Duration::from_secs(1),
        move || level_for_condition.load(Ordering::SeqCst) >= 2,
        move || {
            fired.fetch_add(1, Ordering::SeqCst);
        },
    );
    let (ticks, ticked) = counter();
    let stopped = scheduler.every(Duration::from_secs(1), move || {
        ticks.fetch_add(1, Ordering::SeqCst);
    });
    assert!(stopped.id() != limited.id());

    for second in 1..=6u64 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        settle().await;
        if second == 2 {
            level.store(2, Ordering::SeqCst);
            stopped.stop();
        }
        assert_eq!(counted(), second.min(3), "count timer at {second} s");
        assert_eq!(onced(), u64::from(second >= 3), "after timer at {second} s");
        // The condition holds from just after 2 s: checked (and true) at 3, 4, 5, 6 s.
        assert_eq!(
            fired_count(),
            second.saturating_sub(2),
            "condition timer at {second} s"
        );
        assert_eq!(ticked(), second.min(2), "stopped timer at {second} s");
    }
    assert!(limited.is_stopped());
    assert!(stopped.is_stopped());
    assert_eq!(level_now(), 2);
    app.shutdown().await;
}

#[derive(Default)]
struct Clock {
    ticks: u64,
}

#[component(name = "clock")]
impl Clock {
    #[handler]
    fn ticks(&mut self, _session: &Session) -> u64 {
        self.ticks
    }
}

impl Lifecycle for Clock {
    fn init(&mut self, ctx: &Context<Self>) {
        ctx.actor()
            .expect("an actor")
            .every(Duration::from_secs(1), |clock: &mut Clock| clock.ticks += 1);
    }
}

#[tokio::test(start_paused = true)]
async fn actor_timers_change_the_component_and_invoke_works_from_other_tasks() {
    let app = App::builder().register(Clock::default()).build().unwrap();
    let clock = app.actor::<Clock>().unwrap();
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    assert_eq!(clock.call(|clock| clock.ticks).await.unwrap(), 10);

    let spawned = tokio::spawn({
        let clock = clock.clone();
        async move { clock.invoke(|clock| clock.ticks += 100).await }
    });
    spawned.await.unwrap().unwrap();
    assert_eq!(clock.call(|clock| clock.ticks).await.unwrap(), 110);

    // After shutdown the actor is gone.
    app.shutdown().await;
    assert!(clock.call(|clock| clock.ticks).await.is_err());
    assert!(!clock.is_running());
}

#[tokio::test(start_paused = true)]
async fn a_panicking_timer_does_not_stop_the_scheduler() {
    let app = App::builder().build().unwrap();
    app.scheduler()
        .after(Duration::from_secs(1), || panic!("timer panic"));
    let (count, calls) = counter();
    app.scheduler().every(Duration::from_secs(1), move || {
        count.fetch_add(1, Ordering::SeqCst);
    });
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    settle().await;
    assert_eq!(calls(), 3);
    app.shutdown().await;
}

/// A round that ends a given time after its `start`: the handler starts the timer through its
/// context, on the component's own task.
#[derive(Default)]
struct Round {
    players: Group,
    ended: u32,
}

#[component(name = "round")]
impl Round {
    #[handler]
    fn start(
        &mut self,
        session: &Session,
        ctx: &Context<Self>,
        millis: u64,
    ) -> Result<u32, HandlerError> {
        self.players.add(session)?;
        let actor = ctx
            .actor()
            .ok_or_else(|| HandlerError::internal("no actor"))?;
        actor.after(Duration::from_millis(millis), |round: &mut Round| {
            round.ended += 1;
            let report = round.players.broadcast("onRoundOver", &round.ended);
            report.expect("a round number always serializes");
        });
        Ok(self.ended)
    }
}

#[tokio::test]
async fn a_timer_started_by_a_handler_pushes_to_the_client_over_tcp() {
    let app = App::builder().register(Round::default()).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();
    let mut over = client.subscribe("onRoundOver");
    let ended: u32 = client.request("round.start", &20u64).await.unwrap();
    assert_eq!(ended, 0);

    let push = tokio::time::timeout(Duration::from_secs(10), over.recv())
        .await
        .expect("the round's timer fired")
        .expect("the connection is open");
    assert_eq!(push.decode::<u32>().unwrap(), 1);
    let round = app.actor::<Round>().unwrap();
    assert_eq!(round.call(|round| round.ended).await.unwrap(), 1);
    app.shutdown().await;
}
