//! The process's open-file limit: what it leaves for connections, and raising it.
//!
//! Every connection holds a file descriptor. Past the limit, `accept` fails with EMFILE,
//! and so does every other file the process opens (logs, NATS, a config reload); a server
//! should refuse connections cleanly before that, so [`bound_connections`] caps
//! `max_connections` under the limit when the app is built.

use crate::config::Config;

/// `config` with `max_connections` at most what the open-file limit leaves after
/// `open_file_reserve` (never less than half the limit, for a tiny limit). Unchanged when
/// the process has no limit, or on a platform without one.
pub(crate) fn bound_connections(mut config: Config) -> Config {
    let Some(limit) = soft_limit() else {
        return config;
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let budget = limit
        .saturating_sub(config.open_file_reserve)
        .max(limit / 2);
    if budget < config.max_connections {
        tracing::info!(
            max_connections = budget,
            configured = config.max_connections,
            open_file_limit = limit,
            "max_connections bounded by the open-file limit"
        );
        config.max_connections = budget;
    }
    config
}

/// The soft open-file limit of this process, if it has one.
#[cfg(unix)]
fn soft_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn soft_limit() -> Option<u64> {
    None
}

/// Raises this process's soft open-file limit to its hard limit, as the Go runtime does at
/// start, and returns the new soft limit (`None`: no limit). Call it before building the app,
/// since [`Config::max_connections`] is bounded by the limit when the app is built.
///
/// # Errors
///
/// The system's error when the limit cannot be changed; on platforms without open-file
/// limits, [`std::io::ErrorKind::Unsupported`].
///
/// # Examples
///
/// ```
/// let limit = nano_core::raise_open_file_limit()?;
/// println!("open files: {limit:?}");
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<Option<u64>> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        setrlimit(Resource::Nofile, raised)?;
    }
    Ok(limit.maximum)
}

/// Raises this process's soft open-file limit to its hard limit (unsupported here).
///
/// # Errors
///
/// Always [`std::io::ErrorKind::Unsupported`] on this platform.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<Option<u64>> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn max_connections_stays_under_the_open_file_limit() {
        let unbounded = Config {
            max_connections: usize::MAX,
            ..Config::default()
        };
        let Some(limit) = soft_limit() else {
            assert_eq!(bound_connections(unbounded).max_connections, usize::MAX);
            return;
        };
        let limit = usize::try_from(limit).unwrap();
        let bounded = bound_connections(unbounded);
        assert_eq!(bounded.max_connections, limit - 128, "limit {limit}");
        let small = bound_connections(Config {
            max_connections: 10,
            ..Config::default()
        });
        assert_eq!(small.max_connections, 10, "a lower setting is kept");
        let reserved = bound_connections(Config {
            max_connections: usize::MAX,
            open_file_reserve: usize::MAX,
            ..Config::default()
        });
        assert_eq!(reserved.max_connections, limit / 2, "never less than half");
    }
}
