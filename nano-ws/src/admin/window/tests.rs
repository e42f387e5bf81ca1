use super::*;

fn route(requests: u64, fast: u64, slow: u64) -> RouteSample {
    let mut latencies = Latencies::default();
    latencies.counts[0] = fast; // up to 25 µs
    latencies.counts[10] = slow; // up to 25.6 ms
    RouteSample {
        route: "room.message",
        kind: "request",
        requests,
        latencies,
    }
}

fn sample(start: Instant, seconds: u64, sessions_total: u64, route: RouteSample) -> Sample {
    Sample {
        at: start + Duration::from_secs(seconds),
        sessions_total,
        routes: vec![route],
    }
}

#[test]
fn the_first_sample_gives_no_rates() {
    let mut window = Window::new(Duration::from_secs(10));
    let rates = window.update(sample(Instant::now(), 0, 5, route(7, 7, 0)));
    assert_eq!(rates.window, Duration::ZERO);
    assert_eq!(rates.sessions_per_second, 0.0);
    assert_eq!(rates.routes[0].rate, 0.0);
    assert_eq!(rates.routes[0].requests, 7);
    assert_eq!(rates.routes[0].p50, None);
}

#[test]
fn rates_and_quantiles_cover_only_the_window() {
    let start = Instant::now();
    let mut window = Window::new(Duration::from_secs(10));
    // Slow requests long ago, then 100 fast ones and one slow one in the last 10 s.
    window.update(sample(start, 0, 0, route(0, 0, 0)));
    window.update(sample(start, 5, 10, route(50, 0, 50)));
    let rates = window.update(sample(start, 15, 30, route(151, 100, 51)));
    assert_eq!(rates.window, Duration::from_secs(10));
    assert_eq!(rates.sessions_per_second, 2.0);
    let room = &rates.routes[0];
    assert_eq!(room.rate, 10.1);
    assert_eq!(room.p50, Some(Duration::from_micros(25)));
    assert_eq!(room.p99, Some(Duration::from_micros(25)));
    let rates = window.update(sample(start, 16, 30, route(152, 100, 52)));
    assert_eq!(rates.routes[0].p99, Some(Duration::from_micros(25_600)));
}

#[test]
fn samples_less_than_a_second_apart_are_not_kept_and_the_ring_is_bounded() {
    let start = Instant::now();
    let mut window = Window::new(Duration::from_secs(3));
    for tenth in 0..100 {
        window.update(Sample {
            at: start + Duration::from_millis(tenth * 100),
            sessions_total: tenth,
            routes: Vec::new(),
        });
    }
    assert_eq!(window.samples.len(), 4);
    let kept: Vec<u64> = window.samples.iter().map(|s| s.sessions_total).collect();
    assert_eq!(kept, [60, 70, 80, 90]);
}
