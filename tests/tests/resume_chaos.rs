//! Session resume under chaos: 1,000 nano-clients in 10 groups, numbered broadcasts to every
//! group and requests flowing, while links are cut at random moments for a minute. At the end
//! every client has seen every message of its group from its join on, exactly once and in
//! order; every request got exactly one response and ran exactly once; every reconnect
//! resumed.
//!
//! Deterministic: tokio's paused clock (all links are in memory, so no real time passes) on
//! one thread, and cuts drawn from a seeded generator. `CHAOS_CLIENTS`, `CHAOS_SECONDS` and
//! `CHAOS_SEED` change the run (bench/resume-chaos.sh runs a longer one).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nano_client::{Client, ClientBuilder, ClientError, ConnectionEvent, Reconnect};
use nano_core::prelude::*;
use nano_core::{App, ResumeConfig};
use nano_tests::proxy::MemoryLinks;
use serde::Deserialize;
use serde_json::json;

const GROUPS: usize = 10;
/// Every group gets a numbered push this often.
const TICK: Duration = Duration::from_millis(250);
/// Each client sends a request this often; the server takes this long to answer it.
const REQUEST_EVERY: Duration = Duration::from_secs(1);
const ECHO_TIME: Duration = Duration::from_millis(20);
/// Links are considered for a cut this often, each with probability 1 / `CUT_ODDS`.
const CUT_EVERY: Duration = Duration::from_millis(500);
const CUT_ODDS: u64 = 50;

/// The groups and the number of the next push to each.
struct Broadcasts {
    groups: Vec<Group>,
    next: Vec<AtomicU64>,
}

impl Broadcasts {
    fn new() -> Self {
        Self {
            groups: (0..GROUPS).map(|g| Group::new(format!("g{g}"))).collect(),
            next: (0..GROUPS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Pushes the next number to every group.
    fn tick(&self) {
        for (group, next) in self.groups.iter().zip(&self.next) {
            let n = next.fetch_add(1, Ordering::SeqCst);
            let _ = group.broadcast("onTick", &n);
        }
    }
}

#[derive(Deserialize)]
struct Join {
    uid: i64,
    group: usize,
}

struct Chaos {
    broadcasts: Arc<Broadcasts>,
    /// Times each (uid, k) echo ran.
    handled: Arc<Mutex<HashMap<(i64, u64), u32>>>,
}

#[component(name = "chaos")]
impl Chaos {
    /// Joins a group; answers the number of the first push the client will get.
    #[handler]
    fn join(&self, session: &Session, join: Join) -> Result<u64, HandlerError> {
        session
            .bind(join.uid)
            .map_err(|err| HandlerError::bad_request(err.to_string()))?;
        self.broadcasts.groups[join.group].add(session)?;
        Ok(self.broadcasts.next[join.group].load(Ordering::SeqCst))
    }

    /// Answers `k` after a while: cuts land while requests are in flight, and their
    /// responses are lost.
    #[handler]
    async fn echo(&self, session: &Session, k: u64) -> u64 {
        let uid = session.uid().unwrap_or(0);
        *self.handled.lock().unwrap().entry((uid, k)).or_default() += 1;
        tokio::time::sleep(ECHO_TIME).await;
        k
    }
}

/// SplitMix64: a seeded generator, enough to pick links.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// What one client saw.
#[derive(Debug, Default)]
struct Seen {
    /// The pushes' numbers, in arrival order.
    pushes: Vec<u64>,
    first: u64,
    /// The requests answered (their k), and those that failed otherwise.
    answered: Vec<u64>,
    failed: Vec<String>,
    /// Reconnects, and those that did not resume.
    reconnects: u32,
    fresh: u32,
}

async fn connect(app: &App, links: &MemoryLinks) -> Client {
    let (app, links) = (app.clone(), links.clone());
    let dial = move || {
        let (client, server) = links.link();
        app.serve_stream(server, None);
        async move { Ok::<_, ClientError>(nano_core::transport::framed(client, 65_536)) }
    };
    let policy = Reconnect::new()
        .base_delay(Duration::from_millis(200))
        .jitter(0.0);
    ClientBuilder::new()
        .reconnect(policy)
        .request_timeout(Duration::from_secs(30))
        .connect_with(dial)
        .await
        .expect("connect")
}

/// Runs client `i` until `stop`: joins its group, collects pushes, sends a request every
/// second (again after a disconnect, the same k, until it is answered).
async fn run_client(client: Client, i: usize, stop: tokio_util::sync::CancellationToken) -> Seen {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut ticks = client.subscribe("onTick");
    let collect = tokio::spawn({
        let seen = seen.clone();
        async move {
            while let Some(push) = ticks.recv().await {
                let n: u64 = push.decode().expect("a number");
                seen.lock().unwrap().pushes.push(n);
            }
        }
    });
    let watch = tokio::spawn(watch_events(client.clone(), seen.clone()));
    let uid = i as i64 + 1;
    let first: u64 = client
        .request("chaos.join", &json!({ "uid": uid, "group": i % GROUPS }))
        .await
        .expect("join");
    seen.lock().unwrap().first = first;
    // Spread the clients' requests over the second.
    tokio::time::sleep(REQUEST_EVERY.mul_f64(i as f64 / 1000.0 % 1.0)).await;
    let mut k = 0;
    while !stop.is_cancelled() {
        match client.request::<_, u64>("chaos.echo", &k).await {
            Ok(answer) => {
                assert_eq!(answer, k, "client {i}");
                seen.lock().unwrap().answered.push(k);
                k += 1;
                tokio::time::sleep(REQUEST_EVERY).await;
            }
            // Not sent: the connection was down. Send it again once it is back.
            Err(ClientError::Disconnected(_)) if !client.is_connected() => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => {
                seen.lock().unwrap().failed.push(other.to_string());
                k += 1;
            }
        }
    }
    client.close().await;
    let _ = collect.await;
    watch.abort();
    std::mem::take(&mut *seen.lock().unwrap())
}

async fn watch_events(client: Client, seen: Arc<Mutex<Seen>>) {
    let mut events = client.events();
    drop(client);
    while let Some(event) = events.recv().await {
        if let ConnectionEvent::Reconnected { resumed, .. } = event {
            let mut seen = seen.lock().unwrap();
            seen.reconnects += 1;
            seen.fresh += u32::from(!resumed);
        }
    }
}

/// Cuts links at random for `seconds`; returns how many were cut.
async fn cut_at_random(links: &MemoryLinks, seconds: u64, seed: u64) -> usize {
    let mut random = Seeded(seed);
    let rounds = Duration::from_secs(seconds).as_millis() / CUT_EVERY.as_millis();
    let mut cut = 0;
    for _ in 0..rounds {
        tokio::time::sleep(CUT_EVERY).await;
        cut += links.cut_some(|_| random.next().is_multiple_of(CUT_ODDS));
    }
    cut
}

#[tokio::test(start_paused = true)]
async fn every_message_once_and_in_order_every_request_answered_once_through_random_cuts() {
    let clients = usize::try_from(setting("CHAOS_CLIENTS", 1000)).expect("CHAOS_CLIENTS");
    let seconds = setting("CHAOS_SECONDS", 60);
    let seed = setting("CHAOS_SEED", 20_261_202);
    let broadcasts = Arc::new(Broadcasts::new());
    let handled = Arc::new(Mutex::new(HashMap::new()));
    let app = App::builder()
        .register(Chaos {
            broadcasts: broadcasts.clone(),
            handled: handled.clone(),
        })
        .resume(ResumeConfig::default())
        .build()
        .unwrap();
    let links = MemoryLinks::default();
    let stop = tokio_util::sync::CancellationToken::new();
    let mut runs = Vec::new();
    for i in 0..clients {
        let client = connect(&app, &links).await;
        runs.push(tokio::spawn(run_client(client, i, stop.clone())));
    }
    let ticker = tokio::spawn({
        let broadcasts = broadcasts.clone();
        async move {
            let mut every = tokio::time::interval(TICK);
            loop {
                every.tick().await;
                broadcasts.tick();
            }
        }
    });
    let cut = cut_at_random(&links, seconds, seed).await;
    // Calm: every client back, the last pushes delivered.
    tokio::time::sleep(Duration::from_secs(5)).await;
    ticker.abort();
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.cancel();
    let mut seens = Vec::new();
    for run in runs {
        seens.push(run.await.expect("client task"));
    }
    check(&seens, &broadcasts, &handled.lock().unwrap());
    let reconnects: u32 = seens.iter().map(|seen| seen.reconnects).sum();
    assert!(cut > clients / 2, "the chaos cut only {cut} links");
    assert!(
        reconnects as usize >= cut,
        "{reconnects} reconnects for {cut} cuts"
    );
    println!(
        "{clients} clients, {seconds} s: {cut} links cut, {reconnects} resumes, {} pushes, {} requests",
        seens.iter().map(|seen| seen.pushes.len()).sum::<usize>(),
        seens.iter().map(|seen| seen.answered.len()).sum::<usize>(),
    );
}

/// Every client: its group's pushes from its first on, each once, in order, up to the last;
/// its requests answered in order, none failed, each run once; every reconnect resumed.
fn check(seens: &[Seen], broadcasts: &Broadcasts, handled: &HashMap<(i64, u64), u32>) {
    for (i, seen) in seens.iter().enumerate() {
        let last = broadcasts.next[i % GROUPS].load(Ordering::SeqCst);
        let want: Vec<u64> = (seen.first..last).collect();
        assert!(
            seen.pushes == want,
            "client {i}: pushes {:?}.. (len {}), want {}..{last}",
            &seen.pushes[..seen.pushes.len().min(8)],
            seen.pushes.len(),
            seen.first
        );
        assert!(seen.failed.is_empty(), "client {i}: {:?}", seen.failed);
        assert_eq!(seen.fresh, 0, "client {i}: a reconnect did not resume");
        let uid = i as i64 + 1;
        for (k, answered) in seen.answered.iter().enumerate() {
            assert_eq!(*answered, k as u64, "client {i}: answers out of order");
            assert_eq!(
                handled.get(&(uid, k as u64)),
                Some(&1),
                "client {i}: echo {k}"
            );
        }
    }
    let runs: u32 = handled.values().sum();
    let answered: usize = seens.iter().map(|seen| seen.answered.len()).sum();
    assert_eq!(
        runs as usize, answered,
        "a request ran without its answer arriving"
    );
}
