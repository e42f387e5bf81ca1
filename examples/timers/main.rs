//! # timers: a clock that broadcasts, count and after timers, a timer a handler starts, and `invoke`
//!
//! ```sh
//! cargo run --example timers
//! ```
//!
//! TCP on 127.0.0.1:3270. Clients call `clock.subscribe` and receive `onTime`
//! `{"tick": n, "unix_ms": ...}` every second, and `clock.alarm` with a number of seconds to
//! receive `onAlarm` (the tick it rang at) that much later: a timer the handler starts through
//! its `ctx: &Context<Self>`. Meanwhile the log shows a 3-step countdown (a count timer), a
//! one-off announcement after 5 s (an after timer), and a background task that resets the tick
//! counter through `invoke` every 10 s. Flags: `--tcp ADDR`, `--smoke`.

#![allow(clippy::print_stdout)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nano_core::prelude::*;
use nano_examples::{Args, Flag, init_logging};
use serde::Serialize;

#[derive(Serialize)]
struct Time {
    tick: u64,
    unix_ms: u128,
}

/// An actor (its handlers take `&mut self`): handlers, timers and invoked closures run one at
/// a time on its own task, so `ticks` needs no lock.
struct Clock {
    listeners: Group,
    ticks: u64,
}

#[component(name = "clock")]
impl Clock {
    #[handler]
    fn subscribe(&mut self, session: &Session) -> Result<u64, HandlerError> {
        self.listeners.add(session)?;
        Ok(self.ticks)
    }

    /// Pushes `onAlarm` to the caller `seconds` from now: the handler starts the timer on the
    /// clock's own task, through its context.
    #[handler]
    fn alarm(&mut self, session: &Session, seconds: u64, ctx: &Context<Self>) {
        let Some(actor) = ctx.actor() else { return };
        let session = session.clone();
        actor.after(Duration::from_secs(seconds), move |clock: &mut Clock| {
            let _ = session.push("onAlarm", &clock.ticks);
        });
    }

    fn tick(&mut self) {
        self.ticks += 1;
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        let _ = self.listeners.broadcast(
            "onTime",
            &Time {
                tick: self.ticks,
                unix_ms,
            },
        );
    }
}

impl Lifecycle for Clock {
    fn init(&mut self, ctx: &Context<Self>) {
        let Some(actor) = ctx.actor() else { return };
        actor.every(Duration::from_secs(1), Clock::tick);
        let mut remaining = 3;
        actor.count(Duration::from_millis(500), 3, move |_clock: &mut Clock| {
            tracing::info!("countdown: {remaining}");
            remaining -= 1;
        });
        actor.after(Duration::from_secs(5), |clock: &mut Clock| {
            tracing::info!(ticks = clock.ticks, "five seconds in");
        });
        // The app's scheduler, for work that belongs to no component.
        ctx.scheduler().every(Duration::from_secs(2), || {
            tracing::debug!("scheduler heartbeat");
        });
    }
}

const FLAGS: &[Flag] = &[
    Flag::value("--tcp", "ADDR", "TCP address to listen on").default_value("127.0.0.1:3270"),
    Flag::switch(
        "--smoke",
        "a free port, one client receives two ticks, exit 0",
    ),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let args = Args::from_env("timers", FLAGS);
    let app = App::builder()
        .register(Clock {
            listeners: Group::new("clock"),
            ticks: 0,
        })
        .push_routes(["onTime", "onAlarm"])
        .build()?;
    let tcp = app.listen_tcp(args.addr("--tcp")).await?;
    tracing::info!(
        "timers: TCP {tcp}; call `clock.subscribe` to receive `onTime`, `clock.alarm` for `onAlarm`"
    );
    println!("timers listening tcp={tcp}");

    // A spawned task (think: a database poll) posts a closure onto the actor.
    let clock = app.actor::<Clock>().ok_or("Clock is an actor")?;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            if clock.invoke(|clock| clock.ticks = 0).await.is_err() {
                break;
            }
            tracing::info!("ticks reset by a background task");
        }
    });

    if args.smoke() {
        let client = nano_client::Client::connect(&tcp.to_string()).await?;
        let mut times = client.subscribe("onTime");
        let mut alarms = client.subscribe("onAlarm");
        let _: u64 = client.request("clock.subscribe", &()).await?;
        client.notify("clock.alarm", &1u64).await?;
        let first: serde_json::Value = times.recv().await.ok_or("onTime")?.decode()?;
        let second: serde_json::Value = times.recv().await.ok_or("onTime")?.decode()?;
        assert_eq!(
            second["tick"].as_u64(),
            first["tick"].as_u64().map(|tick| tick + 1)
        );
        let _rang_at: u64 = alarms.recv().await.ok_or("onAlarm")?.decode()?;
        let actor = app.actor::<Clock>().ok_or("actor")?;
        let ticks = actor.call(|clock| clock.ticks).await?;
        assert!(ticks >= 2);
        println!("timers smoke test passed");
        app.shutdown().await;
        return Ok(());
    }
    app.run().await?;
    Ok(())
}
